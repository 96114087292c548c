"""Approval and waiver acts: a person approves a version for a stage, or waives one check.

An approval is signed by the approver with their key from the roster, in a role the roster
gives them, never by the version's submitter, and — for Approved — of the verdict the version
is approved with (:mod:`~canarykit.promotion.approvals`). A waiver lifts one named check of a
version until it expires, granted by a security or executive person
(:mod:`~canarykit.promotion.waivers`). :class:`~canarykit.promotion.governance.Governance` has
these methods.

Examples
--------
>>> ApprovalActions(":memory:").approve("m", "v1", role="security", actor="sam")
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: version: m v1 is not registered (submit it first)
"""

from __future__ import annotations

import sqlite3
from typing import Any

from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import (
    Approval,
    approval_problems,
    list_approvals,
    record_approval,
)
from canarykit.promotion.audit import append_event
from canarykit.promotion.clock import format_instant, parse_instant
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.session import Session, check_actor
from canarykit.promotion.states import parse_stage
from canarykit.promotion.verdict_attestation import (
    load_verdict_document,
    open_verdict,
    plain_verdicts_allowed,
)
from canarykit.promotion.verified_state import recorded_version
from canarykit.promotion.versions import get_version
from canarykit.promotion.waivers import Waiver, record_waiver, waiver_problems

__all__ = ["ApprovalActions"]

_WAIVER_ROLES = ("security", "executive")


class ApprovalActions(Session):
    """Approvals of versions and waivers of checks (see :class:`Session`)."""

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
