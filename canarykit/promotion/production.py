"""Production actions: the alias (compare-and-set), rollback, revocation, the startup check.

Examples
--------
>>> p = Production(":memory:")
>>> p.show_alias("risk-default") is None
True
>>> p.check_startup("risk-default", policy_digest="sha256:" + "0" * 64,
...                 no_artifact_check=True).exit_code
10
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from canarykit.errors import GateDeniedError, InvalidInputError, StorageError
from canarykit.promotion import acts, transitions
from canarykit.promotion import facts as F
from canarykit.promotion.alias import (
    AliasHistoryEntry,
    AliasState,
    alias_history,
    read_alias,
    rollback_target,
    write_alias,
)
from canarykit.promotion.approvals import ROLES
from canarykit.promotion.artifacts import digest_artifact
from canarykit.promotion.audit import append_event
from canarykit.promotion.changes import is_backout
from canarykit.promotion.drill import is_drill
from canarykit.promotion.evidence import verify_signatures
from canarykit.promotion.gates import GateDenial, evaluate_gate
from canarykit.promotion.results import AliasAction, RevocationResult
from canarykit.promotion.session import DEFAULT_ALIAS, Session, check_actor
from canarykit.promotion.startup import EXIT_OK, RUNBOOK, StartupCheck, by_priority, classify
from canarykit.promotion.states import Stage, check_transition
from canarykit.promotion.versions import VersionRecord, get_version, update_version, validate_name

__all__ = ["Production"]

_REVOKER_ROLES = ("security", "operations", "executive")


class Production(Session):
    """Aliases, rollback, revocation and the startup check (see :class:`Session`)."""

    # -- aliases, rollback, revocation --------------------------------------------------------
    def _alias_facts(
        self,
        conn: sqlite3.Connection,
        now: int,
        actor: str,
        *,
        model: str,
        alias: str,
        target: VersionRecord,
        expected: str | None,
        current: str | None,
        purpose: str,
        chg_id: str | None,
        backout: bool = False,
    ) -> dict[str, Any]:
        change, use = transitions.change_input(
            conn, chg_id, purpose=purpose, record=target, alias=alias, backout=backout
        )
        return {
            **self._base_facts(conn, now, actor),
            "alias": alias,
            "version": F.version_facts(target, conn),
            "target": {**F.version_facts(target, conn), **use},
            "cas": {"checked": True, "expected": expected, "current": current},
            "change": change,
            "calendar": F.calendar_facts(conn, now_ns=now),
        }

    def set_alias(
        self,
        model: str,
        version: str,
        *,
        expected: str | None,
        actor: str,
        chg_id: str | None,
        alias: str = DEFAULT_ALIAS,
    ) -> AliasState:
        """Point ``alias`` at an Approved version if it still points at ``expected``.

        ``expected`` is the version the caller last read (None when the alias was never set);
        if another writer moved the alias since, the compare-and-set fails and nothing changes.
        """
        actor = check_actor(actor)
        validate_name(alias, "alias")
        action = f"alias set {model} {alias} → {version}"

        def body(conn: sqlite3.Connection, now: int) -> AliasState:
            target = get_version(conn, model, version)
            self._require_roles(conn, actor, ROLES, action)
            state = read_alias(conn, model, alias)
            current = None if state is None else state.version
            self._gate(
                "alias",
                action,
                self._alias_facts(
                    conn,
                    now,
                    actor,
                    model=model,
                    alias=alias,
                    target=target,
                    expected=expected,
                    current=current,
                    purpose="alias_existing",
                    chg_id=chg_id,
                ),
            )
            return _move_alias(
                conn,
                model=model,
                alias=alias,
                from_version=current,
                to_version=version,
                kind="alias_update",
                chg_id=chg_id,
                actor=actor,
                now=now,
            )

        return self._run(
            action=action, actor=actor, body=body, model=model, version=version, chg_id=chg_id
        )

    def show_alias(self, model: str, alias: str = DEFAULT_ALIAS) -> AliasState | None:
        """Where the alias points (None if never set; ``version`` None when blocked)."""
        return read_alias(self.store.conn, model, alias)

    def alias_history(self, model: str, alias: str = DEFAULT_ALIAS) -> list[AliasHistoryEntry]:
        """Every move of the alias, oldest first."""
        return alias_history(self.store.conn, model, alias)

    def _is_live_approved(self, conn: sqlite3.Connection, model: str) -> Callable[[str], bool]:
        def check(version: str) -> bool:
            return get_version(conn, model, version).stage == Stage.APPROVED.value

        return check

    def rollback(
        self,
        model: str,
        *,
        actor: str,
        chg_id: str | None,
        alias: str = DEFAULT_ALIAS,
        expected: str | None = None,
    ) -> AliasState:
        """Move the alias back to the previous Approved version in its history.

        A rollback is always a compare-and-set: ``expected`` is the version the caller believes
        is current (default: the one read now, before the write); inside the transaction the
        alias must still point there, so two identical rollbacks at once move it once and the
        second is denied. Under the ticket whose alias move it undoes (its backout plan), the
        rollback is a pre-approved backout: it may run during a freeze
        (:mod:`~canarykit.promotion.changes`). A ticket rolls an alias back once.
        """
        actor = check_actor(actor)
        action = f"rollback {model} {alias}"
        if expected is None:  # what the caller sees now; re-checked inside the transaction
            read = read_alias(self.store.conn, model, alias)
            expected = None if read is None else read.version

        def body(conn: sqlite3.Connection, now: int) -> AliasState:
            self._require_roles(conn, actor, ROLES, action)
            state = read_alias(conn, model, alias)
            current = None if state is None else state.version
            if current != expected:
                raise GateDenial(
                    action,
                    [
                        f"compare-and-set: {alias} is {current}, not the expected {expected}:"
                        " it moved since it was read (rolled back already?); re-read it"
                        f" (canarykit alias show {model}) and retry if still needed"
                    ],
                )
            target_version = rollback_target(
                conn, model, alias, is_approved=self._is_live_approved(conn, model)
            )
            if target_version is None:
                raise GateDenial(
                    action,
                    [
                        f"rollback: {alias} has no previous Approved, unrevoked"
                        f" version in its history (current: {current})"
                    ],
                )
            target = get_version(conn, model, target_version)
            self._gate(
                "alias",
                action,
                self._alias_facts(
                    conn,
                    now,
                    actor,
                    model=model,
                    alias=alias,
                    target=target,
                    expected=expected,
                    current=current,
                    purpose="rollback",
                    chg_id=chg_id,
                    backout=is_backout(
                        conn, model=model, alias=alias, chg_id=chg_id, target=target_version
                    ),
                ),
            )
            return _move_alias(
                conn,
                model=model,
                alias=alias,
                from_version=current,
                to_version=target_version,
                kind="rollback",
                chg_id=chg_id,
                actor=actor,
                now=now,
            )

        return self._run(action=action, actor=actor, body=body, model=model, chg_id=chg_id)

    def revoke(
        self,
        model: str,
        version: str,
        *,
        actor: str,
        reason: str,
        chg_id: str | None = None,
        key: Any = None,
    ) -> RevocationResult:
        """Revoke a version; every alias on it rolls back, or is blocked if none remains.

        Revocation is a safety action: it is not held back by change windows or freezes, but the
        revoker must hold the security, operations or executive role, give a reason and sign
        the act with ``key`` (:mod:`~canarykit.promotion.acts`).
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        action = f"revoke {model} {version}"
        if not reason.strip():
            raise InvalidInputError("reason: a revocation needs a reason")

        def body(conn: sqlite3.Connection, now: int) -> RevocationResult:
            record = get_version(conn, model, version)
            self._require_roles(conn, actor, _REVOKER_ROLES, action)
            try:
                check_transition(record.stage, Stage.REVOKED)
            except GateDeniedError as err:
                raise GateDenial(action, [str(err)]) from None
            act = acts.authorize(
                conn,
                action=action,
                kind="revoke",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                model=model,
                version=version,
                reason=reason,
                chg_id=chg_id,
            )
            update_version(conn, record, stage=Stage.REVOKED.value, now_ns=now)
            actions = []
            rows = conn.execute(
                "SELECT alias FROM aliases WHERE model = ? AND version = ? ORDER BY alias",
                (model, version),
            ).fetchall()
            for (alias,) in rows:
                after = rollback_target(
                    conn, model, alias, is_approved=self._is_live_approved(conn, model)
                )
                moved = AliasAction(
                    alias=alias,
                    before=version,
                    after=after,
                    action="rolled_back" if after else "blocked",
                )
                actions.append(moved)
                _move_alias(
                    conn,
                    model=model,
                    alias=alias,
                    from_version=version,
                    to_version=after,
                    kind="revocation",
                    event_kind="rollback" if after else "alias_update",
                    chg_id=chg_id,
                    actor=actor,
                    now=now,
                    details={"cause": "revocation", "message": moved.message},
                )
            result = RevocationResult(
                model=model, version=version, previous_stage=record.stage, aliases=tuple(actions)
            )
            append_event(
                conn,
                kind="revocation",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                chg_id=chg_id,
                payload={"reason": reason, **result.to_dict(), "act": act},
            )
            return result

        return self._run(
            action=action, actor=actor, body=body, model=model, version=version, chg_id=chg_id
        )

    # -- startup / download -------------------------------------------------------------------
    def check_startup(
        self,
        model: str,
        *,
        policy_digest: str,
        alias: str | None = DEFAULT_ALIAS,
        version: str | None = None,
        artifact: str | Path | None = None,
        no_artifact_check: bool = False,
        actor: str = "startup-check",
        mlflow: bool = False,
        mlflow_uri: str | None = None,
    ) -> StartupCheck:
        """May ``model`` (through ``alias``, or a pinned ``version``) start now?

        Parameters
        ----------
        model : str
            The model.
        policy_digest : str
            The policy snapshot digest the service expects.
        alias : str or None, default "production"
            The alias to resolve (None with a pinned ``version``).
        version : str, optional
            A pinned version instead of the alias.
        artifact : str or Path, optional
            The artifact file about to be started; its sha256 must be the registered digest.
            Required unless ``no_artifact_check``.
        no_artifact_check : bool, default False
            Check everything but the artifact file (degraded): the result is never OK — exit
            18 when every other check passes — and a ``startup_degraded`` event records it.
        actor : str, default "startup-check"
            Who checks (recorded in the audit event of a refusal).
        mlflow : bool, default False
            Also compare MLflow with the state canarykit's verified log gives the model
            (:func:`canarykit.integrations.mlflow.verify`): any drift, an MLflow that cannot
            be read, or a model never submitted from MLflow fails with exit 20 (``mlflow``).
        mlflow_uri : str, optional
            The tracking URI (default ``$MLFLOW_TRACKING_URI``, else the one recorded at
            submission).

        Returns
        -------
        StartupCheck
            Never raises for a failed check: its ``exit_code`` says which check failed first
            (see :mod:`canarykit.promotion.startup`). A failure is also recorded as a
            ``gate_denied`` audit event, a degraded check as ``startup_degraded``.

        Raises
        ------
        InvalidInputError
            Neither ``artifact`` nor ``no_artifact_check`` (or both) given; a malformed
            ``policy_digest``; an unreadable artifact.
        """
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", str(policy_digest)):
            raise InvalidInputError(
                f"policy_digest: {policy_digest!r} must be sha256:<64 hex> (a policy snapshot digest)"
            )
        if (artifact is None) == (not no_artifact_check):
            raise InvalidInputError(
                "artifact: check-startup compares the artifact file about to start with the"
                " registered digest: give --artifact FILE, or --no-artifact-check for a degraded"
                " check (never OK: exit 18)"
                if artifact is None
                else "artifact: give --artifact FILE or --no-artifact-check, not both"
            )
        artifact_digest = None if artifact is None else digest_artifact(artifact)
        conn = self.store.conn
        record, problem, state_version = None, None, None
        if version is None:
            state = None if alias is None else read_alias(conn, model, alias)
            if state is None:
                problem = f"{model} has no alias {alias!r}"
            elif state.version is None:
                problem = f"{alias} of {model} is BLOCKED (its last version was revoked)"
            else:
                version = state_version = state.version
        if version is not None:
            try:
                record = get_version(conn, model, version)
            except InvalidInputError as err:
                problem = str(err)
        trust = F.load_trust(conn)
        facts: dict[str, Any] = {
            "resolved": record is not None,
            "resolve_problem": problem,
            "expected_policy_digest": policy_digest,
            "artifact": {
                "checked": artifact_digest is not None,
                "digest": artifact_digest,
                "skip_requested": no_artifact_check,
            },
            "registry": {"drill": is_drill(conn)},
        }
        if record is not None:
            signatures = transitions.load_signatures(record.evidence.get("signatures"))
            digest = artifact_digest or record.artifact_digest
            facts["version"] = F.version_facts(record, conn)
            facts["signature"] = verify_signatures(digest, signatures, trust).to_dict()
            pinned = alias is None or state_version is None
            facts["audit"] = F.startup_audit_facts(
                conn, record, alias=None if pinned else alias, alias_version=state_version
            )
        decision = evaluate_gate("startup", facts)
        reasons = decision.reasons
        if mlflow:
            reasons = (*reasons, *_mlflow_reasons(conn, model, mlflow_uri))
        allow = decision.allow and reasons == decision.reasons
        code, kind = classify(reasons) if not allow else (EXIT_OK, None)
        result = StartupCheck(
            ok=allow,
            exit_code=code,
            model=model,
            alias=alias if record is None or alias else None,
            version=version,
            problems=by_priority(reasons),
            hint=RUNBOOK[kind] if kind else "",
            artifact_checked=artifact_digest is not None,
        )
        if not result.ok:
            actor = check_actor(actor)
            # Best effort: a refused start must never turn into a different exit status just
            # because the registry cannot be written (e.g. it is locked for longer than 30 s).
            with (
                contextlib.suppress(StorageError),
                self._event_context(),
                self.store.transaction() as tx,
            ):
                append_event(
                    tx,
                    kind="startup_degraded" if result.degraded else "gate_denied",
                    actor=actor,
                    time_ns=self.clock.now_ns(),
                    model=model,
                    version=version,
                    payload={
                        "action": "check-startup",
                        "reasons": list(reasons),
                        "exit_code": code,
                        "artifact_checked": artifact_digest is not None,
                    },
                )
        return result


