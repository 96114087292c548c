"""Building the Rego input of a gate from registry state (all plain JSON, times in ns).

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> clock_facts(store.conn, now_ns=5)
{'monotonic': True, 'last_event_ns': None}
>>> change_facts(store.conn, None)
{'present': False, 'id': None}
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from canarykit.promotion.approvals import Roster
from canarykit.promotion.audit import verify_chain
from canarykit.promotion.calendar import Calendar
from canarykit.promotion.changes import get_ticket, list_change_approvals
from canarykit.promotion.evidence import TrustStore
from canarykit.promotion.versions import VersionRecord

__all__ = [
    "CLOCK_TOLERANCE_NS",
    "audit_facts",
    "calendar_facts",
    "change_facts",
    "clock_facts",
    "load_calendar",
    "load_roster",
    "load_trust",
    "version_facts",
]

CLOCK_TOLERANCE_NS = 2 * 10**9
"""How far before the last audit event the clock may read (scheduling jitter), in ns."""


def _config(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("SELECT value FROM config WHERE key = ?", (key,)).fetchone()
    return None if row is None else json.loads(row[0])


def load_trust(conn: sqlite3.Connection) -> TrustStore | None:
    """The configured trust store, or None."""
    data = _config(conn, "trust")
    return None if data is None else TrustStore.from_dict(data, source="registry trust")


def load_roster(conn: sqlite3.Connection) -> Roster | None:
    """The configured roster, or None."""
    data = _config(conn, "roster")
    return None if data is None else Roster.from_dict(data, source="registry roster")


def load_calendar(conn: sqlite3.Connection) -> Calendar | None:
    """The configured change calendar, or None."""
    data = _config(conn, "calendar")
    return None if data is None else Calendar.from_dict(data, source="registry calendar")


def clock_facts(conn: sqlite3.Connection, *, now_ns: int) -> dict[str, Any]:
    """Whether ``now_ns`` is not earlier than the last audit event (within tolerance)."""
    last = conn.execute("SELECT MAX(time_ns) FROM events").fetchone()[0]
    monotonic = last is None or now_ns >= last - CLOCK_TOLERANCE_NS
    return {"monotonic": monotonic, "last_event_ns": last}


def audit_facts(conn: sqlite3.Connection) -> dict[str, Any]:
    """The audit chain's verification result."""
    result = verify_chain(conn)
    return {"ok": result.ok, "problems": list(result.problems)}


def version_facts(record: VersionRecord) -> dict[str, Any]:
    """The version as the gates see it."""
    return {
        "model": record.model,
        "version": record.version,
        "stage": record.stage,
        "revoked": record.revoked,
        "submitter": record.submitter,
        "artifact_digest": record.artifact_digest,
        "policy_digest": record.policy_digest,
    }


def change_facts(conn: sqlite3.Connection, chg_id: str | None) -> dict[str, Any]:
    """The change ticket and its approvals, or ``present: False``."""
    found = None if chg_id is None else get_ticket(conn, chg_id)
    if found is None:
        return {"present": False, "id": chg_id}
    ticket, requester = found
    return {
        "present": True,
        "id": ticket.chg_id,
        "type": ticket.type,
        "model": ticket.model,
        "versions": list(ticket.versions),
        "window_start_ns": ticket.window_start_ns,
        "window_end_ns": ticket.window_end_ns,
        "requester": requester,
        "approvals": [
            {"actor": a.actor, "role": a.role} for a in list_change_approvals(conn, ticket.chg_id)
        ],
    }


def calendar_facts(conn: sqlite3.Connection, *, now_ns: int) -> dict[str, Any]:
    """Concrete windows and freezes near ``now_ns``, or ``configured: False``."""
    calendar = load_calendar(conn)
    if calendar is None:
        return {"configured": False, "windows": [], "freezes": []}
    windows, freezes = calendar.intervals_near(now_ns)
    return {"configured": True, "windows": windows, "freezes": freezes}
