"""Argument checks shared by the statistics modules (raise :class:`InvalidInputError`)."""

from __future__ import annotations

import math

from canarykit.errors import InvalidInputError

__all__ = ["alpha_from_level", "check_count", "check_open_unit", "check_positive"]


def check_open_unit(name: str, value: float) -> float:
    """Return ``value`` as float if ``0 < value < 1``, else raise :class:`InvalidInputError`."""
    v = float(value)
    if not 0.0 < v < 1.0:
        raise InvalidInputError(f"{name} must be in the open interval (0, 1), got {value!r}")
    return v


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as float if it is finite and ``> 0``, else raise."""
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise InvalidInputError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def check_count(name: str, value: float) -> int:
    """Return ``value`` as int if it is a non-negative integer, else raise."""
    try:
        iv = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}") from None
    if iv != value or iv < 0:
        raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}")
    return iv


def alpha_from_level(confidence_level: float) -> float:
    """``1 − confidence_level``, after checking the level lies in (0, 1)."""
    if not 0.0 < confidence_level < 1.0:
        raise InvalidInputError(f"confidence_level: must be in (0, 1), got {confidence_level!r}")
    return 1.0 - confidence_level
