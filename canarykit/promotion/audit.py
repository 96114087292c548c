"""Append-only, hash-chained audit log of every promotion-layer action.

Each event row carries its sequence number, time, kind, model/version, change ticket id
(CHG-ID), actor and a JSON payload, plus the hash of the previous row and its own hash::

    hash = "sha256:" + sha256(canonical JSON of {seq, time_ns, kind, model, version, chg_id,
                                                 actor, payload, prev_hash})

Canonical JSON is ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.
The first row chains to :data:`GENESIS_HASH`. An ``audit_head`` row, written in the same
transaction as each event, records the last sequence number and hash, so deleting the newest
rows is detected too. SQLite triggers refuse ``UPDATE`` and ``DELETE`` on the events table;
:func:`verify_chain` detects any edit, deletion or reordering done around them.

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> with store.transaction() as conn:
...     event = append_event(conn, kind="approval", actor="bob", time_ns=0, payload={})
>>> event.seq, event.prev_hash == GENESIS_HASH
(1, True)
>>> verify_chain(store.conn).ok
True
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.clock import format_instant, parse_instant
from canarykit.safe_io import write_file

__all__ = [
    "EVENT_KINDS",
    "GENESIS_HASH",
    "AuditEvent",
    "AuditVerification",
    "append_event",
    "export_jsonl",
    "get_event",
    "list_events",
    "verify_chain",
]

GENESIS_HASH = "sha256:" + "0" * 64

EVENT_CONTEXT: ContextVar[Mapping[str, Any] | None] = ContextVar(
    "canarykit_audit_context", default=None
)
"""Fields merged into the payload of every event appended while set (e.g. an injected clock)."""

EVENT_KINDS = (
    "submission",
    "promotion",
    "approval",
    "waiver",
    "change",
    "change_approval",
    "config",
    "alias_update",
    "rollback",
    "revocation",
    "release",
    "startup_degraded",
    "gate_denied",
    "evidence",
    "vex_approval",
    "registry_init",
    "config_proposal",
    "checkpoint",
    "mlflow_mirror",
)


def canonical_json(value: Any) -> str:
    """The canonical JSON text used for hashing (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One row of the audit log.

    Examples
    --------
    >>> e = AuditEvent(seq=1, time_ns=0, kind="rollback", actor="ops", model="m",
    ...                version="v1", chg_id="CHG-1", payload={}, prev_hash=GENESIS_HASH, hash="h")
    >>> AuditEvent.from_dict(e.to_dict()) == e
    True
    """

    seq: int
    time_ns: int
    kind: str
    actor: str
    model: str | None = None
    version: str | None = None
    chg_id: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """The hashed fields (everything except ``hash``)."""
        return {
            "seq": self.seq,
            "time_ns": self.time_ns,
            "kind": self.kind,
            "model": self.model,
            "version": self.version,
            "chg_id": self.chg_id,
            "actor": self.actor,
            "payload": dict(self.payload),
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        """The hash this row should carry, recomputed from its fields."""
        digest = hashlib.sha256(canonical_json(self.body()).encode("utf-8")).hexdigest()
        return "sha256:" + digest

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (time also as ISO 8601 text)."""
        return {**self.body(), "time": format_instant(self.time_ns), "hash": self.hash}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        """Inverse of :meth:`to_dict` (``time_ns`` wins over ``time`` when both are given)."""
        time_ns = data.get("time_ns")
        if time_ns is None:
            time_ns = parse_instant(data["time"], field="time")
        return cls(
            seq=int(data["seq"]),
            time_ns=int(time_ns),
            kind=str(data["kind"]),
            actor=str(data["actor"]),
            model=data.get("model"),
            version=data.get("version"),
            chg_id=data.get("chg_id"),
            payload=dict(data.get("payload") or {}),
            prev_hash=str(data["prev_hash"]),
            hash=str(data["hash"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditVerification:
    """Result of :func:`verify_chain`: ``ok`` and every problem found, by sequence number."""

    ok: bool
    events: int
    head_hash: str
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "ok": self.ok,
            "events": self.events,
            "head_hash": self.head_hash,
            "problems": list(self.problems),
        }


def _row_to_event(row: sqlite3.Row) -> AuditEvent:
    try:
        payload = json.loads(row["payload_json"])
    except json.JSONDecodeError:
        payload = {"<unreadable payload>": row["payload_json"]}
    return AuditEvent(
        seq=row["seq"],
        time_ns=row["time_ns"],
        kind=row["kind"],
        actor=row["actor"],
        model=row["model"],
        version=row["version"],
        chg_id=row["chg_id"],
        payload=payload if isinstance(payload, dict) else {"value": payload},
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def append_event(
    conn: sqlite3.Connection,
    *,
    kind: str,
    actor: str,
    time_ns: int,
    model: str | None = None,
    version: str | None = None,
    chg_id: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event, chained to the current head; call inside a write transaction.

    Raises
    ------
    InvalidInputError
        If ``kind`` is not one of :data:`EVENT_KINDS` or ``actor`` is empty.
    """
    if kind not in EVENT_KINDS:
        raise InvalidInputError(f"audit kind: {kind!r} is not one of {', '.join(EVENT_KINDS)}")
    if not actor or not actor.strip():
        raise InvalidInputError("actor: must be a non-empty identity")
    # Chain to the recorded head, not to whatever row is last now: if rows were deleted from
    # the end, the new row keeps pointing past the gap and verification keeps failing.
    last = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    if last is None:
        last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (1, GENESIS_HASH) if last is None else (last[0] + 1, last[1])
    draft = AuditEvent(
        seq=seq,
        time_ns=int(time_ns),
        kind=kind,
        actor=actor,
        model=model,
        version=version,
        chg_id=chg_id,
        payload=json.loads(canonical_json({**(EVENT_CONTEXT.get() or {}), **dict(payload or {})})),
        prev_hash=prev_hash,
        hash="",
    )
    event = AuditEvent(**{**_fields(draft), "hash": draft.computed_hash()})
    conn.execute(
        "INSERT INTO events (seq, time_ns, kind, model, version, chg_id, actor, payload_json,"
        " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.seq,
            event.time_ns,
            event.kind,
            event.model,
            event.version,
            event.chg_id,
            event.actor,
            canonical_json(dict(event.payload)),
            event.prev_hash,
            event.hash,
        ),
    )
    conn.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        (event.seq, event.hash),
    )
    return event


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AuditEvent.__dataclass_fields__}


def list_events(
    conn: sqlite3.Connection, *, model: str | None = None, kind: str | None = None
) -> list[AuditEvent]:
    """Events in sequence order, optionally only one model's or one kind's."""
    sql = "SELECT * FROM events WHERE (? IS NULL OR model = ?) AND (? IS NULL OR kind = ?)"
    rows = conn.execute(sql + " ORDER BY seq", (model, model, kind, kind)).fetchall()
    return [_row_to_event(row) for row in rows]


def get_event(conn: sqlite3.Connection, seq: int) -> AuditEvent | None:
    """The event at sequence number ``seq``, or None."""
    row = conn.execute("SELECT * FROM events WHERE seq = ?", (seq,)).fetchone()
    return None if row is None else _row_to_event(row)


def verify_chain(conn: sqlite3.Connection) -> AuditVerification:
    """Recompute the hash chain and compare it with the stored rows and head.

    Detects an edited row (its hash no longer matches its fields), a deleted row (a gap in the
    sequence, a broken ``prev_hash`` link, or a head that names a missing row) and reordered
    rows (``prev_hash`` links out of order).

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> store = RegistryStore(":memory:")
    >>> verify_chain(store.conn).ok
    True
    """
    events = list_events(conn)
    problems: list[str] = []
    expected_prev = GENESIS_HASH
    for position, event in enumerate(events, start=1):
        if event.seq != position:
            problems.append(
                f"events[{position}]: sequence number {event.seq}, expected {position}"
                " (a row was deleted or reordered)"
            )
        if event.prev_hash != expected_prev:
            problems.append(
                f"seq {event.seq}: prev_hash does not link to the previous row"
                " (a row was deleted, inserted or reordered)"
            )
        if event.computed_hash() != event.hash:
            problems.append(f"seq {event.seq}: hash does not match the row's contents (edited)")
        expected_prev = event.hash
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    last_seq, last_hash = (events[-1].seq, events[-1].hash) if events else (0, GENESIS_HASH)
    if head is None:
        if events:
            problems.append("audit_head: missing although events exist")
    elif (head[0], head[1]) != (last_seq, last_hash):
        problems.append(
            f"audit_head: records seq {head[0]} but the log ends at seq {last_seq}"
            " (rows were deleted or the head was edited)"
        )
    return AuditVerification(
        ok=not problems, events=len(events), head_hash=last_hash, problems=tuple(problems)
    )


def export_jsonl(conn: sqlite3.Connection, out: str | Path) -> int:
    """Write every event as one JSON line (sequence order); returns the number written."""
    events = list_events(conn)
    lines = [canonical_json(event.to_dict()) + "\n" for event in events]
    write_file(out, "".join(lines), what="audit export")  # never through a symbolic link
    return len(lines)
