"""Drill registries: rehearsals marked in the audit chain's first event, and the time rule.

A registry is a *drill* registry when its first audit event (sequence 1) is a
``registry_init`` event whose payload says ``"drill": true``. That event is written once, when
the registry is created (``canarykit config init --drill``, ``Promotion(..., drill=True)``), and
it is hashed into every later event through the chain: a registry cannot become a drill, or stop
being one, without rewriting the chain from its first row (which ``audit verify`` detects).

Only a drill registry may fix the time (``--clock``), accept plain verdicts and unsigned acts;
everything it prints says DRILL, every event it writes carries ``"drill": true`` in its payload,
its releases say so, and ``check-startup`` refuses it (exit 19). Everywhere else the time is the
system clock (DESIGN.md §10), under two rules:

- **at write time** no event may be dated more than :data:`~canarykit.promotion.clock.CLOCK_SKEW_NS`
  (5 minutes) away from the wall clock, after it or before it (a clock set back to act before a
  freeze began); such an action is denied with a ``gate_denied`` event dated at the wall clock;
- an event already in the log that is dated beyond that skew (written with a future clock, e.g.
  by an older canarykit that took ``--clock`` anywhere) does not count when the gates check that
  time moves forward, so it cannot hold every later action back until its date; ``audit verify``
  reports it (:func:`future_events`).

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> is_drill(store.conn)
False
>>> with store.transaction() as conn:
...     event = init_registry(conn, drill=True, actor="olga", now_ns=0)
>>> event.seq, event.kind, is_drill(store.conn)
(1, 'registry_init', True)
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import GENESIS_HASH, AuditEvent, append_event
from canarykit.promotion.clock import CLOCK_SKEW_NS, format_instant

__all__ = [
    "DRILL_BANNER",
    "INIT_KIND",
    "future_events",
    "init_registry",
    "is_drill",
    "time_problems",
]

INIT_KIND = "registry_init"
DRILL_BANNER = (
    "DRILL registry (canarykit config init --drill): a rehearsal; its clock may be fixed and"
    " nothing from it may start in production"
)


def is_drill(conn: sqlite3.Connection) -> bool:
    """Whether the registry's first audit event marks it as a drill registry.

    Only an intact first row counts: a ``registry_init`` event at sequence 1, chained to the
    genesis hash, whose hash matches its contents and whose payload says ``"drill": true``.

    Parameters
    ----------
    conn : sqlite3.Connection
        An open registry.

    Returns
    -------
    bool
    """
    row = conn.execute("SELECT * FROM events WHERE seq = 1").fetchone()
    if row is None or row["kind"] != INIT_KIND or row["prev_hash"] != GENESIS_HASH:
        return False
    try:
        payload = json.loads(row["payload_json"])
    except json.JSONDecodeError:
        return False
    if not isinstance(payload, dict) or payload.get("drill") is not True:
        return False
    event = AuditEvent(
        seq=row["seq"],
        time_ns=row["time_ns"],
        kind=row["kind"],
        actor=row["actor"],
        model=row["model"],
        version=row["version"],
        chg_id=row["chg_id"],
        payload=payload,
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
    return event.computed_hash() == event.hash


def init_registry(conn: sqlite3.Connection, *, drill: bool, actor: str, now_ns: int) -> AuditEvent:
    """Write the registry's first event, marking it a drill registry or not (in a write
    transaction).

    Raises
    ------
    InvalidInputError
        The registry already holds audit events: a registry is marked once, when it is created.
    """
    count = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    if count:
        first = conn.execute("SELECT kind FROM events WHERE seq = 1").fetchone()
        already = first is not None and first[0] == INIT_KIND
        raise InvalidInputError(
            f"config init: the registry already holds {count} audit event(s)"
            + (" and was initialised" if already else "")
            + "; a registry is marked drill (or not) by its first event only, when it is created"
            " — create a new one with canarykit config init [--drill] --registry NEW"
        )
    payload: dict[str, Any] = {"drill": bool(drill)}
    if drill:
        payload["banner"] = DRILL_BANNER
    return append_event(conn, kind=INIT_KIND, actor=actor, time_ns=now_ns, payload=payload)


def future_events(conn: sqlite3.Connection, *, wall_ns: int) -> list[tuple[int, int]]:
    """``(seq, time_ns)`` of the events dated more than the skew after ``wall_ns``.

    Always empty for a drill registry, whose clock is fixed on purpose.
    """
    if is_drill(conn):
        return []
    rows = conn.execute(
        "SELECT seq, time_ns FROM events WHERE time_ns > ? ORDER BY seq",
        (wall_ns + CLOCK_SKEW_NS,),
    ).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


def time_problems(conn: sqlite3.Connection, *, wall_ns: int) -> list[str]:
    """What ``audit verify`` reports about future-dated events (one line each, at most 20).

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> store = RegistryStore(":memory:")
    >>> with store.transaction() as conn:
    ...     _ = append_event(conn, kind="approval", actor="bob", time_ns=4102444800 * 10**9)
    >>> time_problems(store.conn, wall_ns=0)
    ['seq 1: dated 2100-01-01T00:00:00+00:00, after the system clock (1970-01-01T00:00:00+00:00) + 5 min: ...']
    """
    found = future_events(conn, wall_ns=wall_ns)
    lines = [
        f"seq {seq}: dated {format_instant(time_ns)}, after the system clock"
        f" ({format_instant(wall_ns)}) + {CLOCK_SKEW_NS // 60 // 10**9} min: written with a"
        " future clock; the gates ignore it when they check that time moves forward"
        for seq, time_ns in found[:20]
    ]
    if len(found) > 20:
        lines.append(f"... and {len(found) - 20} more future-dated events")
    return lines
