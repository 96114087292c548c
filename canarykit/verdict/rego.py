"""Running the decision policy's Rego modules with regopy, and checking them at load time.

Python computes the check results; Rego decides (``policies/decision.rego``). regopy prints
parse errors on the process's standard output, which would corrupt a JSON verdict printed
there: every call here runs with file descriptor 1 redirected to a temporary file, and the
engine's words come back as the first line of a :class:`~canarykit.errors.PolicyError`.

Examples
--------
>>> check_rego_modules((("ok.rego", "package canarykit.decision\\nimport rego.v1\\nx := 1"),))
>>> check_rego_modules((("bad.rego", "package canarykit.decision\\nthis is not rego"),))
Traceback (most recent call last):
...
canarykit.errors.PolicyError: bad.rego: not valid Rego: ...
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from canarykit.errors import PolicyError

__all__ = ["DECISIONS", "check_rego_modules", "evaluate_decision_rules", "safe_strings"]

DECISIONS = ("PROCEED", "STOP", "CONTINUE")
QUERY = "x := data.canarykit.decision.result"
_UNSAFE = str.maketrans({'"': "\u201d", "\\": "\u2216", **{chr(c): " " for c in range(32)}})


def safe_strings(value: Any) -> Any:
    """Replace ``"``, ``\\`` and control characters in strings: regopy does not escape them
    in strings that rules build with ``sprintf``/``concat``, which would corrupt its JSON."""
    if isinstance(value, str):
        return value.translate(_UNSAFE)
    if isinstance(value, dict):
        return {safe_strings(k): safe_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_strings(v) for v in value]
    return value


def _flush_c_stdio() -> None:
    """Flush the C library's buffered streams (the engine writes through them)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[list[str]]:
    """Capture what the engine writes on file descriptor 1 (it prints parse errors there)."""
    captured: list[str] = []
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    _flush_c_stdio()
    fd = 1
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield captured
        finally:
            _flush_c_stdio()
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip() != "Errors:"]
    return (lines[0] if lines else "parse failed")[:160]


_ERROR_MESSAGE = re.compile(r"\(errormsg \d+:([^)\n]*)\)")
_ERROR_AT = re.compile(r"\(error \d+:[^|\n]*\|(\d+)\|")


def _rego_message(detail: str, text: str) -> str:
    """The engine's message for a module that does not parse, with its line and column.

    regopy raises an S-expression (``(rego-errorseq (error 8:a.rego|43|2 (errormsg 24:…)``):
    its ``errormsg`` is the message and the number after the file the byte offset.

    Examples
    --------
    >>> detail = "(rego-errorseq (error 8:org.rego|43|2 (errormsg 24:Invalid boolean operator)"
    >>> _rego_message(detail, "package canarykit.decision\\n\\nx if { input.x == }\\n")
    'Invalid boolean operator (line 3, column 16)'
    """
    found = _ERROR_MESSAGE.search(detail)
    if found is None:
        return _first_line(detail)
    message = found.group(1).strip() or "parse failed"
    at = _ERROR_AT.search(detail)
    if at is not None:
        before = text.encode("utf-8")[: int(at.group(1))].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        message += f" (line {line}, column {column})"
    return message[:160]


def _interpreter(modules: Sequence[tuple[str, str]]) -> Any:
    import regopy

    interpreter = regopy.Interpreter()
    for name, text in modules:
        with _quiet_stdout() as printed:
            try:
                interpreter.add_module(name, text)
            except Exception as err:  # regopy.RegoError, or anything the binding raises
                detail = printed[0] if printed and printed[0].strip() else str(err)
                raise PolicyError(
                    f"{name}: not valid Rego: {_rego_message(detail, text)}"
                ) from None
    return interpreter


def check_rego_modules(modules: Sequence[tuple[str, str]]) -> None:
    """Raise :class:`PolicyError` naming the first module that does not parse."""
    _interpreter(modules)


def evaluate_decision_rules(
    modules: Sequence[tuple[str, str]], payload: dict[str, Any]
) -> tuple[str, tuple[str, ...]]:
    """Evaluate ``data.canarykit.decision.result`` for ``payload``.

    Raises
    ------
    PolicyError
        A module does not parse, the engine fails, or the result is undefined, holds an
        ``<error>`` value or is not ``{"decision": one of PROCEED/STOP/CONTINUE, "reasons":
        [strings]}``.
    """
    interpreter = _interpreter(modules)
    interpreter.set_input(safe_strings(json.loads(json.dumps(payload))))
    with _quiet_stdout():
        output = interpreter.query(QUERY)
    text = str(output)
    if not output.ok():
        raise PolicyError(f"decision policy: evaluation failed: {' '.join(text.split())[:200]}")
    if text.strip() == "undefined" or "<error>" in text:
        raise PolicyError(
            "decision policy: data.canarykit.decision.result is undefined or holds an error "
            "value (a rule defined twice with different values?)"
        )
    result = json.loads(text)["bindings"]["x"]
    decision = result.get("decision") if isinstance(result, dict) else None
    reasons = result.get("reasons") if isinstance(result, dict) else None
    if decision not in DECISIONS:
        raise PolicyError(
            f"decision policy: decision {str(decision)[:40]!r} is not one of {', '.join(DECISIONS)}"
        )
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise PolicyError("decision policy: reasons are not a list of strings")
    return decision, tuple(reasons)
