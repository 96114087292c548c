"""Reading the promotion layer's YAML and JSON documents safely: one line for any bad file.

Rosters, trust files, change calendars, change tickets, SBOMs, signature files, DSSE envelopes
and verdicts all arrive as files a person or a pipeline wrote. Whatever they hold, reading one
either returns plain data (dicts, lists, scalars) or raises
:class:`~canarykit.errors.InvalidInputError` with one line naming the file and the rule it
breaks — never a ``RecursionError``, ``UnicodeDecodeError`` or parser traceback:

- the bytes must be UTF-8 (a leading byte-order mark is allowed);
- the text must parse as YAML (suffix ``.yaml``/``.yml``) or JSON (any other suffix);
- containers may nest at most :data:`MAX_DEPTH` levels — checked *before* the recursive parsers
  run (a bracket scan for JSON, a bounded composer for YAML) and again afterwards, because YAML
  aliases can build deeper, or self-referencing, structures out of shallow text;
- the document may stand for at most :data:`MAX_VALUES` values once YAML aliases are repeated
  (a "billion laughs" file is a few lines long), since every reader of it repeats them.
- the file may hold at most :data:`MAX_BYTES` bytes (:data:`MAX_SBOM_BYTES` for an SBOM or a
  VEX document): it is read through a bounded read, so neither a huge file nor an endless one
  (``/dev/zero``, a FIFO) is ever read whole.

Examples
--------
>>> parse_document('{"people": {"ann": ["product"]}}', where="roster.json: roster")
{'people': {'ann': ['product']}}
>>> parse_document("a: " + "[" * 500 + "]" * 500, where="roster.yaml: roster", yaml_syntax=True)
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: roster.yaml: roster is nested more than 100 levels deep (the limit for a document)
>>> decode_text(b"people: \\xff", where="roster.yaml: roster")
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: roster.yaml: roster is not UTF-8 text (byte 0xff at offset 8)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from canarykit.errors import InvalidInputError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_SBOM_BYTES",
    "MAX_VALUES",
    "YAML_SUFFIXES",
    "check_depth",
    "decode_text",
    "load_document_file",
    "parse_document",
    "read_bounded",
    "size_limit",
]

#: Deepest nesting of lists and mappings a promotion document may have.
MAX_DEPTH = 100
#: Most values (scalars, lists, mappings) a promotion document may stand for.
MAX_VALUES = 5_000_000
#: Largest promotion document file, in bytes (roster, trust, calendar, ticket, verdict, envelope …).
MAX_BYTES = 32 * 1024 * 1024
#: Largest SBOM (or VEX) file, in bytes: a scanned SBOM of many components is large.
MAX_SBOM_BYTES = 128 * 1024 * 1024
YAML_SUFFIXES = (".yaml", ".yml")

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _too_deep(where: str) -> InvalidInputError:
    return InvalidInputError(
        f"{where} is nested more than {MAX_DEPTH} levels deep (the limit for a document)"
    )


def decode_text(data: bytes, *, where: str) -> str:
    """Decode ``data`` as strict UTF-8 (a leading byte-order mark is dropped).

    Parameters
    ----------
    data : bytes
        The file's bytes.
    where : str
        What to name in an error: the file and what it is (``"roster.yaml: roster"``).

    Raises
    ------
    InvalidInputError
        The bytes are not UTF-8; the message names the first bad byte and its offset.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = data[err.start]
        raise InvalidInputError(
            f"{where} is not UTF-8 text (byte 0x{bad:02x} at offset {err.start})"
        ) from None
    return text.removeprefix("\ufeff")


def _json_depth(text: str) -> int:
    """Deepest bracket nesting of JSON text, strings skipped (without recursion)."""
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for char in skeleton:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader whose (recursive) composer stops at :data:`MAX_DEPTH`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        nests = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        self._depth += nests
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeepError
            return super().compose_node(parent, index)
        finally:
            self._depth -= nests


class _TooDeepError(Exception):
    """Raised inside the YAML composer; becomes an InvalidInputError naming the file."""


def _children(node: Any) -> Any:
    if isinstance(node, Mapping):
        return node.values()
    if isinstance(node, list | tuple):
        return node
    return None


