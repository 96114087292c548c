"""The registry as its verified audit log tells it, and the table rows that disagree.

The tables (versions, approvals, waivers, change tickets and their approvals, aliases, the
configuration documents, evidence) are a fast index of what the audit log records, nothing
more (DESIGN.md §10: "the registry says so" only when the fact is backed by an event of the
verified hash chain). Whoever can open the SQLite file can insert, edit or delete rows without
any event; :func:`build_state` reads the events once (linear in their number) and
:func:`~canarykit.promotion.unrecorded_rows.row_problems` names every row no event backs and every event whose row is gone::

    approvals row 7 (sam approves risk-default v1 for Approved as security) has no audit event

An event is believed only when it counts. Outside a drill registry an act-kind event
(:data:`ACT_KINDS`) counts only when its signed act verifies under the roster in force at that
event, by a signer holding the role (the rules: :mod:`~canarykit.promotion.act_events`), and an
outcome event (a ``promotion``, an ``alias_update`` or ``rollback``) only when it is consistent
with the verified state at its place in the log (:mod:`~canarykit.promotion.outcome_events`).
The events that do not count are skipped and named (:attr:`VerifiedState.problems`)::

    seq 57 (approval by sam): its signed act is about version v1, not v2 (a signature copied from another act); it does not count
    seq 41 (promotion by olga): risk-default v3 to Approved without two standing approvals (...); it does not count

A revocation without its act is named too, but still revokes (it only takes away). A
revocation's own alias moves (``cause: revocation``) wait for the revocation event that follows
them and are settled by it (:func:`extend_state`).

This module builds that state and reads it: the pass is linear; each signature is checked once
per (envelope, statement, roster) (20,000 signed approvals: about 5 s cold on a loaded CI
machine, 1.5 s from the cache), and :func:`load_state` continues the state of a connection with
the new events only. How rows and events are matched: :mod:`~canarykit.promotion.event_keys`.

The gates read the counted event side (:mod:`~canarykit.promotion.facts`); ``canarykit audit
verify`` reports the rows and the events that do not count
(:mod:`~canarykit.promotion.log_verification`).

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> _ = store.conn.execute("INSERT INTO approvals (model, version, stage, role, actor, time_ns)"
...                        " VALUES ('m', 'v1', 'Approved', 'security', 'sam', 0)")
>>> from canarykit.promotion.unrecorded_rows import row_problems
>>> row_problems(store.conn, build_state([]))
['approvals row 1 (sam approves m v1 for Approved as security) has no audit event']
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from canarykit.promotion.act_events import _VERIFIED as _VERIFIED
from canarykit.promotion.act_events import ACT_KINDS, _digest, _roster, act_problem
from canarykit.promotion.audit import AuditEvent, list_events
from canarykit.promotion.event_keys import Key, _text, approval_key, ticket_of, waiver_key
from canarykit.promotion.outcome_events import (
    _ALIAS_KINDS,
    _revocation_move,
    _ticket_use,
    outcome_problem,
)

__all__ = [
    "ACT_KINDS",
    "Key",
    "VerifiedState",
    "act_problem",
    "approval_key",
    "build_state",
    "extend_state",
    "load_state",
    "outcome_problem",
    "recorded_keys",
    "recorded_stage",
    "recorded_version",
    "ticket_of",
    "verify_log",
    "waiver_key",
]

_STAGE_KINDS = ("submission", "promotion", "revocation")


@dataclass(slots=True, kw_only=True)
class VerifiedState:
    """What the audit log records, indexed by what the tables hold (one pass over events).

    ``rows[table]`` counts the row keys the events back (and ``seqs[table]`` names the event of
    each); ``stages``, ``aliases`` and ``config`` hold the latest state the log records.
    """

    first_hash: str | None = None
    events: int = 0
    stages: dict[tuple[str, str], str] = field(default_factory=dict)
    fields: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    revoked: set[tuple[str, str]] = field(default_factory=set)
    aliases: dict[tuple[str, str], str | None] = field(default_factory=dict)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, Counter[Key]] = field(default_factory=dict)
    seqs: dict[str, dict[Key, int]] = field(default_factory=dict)
    drill: bool = False
    requesters: dict[str, str] = field(default_factory=dict)
    submitters: dict[tuple[str, str], int] = field(default_factory=dict)
    uncounted: dict[int, str] = field(default_factory=dict)
    first_group: tuple[int, str] | None = None
    roster: Any = None
    roster_digest: str = ""
    proposals: dict[str, dict[str, Any]] = field(default_factory=dict)
    bootstrap_sig: str | None = None
    last_seq: int = 0
    last_hash: str | None = None
    approvals: dict[tuple[str, str], list[tuple[str, str, str, str]]] = field(default_factory=dict)
    uses: set[tuple[str, str]] = field(default_factory=set)
    pending: list[AuditEvent] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per event that does not count (its act does not verify, or breaks the
        four-eyes rule of configuration, or an outcome event the verified state does not
        allow), in sequence order."""
        waiting = {
            m.seq: f"seq {m.seq} ({m.kind} by {m.actor}): a revocation's alias move that no"
            " revocation event follows; it does not count"
            for m in self.pending
        }
        found = {**self.uncounted, **waiting}
        return [found[seq] for seq in sorted(found)]

    def counts(self, seq: int) -> bool:
        """Whether the event at ``seq`` counts (every event but the act-kind events whose act
        does not verify and the outcome events the verified state does not allow; all of them
        in a drill registry)."""
        return seq not in self.uncounted and all(m.seq != seq for m in self.pending)

    def stage(self, model: str, version: str) -> str | None:
        """The stage the log records for a version (None: no submission event)."""
        return self.stages.get((model, version))

    def backs(self, table: str, key: Key) -> bool:
        """Whether an event backs a row of ``table`` with ``key``."""
        return self.rows.get(table, Counter())[key] > 0

    def _add(self, table: str, key: Key, seq: int) -> None:
        self.rows.setdefault(table, Counter())[key] += 1
        self.seqs.setdefault(table, {})[key] = seq


