"""Building the Rego input of a gate from registry state (all plain JSON, times in ns).

Every fact a gate reads is backed by an event of the audit log (DESIGN.md §10, "the registry
says so"): the tables are an index of the log, and a row no event backs is ignored here (and
reported by ``canarykit audit verify``, :mod:`~canarykit.promotion.verified_state`). The
configuration documents are the ones the last ``config`` events put in force; a version's
stage is the one its events record (a revocation, in the log or in the table, always wins); a
change ticket and a waiver count only with their events; approvals only with their signed acts;
and an event of a person's act counts only when it carries its own signed act, verified under
the roster in force at it (:func:`~canarykit.promotion.verified_state.act_problem`).

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

import sqlite3
from typing import Any

from canarykit.promotion.approvals import Approval, Roster, list_approvals, person_key
from canarykit.promotion.audit import list_events, verify_chain
from canarykit.promotion.calendar import Calendar
from canarykit.promotion.changes import ChangeTicket, list_change_approvals
from canarykit.promotion.evidence import TrustStore
from canarykit.promotion.versions import VersionRecord
from canarykit.promotion.waivers import Waiver, list_waivers

__all__ = [
    "CLOCK_TOLERANCE_NS",
    "audit_facts",
    "calendar_facts",
    "change_approval_facts",
    "change_facts",
    "clock_facts",
    "load_calendar",
    "load_roster",
    "load_trust",
    "recorded_approvals",
    "recorded_ticket",
    "recorded_waivers",
    "startup_audit_facts",
    "version_facts",
]

CLOCK_TOLERANCE_NS = 2 * 10**9
"""How far before the last audit event the clock may read (scheduling jitter), in ns."""


def _config(conn: sqlite3.Connection, key: str) -> Any:
    """The document the last *counted* ``config`` event put in force for ``key`` (None: none).

    A ``config`` event counts only with its signed act, under the four-eyes rule (the bootstrap,
    or a proposal approved by a second person; :func:`~canarykit.promotion.verified_state.act_problem`):
    one appended without them puts nothing in force. The ``config`` table row is only its
    index: a row written without an event, or edited since, is ignored (``audit verify``
    reports both).
    """
    from canarykit.promotion.verified_state import load_state

    document = load_state(conn).config.get(key)
    return dict(document) if isinstance(document, dict) else None


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


def clock_facts(
    conn: sqlite3.Connection, *, now_ns: int, wall_ns: int | None = None
) -> dict[str, Any]:
    """Whether ``now_ns`` is not earlier than the last audit event (within tolerance).

    Outside a drill registry, events dated more than the skew after the wall clock ``wall_ns``
    (default: the system clock) do not count: written with a future clock, they would otherwise
    hold every later action back until their date (:mod:`~canarykit.promotion.drill`).
    """
    from canarykit.promotion.clock import CLOCK_SKEW_NS, SystemClock
    from canarykit.promotion.drill import is_drill

    limit = None
    if not is_drill(conn):
        limit = (SystemClock().now_ns() if wall_ns is None else wall_ns) + CLOCK_SKEW_NS
    last = conn.execute(
        "SELECT MAX(time_ns) FROM events WHERE ? IS NULL OR time_ns <= ?", (limit, limit)
    ).fetchone()[0]
    monotonic = last is None or now_ns >= last - CLOCK_TOLERANCE_NS
    return {"monotonic": monotonic, "last_event_ns": last}


def audit_facts(conn: sqlite3.Connection) -> dict[str, Any]:
    """The audit chain's verification result, and whether it extends the latest checkpoint
    the log records (its event still carries the hash that was signed)."""
    from canarykit.promotion.checkpoints import latest_checkpoint

    result = verify_chain(conn)
    problems = list(result.problems)
    latest = latest_checkpoint(conn)
    if latest is not None:
        first = conn.execute("SELECT hash FROM events WHERE seq = 1").fetchone()
        at = conn.execute("SELECT hash FROM events WHERE seq = ?", (latest.seq,)).fetchone()
        if first is None or first[0] != latest.registry or at is None or at[0] != latest.head_hash:
            problems.append(
                f"checkpoint: the log no longer extends the checkpoint of event {latest.seq}"
                " recorded in it (rewritten or truncated)"
            )
    return {"ok": not problems, "problems": problems}


def version_facts(record: VersionRecord, conn: sqlite3.Connection | None = None) -> dict[str, Any]:
    """The version as the gates see it.

    With ``conn`` every field is the one the audit log records: the stage (``Unrecorded`` when
    no event records the version), the artifact digest and submitter of its submission, the
    policy digest its promotion to Staging bound and the ``revalidate_by`` of its promotion to
    Approved; a revocation recorded in the log or in the table wins. A field edited in the
    table passes no gate, and deleting a revocation's rows revives nothing.
    """
    facts: dict[str, Any] = {
        "model": record.model,
        "version": record.version,
        "stage": record.stage,
        "revoked": record.revoked,
        "submitter": record.submitter,
        "artifact_digest": record.artifact_digest,
        "policy_digest": record.policy_digest,
        "revalidate_by_ns": record.revalidate_by_ns,
    }
    if conn is not None:
        from canarykit.promotion.verified_state import recorded_version

        recorded = recorded_version(conn, record.model, record.version) or {"stage": None}
        revoked = record.revoked or recorded["stage"] == "Revoked"
        facts.update(
            {name: recorded.get(name) for name in ("submitter", "artifact_digest",
                                                    "policy_digest", "revalidate_by_ns")},
            stage="Revoked" if revoked else (recorded["stage"] or "Unrecorded"),
            revoked=revoked,
        )  # fmt: skip
    facts["submitter"] = None if facts["submitter"] is None else person_key(facts["submitter"])
    return facts


def change_facts(conn: sqlite3.Connection, chg_id: str | None) -> dict[str, Any]:
    """The change ticket and its approvals, or ``present: False``."""
    found = None if chg_id is None else _recorded_ticket(conn, chg_id)
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
        "requester": person_key(requester),
        **change_approval_facts(conn, ticket.chg_id),
    }


def _recorded_ticket(conn: sqlite3.Connection, chg_id: str) -> tuple[ChangeTicket, str] | None:
    """The ticket and its requester as its first counted ``change`` event records them (None:
    no such event — one without the requester's signed act does not count —, or no row; a
    ticket row no event backs is ignored, an edited one reads as recorded)."""
    if conn.execute("SELECT 1 FROM changes WHERE chg_id = ?", (chg_id,)).fetchone() is None:
        return None
    from canarykit.promotion.verified_state import load_state

    state = load_state(conn)
    body = state.tickets.get(chg_id)
    if body is None:
        return None
    ticket = ChangeTicket.from_dict(body, source=f"change {chg_id} (audit event)")
    return ticket, state.requesters[chg_id]


def recorded_ticket(conn: sqlite3.Connection, chg_id: str) -> tuple[ChangeTicket, str] | None:
    """The ticket ``chg_id`` and its requester as the verified audit log records them (None:
    no counted ``change`` event, or no row); what releases list."""
    return _recorded_ticket(conn, chg_id)


def recorded_waivers(conn: sqlite3.Connection, model: str, version: str | None) -> list[Waiver]:
    """The waivers of ``model`` for ``version`` that their counted ``waiver`` events record (a
    waiver row no event backs, one edited since — a later expiry, another check —, or one whose
    event carries no signed act of this waiver, is ignored)."""
    from canarykit.promotion.verified_state import recorded_keys, waiver_key

    backed = recorded_keys(conn, "waivers", model)
    return [
        w
        for w in list_waivers(conn, model, version)
        if waiver_key({**w.to_dict(), "version": w.version}) in backed
    ]


def recorded_approvals(
    conn: sqlite3.Connection, model: str, version: str, stage: str | None = None
) -> list[Approval]:
    """The approvals of a version that their ``approval`` events record (a row no event backs
    is left out)."""
    from canarykit.promotion.verified_state import approval_key, recorded_keys

    backed = recorded_keys(conn, "approvals", model)
    return [
        a
        for a in list_approvals(conn, model, version, stage)
        if approval_key(a.model, a.version, a.stage, a.role, a.actor, a.verdict_digest) in backed
    ]


def change_approval_facts(conn: sqlite3.Connection, chg_id: str) -> dict[str, Any]:
    """``approvals`` of a change that still stand, and ``void_approvals`` (with why not).

    A CAB or executive approval counts while its signed act is recorded, its signer is still
    on the roster with the role and the key that signed it is still theirs
    (:func:`~canarykit.promotion.acts.act_standing`).
    """
    from canarykit.promotion import acts

    roster = load_roster(conn)
    drill = acts.drill_registry(conn)
    registry = acts.registry_identity(conn)
    from canarykit.promotion.verified_state import load_state

    state = load_state(conn)  # an event whose act does not verify records no act
    events = [
        e
        for e in list_events(conn, kind="change_approval")
        if e.chg_id == chg_id and state.counts(e.seq)
    ]
    standing, void = [], []
    for a in list_change_approvals(conn, chg_id):
        act = acts.latest_act(events, chg_id=chg_id, actor=a.actor, role=a.role)
        expect = {
            "action": "change_approve",
            "registry": registry,
            "chg_id": chg_id,
            "role": a.role,
        }
        why = acts.act_standing(act, roster, actor=a.actor, role=a.role, drill=drill, expect=expect)
        entry = {"actor": person_key(a.actor), "role": a.role}
        if why is None:
            standing.append(entry)
        else:
            void.append({**entry, "void": why})
    return {"approvals": standing, "void_approvals": void}


def calendar_facts(conn: sqlite3.Connection, *, now_ns: int) -> dict[str, Any]:
    """Concrete windows and freezes near ``now_ns``, or ``configured: False``."""
    calendar = load_calendar(conn)
    if calendar is None:
        return {"configured": False, "windows": [], "freezes": []}
    windows, freezes = calendar.intervals_near(now_ns)
    return {"configured": True, "windows": windows, "freezes": freezes}


def startup_audit_facts(
    conn: sqlite3.Connection, record: VersionRecord, *, alias: str | None, alias_version: str | None
) -> dict[str, Any]:
    """Does the audit log back the version's stage (and the alias's target)?

    A stage or alias written to the registry tables without going through a gate leaves no
    matching event; the startup gate refuses such a version.
    """
    audit = audit_facts(conn)  # the chain, and that it extends the latest recorded checkpoint
    problems = list(audit["problems"])
    events = [
        e
        for e in list_events(conn, model=record.model)
        if e.kind in ("submission", "promotion", "revocation", "alias_update", "rollback")
    ]
    stage_events = [
        e
        for e in events
        if e.version == record.version and e.kind in ("submission", "promotion", "revocation")
    ]
    recorded_stage = None
    if stage_events:
        last = stage_events[-1]
        recorded_stage = {"submission": "Candidate", "revocation": "Revoked"}.get(
            last.kind, str(last.payload.get("to"))
        )
    stage_recorded = recorded_stage == record.stage
    if not stage_recorded:
        problems.append(
            f"the registry says {record.model} {record.version} is {record.stage}, the audit"
            f" log says {recorded_stage}"
        )
    alias_recorded = True
    if alias is not None:
        moves = [
            e
            for e in events
            if e.kind in ("alias_update", "rollback") and e.payload.get("alias") == alias
        ]
        recorded_alias = moves[-1].payload.get("to") if moves else None
        alias_recorded = recorded_alias == alias_version
        if not alias_recorded:
            problems.append(
                f"the registry says {alias} is {alias_version}, the audit log says {recorded_alias}"
            )
    return {
        "ok": audit["ok"],
        "stage_recorded": stage_recorded,
        "alias_recorded": alias_recorded,
        "problems": problems,
    }