def check_depth(value: Any, *, where: str) -> Any:
    """Return ``value`` if it nests at most :data:`MAX_DEPTH` levels and is not an alias bomb.

    The depth walk uses no recursion and visits a shared sub-structure once per depth it is
    reached at, so a self-referencing document ends in the depth error. The number of values
    the document stands for once its shared parts are repeated (as any reader of it would
    repeat them) is counted in linear time and may be at most :data:`MAX_VALUES`.

    Raises
    ------
    InvalidInputError
        Nested too deeply (or referring to itself), or expanding to too many values.

    Examples
    --------
    >>> check_depth({"a": [1, [2]]}, where="x")
    {'a': [1, [2]]}
    >>> loop: list[Any] = []
    >>> loop.append(loop)
    >>> check_depth(loop, where="calendar")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: calendar is nested more than 100 levels deep ...
    >>> laughs: Any = ["ha"]
    >>> for _ in range(30):
    ...     laughs = [laughs] * 2
    >>> check_depth(laughs, where="roster")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: roster stands for more than 5000000 values ...
    """
    reached: dict[int, int] = {}
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = _children(node)
        if children is None:
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(where)
        if reached.get(id(node), 0) >= depth:
            continue
        reached[id(node)] = depth
        stack.extend((child, depth + 1) for child in children)
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:  # recursion depth <= MAX_DEPTH, checked above
        children = _children(node)
        if children is None:
            return 1
        if id(node) not in sizes:
            sizes[id(node)] = 1 + sum(size(child) for child in children)
        return sizes[id(node)]

    if size(value) > MAX_VALUES:
        raise InvalidInputError(
            f"{where} stands for more than {MAX_VALUES} values once its YAML aliases are"
            " repeated (the limit for a document)"
        )
    return value


def parse_document(text: str, *, where: str, yaml_syntax: bool = False) -> Any:
    """Parse JSON (or YAML) text into plain data with bounded nesting.

    Parameters
    ----------
    text : str
        The document.
    where : str
        What to name in an error: the file and what it is (``"roster.yaml: roster"``).
    yaml_syntax : bool, default False
        Parse as YAML (safe loader: no Python objects) instead of JSON.

    Raises
    ------
    InvalidInputError
        Not valid JSON/YAML, or nested more than :data:`MAX_DEPTH` levels.
    """
    kind = "YAML" if yaml_syntax else "JSON"
    try:
        if yaml_syntax:
            loader = _BoundedLoader(text)
            try:
                value = loader.get_single_data()
            finally:
                loader.dispose()
        else:
            if _json_depth(text) > MAX_DEPTH:
                raise _TooDeepError
            value = json.loads(text)
    except _TooDeepError:
        raise _too_deep(where) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as err:
        # ValueError covers JSONDecodeError and integers with too many digits; TypeError and
        # RecursionError what PyYAML's constructor may raise on odd keys and merge chains
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InvalidInputError(f"{where} is not valid {kind} ({detail})") from None
    return check_depth(value, where=where)


def size_limit(what: str) -> int:
    """The largest file accepted for a document described as ``what``.

    Examples
    --------
    >>> size_limit("CycloneDX SBOM") > size_limit("roster") == MAX_BYTES
    True
    """
    lowered = what.lower()
    return MAX_SBOM_BYTES if "sbom" in lowered or "vex" in lowered else MAX_BYTES


def read_bounded(path: str | Path, *, what: str, limit: int | None = None) -> bytes:
    """The bytes of ``path``, refusing a file larger than ``limit`` without reading it whole.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What it is, for the error messages (and the default limit, :func:`size_limit`).
    limit : int, optional
        Most bytes accepted.

    Raises
    ------
    InvalidInputError
        The file cannot be read, or is larger than the limit (the message names both sizes).
    """
    file = Path(path)
    most = size_limit(what) if limit is None else limit
    try:
        with open(file, "rb") as handle:
            data = handle.read(most + 1)
    except OSError as err:
        raise InvalidInputError(
            f"{file}: cannot read {what} ({err.strerror or type(err).__name__})"
        ) from None
    if len(data) > most:
        raise InvalidInputError(
            f"{file}: {what} is larger than {most} bytes (the limit for this document;"
            " is it the right file?)"
        )
    return data


def load_document_file(path: str | Path, *, what: str) -> Any:
    """Read a YAML (by suffix ``.yaml``/``.yml``) or JSON file as plain data.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is (``"roster"``, ``"signature file"``), for the error messages.

    Raises
    ------
    InvalidInputError
        The file cannot be read, is larger than :func:`size_limit` allows, is not UTF-8, not
        valid JSON/YAML, or nested too deeply; one line naming the file, what it should be and
        the rule.
    """
    file = Path(path)
    data = read_bounded(file, what=what)
    where = f"{file}: {what}"
    text = decode_text(data, where=where)
    return parse_document(text, where=where, yaml_syntax=file.suffix.lower() in YAML_SUFFIXES)
