"""Change-ticket acts: a requester registers a ticket, the change board approves it.

A ticket (:class:`~canarykit.promotion.changes.ChangeTicket`) names the model, the versions,
the window and the steps of a production change; its request and each approval sign the
ticket's digest, and nobody approves a change to a version they submitted.
:class:`~canarykit.promotion.governance.Governance` has these methods.

Examples
--------
>>> ChangeActions(":memory:").show_change("CHG-404")
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
from canarykit.promotion.approvals import person_key
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
from canarykit.promotion.evidence import digest_bytes
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.results import ChangeStatus
from canarykit.promotion.session import Session, check_actor, load_document
from canarykit.promotion.verified_state import recorded_version

__all__ = ["ChangeActions"]


class ChangeActions(Session):
    """Change tickets: create, approve, show (see :class:`Session`)."""

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


def _source(document: Any, what: str) -> str:
    """How errors name a document: ``"FILE: what"`` for a path, else ``what``."""
    return f"{document}: {what}" if isinstance(document, (str, Path)) else what
