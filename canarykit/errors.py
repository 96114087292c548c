"""The exception hierarchy shared by every layer of canarykit, and how errors are worded.

Every error a *user* can cause derives from :class:`CanaryError`. The CLI maps them to exit
status 2 (4 for a gate denial) and prints ``str(error)`` as a single line on stderr, passed
through :func:`one_line`: control characters and newlines become spaces, database-engine
wording becomes ours, quoted values longer than :data:`VALUE_LIMIT` characters are cut with
``…`` and the whole message is at most :data:`MESSAGE_LIMIT` characters. Anything else is a
bug in canarykit: the CLI reports it as an internal error (exit status 70) with the traceback
written to a file, never as a decision.

Examples
--------
>>> try:
...     raise InvalidInputError("traces.csv: column latency_ms: must be >= 0 (2 rows, first: 3, 7)")
... except CanaryError as err:
...     print(one_line(str(err)))
traces.csv: column latency_ms: must be >= 0 (2 rows, first: 3, 7)
>>> one_line('traces: Binder Error: Referenced column "group" not found in FROM clause!\\n'
...          'Candidate bindings: "arm"\\n\\nLINE 1: SELECT ...')
'traces: column "group" is not in the data'
>>> shorten("x" * 100)
'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'
"""

from __future__ import annotations

import re

__all__ = [
    "MESSAGE_LIMIT",
    "VALUE_LIMIT",
    "CanaryError",
    "GateDeniedError",
    "InvalidInputError",
    "PolicyError",
    "StorageError",
    "one_line",
    "shorten",
]

#: Longest error line the CLI prints (characters).
MESSAGE_LIMIT = 300
#: Longest value echoed inside a message (characters, the ``…`` included).
VALUE_LIMIT = 80


class CanaryError(Exception):
    """Root of all errors caused by input, configuration or a denied action."""


class InvalidInputError(CanaryError, ValueError):
    """Input data or an argument breaks a documented rule (names file/column/row and the rule)."""


class PolicyError(CanaryError):
    """A policy file (YAML or Rego) is malformed or cannot be evaluated."""


class StorageError(CanaryError):
    """The trace store or registry cannot be opened, read or written."""


class GateDeniedError(CanaryError):
    """A promotion gate refused a transition; the message lists the reasons."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
# DuckDB error classes ("Binder Error: ...") as they prefix the engine's messages
_ENGINE_PREFIX = re.compile(
    r"\b(?:Binder|Conversion|IO|Parser|Catalog|Invalid Input|Invalid Type|Constraint|"
    r"Out of Range|Out of Memory|Internal|Not implemented|Serialization|Transaction|Dependency|"
    r"Syntax|Type Mismatch|Mismatch Type|Permission|Fatal|Sequence|Interrupt|HTTP|"
    r"Invalid Configuration|Missing Extension|Parameter Not Resolved|Parameter Not Allowed|"
    r"Connection|Arrow|Invalid) Error: "
)
# engine phrases rewritten in our words: (pattern, replacement)
_ENGINE_PHRASES = (
    (
        re.compile(r'Referenced column "([^"]*)" not found in FROM clause!?'),
        r'column "\1" is not in the data',
    ),
    (re.compile(r"Table with name (\S+) does not exist!?"), r"no table \1"),
    (re.compile(r'No files found that match the pattern "([^"]*)"'), r'no file matches "\1"'),
    (re.compile(r"Could not convert string (.*?) to (\w+)"), r"cannot read \1 as \2"),
    (re.compile(r"could not allocate block of size"), "out of memory: needed a block of"),
)
# engine tails that only make sense next to the SQL: hints, SQL excerpts and carets
_ENGINE_TAILS = re.compile(
    r"\s*(?:Candidate bindings:.*?(?=\s*(?:\(|;|$))|Did you mean .*?\?|LINE \d+:.*$)"
)
_LONG_TOKEN = re.compile(rf"\S{{{VALUE_LIMIT + 1},}}")
_LONG_PATH = re.compile(r"\S*[/\\]\S*")
_PATH_LIMIT = 40  # paths are cut to their end only when the line is too long
_QUOTED = re.compile(rf"'[^']{{{VALUE_LIMIT - 1},}}'|\"[^\"]{{{VALUE_LIMIT - 1},}}\"")


def shorten(value: object, limit: int = VALUE_LIMIT) -> str:
    """``str(value)`` on one line, cut to ``limit`` characters with a trailing ``…``.

    Parameters
    ----------
    value : object
        Anything a message echoes (a user's value, a file name, a column name).
    limit : int, default :data:`VALUE_LIMIT`
        Longest result, the ``…`` included.

    Examples
    --------
    >>> shorten("a\\nb")
    'a b'
    >>> shorten("abcdef", limit=4)
    'abc…'
    """
    text = _CONTROL.sub(" ", str(value))
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _shorten_quoted(match: re.Match[str]) -> str:
    quoted = match.group(0)
    return quoted[0] + shorten(quoted[1:-1], VALUE_LIMIT - 2) + quoted[0]


def _path_tail(path: str, limit: int) -> str:
    """``…`` and the end of ``path`` (the file name says the most), at a separator if any."""
    if len(path) <= limit:
        return path
    tail = path[-(limit - 1) :]
    cut = min((i for i in (tail.find("/"), tail.find("\\")) if i >= 0), default=-1)
    return "…" + (tail[cut:] if 0 <= cut < len(tail) // 2 else tail)


def _shorten_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if "/" in token or "\\" in token:
        return _path_tail(token, VALUE_LIMIT)
    return shorten(token)


def one_line(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """An error message as the CLI prints it: one line, our words, bounded.

    Newlines and control characters become spaces, database-engine prefixes (``Binder
    Error:``), hints and SQL excerpts are removed and a few engine phrases are reworded,
    quoted values and words longer than :data:`VALUE_LIMIT` are cut with ``…`` (a path keeps
    its end, the file name; in a line that is still too long, paths keep their last 40
    characters), and the line is at most ``limit`` characters.

    Parameters
    ----------
    message : str
        The message of an exception.
    limit : int, default :data:`MESSAGE_LIMIT`
        Longest result, the ``…`` included.

    Examples
    --------
    >>> one_line("a\\n  b\\tc")
    'a b c'
    >>> len(one_line(" ".join(["y" * 70] * 10)))
    300
    >>> one_line("/lake" + "/part=2026-11" * 8 + "/traces.csv: column arm: unknown")
    '…/part=2026-11/part=2026-11/part=2026-11/part=2026-11/part=2026-11/traces.csv: column arm: unknown'
    """
    text = str(message)
    # the SQL excerpt of an engine error starts on its own line
    text = re.sub(r"\n\s*LINE \d+:.*", "", text, flags=re.DOTALL)
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    text = _ENGINE_PREFIX.sub("", text)
    for pattern, replacement in _ENGINE_PHRASES:
        text = pattern.sub(replacement, text)
    text = _ENGINE_TAILS.sub("", text).strip()
    text = _QUOTED.sub(_shorten_quoted, text)
    text = _LONG_TOKEN.sub(_shorten_token, text)
    if len(text) > limit:  # make room: long paths keep only their end
        text = _LONG_PATH.sub(lambda m: _path_tail(m.group(0), _PATH_LIMIT), text)
    return shorten(text, limit)