def _mlflow_reasons(conn: sqlite3.Connection, model: str, uri: str | None) -> tuple[str, ...]:
    """``mlflow: …`` startup reasons: drift between MLflow and the verified log, or why MLflow
    could not be checked (:mod:`canarykit.integrations.mlflow`)."""
    from canarykit.integrations.mlflow import desired_state, verify

    desired = desired_state(conn, model)
    if not desired.linked:
        return (
            f"mlflow: no version of {model} was submitted from MLflow (submit --from-mlflow):"
            " there is no MLflow state to check",
        )
    report = verify(desired, uri=uri)
    if report.error is not None:
        return (f"mlflow: cannot check MLflow: {report.error}",)
    return tuple(f"mlflow: drift: {d.message}" for d in report.differences)


def _move_alias(
    conn: sqlite3.Connection,
    *,
    model: str,
    alias: str,
    from_version: str | None,
    to_version: str | None,
    kind: str,
    chg_id: str | None,
    actor: str,
    now: int,
    event_kind: str | None = None,
    details: dict[str, Any] | None = None,
) -> AliasState:
    """Write the alias and append its audit event (same transaction): the one way an alias moves.

    The event payload records ``alias``, ``from`` and ``to``, then either ``details`` (a
    revocation's cause and message) or the alias's new ``generation``.
    """
    new = write_alias(
        conn,
        model=model,
        alias=alias,
        to_version=to_version,
        kind=kind,
        chg_id=chg_id,
        actor=actor,
        now_ns=now,
    )
    payload: dict[str, Any] = {"alias": alias, "from": from_version, "to": to_version}
    payload.update(details if details is not None else {"generation": new.generation})
    append_event(
        conn,
        kind=event_kind or kind,
        actor=actor,
        time_ns=now,
        model=model,
        version=to_version,
        chg_id=chg_id,
        payload=payload,
    )
    return new