def build_state(events: Iterable[AuditEvent]) -> VerifiedState:
    """Index what ``events`` (the whole log, in sequence order) record; linear in their number.

    Outside a drill registry an act-kind event (:data:`ACT_KINDS`) counts only when its
    ``payload.act`` verifies (:func:`act_problem`); the others are skipped and named in
    :attr:`VerifiedState.problems`.
    """
    return extend_state(VerifiedState(), events)


def extend_state(state: VerifiedState, events: Iterable[AuditEvent]) -> VerifiedState:
    """Continue :func:`build_state` with the events after ``state.last_seq`` (in place)."""
    for e in events:
        state.events += 1
        state.last_seq, state.last_hash = e.seq, e.hash
        if state.first_hash is None:
            state.first_hash = e.hash
            state.first_group = (e.time_ns, e.actor)
            state.drill = _drill_event(e)
        if not state.drill and _revocation_move(e):
            state.pending.append(e)  # settled by the revocation event that follows it
            continue
        _take(state, e)
        if state.pending:
            _settle(state, e)
    return state


def _take(state: VerifiedState, e: AuditEvent) -> None:
    """Index ``e`` when it counts at its place in the log, else name why not."""
    if e.kind in ACT_KINDS and not state.drill:
        why = act_problem(state, e)
        if why is not None:
            state.uncounted[e.seq] = why
            if e.kind != "revocation":  # a revocation always wins (it only takes away)
                return
    if not state.drill and (e.kind == "promotion" or e.kind in _ALIAS_KINDS):
        why = outcome_problem(state, e)
        if why is not None:
            state.uncounted[e.seq] = why
            return
    _index(state, e)


def _drill_event(e: AuditEvent) -> bool:
    from canarykit.promotion.audit import GENESIS_HASH
    from canarykit.promotion.drill import INIT_KIND

    return (
        e.seq == 1
        and e.kind == INIT_KIND
        and e.prev_hash == GENESIS_HASH
        and e.payload.get("drill") is True
        and e.computed_hash() == e.hash
    )


