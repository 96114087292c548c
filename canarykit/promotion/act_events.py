"""Whether an act-kind event of the audit log counts: its signed act, its signer and their role.

Outside a drill registry an act-kind event (submit, approve, approve_vex, waive, revoke, change
create and approve, configuration bootstrap, proposal and approval; :data:`ACT_KINDS`) counts
only when its ``payload.act`` is a signed act that verifies under the roster in force at that
event — the roster of the last *counted* ``config`` event, so a forged ``config`` event
installs nothing — whose statement is this event's (action, actor, registry, time and
every field of :data:`~canarykit.promotion.acts.ACTIONS` as the event records them: an act
copied from another event fails), by a signer holding the role; ``config`` events also follow
the four-eyes rule (bootstrap once, then a proposal approved by a second person with the role).
:func:`act_problem` names why an event does not count::

    seq 57 (approval by sam): its signed act is about version v1, not v2 (a signature copied from another act); it does not count
    seq 12 (config by sam): no signed act; it does not count

Each signature is checked once per (envelope, statement, roster); the results are kept in
:data:`_VERIFIED`. The state these rules read is built by
:mod:`~canarykit.promotion.verified_state`.

Examples
--------
>>> sorted(ACT_KINDS)[:3]
['approval', 'change', 'change_approval']
>>> ACT_KINDS["config"]
('config_bootstrap', 'config_approve')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from canarykit.errors import CanaryError
from canarykit.promotion.audit import AuditEvent, canonical_json
from canarykit.promotion.event_keys import _text, ticket_of

if TYPE_CHECKING:
    from canarykit.promotion.verified_state import VerifiedState

__all__ = ["ACT_KINDS", "act_problem"]


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


def _roster(document: Any) -> Any:
    from canarykit.promotion.roster import Roster

    try:
        return Roster.from_dict(document)
    except CanaryError:
        return None


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
