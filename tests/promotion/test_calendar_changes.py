"""Change calendar (windows, freezes) and change-ticket validation."""

from __future__ import annotations

import pytest

from canarykit.errors import InvalidInputError
from canarykit.promotion.calendar import Calendar
from canarykit.promotion.changes import ChangeTicket
from canarykit.promotion.clock import format_instant, parse_instant

WEEKDAYS = {
    "name": "day",
    "weekly": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"},
}


def _active(intervals: list[dict], at: str) -> list[str]:
    now = parse_instant(at)
    return [i["name"] for i in intervals if i["start_ns"] <= now < i["end_ns"]]


@pytest.mark.parametrize(
    ("at", "windows", "freezes"),
    [
        ("2026-11-25T10:00:00Z", ["day"], []),  # Wednesday
        ("2026-11-25T18:00:00Z", [], []),  # end excluded
        ("2026-11-28T10:00:00Z", [], ["month-end"]),  # Saturday, month-end
        ("2026-12-01T10:00:00Z", ["day"], ["month-end"]),  # first day of the month
        ("2026-12-02T10:00:00Z", ["day"], []),
        ("2026-12-31T10:00:00Z", ["day"], ["month-end", "holidays"]),  # year boundary
        ("2027-01-01T10:00:00Z", ["day"], ["month-end", "holidays"]),
    ],
)
def test_windows_and_freezes_near_an_instant(at: str, windows: list, freezes: list) -> None:
    calendar = Calendar.from_dict(
        {
            "windows": [WEEKDAYS],
            "freezes": [
                {"name": "month-end", "monthly": {"last_days": 3, "first_days": 1}},
                {
                    "name": "holidays",
                    "start": "2026-12-24T00:00:00Z",
                    "end": "2027-01-02T00:00:00Z",
                },
            ],
        }
    )
    found_windows, found_freezes = calendar.intervals_near(parse_instant(at))
    assert _active(found_windows, at) == windows
    assert sorted(_active(found_freezes, at)) == sorted(freezes)


def test_overnight_weekly_window() -> None:
    calendar = Calendar.from_dict(
        {
            "windows": [
                {"name": "night", "weekly": {"days": ["fri"], "start": "22:00", "end": "02:00"}}
            ]
        }
    )
    windows, _ = calendar.intervals_near(parse_instant("2026-11-28T01:00:00Z"))  # Saturday 1am
    assert _active(windows, "2026-11-28T01:00:00Z") == ["night"]


def test_calendar_errors_are_collected() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Calendar.from_dict(
            {
                "windows": [
                    {"name": "x", "weekly": {"days": ["funday"], "start": "8", "end": "25:00"}}
                ],
                "freezes": [
                    {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
                    {"name": "m", "monthly": {"last_days": 40}},
                ],
            }
        )
    message = str(caught.value)
    for part in (
        "windows[0].weekly.days",
        "windows[0].weekly.start",
        "windows[0].weekly.end",
        "freezes[0].name: required",
        "freezes[0].end: must be after",
        "freezes[1].monthly",
    ):
        assert part in message


def test_calendar_needs_windows() -> None:
    with pytest.raises(InvalidInputError, match="windows: must be a non-empty list"):
        Calendar.from_dict({"freezes": []})


def test_calendar_round_trips() -> None:
    calendar = Calendar.from_dict(
        {
            "windows": [
                WEEKDAYS,
                {"name": "sat", "start": "2026-12-05T00:00:00Z", "end": "2026-12-05T06:00:00Z"},
            ],
            "freezes": [{"name": "m", "monthly": {"last_days": 2}}],
        }
    )
    assert Calendar.from_dict(calendar.to_dict()) == calendar


def test_ticket_field_errors_are_path_qualified() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ChangeTicket.from_dict(
            {
                "id": "CHG-1",
                "type": "Normal",
                "scope": {"versions": []},
                "risk": "extreme",
                "impact": "",
                "window": {"start": "2026-01-02T00:00:00Z", "end": "yesterday"},
                "steps": ["ok", ""],
                "backout_plan": "b",
                "post_change_validation": "check",
                "owners": ["o"],
            }
        )
    message = str(caught.value)
    for part in (
        "scope.model: required",
        "scope.versions: must be a non-empty list",
        "risk: 'extreme'",
        "impact: must be non-empty",
        "window.end:",
        "steps[1]: must be non-empty",
    ):
        assert part in message


def test_ticket_window_times_keep_their_offset() -> None:
    ticket = ChangeTicket.from_dict(
        {
            "id": "CHG-7",
            "type": "Emergency",
            "scope": {"model": "m", "versions": ["v"]},
            "risk": "high",
            "impact": "i",
            "steps": ["s"],
            "backout_plan": "b",
            "window": {"start": "2026-11-25T09:00:00+01:00", "end": "2026-11-25T10:00:00+01:00"},
            "post_change_validation": ["v"],
            "owners": ["o"],
        }
    )
    assert format_instant(ticket.window_start_ns) == "2026-11-25T08:00:00+00:00"
