"""Governance actions: configuration (trust, roster, calendar), approvals, waivers, changes.

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
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import (
    Approval,
    Roster,
    approval_problems,
    list_approvals,
    person_key,
    record_approval,
)
from canarykit.promotion.audit import append_event, canonical_json
from canarykit.promotion.calendar import Calendar
from canarykit.promotion.changes import (
    ChangeApproval,
    ChangeTicket,
    get_ticket,
    list_change_approvals,
    record_change_approval,
    record_ticket,
)
from canarykit.promotion.clock import parse_instant
from canarykit.promotion.evidence import TrustStore, digest_bytes
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.results import ChangeStatus
from canarykit.promotion.session import Session, check_actor, load_document
from canarykit.promotion.states import parse_stage
from canarykit.promotion.verdict_attestation import (
    load_verdict_document,
    open_verdict,
    plain_verdicts_allowed,
)
from canarykit.promotion.versions import get_version
from canarykit.promotion.waivers import Waiver, record_waiver, waiver_problems

__all__ = ["Governance"]

_CONFIG_ROLES = {"trust": ("security",), "roster": ("security",), "calendar": ("operations",)}
_WAIVER_ROLES = ("security", "executive")


class Governance(Session):
    """Configuration, approvals, waivers and change tickets (see :class:`Session`)."""

    # -- configuration ------------------------------------------------------------------------
    def configure(
        self,
        *,
        actor: str,
        trust: Any = None,
        roster: Any = None,
        calendar: Any = None,
    ) -> dict[str, str]:
        """Set the trust file, roster and/or change calendar (paths or documents).

        Once a roster exists, changing trust or the roster needs the security role and changing
        the calendar the operations role. Returns the digest stored for each key.
        """
        actor = check_actor(actor)
        documents: dict[str, dict[str, Any]] = {}
        if trust is not None:
            documents["trust"] = TrustStore.from_dict(
                load_document(trust, "trust file"), source=_source(trust, "trust")
            ).to_dict()
        if roster is not None:
            documents["roster"] = Roster.from_dict(
                load_document(roster, "roster"), source=_source(roster, "roster")
            ).to_dict()
        if calendar is not None:
            documents["calendar"] = Calendar.from_dict(
                load_document(calendar, "calendar"), source=_source(calendar, "calendar")
            ).to_dict()
        if not documents:
            raise InvalidInputError("configure: give trust, roster and/or calendar")

        def body(conn: sqlite3.Connection, now: int) -> dict[str, str]:
            digests = {}
            bootstrap = F.load_roster(conn) is None
            for key, document in documents.items():
                if not bootstrap:  # roles are checked against the roster in force before
                    self._require_roles(conn, actor, _CONFIG_ROLES[key], f"config {key}")
                text = canonical_json(document)
                conn.execute(
                    "INSERT INTO config (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, text),
                )
                digests[key] = digest_bytes(text.encode("utf-8"))
                append_event(
                    conn,
                    kind="config",
                    actor=actor,
                    time_ns=now,
                    payload={"key": key, "digest": digests[key], "document": document},
                )
            return digests

        return self._run(action="configure " + ", ".join(documents), actor=actor, body=body)

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
    ) -> Approval:
        """Record ``actor``'s approval, in ``role``, of the version entering ``stage``.

        An approval for Approved names the canary ``verdict`` the approver reviewed: a DSSE
        envelope (dict or path) signed by a key trusted for purpose ``verdict`` whose subject is
        this version (:mod:`~canarykit.promotion.verdict_attestation`); a plain JSON verdict is
        refused. The Approved gate counts the approval only for that very verdict (its digest).
        """
        actor = check_actor(actor)
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
                    submitter=record.submitter,
                    existing=list_approvals(conn, model, version, target),
                    roster=F.load_roster(conn),
                )
                if not (refused and p.startswith("verdict:"))
            ]
            if record.revoked:
                problems.append(f"stage: {model} {version} is revoked")
            if problems:
                raise GateDenial(action, problems)
            record_approval(conn, approval)
            append_event(
                conn,
                kind="approval",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                payload=approval.to_dict(),
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
    ) -> Waiver:
        """Grant a waiver lifting one named check until ``expires``."""
        actor = check_actor(actor)
        expires_ns = (
            expires if isinstance(expires, int) else parse_instant(expires, field="expires")
        )
        action = f"waive {check} for {model} {version or '(all versions)'}"

        def body(conn: sqlite3.Connection, now: int) -> Waiver:
            submitter = None if version is None else get_version(conn, model, version).submitter
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
            record_waiver(conn, waiver)
            append_event(
                conn,
                kind="waiver",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                payload=waiver.to_dict(),
            )
            return waiver

        return self._run(action=action, actor=actor, body=body, model=model, version=version)

    # -- change tickets -----------------------------------------------------------------------
    def create_change(self, ticket: Any, *, actor: str) -> ChangeTicket:
        """Register a change ticket (a path, a mapping or a :class:`ChangeTicket`)."""
        actor = check_actor(actor)
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
            record_ticket(conn, parsed, created_by=actor, now_ns=now)
            append_event(
                conn,
                kind="change",
                actor=actor,
                time_ns=now,
                model=parsed.model,
                chg_id=parsed.chg_id,
                payload=parsed.to_dict(),
            )
            return parsed

        return self._run(
            action=f"change create {parsed.chg_id}",
            actor=actor,
            body=body,
            model=parsed.model,
            chg_id=parsed.chg_id,
        )

    def approve_change(self, chg_id: str, *, actor: str, role: str) -> ChangeApproval:
        """Record a CAB (or executive) approval of a change ticket."""
        actor = check_actor(actor)
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
            self._require_roles(conn, actor, (role,), action)
            approval = ChangeApproval(chg_id=chg_id, actor=actor, role=role, time_ns=now)
            record_change_approval(conn, approval)
            append_event(
                conn,
                kind="change_approval",
                actor=actor,
                time_ns=now,
                model=ticket.model,
                chg_id=chg_id,
                payload=approval.to_dict(),
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


def _source(document: Any, what: str) -> str:
    """How errors name a document: ``"FILE: what"`` for a path, else ``what``."""
    return f"{document}: {what}" if isinstance(document, (str, Path)) else what
