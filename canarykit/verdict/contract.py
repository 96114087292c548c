"""Reading the verdict contract back from JSON: every field checked for its type, with its path.

A verdict file is input like any other: ``replay``, ``report`` and the promotion gates read
files that may have been edited, truncated or produced by another tool. :class:`Fields` reads
one JSON object and raises :class:`~canarykit.errors.InvalidInputError` naming the field's path
(``checks[2].status``) and the rule, so a malformed verdict is one line and exit 2, never a
traceback or a silently wrong value.

Examples
--------
>>> f = Fields({"status": "passed", "n": 3}, "checks[0]")
>>> f.integer("n")
3
>>> f.choice("status", ("pass", "fail", "inconclusive"))
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: verdict: checks[0].status: must be one of pass, fail, inconclusive, got 'passed'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from canarykit.errors import InvalidInputError

__all__ = ["Fields"]

_MISSING = object()


class Fields:
    """Typed access to the fields of one JSON object of a verdict (``where`` is its path)."""

    def __init__(self, data: Any, where: str = "") -> None:
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"verdict: {where or 'document'}: must be an object")
        self.data = data
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, rule: str, value: Any = _MISSING) -> InvalidInputError:
        """The error for ``key`` breaking ``rule`` (with the offending value, shortened)."""
        got = "" if value is _MISSING else f", got {_short(value)}"
        return InvalidInputError(f"verdict: {self._path(key)}: {rule}{got}")

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.fail(key, "required")
        return default

    def text(self, key: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """A string (or ``None`` when ``nullable``)."""
        value = self._get(key, default)
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise self.fail(key, "must be a string", value)
        return value

    def choice(self, key: str, allowed: Sequence[str], default: Any = _MISSING) -> str:
        """One of ``allowed``."""
        value = self._get(key, default)
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)}", value)
        return str(value)

    def number(self, key: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """A number; JSON ``null`` is NaN when ``nullable`` (non-finite numbers are written as
        null), ``None`` is returned as is when ``default`` is ``None`` and the key is absent."""
        value = self._get(key, default)
        if value is None:
            if nullable:
                return math.nan
            if default is None and key not in self.data:
                return None
            raise self.fail(key, "must be a number", value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number", value)
        return float(value)

    def optional_number(self, key: str) -> float | None:
        """A number or ``null`` (kept as ``None``)."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number or null", value)
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """A non-negative integer (or ``None`` when ``nullable``)."""
        value = self._get(key, default)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, "must be a non-negative integer", value)
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        """``true`` or ``false``."""
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false", value)
        return value

    def mapping(self, key: str, default: Any = _MISSING, *, nullable: bool = False) -> Any:
        """An object (a ``dict``), or ``None`` when ``nullable``."""
        value = self._get(key, default)
        if value is None and nullable:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be an object", value)
        return dict(value)

    def items(self, key: str, default: Any = _MISSING) -> list[Any]:
        """A list."""
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self.fail(key, "must be a list", value)
        return value

    def texts(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        """A list of strings."""
        values = self.items(key, default)
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise self.fail(f"{key}[{i}]", "must be a string", v)
        return tuple(values)

    def integers(self, key: str, default: Any = _MISSING) -> tuple[int, ...]:
        """A list of non-negative integers."""
        values = self.items(key, default)
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise self.fail(f"{key}[{i}]", "must be a non-negative integer", v)
        return tuple(values)

    def child(self, key: str, index: int | None = None) -> str:
        """The path of a nested object (for a nested :class:`Fields`)."""
        return self._path(key if index is None else f"{key}[{index}]")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
