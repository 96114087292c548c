"""Selecting a window of traces: model, versions, arms and a half-open time range.

Examples
--------
>>> w = TraceWindow(model="risk-default", arms=("control", "canary"), end="2026-01-01T00:30:00")
>>> w.where()
('model = ? AND arm IN (?, ?) AND ts < CAST(? AS TIMESTAMP)', ['risk-default', 'control', 'canary', '2026-01-01T00:30:00'])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.traces.schema import ARMS

__all__ = ["TraceWindow", "parse_utc_timestamp"]


def parse_utc_timestamp(value: str | dt.datetime, *, name: str = "timestamp") -> str:
    """Normalise a user timestamp to a naive-UTC ISO string (naive input is taken as UTC).

    Examples
    --------
    >>> parse_utc_timestamp("2026-01-01T02:00:00+02:00")
    '2026-01-01T00:00:00'
    >>> parse_utc_timestamp("2026-01-01T00:00:00Z")
    '2026-01-01T00:00:00'
    """
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInputError(
                f"{name}: {value!r} is not an ISO-8601 timestamp (e.g. 2026-01-01T00:30:00Z)"
            ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat()


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceWindow:
    """Which traces a query reads. ``None`` means "no restriction"; times are UTC, ``[start, end)``."""

    model: str | None = None
    versions: Sequence[str] | None = None
    arms: Sequence[str] | None = None
    start: str | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        if self.arms is not None:
            bad = [a for a in self.arms if a not in ARMS]
            if bad:
                raise InvalidInputError(f"arms: {bad[0]!r} is not one of {', '.join(ARMS)}")
        if self.start is not None:
            object.__setattr__(self, "start", parse_utc_timestamp(self.start, name="start"))
        if self.end is not None:
            object.__setattr__(self, "end", parse_utc_timestamp(self.end, name="end"))
        if self.versions is not None:
            object.__setattr__(self, "versions", tuple(self.versions))
        if self.arms is not None:
            object.__setattr__(self, "arms", tuple(self.arms))

    def where(self) -> tuple[str, list[Any]]:
        """SQL condition (``TRUE`` when unrestricted) and its positional parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.model is not None:
            clauses.append("model = ?")
            params.append(self.model)
        for column, values in (("version", self.versions), ("arm", self.arms)):
            if values is not None:
                clauses.append(
                    f"{column} IN ({', '.join('?' for _ in values)})" if values else "FALSE"
                )
                params.extend(values)
        if self.start is not None:
            clauses.append("ts >= CAST(? AS TIMESTAMP)")
            params.append(self.start)
        if self.end is not None:
            clauses.append("ts < CAST(? AS TIMESTAMP)")
            params.append(self.end)
        return (" AND ".join(clauses) if clauses else "TRUE"), params
