"""The registry as its verified audit log tells it, and the table rows that disagree.

The tables (versions, approvals, waivers, change tickets and their approvals, aliases, the
configuration documents, evidence) are a fast index of what the audit log records, nothing
more (DESIGN.md §10: "the registry says so" only when the fact is backed by an event of the
verified hash chain). Whoever can open the SQLite file can insert, edit or delete rows without
any event; :func:`build_state` reads the events once (linear in their number) and
:func:`~canarykit.promotion.unrecorded_rows.row_problems` names every row no event backs and every event whose row is gone::

    approvals row 7 (sam approves risk-default v1 for Approved as security) has no audit event

An event is believed only when it counts. Outside a drill registry an act-kind event (submit,
approve, approve_vex, waive, revoke, change create and approve, configuration bootstrap,
proposal and approval; :data:`ACT_KINDS`) counts only when its ``payload.act`` is a signed act
that verifies under the roster in force at that event — the roster of the last *counted*
``config`` event, so a forged ``config`` event installs nothing — whose statement is this
event's (action, actor, registry, time and every field of
:data:`~canarykit.promotion.acts.ACTIONS` as the event records them: an act copied from another
event fails), by a signer holding the role; ``config`` events also follow the four-eyes rule
(bootstrap once, then a proposal approved by a second person with the role). The events that
do not count are skipped and named (:attr:`VerifiedState.problems`)::

    seq 57 (approval by sam): its signed act is about version v1, not v2 (a signature copied from another act); it does not count
    seq 12 (config by sam): no signed act; it does not count

A revocation without its act is named too, but still revokes (it only takes away).

*Outcome* events carry no act of their own (a ``promotion``, an ``alias_update`` or
``rollback``): whoever can write the file could append one through the storage layer with an
intact chain. Outside a drill registry each counts only when it is consistent with the
verified state at its place in the log (:func:`outcome_problem`), re-checking what the gates
required to write it:

- a ``promotion`` is of a version with a counted submission, not revoked, along the transition
  table (:mod:`~canarykit.promotion.states`) from its verified stage;
- a promotion to Approved names its verdict digest, and Security and Product approvals of
  that verdict for Approved stand at that point (counted approval events, the approver still on
  the roster with the role and the key that signed it), from two different people, neither the
  verified submitter (the Approved gate's four-eyes rule, ``approved.rego``); and it names a
  counted change ticket covering the version (below);
- an alias move or rollback points to a version verified Approved and unrevoked at that point
  (an ``alias_update`` also within its ``revalidate_by``; ``alias.rego``) and names a counted
  change ticket whose scope lists the model and that version, inside the ticket's window, for
  a transition the ticket was not used for yet (``change.rego``; :func:`~canarykit.promotion.
  changes.ticket_use`);
- a revocation's own alias move (``cause: revocation``, written just before its revocation
  event) counts when that revocation event follows and lists it: a move to no version (a
  blocked alias) always, a move back to another version only when the revocation counts and
  that version is verified Approved and unrevoked.

The others are skipped and named::

    seq 41 (promotion by olga): risk-default v3 to Approved without two standing approvals (...); it does not count

The pass is
linear; each signature is checked once per (envelope, statement, roster)
(20,000 signed approvals: about 5 s cold on a loaded CI machine, 1.5 s from the cache), and
:func:`load_state` continues the state of a connection with the new events only.

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

from canarykit.errors import CanaryError
from canarykit.promotion.audit import AuditEvent, canonical_json, list_events

__all__ = [
    "ACT_KINDS",
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
_ALIAS_KINDS = ("alias_update", "rollback")
Key = tuple[Any, ...]


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


def _roster(document: Any) -> Any:
    from canarykit.promotion.roster import Roster

    try:
        return Roster.from_dict(document)
    except CanaryError:
        return None


# -- whether an outcome event counts -----------------------------------------------------------
def _revocation_move(e: AuditEvent) -> bool:
    return e.kind in _ALIAS_KINDS and e.payload.get("cause") == "revocation"


def _ticket_use(e: AuditEvent) -> str:
    """The transition an outcome event uses its ticket for
    (:func:`~canarykit.promotion.changes.ticket_use`)."""
    from canarykit.promotion.changes import ticket_use

    if e.kind == "promotion":
        return ticket_use("new_version", model=_text(e.model), version=e.version, alias=None)
    purpose = "rollback" if e.kind == "rollback" else "alias_existing"
    to = e.payload.get("to")
    return ticket_use(
        purpose,
        model=_text(e.model),
        version=None if to is None else _text(to),
        alias=_text(e.payload.get("alias")),
    )


def outcome_problem(state: VerifiedState, e: AuditEvent) -> str | None:
    """Why the outcome event ``e`` (``promotion``, ``alias_update``, ``rollback``) does not
    count at its place in the log (None: it counts); the rules of the module docstring.

    A revocation's own alias moves are settled by the revocation event that follows them.
    """
    if e.kind == "promotion":
        why = _promotion_problem(state, e)
    elif "alias" in e.payload:
        why = _move_problem(state, e)
    else:
        why = None  # moves no alias
    return None if why is None else f"seq {e.seq} ({e.kind} by {e.actor}): {why}; it does not count"


def _promotion_problem(state: VerifiedState, e: AuditEvent) -> str | None:
    from canarykit.promotion.states import check_transition

    m, v = mv = (_text(e.model), _text(e.version))
    to = _text(e.payload.get("to"))
    what = f"{m} {v} to {to}"
    if mv not in state.submitters:
        return f"{what}: the log records no counted submission of {m} {v}"
    if mv in state.revoked:
        return f"{what}: {m} {v} is revoked"
    try:
        check_transition(state.stages.get(mv) or "", to)
    except CanaryError as err:
        return f"{what}: {err}"
    if to != "Approved":
        return None
    digest = _text(e.payload.get("verdict_digest"))
    if not digest:
        return f"{what} without the digest of a verdict"
    why = _four_eyes_problem(state, mv, digest)
    if why is not None:
        return f"{what} without two standing approvals ({why})"
    why = _ticket_problem(state, e, v)
    return None if why is None else f"{what}: {why}"


def _four_eyes_problem(state: VerifiedState, mv: tuple[str, str], digest: str) -> str | None:
    """The Approved gate's four-eyes rule over the approvals standing now (None: it holds)."""
    from canarykit.promotion.roster import key_fingerprint, person_key

    roster = state.roster
    submitter = person_key(_text(state.fields.get(mv, {}).get("submitter")))
    found: dict[str, set[str]] = {"security": set(), "product": set()}
    for person, role, approved, keyid in state.approvals.get(mv, ()):
        if role not in found or approved != digest or person == submitter:
            continue
        if roster is None or not roster.member(person) or role not in roster.roles_of(person):
            continue  # no longer on the roster with the role
        if keyid not in {key_fingerprint(k) for k in roster.keys_of(person)}:
            continue  # the key that signed it is no longer theirs
        found[role].add(person)
    if any(s != p for s in found["security"] for p in found["product"]):
        return None
    return (
        f"security and product of verdict {digest[:19]}…, two people, neither the submitter"
        f" {submitter}; security: {', '.join(sorted(found['security'])) or 'none'}; product:"
        f" {', '.join(sorted(found['product'])) or 'none'}"
    )


