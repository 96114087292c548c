"""What happens in MLflow after a canarykit action, and what the dashboard shows about it.

:func:`mirror_after_action` runs :func:`~canarykit.integrations.mlflow.mirror.sync` after a
canarykit action whose gate allowed it and whose audit event is committed (a submission, a
transition, an alias move, a rollback, a revocation, a release). It retries; when MLflow stays
unreachable (or the client is missing) it prints one warning line, records an ``mlflow_mirror``
audit event with ``ok: false`` — the mirror is *pending* — and leaves the canarykit decision as
it is; ``canarykit mlflow sync`` fixes it later and records the recovery.

:func:`mlflow_status` is the dashboard's view: the pending failure, and (when asked) a live
:func:`~canarykit.integrations.mlflow.mirror.verify` naming any drift.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from canarykit.errors import CanaryError, one_line
from canarykit.integrations.mlflow.desired import desired_state
from canarykit.integrations.mlflow.mirror import MirrorReport, sync, verify

if TYPE_CHECKING:
    from canarykit.promotion.session import Session

__all__ = [
    "RETRY_DELAYS",
    "mirror_after_action",
    "mlflow_status",
    "pending_failure",
    "record",
    "sync_model",
]

LOG = logging.getLogger("canarykit.mlflow")
RETRY_DELAYS = (0.5, 1.5)
"""Seconds between the attempts of a mirror after an action (three attempts in all)."""


def pending_failure(session: Session, model: str) -> dict[str, Any] | None:
    """The last ``mlflow_mirror`` event of ``model`` when it records a failure (the mirror is
    pending until a sync succeeds), else None."""
    row = session.store.conn.execute(
        "SELECT seq, payload_json FROM events WHERE model = ? AND kind = 'mlflow_mirror'"
        " ORDER BY seq DESC LIMIT 1",
        (model,),
    ).fetchone()
    if row is None:
        return None
    payload = json.loads(row[1])
    return None if payload.get("ok") else {"seq": row[0], **payload}


def record(session: Session, report: MirrorReport, *, actor: str, trigger: str) -> None:
    """Append an ``mlflow_mirror`` audit event for ``report`` (best effort: a registry that
    cannot be written is logged, never raised)."""
    from canarykit.errors import StorageError
    from canarykit.promotion.audit import append_event

    payload = {
        "ok": report.ok,
        "trigger": trigger,
        "registered_model": report.registered_model,
        "uri": report.uri,
        "applied": list(report.applied),
        "differences": [d.message for d in report.differences][:20],
        "error": report.error,
    }
    try:
        with session._event_context(), session.store.transaction() as conn:
            append_event(
                conn,
                kind="mlflow_mirror",
                actor=actor,
                time_ns=session.clock.now_ns(),
                model=report.model,
                payload=payload,
            )
    except StorageError as err:
        LOG.warning("canarykit: could not record the MLflow mirror outcome: %s", err)


def mirror_after_action(
    session: Session,
    model: str,
    *,
    actor: str,
    action: str,
    uri: str | None = None,
    warn: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> MirrorReport:
    """Mirror ``model`` after ``action`` (committed); never raises for MLflow trouble.

    Three attempts (:data:`RETRY_DELAYS`). On failure: a warning line (``warn``, default the
    ``canarykit.mlflow`` logger) and an ``mlflow_mirror`` event with ``ok: false``; after a
    pending failure, a success records ``ok: true``.
    """
    desired = desired_state(session.store.conn, model)
    report: MirrorReport | None = None
    for delay in (*RETRY_DELAYS, None):
        try:
            report = sync(desired, uri=uri)
        except CanaryError as err:  # no URI, no client installed
            report = MirrorReport(
                model=model, registered_model=desired.registered_model, uri=uri, error=str(err)
            )
            break
        if report.error is None or delay is None:
            break
        sleep(delay)
    assert report is not None
    if report.ok:
        if pending_failure(session, model) is not None:
            record(session, report, actor=actor, trigger=action)
        return report
    problem = report.error or "; ".join(d.message for d in report.differences)
    line = one_line(
        f"canarykit: warning: {action} stands, but its MLflow mirror failed ({problem});"
        f" run `canarykit mlflow sync {model}` when MLflow is back"
    )
    (warn or LOG.warning)(line)
    record(session, report, actor=actor, trigger=action)
    return report


def sync_model(session: Session, model: str, *, actor: str, uri: str | None = None) -> MirrorReport:
    """``canarykit mlflow sync MODEL``: :func:`~canarykit.integrations.mlflow.mirror.sync`
    of the model's verified state, recorded as an ``mlflow_mirror`` event when it changed
    something, failed, or clears a pending failure (a sync with nothing to do writes nothing).

    Raises
    ------
    InvalidInputError
        A drill registry; no version of ``model`` was submitted from MLflow; no tracking URI.
    """
    from canarykit.errors import InvalidInputError

    if session.drill:
        raise InvalidInputError(
            "registry: a drill registry is never mirrored into MLflow (a rehearsal must not move"
            " a real alias); mlflow verify still compares"
        )
    desired = desired_state(session.store.conn, model)
    if not desired.linked:
        raise InvalidInputError(
            f"model: no version of {model} was submitted from MLflow (canarykit submit"
            f" {model} VERSION --from-mlflow models:/NAME/N): nothing is mirrored"
        )
    report = sync(desired, uri=uri)
    if report.applied or not report.ok or pending_failure(session, model) is not None:
        record(session, report, actor=actor, trigger="mlflow sync")
    return report


def mlflow_status(
    session: Session, model: str, *, check: bool = False, uri: str | None = None
) -> dict[str, Any] | None:
    """The MLflow side of ``model`` for the dashboard (None: nothing is mirrored).

    ``pending`` is the failed mirror no sync has fixed yet; with ``check`` MLflow is read
    (:func:`~canarykit.integrations.mlflow.mirror.verify`) and ``ok``, ``differences`` and
    ``error`` say what it shows.
    """
    desired = desired_state(session.store.conn, model)
    if not desired.linked:
        return None
    pending = pending_failure(session, model)
    status: dict[str, Any] = {
        "registered_model": desired.registered_model,
        "pending": None
        if pending is None
        else {
            "seq": pending["seq"],
            "error": pending.get("error"),
            "trigger": pending.get("trigger"),
        },
        "checked": check,
        "ok": None,
        "differences": [],
        "error": None,
    }
    if check:
        try:
            report = verify(desired, uri=uri)
        except CanaryError as err:
            status.update(ok=False, error=str(err))
        else:
            status.update(
                ok=report.ok,
                differences=[d.message for d in report.differences],
                error=report.error,
            )
    return status