def _index(state: VerifiedState, e: AuditEvent) -> None:
    p, mv = e.payload, (_text(e.model), _text(e.version))
    if e.kind == "submission":
        state.submitters.setdefault(mv, e.seq)
        state.stages[mv] = "Candidate"
        state.fields[mv] = {
            "artifact_digest": p.get("artifact_digest"),
            "submitter": e.actor,
        }
        state._add("versions", mv, e.seq)
    elif e.kind == "promotion":
        state.stages[mv] = _text(p.get("to"))
        recorded = state.fields.setdefault(mv, {})
        if p.get("to") == "Staging":
            recorded["policy_digest"] = p.get("policy_digest")
            state._add("bound_policies", (*mv, _text(p.get("policy_digest"))), e.seq)
        elif p.get("to") == "Approved":
            recorded["revalidate_by_ns"] = p.get("revalidate_by_ns")
            if e.chg_id:
                state.uses.add((e.chg_id, _ticket_use(e)))
            if p.get("verdict_digest"):
                state._add("signed_verdicts", (*mv, _text(p.get("verdict_digest"))), e.seq)
    elif e.kind == "revocation":
        state.stages[mv] = "Revoked"
        state.revoked.add(mv)
    elif e.kind == "approval":
        key = approval_key(
            e.model, e.version, p.get("stage"), p.get("role"), e.actor, p.get("verdict_digest")
        )
        state._add("approvals", key, e.seq)
        if p.get("stage") == "Approved":
            act = p.get("act")
            keyid = act.get("keyid") if isinstance(act, Mapping) else None
            state.approvals.setdefault(mv, []).append(
                (key[4], key[3], key[5], _text(keyid))  # person, role, verdict digest, key
            )
    elif e.kind == "waiver":
        state._add("waivers", waiver_key(p), e.seq)
    elif e.kind == "change" and e.chg_id:
        if e.chg_id not in state.tickets:  # a ticket is created once: the first event records it
            state.tickets[e.chg_id] = ticket_of(p)
            state.requesters[e.chg_id] = e.actor
        state._add("changes", (e.chg_id, e.actor), e.seq)
    elif e.kind == "change_approval":
        state._add("change_approvals", (_text(e.chg_id), e.actor, _text(p.get("role"))), e.seq)
    elif e.kind in _ALIAS_KINDS and "alias" in p:
        state.aliases[(_text(e.model), _text(p.get("alias")))] = p.get("to")
        if e.chg_id and p.get("cause") != "revocation":
            state.uses.add((e.chg_id, _ticket_use(e)))
        key = (_text(e.model), _text(p.get("alias")), _text(p.get("to")), e.actor, e.time_ns)
        state._add("alias_history", key, e.seq)
    elif e.kind == "config" and isinstance(p.get("document"), Mapping):
        name = _text(p.get("key"))
        state.config[name] = dict(p["document"])
        if name == "roster":
            state.roster = _roster(p["document"])
            state.roster_digest = _digest(None if state.roster is None else state.roster.to_dict())
        act = p.get("act")
        state.bootstrap_sig = (
            str(act.get("sig")) if p.get("bootstrap") is True and isinstance(act, Mapping) else None
        )
        proposal = state.proposals.get(_text(p.get("proposal")))
        if proposal is not None and not p.get("bootstrap"):
            proposal["applied"] = True
    elif e.kind == "config_proposal":
        state.proposals[_text(p.get("proposal"))] = {
            "key": _text(p.get("key")),
            "digest": p.get("digest"),
            "base_digest": p.get("base_digest"),
            "proposed_by": e.actor,
            "applied": False,
        }
    elif e.kind == "evidence":
        key = (*mv, _text(p.get("kind")), _text(p.get("name")), _text(p.get("digest")))
        state._add("evidence_documents", key, e.seq)
    elif e.kind == "vex_approval":
        key = (*mv, _text(p.get("vulnerability")), _text(p.get("statement_digest")), e.actor)
        state._add("vex_approvals", key, e.seq)


def _settle(state: VerifiedState, e: AuditEvent) -> None:
    """Count the pending alias moves of a revocation that ``e`` is and lists; the others (``e``
    is not their revocation) do not count."""
    moves, state.pending = state.pending, []
    listed = e.payload.get("aliases") if e.kind == "revocation" else None
    entries = [
        (a.get("alias"), a.get("before"), a.get("after"))
        for a in (listed if isinstance(listed, list) else [])
        if isinstance(a, Mapping)
    ]
    for move in moves:
        p = move.payload
        alias, before, to = p.get("alias"), p.get("from"), p.get("to")
        what = f"a revocation's alias move ({move.model} {alias} from {before} to {to})"
        same = (_text(e.model), _text(e.version), e.actor, e.time_ns) == (
            _text(move.model),
            _text(before),
            move.actor,
            move.time_ns,
        )
        stage = state.stages.get((_text(move.model), _text(to)))
        if e.kind != "revocation" or not same or (alias, before, to) not in entries:
            why = f"{what} that no revocation event records"
        elif to is not None and not state.counts(e.seq):
            why = f"{what} for a revocation that does not count (it may only block the alias)"
        elif to is not None and (
            stage != "Approved" or (_text(move.model), _text(to)) in state.revoked
        ):
            why = f"{what}: {move.model} {to} is {stage or 'not submitted'}, not Approved"
        else:
            _index(state, move)
            continue
        state.uncounted[move.seq] = (
            f"seq {move.seq} ({move.kind} by {move.actor}): {why}; it does not count"
        )