def _ticket_problem(state: VerifiedState, e: AuditEvent, version: str) -> str | None:
    """Whether ``e`` names a counted ticket covering ``version`` now, for a transition the
    ticket was not used for yet (None: it does)."""
    from canarykit.promotion.changes import ChangeTicket

    chg = _text(e.chg_id)
    body = state.tickets.get(chg) if chg else None
    if body is None:
        return f"{chg} is not a counted change ticket" if chg else "it names no change ticket"
    try:
        ticket = ChangeTicket.from_dict(body, source=f"change {chg} (audit event)")
    except CanaryError as err:
        return f"{chg} cannot be read ({err})"
    if ticket.model != _text(e.model) or version not in ticket.versions:
        return f"{chg} covers {ticket.model} {list(ticket.versions)}, not {e.model} {version}"
    if not ticket.window_start_ns <= e.time_ns < ticket.window_end_ns:
        return f"it is outside the window of {chg}"
    use = _ticket_use(e)
    if (chg, use) in state.uses:
        return f"{chg} was used already to {use} (a ticket is used once per transition)"
    return None


def _move_problem(state: VerifiedState, e: AuditEvent) -> str | None:
    m, p = _text(e.model), e.payload
    to = p.get("to")
    what = f"{m} {p.get('alias')} to {to}"
    if to is None:
        return f"{what}: only a revocation blocks an alias"
    stage = state.stages.get((m, _text(to)))
    if stage != "Approved" or (m, _text(to)) in state.revoked:
        return (
            f"{what}: {m} {to} is {stage or 'not submitted'} in the verified log (an alias"
            " points only to an Approved, unrevoked version)"
        )
    if e.kind == "alias_update":
        by = state.fields.get((m, _text(to)), {}).get("revalidate_by_ns")
        if not isinstance(by, int) or by <= e.time_ns:
            return f"{what}: the approval of {m} {to} lapsed (revalidate_by)"
    why = _ticket_problem(state, e, _text(to))
    return None if why is None else f"{what}: {why}"


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


