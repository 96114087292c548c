"""Whether an outcome event of the audit log counts: what the gates required to write it.

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
  that version is verified Approved and unrevoked (settled by
  :mod:`~canarykit.promotion.verified_state`).

The others are skipped and named::

    seq 41 (promotion by olga): risk-default v3 to Approved without two standing approvals (...); it does not count

Examples
--------
>>> from canarykit.promotion.audit import AuditEvent
>>> from canarykit.promotion.verified_state import VerifiedState
>>> e = AuditEvent(seq=3, time_ns=0, actor="olga", kind="promotion", model="m", version="v1",
...                chg_id=None, payload={"to": "Staging"}, prev_hash="", hash="")
>>> outcome_problem(VerifiedState(), e)
'seq 3 (promotion by olga): m v1 to Staging: the log records no counted submission of m v1; it does not count'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from canarykit.errors import CanaryError
from canarykit.promotion.audit import AuditEvent
from canarykit.promotion.event_keys import _text

if TYPE_CHECKING:
    from canarykit.promotion.verified_state import VerifiedState

__all__ = ["outcome_problem"]


_ALIAS_KINDS = ("alias_update", "rollback")


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
