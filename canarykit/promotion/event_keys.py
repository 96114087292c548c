"""How a table row and the audit event that backs it are matched.

The registry's tables are an index of what the audit log records
(:mod:`~canarykit.promotion.verified_state`); a row counts only when an event carries the same
key. The keys are built here from either side: :func:`approval_key` for approvals,
:func:`waiver_key` for waivers, and :func:`ticket_of` reads the change ticket a ``change``
event records.

Examples
--------
>>> approval_key("m", "v1", "Approved", "security", "Sam", None)
('m', 'v1', 'Approved', 'security', 'sam', '')
>>> ticket_of({"chg_id": "CHG-1", "act": {}, "clock": "system"})
{'chg_id': 'CHG-1'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canarykit.errors import CanaryError

__all__ = ["Key", "approval_key", "ticket_of", "waiver_key"]


Key = tuple[Any, ...]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _instant_ns(value: Any) -> int | None:
    from canarykit.promotion.clock import parse_instant

    try:
        return parse_instant(str(value), field="time")
    except CanaryError:
        return None


def approval_key(model: Any, version: Any, stage: Any, role: Any, actor: Any, digest: Any) -> Key:
    """How an approval row and its event are matched."""
    from canarykit.promotion.roster import person_key

    return (
        _text(model),
        _text(version),
        _text(stage),
        _text(role),
        person_key(_text(actor)),
        _text(digest),
    )


_NOT_RECORD = ("act", "clock", "drill")
"""Payload fields an event adds to the record it carries (the signed act, the event context)."""


def ticket_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The change ticket a ``change`` event records (its payload less act and context)."""
    return {k: v for k, v in payload.items() if k not in _NOT_RECORD}


def waiver_key(p: Mapping[str, Any]) -> Key:
    """How a waiver row and its event are matched (a waiver's ``to_dict`` form)."""
    return (
        _text(p.get("waiver_id")),
        _text(p.get("model")),
        _text(p.get("version")),
        _text(p.get("check")),
        _instant_ns(p.get("expires")),
        _text(p.get("created_by")),
    )
