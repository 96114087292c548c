"""Governance actions: configuration (trust, roster, calendar), approvals, waivers, changes.

Each of them is an act of a person, signed with their key from the roster (``key=``; see
:mod:`~canarykit.promotion.acts`); configuration changes need two people
(:mod:`~canarykit.promotion.config_changes`).

Examples
--------
>>> g = Governance(":memory:")
>>> g.show_change("CHG-404")
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: change: CHG-404 is not registered
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import (
    Approval,
    approval_problems,
    list_approvals,
    person_key,
    record_approval,
)
from canarykit.promotion.audit import append_event, canonical_json
from canarykit.promotion.calendar import DEFAULT_MAX_TICKET_WINDOW_DAYS
from canarykit.promotion.changes import (
    ChangeApproval,
    ChangeTicket,
    get_ticket,
    list_change_approvals,
    record_change_approval,
    record_ticket,
    window_problem,
)
from canarykit.promotion.clock import format_instant, parse_instant
from canarykit.promotion.config_changes import (
    CONFIG_KEYS,
    CONFIG_ROLES,
    ConfigProposal,
    config_digest,
    current_config,
    document_digest,
    find_proposal,
    list_proposals,
    next_proposal_id,
    roster_rule_problems,
    validate_config,
)
from canarykit.promotion.evidence import digest_bytes
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.results import ChangeStatus
from canarykit.promotion.roster import Roster
from canarykit.promotion.session import Session, check_actor, load_document
from canarykit.promotion.states import parse_stage
from canarykit.promotion.verdict_attestation import (
    load_verdict_document,
    open_verdict,
    plain_verdicts_allowed,
)
from canarykit.promotion.verified_state import recorded_version
from canarykit.promotion.versions import get_version
from canarykit.promotion.waivers import Waiver, record_waiver, waiver_problems

__all__ = ["Governance"]

_WAIVER_ROLES = ("security", "executive")


class Governance(Session):
    """Configuration, approvals, waivers and change tickets (see :class:`Session`).

    Every action here is a person's act: ``key`` is the actor's Ed25519 private key (or its PEM
    file, or a signer), which signs the act's statement (:mod:`~canarykit.promotion.acts`).
    Without a valid signature by a key the roster lists for the actor, the act is denied.
    """

    # -- configuration ------------------------------------------------------------------------
    def bootstrap(
        self,
        *,
        actor: str,
        roster: Any,
        key: Any = None,
        trust: Any = None,
        calendar: Any = None,
    ) -> dict[str, str]:
        """Configure a new registry: its first roster (and trust file and calendar), in one act.

        Allowed once, while the roster in force lists no key (a new registry, or one made
        before signed acts). ``actor`` must be on ``roster`` with the security role and sign
        with their key from it; outside a drill registry the roster names at least two security
        people with keys. Recorded as ``config`` events with ``bootstrap: true``. Every later
        change is a proposal (:meth:`propose_config`) approved by a second person
        (:meth:`approve_config`). Returns the digest stored for each document.
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        documents = {"roster": validate_config("roster", roster)}
        if trust is not None:
            documents["trust"] = validate_config("trust", trust)
        if calendar is not None:
            documents["calendar"] = validate_config("calendar", calendar)
        digests = {k: document_digest(d) for k, d in documents.items()}
        action = "config bootstrap " + ", ".join(documents)

        def body(conn: sqlite3.Connection, now: int) -> dict[str, str]:
            drill = acts.drill_registry(conn)
            in_force = F.load_roster(conn)
            problems = []
            if in_force is not None and (in_force.keys or drill):
                problems.append(
                    "config: the registry is configured (its roster lists keys); bootstrap"
                    " happens once: propose a change (canarykit config propose-roster FILE) for"
                    " a second person to approve"
                )
            new_roster = Roster.from_dict(documents["roster"])
            if "security" not in new_roster.roles_of(actor):
                problems.append(
                    f"config: {actor} bootstraps the registry, so the roster lists {actor} with"
                    " the security role"
                )
            problems += roster_rule_problems(documents["roster"], drill=drill)
            record = acts.authorize(
                conn,
                action=action,
                kind="config_bootstrap",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=new_roster,
                problems=problems,
                documents=digests,
            )
            for name, document in documents.items():
                _write_config(conn, name, document)
                append_event(
                    conn,
                    kind="config",
                    actor=actor,
                    time_ns=now,
                    payload={
                        "key": name,
                        "digest": digests[name],
                        "document": document,
                        "bootstrap": True,
                        "act": record,
                    },
                )
            return digests

        return self._run(action=action, actor=actor, body=body)

    def configure(
        self,
        *,
        actor: str,
        key: Any = None,
        trust: Any = None,
        roster: Any = None,
        calendar: Any = None,
    ) -> dict[str, str]:
        """Bootstrap a new registry (:meth:`bootstrap`; ``roster`` required).

        A configured registry changes only by proposal and approval (:meth:`propose_config`,
        :meth:`approve_config`); here that is refused.
        """
        if roster is None:
            raise InvalidInputError(
                "configure: bootstraps a new registry and needs its roster; a configured"
                " registry changes by proposal (propose_config) and a second person's approval"
                " (approve_config)"
            )
        return self.bootstrap(actor=actor, key=key, roster=roster, trust=trust, calendar=calendar)

    def propose_config(
        self, name: str, document: Any, *, actor: str, key: Any = None
    ) -> ConfigProposal:
        """Propose a new roster, trust file or calendar (``name``); it takes effect only when a
        second person approves it (:meth:`approve_config`).

        The proposer holds the role that changes it (security for roster and trust, operations
        for the calendar). Returns the proposal (its id ``CFG-<n>``); a ``config_proposal``
        event records it.
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        if name not in CONFIG_KEYS:
            raise InvalidInputError(f"config: {name!r} is not one of {', '.join(CONFIG_KEYS)}")
        proposed = validate_config(name, document)
        digest = document_digest(proposed)
        action = f"config propose {name}"

        def body(conn: sqlite3.Connection, now: int) -> ConfigProposal:
            roster = F.load_roster(conn)
            if roster is None or not (roster.keys or acts.drill_registry(conn)):
                raise GateDenial(
                    action,
                    [
                        "config: the registry has no roster with keys yet; bootstrap it first"
                        " (canarykit config bootstrap --roster FILE --key KEY)"
                    ],
                )
            base = config_digest(conn, name)
            problems = self._role_problems(roster, actor, CONFIG_ROLES[name])
            if base == digest:
                problems.append(f"config: the proposed {name} is the one in force ({digest})")
            if name == "roster":
                problems += roster_rule_problems(proposed, drill=acts.drill_registry(conn))
            record = acts.authorize(
                conn,
                action=action,
                kind="config_propose",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=roster,
                problems=problems,
                key=name,
                digest=digest,
                base_digest=base,
            )
            proposal_id = next_proposal_id(conn)
            event = append_event(
                conn,
                kind="config_proposal",
                actor=actor,
                time_ns=now,
                payload={
                    "proposal": proposal_id,
                    "key": name,
                    "digest": digest,
                    "base_digest": base,
                    "document": proposed,
                    "act": record,
                },
            )
            return ConfigProposal(
                proposal_id=proposal_id,
                key=name,
                digest=digest,
                base_digest=base,
                document=proposed,
                proposed_by=actor,
                proposed_at_ns=now,
                event_seq=event.seq,
            )

        return self._run(action=action, actor=actor, body=body)

    def approve_config(self, proposal_id: str, *, actor: str, key: Any = None) -> ConfigProposal:
        """Approve a pending proposal as the second person: it takes effect now.

        Refused for the proposer, for a person without the role that changes it, for a person
        whose own identity (name, roles, keys) a roster proposal adds, removes or changes, for
        a proposal applied already, and when the document in force is no longer the one the
        proposal was made against. A ``config`` event records the change, the proposal, the
        proposer and the approver.
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        action = f"config approve {str(proposal_id)[:40]}"

        def body(conn: sqlite3.Connection, now: int) -> ConfigProposal:
            proposal = find_proposal(conn, proposal_id)
            roster = F.load_roster(conn)
            name = proposal.key
            problems = (
                [] if roster is None else self._role_problems(roster, actor, CONFIG_ROLES[name])
            )
            if proposal.state != "pending":
                problems.append(
                    f"config: {proposal.proposal_id} was approved by {proposal.approved_by}"
                    " already (a proposal takes effect once)"
                )
            if person_key(proposal.proposed_by) == actor:
                problems.append(
                    f"four-eyes: {actor} proposed {proposal.proposal_id} and cannot approve it"
                    f" (a second person with the {' or '.join(CONFIG_ROLES[name])} role does)"
                )
            in_force = config_digest(conn, name)
            if in_force != proposal.base_digest:
                problems.append(
                    f"config: {proposal.proposal_id} changes the {name} {proposal.base_digest},"
                    f" but {in_force} is in force now; propose the change again"
                )
            if name == "roster" and roster is not None:
                changed = roster.changed_people(Roster.from_dict(proposal.document))
                if actor in changed:
                    problems.append(
                        f"four-eyes: {proposal.proposal_id} changes {actor}'s own identity"
                        f" ({actor} {changed[actor]}); someone it does not change approves it"
                    )
                problems += roster_rule_problems(proposal.document, drill=acts.drill_registry(conn))
            record = acts.authorize(
                conn,
                action=action,
                kind="config_approve",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=roster,
                problems=problems,
                proposal=proposal.proposal_id,
                key=name,
                digest=proposal.digest,
            )
            _write_config(conn, name, dict(proposal.document))
            append_event(
                conn,
                kind="config",
                actor=actor,
                time_ns=now,
                payload={
                    "key": name,
                    "digest": proposal.digest,
                    "document": dict(proposal.document),
                    "proposal": proposal.proposal_id,
                    "proposed_by": proposal.proposed_by,
                    "approved_by": actor,
                    "act": record,
                },
            )
            return find_proposal(conn, proposal.proposal_id)

        return self._run(action=action, actor=actor, body=body)

    def config_proposals(self, *, pending: bool = False) -> list[ConfigProposal]:
        """Configuration proposals, oldest first (only those still pending with ``pending``)."""
        found = list_proposals(self.store.conn)
        return [p for p in found if p.state == "pending"] if pending else found

    def config_document(self, name: str) -> dict[str, Any] | None:
        """The roster, trust file or calendar in force (None: not configured)."""
        return current_config(self.store.conn, name)

    @staticmethod
    def _role_problems(roster: Roster, actor: str, roles: tuple[str, ...]) -> list[str]:
        if set(roles) & set(roster.roles_of(actor)):
            return []
        return [f"roster: {actor} holds none of the roles {', '.join(roles)}"]

    def approve(
        self,
        model: str,
        version: str,
        *,
        role: str,
        actor: str,
        stage: str = "Approved",
        note: str = "",
        verdict: Any = None,
        key: Any = None,
    ) -> Approval:
        """Record ``actor``'s approval, in ``role``, of the version entering ``stage``.

        ``key`` signs the approval (model, version, stage, role, the reviewed verdict's digest,
        the note): an approval is an act of the person the roster lists under ``actor``.

        An approval for Approved names the canary ``verdict`` the approver reviewed: a DSSE
        envelope (dict or path) signed by a key trusted for purpose ``verdict`` whose subject is
        this version (:mod:`~canarykit.promotion.verdict_attestation`); a plain JSON verdict is
        refused. The Approved gate counts the approval only for that very verdict (its digest).
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        target = parse_stage(stage).value
        presented = load_verdict_document(verdict)
        action = f"approve {model} {version} for {target} as {role}"

        def body(conn: sqlite3.Connection, now: int) -> Approval:
            record = get_version(conn, model, version)
            reviewed, refused = None, []
            if target == "Approved" and presented is not None:
                opened = open_verdict(
                    presented,
                    F.load_trust(conn),
                    model=model,
                    version=version,
                    artifact_digest=record.artifact_digest,
                    plain_allowed=plain_verdicts_allowed(conn),
                )
                reviewed = opened.digest if opened.accepted else None
                refused = [f"verdict: {p}" for p in opened.problems]
            approval = Approval(
                model=model,
                version=version,
                stage=target,
                role=role,
                actor=actor,
                time_ns=now,
                note=note,
                verdict_digest=reviewed if target == "Approved" else None,
            )
            problems = refused + [
                p
                for p in approval_problems(
                    approval,
                    submitter=(recorded_version(conn, model, version) or {}).get(
                        "submitter", record.submitter
                    ),
                    existing=list_approvals(conn, model, version, target),
                    roster=F.load_roster(conn),
                )
                if not (refused and p.startswith("verdict:"))
            ]
            if record.revoked:
                problems.append(f"stage: {model} {version} is revoked")
            act = acts.authorize(
                conn,
                action=action,
                kind="approve",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                problems=problems,
                model=model,
                version=version,
                stage=target,
                role=role,
                verdict_digest=approval.verdict_digest,
                note=note,
            )
            record_approval(conn, approval)
            append_event(
                conn,
                kind="approval",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                payload={**approval.to_dict(), "act": act},
            )
            return approval

        return self._run(action=action, actor=actor, body=body, model=model, version=version)

    def waive(
        self,
        model: str,
        *,
        waiver_id: str,
        check: str,
        reason: str,
        owner: str,
        expires: str | int,
        actor: str,
        version: str | None = None,
        key: Any = None,
    ) -> Waiver:
        """Grant a waiver lifting one named check until ``expires`` (an act signed by ``key``)."""
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        expires_ns = (
            expires if isinstance(expires, int) else parse_instant(expires, field="expires")
        )
        action = f"waive {check} for {model} {version or '(all versions)'}"

        def body(conn: sqlite3.Connection, now: int) -> Waiver:
            submitter = None if version is None else get_version(conn, model, version).submitter
            recorded = None if version is None else recorded_version(conn, model, version)
            if recorded and recorded.get("submitter"):
                submitter = str(recorded["submitter"])  # the log's submitter, not the row's
            waiver = Waiver(
                waiver_id=waiver_id,
                model=model,
                version=version,
                check=check,
                reason=reason,
                owner=owner,
                expires_ns=expires_ns,
                created_by=actor,
                created_at_ns=now,
            )
            problems = waiver_problems(waiver, submitter=submitter)
            if problems:
                raise GateDenial(action, problems)
            self._require_roles(conn, actor, _WAIVER_ROLES, action)
            act = acts.authorize(
                conn,
                action=action,
                kind="waive",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                waiver_id=waiver_id,
                model=model,
                version=version,
                check=check,
                reason=reason,
                owner=owner,
                expires=format_instant(expires_ns),
            )
            record_waiver(conn, waiver)
            append_event(
                conn,
                kind="waiver",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                payload={**waiver.to_dict(), "act": act},
            )
            return waiver

        return self._run(action=action, actor=actor, body=body, model=model, version=version)

    # -- change tickets -----------------------------------------------------------------------
    def create_change(self, ticket: Any, *, actor: str, key: Any = None) -> ChangeTicket:
        """Register a change ticket (a path, a mapping or a :class:`ChangeTicket`); ``actor``
        is its requester, and ``key`` signs the request (the ticket's digest)."""
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        if not isinstance(ticket, ChangeTicket):
            ticket = ChangeTicket.from_dict(
                load_document(ticket, "change ticket"), source=_source(ticket, "change ticket")
            )
        parsed: ChangeTicket = ticket

        def body(conn: sqlite3.Connection, now: int) -> ChangeTicket:
            self._require_roles(
                conn,
                actor,
                ("security", "product", "operations", "executive"),
                f"change create {parsed.chg_id}",
            )
            calendar = F.load_calendar(conn)
            longest = (
                calendar.max_ticket_window_ns
                if calendar is not None
                else DEFAULT_MAX_TICKET_WINDOW_DAYS * 86_400 * 10**9
            )
            too_long = window_problem(parsed, longest)
            act = acts.authorize(
                conn,
                action=f"change create {parsed.chg_id}",
                kind="change_create",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                problems=[] if too_long is None else [too_long],
                chg_id=parsed.chg_id,
                ticket_digest=_ticket_digest(parsed),
            )
            record_ticket(conn, parsed, created_by=actor, now_ns=now)
            append_event(
                conn,
                kind="change",
                actor=actor,
                time_ns=now,
                model=parsed.model,
                chg_id=parsed.chg_id,
                payload={**parsed.to_dict(), "act": act},
            )
            return parsed

        return self._run(
            action=f"change create {parsed.chg_id}",
            actor=actor,
            body=body,
            model=parsed.model,
            chg_id=parsed.chg_id,
        )

    def approve_change(
        self, chg_id: str, *, actor: str, role: str, key: Any = None
    ) -> ChangeApproval:
        """Record a CAB (or executive) approval of a change ticket (signed by ``key``, over the
        ticket's digest)."""
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        action = f"change approve {chg_id} as {role}"

        def body(conn: sqlite3.Connection, now: int) -> ChangeApproval:
            found = get_ticket(conn, chg_id)
            if found is None:
                raise InvalidInputError(f"change: {chg_id} is not registered")
            ticket, requester = found
            if actor == person_key(requester):
                raise GateDenial(
                    action, [f"four-eyes: {actor} requested {chg_id} and cannot approve it"]
                )
            for version in ticket.versions:
                if actor in _submitters(conn, ticket.model, version):
                    raise GateDenial(
                        action,
                        [
                            f"four-eyes: {actor} submitted {ticket.model} {version}, which"
                            f" {chg_id} changes, and cannot approve it (CAB members and"
                            " executives are independent of the requester and the submitter)"
                        ],
                    )
            self._require_roles(conn, actor, (role,), action)
            act = acts.authorize(
                conn,
                action=action,
                kind="change_approve",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                chg_id=chg_id,
                role=role,
                ticket_digest=_ticket_digest(ticket),
            )
            approval = ChangeApproval(chg_id=chg_id, actor=actor, role=role, time_ns=now)
            record_change_approval(conn, approval)
            append_event(
                conn,
                kind="change_approval",
                actor=actor,
                time_ns=now,
                model=ticket.model,
                chg_id=chg_id,
                payload={**approval.to_dict(), "act": act},
            )
            return approval

        return self._run(action=action, actor=actor, body=body, chg_id=chg_id)

    def show_change(self, chg_id: str) -> ChangeStatus:
        """The ticket, its requester and approvals."""
        found = get_ticket(self.store.conn, chg_id)
        if found is None:
            raise InvalidInputError(f"change: {chg_id} is not registered")
        return ChangeStatus(
            ticket=found[0],
            requester=found[1],
            approvals=tuple(list_change_approvals(self.store.conn, chg_id)),
        )


def _submitters(conn: sqlite3.Connection, model: str, version: str) -> set[str]:
    """Who submitted ``model version`` (person keys): the submitter the verified log records
    and the one the versions table says — both, so an edited row helps nobody approve their
    own version."""
    found = set()
    row = conn.execute(
        "SELECT submitter FROM versions WHERE model = ? AND version = ?", (model, version)
    ).fetchone()
    if row is not None:
        found.add(person_key(str(row[0])))
    recorded = recorded_version(conn, model, version)
    if recorded and recorded.get("submitter"):
        found.add(person_key(str(recorded["submitter"])))
    return found


def _ticket_digest(ticket: ChangeTicket) -> str:
    """``sha256:`` of the ticket's canonical JSON: what a request or a CAB approval signs."""
    return digest_bytes(canonical_json(ticket.to_dict()).encode("utf-8"))


def _write_config(conn: sqlite3.Connection, name: str, document: dict[str, Any]) -> None:
    """Put ``document`` in force for ``name`` (inside the action's transaction)."""
    conn.execute(
        "INSERT INTO config (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (name, canonical_json(document)),
    )


def _source(document: Any, what: str) -> str:
    """How errors name a document: ``"FILE: what"`` for a path, else ``what``."""
    return f"{document}: {what}" if isinstance(document, (str, Path)) else what