def recorded_keys(conn: sqlite3.Connection, table: str, model: str) -> set[Key]:
    """The keys of the ``table`` rows of ``model`` that counted events back (``approvals``,
    ``waivers``, ``evidence_documents``, ``vex_approvals``; from :func:`load_state`).

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> recorded_keys(RegistryStore(":memory:").conn, "approvals", "m")
    set()
    """
    at = 1 if table == "waivers" else 0  # a waiver's key starts with its id
    return {k for k in load_state(conn).rows.get(table, Counter()) if k[at] == model}


_STATES: dict[int, VerifiedState] = {}
"""The state last built per connection (continued while the log only grows)."""


def load_state(conn: sqlite3.Connection) -> VerifiedState:
    """:func:`build_state` of the registry's whole log (the gates' facts read it).

    Kept per connection and continued with the new events while the event it ended with is
    still in the log with the same hash — the hash chain then guarantees every earlier event
    is the same; any other change (a rewrite, a truncation, a rolled-back write) rebuilds it.
    """
    from canarykit.promotion.audit import _row_to_event

    cached = _STATES.get(id(conn))
    if cached is not None and cached.last_hash is not None:
        row = conn.execute("SELECT hash FROM events WHERE seq = ?", (cached.last_seq,)).fetchone()
        if row is not None and row[0] == cached.last_hash:
            rows = conn.execute(
                "SELECT * FROM events WHERE seq > ? ORDER BY seq", (cached.last_seq,)
            ).fetchall()
            return extend_state(cached, (_row_to_event(r) for r in rows))
    state = build_state(list_events(conn))
    if len(_STATES) >= 64:
        _STATES.clear()
    _STATES[id(conn)] = state
    return state


def recorded_version(conn: sqlite3.Connection, model: str, version: str) -> dict[str, Any] | None:
    """What the audit log records about one version (None: no submission event).

    ``stage``, ``artifact_digest`` and ``submitter`` (its first submission that counts,
    :func:`act_problem`), ``policy_digest`` (bound
    by its promotion to Staging) and ``revalidate_by_ns`` (set by its promotion to Approved).
    One query over that version's events (for the gates; :func:`build_state` for all).
    """
    state = load_state(conn)
    rows = conn.execute(
        "SELECT seq, kind, actor, payload_json FROM events WHERE model = ? AND version = ?"
        " AND kind IN ('submission', 'promotion', 'revocation') ORDER BY seq",
        (model, version),
    ).fetchall()
    found: dict[str, Any] | None = None
    for seq, kind, actor, payload_json in rows:
        payload = json.loads(payload_json)
        if kind == "submission":
            if found is not None or not state.counts(seq):
                continue  # the first submission with its signed act is the version's
            found = {
                "stage": "Candidate",
                "artifact_digest": payload.get("artifact_digest"),
                "submitter": actor,
                "policy_digest": None,
                "revalidate_by_ns": None,
            }
        elif found is None:
            continue
        elif kind == "revocation":
            found["stage"] = "Revoked"  # nothing leaves Revoked
        elif not state.counts(seq):
            continue  # a promotion the verified state does not allow
        elif found["stage"] != "Revoked":
            found["stage"] = _text(payload.get("to"))
            if payload.get("to") == "Staging":
                found["policy_digest"] = payload.get("policy_digest")
            elif payload.get("to") == "Approved":
                found["revalidate_by_ns"] = payload.get("revalidate_by_ns")
    return found


def recorded_stage(conn: sqlite3.Connection, model: str, version: str) -> str | None:
    """The stage the audit log records for one version (None: it records no submission)."""
    found = recorded_version(conn, model, version)
    return None if found is None else str(found["stage"])


# -- rows against events -----------------------------------------------------------------------
def verify_log(conn: sqlite3.Connection, **options: Any) -> Any:
    """:func:`canarykit.promotion.log_verification.verify_log` (everything ``audit verify``
    checks), also reachable from here."""
    from canarykit.promotion.log_verification import verify_log as run

    return run(conn, **options)
