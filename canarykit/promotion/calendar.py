"""The change calendar: when production changes may happen, and when they are frozen.

A YAML (or JSON) file, all times UTC::

    windows:                     # a production change must fall inside one of these
      - name: weekday daytime
        weekly: {days: [mon, tue, wed, thu], start: "08:00", end: "18:00"}
      - name: saturday maintenance
        start: 2026-12-05T00:00:00Z
        end: 2026-12-05T06:00:00Z
    freezes:                     # ... and outside every one of these
      - name: month-end close
        monthly: {last_days: 3, first_days: 1}
      - name: year-end holidays
        start: 2026-12-24T00:00:00Z
        end: 2027-01-02T00:00:00Z
    max_ticket_window_days: 7    # optional (default 7): the longest window a change ticket has

Python expands recurring entries into concrete ``[start_ns, end_ns)`` intervals near the
instant of the change (:meth:`Calendar.intervals_near`); the Rego change gate decides with
them. Intervals include their start and exclude their end, and no interval is empty: an
absolute entry's end must come after its start, and a weekly window's end may not equal its
start — ``00:00`` to ``24:00`` is the whole day, and an end earlier than the start crosses
midnight (``22:00`` to ``02:00`` ends at 02:00 the next day).

Examples
--------
>>> from canarykit.promotion.clock import format_instant, parse_instant, format_instant
>>> cal = Calendar.from_dict({"windows": [{"name": "day", "weekly": {"days": ["fri"],
...     "start": "08:00", "end": "18:00"}}], "freezes": [{"name": "month-end",
...     "monthly": {"last_days": 3}}]})
>>> now = parse_instant("2026-11-27T09:00:00Z")
>>> windows, freezes = cal.intervals_near(now)
>>> [format_instant(w["start_ns"]) for w in windows if w["start_ns"] <= now < w["end_ns"]]
['2026-11-27T08:00:00+00:00']
>>> [(f["name"], format_instant(f["start_ns"])) for f in freezes][:1]
[('month-end', '2026-11-28T00:00:00+00:00')]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.clock import format_instant, parse_instant

__all__ = ["DEFAULT_MAX_TICKET_WINDOW_DAYS", "Calendar", "CalendarEntry"]

DEFAULT_MAX_TICKET_WINDOW_DAYS = 7
"""The longest window a change ticket may have unless the calendar says otherwise (days)."""
_MAX_TICKET_WINDOW_LIMIT = 31

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_NEAR_DAYS = 8
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clock_time(text: str) -> timedelta:
    """``"HH:MM"`` (or ``"24:00"``) as the time since midnight."""
    hours, minutes = (int(x) for x in text.split(":"))
    return timedelta(hours=hours, minutes=minutes)


def _ns(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def _moment(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarEntry:
    """One window or freeze: absolute (``start_ns``/``end_ns``), weekly or monthly."""

    name: str
    start_ns: int | None = None
    end_ns: int | None = None
    weekly_days: tuple[str, ...] = ()
    weekly_start: str | None = None
    weekly_end: str | None = None
    monthly_last_days: int = 0
    monthly_first_days: int = 0

    def occurrences(self, around_ns: int) -> list[tuple[int, int]]:
        """Concrete intervals of this entry that overlap ``around_ns`` ± 8 days."""
        low, high = around_ns - _NEAR_DAYS * 86_400 * 10**9, around_ns + _NEAR_DAYS * 86_400 * 10**9
        spans: list[tuple[int, int]] = []
        if self.start_ns is not None and self.end_ns is not None:
            spans.append((self.start_ns, self.end_ns))
        if self.weekly_days and self.weekly_start and self.weekly_end:
            day0 = _moment(around_ns).replace(hour=0, minute=0, second=0, microsecond=0)
            for offset in range(-_NEAR_DAYS, _NEAR_DAYS + 1):
                day = day0 + timedelta(days=offset)
                if _DAYS[day.weekday()] in self.weekly_days:
                    start = day + _clock_time(self.weekly_start)
                    end = day + _clock_time(self.weekly_end)
                    if end < start:  # crosses midnight: ends the next day
                        end += timedelta(days=1)
                    spans.append((_ns(start), _ns(end)))
        if self.monthly_last_days or self.monthly_first_days:
            month0 = _moment(around_ns).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            for shift in (-1, 0, 1):
                year, month = divmod(month0.month - 1 + shift, 12)
                first = month0.replace(year=month0.year + year, month=month + 1)
                spans.append(
                    (
                        _ns(first - timedelta(days=self.monthly_last_days)),
                        _ns(first + timedelta(days=self.monthly_first_days)),
                    )
                )
        return sorted(s for s in spans if s[0] < high and s[1] > low and s[1] > s[0])

    def to_dict(self) -> dict[str, Any]:
        """The file form of this entry."""
        out: dict[str, Any] = {"name": self.name}
        if self.start_ns is not None and self.end_ns is not None:
            out["start"], out["end"] = format_instant(self.start_ns), format_instant(self.end_ns)
        if self.weekly_days:
            out["weekly"] = {
                "days": list(self.weekly_days),
                "start": self.weekly_start,
                "end": self.weekly_end,
            }
        if self.monthly_last_days or self.monthly_first_days:
            out["monthly"] = {
                "last_days": self.monthly_last_days,
                "first_days": self.monthly_first_days,
            }
        return out


def _entry(raw: Any, where: str, errors: list[str]) -> CalendarEntry | None:
    if not isinstance(raw, Mapping):
        errors.append(f"{where}: must be a mapping")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{where}.name: required")
        name = ""
    kinds = [k for k in ("start", "weekly", "monthly") if k in raw]
    if len(kinds) != 1:
        errors.append(f"{where}: give exactly one of start/end, weekly or monthly")
        return None
    if "start" in raw:
        start = end = None
        try:
            start = parse_instant(raw.get("start"), field=f"{where}.start")
            end = parse_instant(raw.get("end"), field=f"{where}.end")
        except InvalidInputError as err:
            errors.append(str(err))
            return None
        if end <= start:
            errors.append(f"{where}.end: must be after {where}.start")
        return CalendarEntry(name=name, start_ns=start, end_ns=end)
    if "weekly" in raw:
        weekly = raw["weekly"]
        if not isinstance(weekly, Mapping):
            errors.append(f"{where}.weekly: must be a mapping with days, start, end")
            return None
        days = weekly.get("days")
        if not isinstance(days, list) or not days or any(d not in _DAYS for d in days):
            errors.append(f"{where}.weekly.days: a non-empty list of {', '.join(_DAYS)}")
            days = []
        times = [weekly.get("start"), weekly.get("end")]
        valid = True
        for label, value in zip(("start", "end"), times, strict=True):
            if not isinstance(value, str) or not (
                _HHMM.fullmatch(value) or (label == "end" and value == "24:00")
            ):
                errors.append(
                    f"{where}.weekly.{label}: must be HH:MM (UTC)"
                    + (", or 24:00 for the end of the day" if label == "end" else "")
                )
                valid = False
        if valid and times[1] == times[0]:
            errors.append(
                f"{where}.weekly: start {times[0]} and end {times[1]} make an empty window"
                " (a whole day is 00:00 to 24:00)"
            )
        return CalendarEntry(
            name=name,
            weekly_days=tuple(days),
            weekly_start=str(times[0]),
            weekly_end=str(times[1]),
        )
    monthly = raw["monthly"]
    last = monthly.get("last_days", 0) if isinstance(monthly, Mapping) else None
    first = monthly.get("first_days", 0) if isinstance(monthly, Mapping) else None
    if not all(isinstance(v, int) and 0 <= v <= 10 for v in (last, first)) or not (last or first):
        errors.append(f"{where}.monthly: last_days/first_days must be integers 0..10, not both 0")
        return None
    return CalendarEntry(
        name=name, monthly_last_days=int(last or 0), monthly_first_days=int(first or 0)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """Change windows and freezes (see the module docstring for the file form)."""

    windows: tuple[CalendarEntry, ...]
    freezes: tuple[CalendarEntry, ...] = ()
    max_ticket_window_days: int = DEFAULT_MAX_TICKET_WINDOW_DAYS

    @property
    def max_ticket_window_ns(self) -> int:
        """The longest window a change ticket may have, in nanoseconds."""
        return self.max_ticket_window_days * 86_400 * 10**9

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "calendar") -> Calendar:
        """Validate a calendar document, collecting every field error."""
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{source}: must be a mapping with windows and freezes")
        errors: list[str] = []
        windows_raw, freezes_raw = data.get("windows"), data.get("freezes", [])
        if not isinstance(windows_raw, list) or not windows_raw:
            errors.append("windows: must be a non-empty list")
            windows_raw = []
        if not isinstance(freezes_raw, list):
            errors.append("freezes: must be a list")
            freezes_raw = []
        windows = [_entry(w, f"windows[{i}]", errors) for i, w in enumerate(windows_raw)]
        freezes = [_entry(f, f"freezes[{i}]", errors) for i, f in enumerate(freezes_raw)]
        longest = data.get("max_ticket_window_days", DEFAULT_MAX_TICKET_WINDOW_DAYS)
        if (
            not isinstance(longest, int)
            or isinstance(longest, bool)
            or not 1 <= longest <= _MAX_TICKET_WINDOW_LIMIT
        ):
            errors.append(
                f"max_ticket_window_days: {str(longest)[:20]!r} must be a whole number of days,"
                f" 1..{_MAX_TICKET_WINDOW_LIMIT}"
            )
            longest = DEFAULT_MAX_TICKET_WINDOW_DAYS
        if errors:
            raise InvalidInputError(f"{source}: " + "; ".join(errors))
        return cls(
            windows=tuple(w for w in windows if w is not None),
            freezes=tuple(f for f in freezes if f is not None),
            max_ticket_window_days=int(longest),
        )

    def to_dict(self) -> dict[str, Any]:
        """The file form."""
        out: dict[str, Any] = {
            "windows": [w.to_dict() for w in self.windows],
            "freezes": [f.to_dict() for f in self.freezes],
        }
        if self.max_ticket_window_days != DEFAULT_MAX_TICKET_WINDOW_DAYS:
            out["max_ticket_window_days"] = self.max_ticket_window_days
        return out

    def intervals_near(self, now_ns: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Concrete windows and freezes within eight days of ``now_ns`` (Rego input form)."""
        windows = [
            {"name": w.name, "start_ns": s, "end_ns": e}
            for w in self.windows
            for s, e in w.occurrences(now_ns)
        ]
        freezes = [
            {"name": f.name, "start_ns": s, "end_ns": e}
            for f in self.freezes
            for s, e in f.occurrences(now_ns)
        ]
        return windows, freezes