# -- whether an act-kind event counts ------------------------------------------------------------
ACT_KINDS: Mapping[str, tuple[str, ...]] = {
    "submission": ("submit",),
    "approval": ("approve",),
    "vex_approval": ("approve_vex",),
    "waiver": ("waive",),
    "revocation": ("revoke",),
    "change": ("change_create",),
    "change_approval": ("change_approve",),
    "config": ("config_bootstrap", "config_approve"),
    "config_proposal": ("config_propose",),
}
"""The act each kind of event carries (``payload.act.statement.action``)."""

_ANY_ROLE = ("security", "product", "operations", "executive")
_VERIFIED: dict[tuple[str, str, str], tuple[str, ...]] = {}
"""Signature checks already made: (envelope, statement, roster) digests -> problems."""
_VERIFIED_MAX = 200_000


def _digest(value: Any) -> str:
    import hashlib

    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _expected_fields(
    state: VerifiedState, e: AuditEvent, action: str, signed: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of ``action`` as this event records them (what its act must sign)."""
    from canarykit.promotion.config_changes import document_digest
    from canarykit.promotion.evidence import digest_bytes

    p = e.payload
    if action == "submit":
        return {"model": e.model, "version": e.version, "artifact_digest": p.get("artifact_digest")}
    if action == "approve":
        return {"model": e.model, "version": e.version, "stage": p.get("stage"),
                "role": p.get("role"), "verdict_digest": p.get("verdict_digest"),
                "note": p.get("note")}  # fmt: skip
    if action == "approve_vex":
        listed = signed.get("statements")
        mine = {"state": p.get("state"), "digest": p.get("statement_digest")}
        return {"model": e.model, "version": e.version, "vulnerability": p.get("vulnerability"),
                "sbom_digest": p.get("sbom_digest"),
                "statements": listed if isinstance(listed, list) and mine in listed else [mine],
                "note": p.get("note")}  # fmt: skip
    if action == "waive":
        return {name: p.get(name) for name in
                ("waiver_id", "model", "version", "check", "reason", "owner", "expires")}  # fmt: skip
    if action == "revoke":
        return {"model": e.model, "version": e.version, "reason": p.get("reason"),
                "chg_id": e.chg_id}  # fmt: skip
    if action == "change_create":
        body = canonical_json(ticket_of(p)).encode("utf-8")
        return {"chg_id": e.chg_id, "ticket_digest": digest_bytes(body)}
    if action == "change_approve":
        ticket = state.tickets.get(_text(e.chg_id))
        recorded = None if ticket is None else canonical_json(ticket).encode("utf-8")
        return {"chg_id": e.chg_id, "role": p.get("role"),
                "ticket_digest": None if recorded is None else digest_bytes(recorded)}  # fmt: skip
    document = p.get("document")
    digest = document_digest(document) if isinstance(document, Mapping) else None
    if action == "config_bootstrap":
        listed = signed.get("documents")
        key = _text(p.get("key"))
        documents = (
            dict(listed)
            if isinstance(listed, Mapping) and listed.get(key) == digest
            else {key: digest}
        )
        return {"documents": documents}
    if action == "config_propose":
        return {"key": p.get("key"), "digest": digest, "base_digest": p.get("base_digest")}
    return {"proposal": p.get("proposal"), "key": p.get("key"), "digest": digest}


def _config_problem(
    state: VerifiedState, e: AuditEvent, action: str, act: Mapping[str, Any]
) -> tuple[Any, str | None]:
    """(the roster the act is checked under, why the configuration rule refuses it)."""
    from canarykit.promotion.config_changes import (
        CONFIG_KEYS,
        CONFIG_ROLES,
        document_digest,
        roster_rule_problems,
    )
    from canarykit.promotion.roster import person_key

    p = e.payload
    key = _text(p.get("key"))
    document = p.get("document")
    if key not in CONFIG_KEYS or not isinstance(document, Mapping):
        return state.roster, f"{key!r} is not a configuration document"
    in_force = state.config.get(key)
    in_force_digest = None if in_force is None else document_digest(in_force)
    actor = person_key(e.actor)
    if action == "config_bootstrap":
        same_act = state.bootstrap_sig is not None and state.bootstrap_sig == act.get("sig")
        if key == "roster":
            roster = _roster(document)
            if state.roster is not None and state.roster.keys:
                return roster, "bootstrap happens once, and a roster with keys is in force"
            if roster is None:
                return roster, "its roster is not a valid roster"
            rule = roster_rule_problems(document, drill=False)
            if rule:
                return roster, rule[0]
            if "security" not in roster.roles_of(actor):
                return roster, f"{actor} bootstraps the registry without the security role on it"
            return roster, None
        if not same_act:
            return (
                state.roster,
                "a bootstrap document outside the bootstrap act that set the roster",
            )
        return state.roster, None
    if state.roster is None or not state.roster.keys:
        return state.roster, "no roster with keys is in force (the registry is not bootstrapped)"
    roles = CONFIG_ROLES[key]
    if not set(roles) & set(state.roster.roles_of(actor)):
        return state.roster, f"{actor} holds none of the roles {', '.join(roles)}"
    if action == "config_propose":
        if p.get("base_digest") != in_force_digest:
            return (
                state.roster,
                f"it is proposed against {p.get('base_digest')}, not the {key} in force",
            )
        return state.roster, None
    proposal = state.proposals.get(_text(p.get("proposal")))
    if proposal is None:
        return state.roster, (
            f"no counted proposal {p.get('proposal')} (a configuration change is proposed by one"
            " person and approved by a second)"
        )
    if proposal["applied"]:
        return (
            state.roster,
            f"{p.get('proposal')} took effect already (a proposal takes effect once)",
        )
    if person_key(proposal["proposed_by"]) == actor:
        return state.roster, f"four-eyes: {actor} proposed {p.get('proposal')} and approves it"
    if proposal["key"] != key or proposal["digest"] != (
        document_digest(document) if isinstance(document, Mapping) else None
    ):
        return state.roster, f"it puts in force another document than {p.get('proposal')} proposed"
    if proposal["base_digest"] != in_force_digest:
        return (
            state.roster,
            f"{p.get('proposal')} was made against another {key} than the one in force",
        )
    if key == "roster":
        new = _roster(document)
        if new is None:
            return state.roster, "its roster is not a valid roster"
        if actor in state.roster.changed_people(new):
            return state.roster, f"four-eyes: it changes {actor}'s own identity"
        rule = roster_rule_problems(document, drill=False)
        if rule:
            return state.roster, rule[0]
    return state.roster, None


def _role_problem(state: VerifiedState, roster: Any, e: AuditEvent, action: str) -> str | None:
    from canarykit.promotion.production import _REVOKER_ROLES
    from canarykit.promotion.roster import person_key

    p = e.payload
    roles: tuple[str, ...] = {
        "approve": (_text(p.get("role")),),
        "approve_vex": ("security",),
        "waive": ("security", "executive"),
        "revoke": tuple(_REVOKER_ROLES),
        "change_create": _ANY_ROLE,
        "change_approve": (_text(p.get("role")),),
    }.get(action, ())
    actor = person_key(e.actor)
    if roles and roster is not None and not set(roles) & set(roster.roles_of(actor)):
        return f"{actor} holds none of the roles {', '.join(roles)} on the roster of its time"
    if action == "submit":
        mv = (_text(e.model), _text(e.version))
        if mv in state.submitters:
            return (
                f"{e.model} {e.version} was submitted already (event {state.submitters[mv]});"
                " a version is submitted once"
            )
    if action == "change_create" and _text(e.chg_id) in state.tickets:
        return f"{e.chg_id} was created already; a ticket is created once"
    if action == "waive" and person_key(_text(p.get("created_by"))) != actor:
        return f"the waiver names {p.get('created_by')} as its grantor, not {actor}"
    return None


def act_problem(state: VerifiedState, e: AuditEvent) -> str | None:
    """Why the act-kind event ``e`` does not count at its place in the log (None: it counts).

    Its ``payload.act`` must be a signed act (Ed25519 over DSSE PAE,
    :func:`~canarykit.promotion.acts.check_act`) by a key the roster in force at the event lists
    for its actor — the roster of the last *counted* ``config`` event before it (a bootstrap
    act is checked under the roster it sets); its statement must name this event's action,
    actor, registry, time and every field :data:`~canarykit.promotion.acts.ACTIONS` lists as
    this event records them (an act copied from another event fails); the signer must hold the
    role the act needs; a configuration event must follow the four-eyes rule
    (:mod:`~canarykit.promotion.config_changes`); a version is submitted and a ticket created
    once.
    """
    from canarykit.promotion import acts
    from canarykit.promotion.audit import GENESIS_HASH
    from canarykit.promotion.roster import person_key

    where = f"seq {e.seq} ({e.kind} by {e.actor})"
    p = e.payload
    act = p.get("act")
    if not isinstance(act, Mapping) or act.get("signed") is not True:
        return f"{where}: no signed act; it does not count"
    signed = act.get("statement")
    if not isinstance(signed, Mapping):
        return f"{where}: its signed act holds no statement; it does not count"
    action = signed.get("action")
    if action not in ACT_KINDS[e.kind] or signed.get("actor") != person_key(e.actor):
        return (
            f"{where}: carries the act {action} by {signed.get('actor')}, not this event's (a"
            " signature copied from another act); it does not count"
        )
    for name in ("model", "version", "chg_id"):
        value = getattr(e, name)
        if name in signed and value is not None and signed.get(name) != value:
            return (
                f"{where}: its signed act is about {name} {signed.get(name)}, not {value} (a"
                " signature copied from another act); it does not count"
            )
    if e.kind == "config" and (action == "config_bootstrap") != (p.get("bootstrap") is True):
        return f"{where}: carries the act {action}, not this event's; it does not count"
    fields = _expected_fields(state, e, str(action), signed)
    first = state.first_group
    registry = signed.get("registry")
    in_first = first is not None and (e.time_ns, e.actor) == first
    if not (registry == state.first_hash or (registry == GENESIS_HASH and in_first)):
        registry = state.first_hash
    try:
        expected = acts.act_statement(
            str(action), actor=e.actor, registry=_text(registry), time_ns=e.time_ns, **fields
        )
    except CanaryError as err:
        return f"{where}: {err}; it does not count"
    differences = [
        f"{name}: signed {str(signed.get(name))[:40]!r}, this event {str(expected.get(name))[:40]!r}"
        for name in sorted(set(signed) | set(expected))
        if signed.get(name) != expected.get(name)
    ]
    if differences:
        return (
            f"{where}: its signed act is another act ({'; '.join(differences[:3])}) (a signature"
            " copied from another act); it does not count"
        )
    roster = state.roster
    if e.kind == "config" or e.kind == "config_proposal":
        roster, why = _config_problem(state, e, str(action), act)
    else:
        why = None
    roster_digest = (
        state.roster_digest
        if roster is state.roster
        else _digest(None if roster is None else roster.to_dict())
    )
    problems = _signature_problems(expected, act, roster, roster_digest)
    if problems:
        return (
            f"{where}: its signed act does not verify: {'; '.join(problems[:2])}; it does not count"
        )
    why = why or _role_problem(state, roster, e, str(action))
    if why is not None:
        return f"{where}: {acts.describe_act(expected)}: {why}; it does not count"
    return None


def _signature_problems(
    statement: Mapping[str, Any], act: Mapping[str, Any], roster: Any, roster_digest: str
) -> tuple[str, ...]:
    """:func:`~canarykit.promotion.acts.check_act` of the recorded act, cached per (envelope,
    statement, roster)."""
    import base64

    from canarykit.promotion import acts

    payload = act.get("payload")
    if not isinstance(payload, str):
        payload = base64.b64encode(canonical_json(dict(statement)).encode("utf-8")).decode("ascii")
    envelope = {
        "payloadType": acts.ACT_PAYLOAD_TYPE,
        "payload": payload,
        "signatures": [{"keyid": act.get("keyid"), "sig": act.get("sig")}],
    }
    key = (_digest(envelope), _digest(dict(statement)), roster_digest)
    found = _VERIFIED.get(key)
    if found is None:
        if roster is None:
            found = ("roster: no roster with keys was in force",)
        else:
            found = tuple(acts.check_act(statement, envelope, roster, drill=False).problems)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = found
    return found


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
