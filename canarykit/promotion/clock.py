"""Injectable clocks and the one time format of the promotion layer.

Every time the promotion layer computes with (waiver expiry, change windows, freezes,
``revalidate_by``, audit event times) comes from a :class:`Clock`, never from the wall clock
directly, so tests and replays control it. Times are carried as integer nanoseconds since the
Unix epoch (UTC), truncated to whole microseconds so that they round-trip through
ISO 8601 text exactly; that is also the form handed to Rego (whose ``time.parse_rfc3339_ns``
rejects a trailing ``Z``).

Examples
--------
>>> clock = FixedClock(parse_instant("2026-11-27T09:00:00Z"))
>>> format_instant(clock.now_ns())
'2026-11-27T09:00:00+00:00'
>>> clock.advance(seconds=90)
>>> format_instant(clock.now_ns())
'2026-11-27T09:01:30+00:00'
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from canarykit.errors import InvalidInputError

__all__ = [
    "CLOCK_SKEW_NS",
    "Clock",
    "FixedClock",
    "SystemClock",
    "format_instant",
    "future_problem",
    "parse_instant",
]

CLOCK_SKEW_NS = 5 * 60 * 10**9
"""How far after the wall clock an event of a registry that is not a drill may be dated (5 min)."""

_NS_PER_US = 1_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """Anything with a ``now_ns()`` method returning UTC nanoseconds since the epoch."""

    def now_ns(self) -> int:
        """Current time in integer nanoseconds since the Unix epoch (UTC)."""
        ...  # pragma: no cover


class SystemClock:
    """The wall clock, truncated to whole microseconds.

    Examples
    --------
    >>> SystemClock().now_ns() % 1000
    0
    """

    def now_ns(self) -> int:
        """Current wall-clock time in nanoseconds (a multiple of 1000)."""
        return time.time_ns() // _NS_PER_US * _NS_PER_US

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that stands still until told to move (tests, drills, replays).

    Parameters
    ----------
    now_ns : int
        The instant it shows, in nanoseconds since the epoch (truncated to microseconds).

    Examples
    --------
    >>> c = FixedClock(0)
    >>> c.advance(days=1)
    >>> c.now_ns() == 86_400 * 10**9
    True
    """

    def __init__(self, now_ns: int) -> None:
        self._now_ns = int(now_ns) // _NS_PER_US * _NS_PER_US

    def now_ns(self) -> int:
        """The instant the clock shows."""
        return self._now_ns

    def set(self, now_ns: int) -> None:
        """Move the clock to ``now_ns`` (truncated to microseconds)."""
        self._now_ns = int(now_ns) // _NS_PER_US * _NS_PER_US

    def advance(self, *, days: float = 0, hours: float = 0, seconds: float = 0) -> None:
        """Move the clock forward (or backward, with negative arguments)."""
        delta = timedelta(days=days, hours=hours, seconds=seconds)
        self.set(self._now_ns + _timedelta_ns(delta))

    def __repr__(self) -> str:
        return f"FixedClock({format_instant(self._now_ns)!r})"


def _timedelta_ns(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * _NS_PER_US


def parse_instant(text: object, *, field: str = "time") -> int:
    """Parse an ISO 8601 instant with an explicit UTC offset into integer nanoseconds.

    Parameters
    ----------
    text : str or datetime
        ``2026-11-27T09:00:00Z``, ``2026-11-27T09:00:00+01:00`` or an aware datetime.
    field : str
        Name used in the error message.

    Raises
    ------
    InvalidInputError
        If the text is not an ISO 8601 instant or has no UTC offset.

    Examples
    --------
    >>> parse_instant("1970-01-01T00:00:01+00:00")
    1000000000
    >>> parse_instant("2026-01-01T00:00:00")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: time: '2026-01-01T00:00:00' has no UTC offset (add Z ...)
    """
    if isinstance(text, datetime):
        moment = text
    else:
        try:
            moment = datetime.fromisoformat(str(text).strip())
        except ValueError:
            raise InvalidInputError(
                f"{field}: {text!r} is not an ISO 8601 instant (e.g. 2026-11-27T09:00:00Z)"
            ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInputError(f"{field}: {str(text)!r} has no UTC offset (add Z or +00:00)")
    return _timedelta_ns(moment - _EPOCH)


def format_instant(ns: int) -> str:
    """Format integer nanoseconds as ISO 8601 UTC text (microsecond precision).

    Examples
    --------
    >>> format_instant(1_500_000_000)
    '1970-01-01T00:00:01.500000+00:00'
    """
    moment = _EPOCH + timedelta(microseconds=int(ns) // _NS_PER_US)
    return moment.isoformat()


def future_problem(now_ns: int, wall_ns: int) -> str | None:
    """Why ``now_ns`` may not date an event when the wall clock reads ``wall_ns`` (or None).

    A registry that is not a drill registry takes the system clock: an event dated more than
    :data:`CLOCK_SKEW_NS` away from the wall clock — after it, or before it (a clock set back,
    e.g. to act before a freeze began) — is refused.

    Examples
    --------
    >>> future_problem(0, 0) is None
    True
    >>> future_problem(parse_instant("2100-01-01T00:00:00Z"), parse_instant("2026-11-30T09:00:00Z"))
    'clock: now is 2100-01-01T00:00:00+00:00, 26694 days ahead of the system clock (2026-11-30T09:00:00+00:00); a registry that is not a drill registry takes the system clock (at most 5 min off): --clock is only for drill registries (canarykit config init --drill)'
    >>> future_problem(parse_instant("2026-11-25T12:00:00Z"), parse_instant("2026-11-30T10:00:00Z"))[:73]
    'clock: now is 2026-11-25T12:00:00+00:00, 4 days behind the system clock ('
    """
    off = int(now_ns) - int(wall_ns)
    if abs(off) <= CLOCK_SKEW_NS:
        return None
    days, rest = divmod(abs(off), 86_400 * 10**9)
    span = f"{days} days" if days else f"{rest // (60 * 10**9)} min"
    return (
        f"clock: now is {format_instant(now_ns)}, {span} {'ahead of' if off > 0 else 'behind'}"
        f" the system clock ({format_instant(wall_ns)}); a registry that is not a drill registry"
        f" takes the system clock (at most {CLOCK_SKEW_NS // (60 * 10**9)} min off): --clock is"
        " only for drill registries (canarykit config init --drill)"
    )
