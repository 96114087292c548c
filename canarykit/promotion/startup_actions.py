"""The startup check: may a model (through its alias, or a pinned version) start now?

:meth:`StartupActions.check_startup` resolves the version, compares the artifact file and the
policy digest with the registry, and lets the ``startup`` gate decide; a refusal is recorded as
a ``gate_denied`` audit event. :class:`~canarykit.promotion.production.Production` has this
method.

Examples
--------
>>> StartupActions(":memory:").check_startup("risk-default", policy_digest="sha256:" + "0" * 64,
...                                          no_artifact_check=True).exit_code
10
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError, StorageError
from canarykit.promotion import facts as F
from canarykit.promotion import transitions
from canarykit.promotion.alias import read_alias
from canarykit.promotion.artifacts import digest_artifact
from canarykit.promotion.audit import append_event
from canarykit.promotion.drill import is_drill
from canarykit.promotion.evidence import verify_signatures
from canarykit.promotion.gates import evaluate_gate
from canarykit.promotion.session import DEFAULT_ALIAS, Session, check_actor
from canarykit.promotion.startup import EXIT_OK, RUNBOOK, StartupCheck, by_priority, classify
from canarykit.promotion.versions import get_version

__all__ = ["StartupActions"]


class StartupActions(Session):
    """The startup check (see :class:`Session`)."""

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
