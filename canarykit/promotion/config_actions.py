"""Configuration acts: the first roster (bootstrap), then changes proposed by one person and
approved by a second.

The roster, the trust file and the calendar are configuration documents
(:mod:`~canarykit.promotion.config_changes`). A new registry is configured once by a security
person on its first roster (:meth:`ConfigActions.bootstrap`); every later change is a proposal
(:meth:`ConfigActions.propose_config`) that a second person with the role approves
(:meth:`ConfigActions.approve_config`). Each is an act signed with the actor's key from the
roster (:mod:`~canarykit.promotion.acts`). :class:`~canarykit.promotion.governance.Governance`
has these methods.

Examples
--------
>>> ConfigActions(":memory:").config_document("trust") is None
True
"""

from __future__ import annotations

import sqlite3
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import person_key
from canarykit.promotion.audit import append_event, canonical_json
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
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.roster import Roster
from canarykit.promotion.session import Session, check_actor

__all__ = ["ConfigActions"]


class ConfigActions(Session):
    """Configuration of a registry: bootstrap, proposals and their approval (see :class:`Session`)."""

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


def _write_config(conn: sqlite3.Connection, name: str, document: dict[str, Any]) -> None:
    """Put ``document`` in force for ``name`` (inside the action's transaction)."""
    conn.execute(
        "INSERT INTO config (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (name, canonical_json(document)),
    )
