"""What the dashboard shows, read from the trace store (and the registry) on each request.

The dashboard never holds a store open: DuckDB lets one process write a file and no other open
it meanwhile, so a dashboard that kept a connection would block the batch job recording looks.
Each read opens the store read-only (waiting briefly if the job holds it), reads, and closes.

Everything returned is plain JSON-ready data: the page, the API and ``/metrics`` share it.

Examples
--------
>>> import datetime as dt, tempfile, pathlib
>>> from canarykit.rollout import start_rollout
>>> from canarykit.simulate.rollout import SCENARIOS, START, rollout_traffic
>>> from canarykit.traces.store import ingest_new_or_existing
>>> from canarykit.verdict import evaluate
>>> from canarykit.verdict.policy import load_policy
>>> db = pathlib.Path(tempfile.mkdtemp()) / "s.duckdb"
>>> _ = ingest_new_or_existing(db, rollout_traffic(SCENARIOS["aa"], load_policy().rollout[:1],
...                                               rate=20, seed=1))
>>> _ = start_rollout(db, model="risk-default", at=START)
>>> _ = evaluate(db, until=(START + dt.timedelta(minutes=5)).isoformat())
>>> [r["rollout_id"] for r in list_rollout_summaries(db)]
[1]
>>> detail = rollout_detail(db, 1)
>>> detail["looks"][0]["decision"], detail["current_step"]
('CONTINUE', 1)
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from canarykit.errors import CanaryError, InvalidInputError
from canarykit.traces.decision_log import list_decisions
from canarykit.traces.rollouts import (
    LookRecord,
    RolloutRecord,
    get_rollout,
    list_looks,
    list_rollouts,
)
from canarykit.traces.store import TraceStore

__all__ = [
    "change_token",
    "governance",
    "latency_by_arm",
    "latest_verdict",
    "list_rollout_summaries",
    "rollout_detail",
]

READ_LOCK_TIMEOUT = 10.0
QUANTILE_LEVELS = (0.5, 0.9, 0.95, 0.99)


def _open(db: str | Path) -> TraceStore:
    if not Path(db).is_file():
        raise InvalidInputError(f"{db}: no such trace store")
    return TraceStore(db, read_only=True, lock_timeout=READ_LOCK_TIMEOUT)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _segment_of(planned: dict[str, Any]) -> str | None:
    """The segment a plan step targets (``route=beta``), or ``None`` for all traffic."""
    from canarykit.verdict.segment_plan import parse_step_segment, segment_label

    segment = parse_step_segment(planned.get("segment"), [], prefix="plan.")
    return segment_label(segment) if segment else None


def _summary(record: RolloutRecord, looks: list[LookRecord]) -> dict[str, Any]:
    last = looks[-1] if looks else None
    step = record.current_step
    return {
        "rollout_id": record.rollout_id,
        "model": record.model,
        "baseline": record.baseline,
        "candidate": record.candidate,
        "status": record.status,
        "current_step": step.step,
        "steps": len(record.plan),
        "planned_split": step.share,
        "segment": _segment_of(record.plan[step.step - 1]),
        "started_at": _iso(record.started_at),
        "looks": len(looks),
        "last_decision": last.decision if last else None,
        "last_until": _iso(last.until) if last else None,
        "stop": (
            {
                "step": record.stop_step,
                "look": record.stop_look,
                "reasons": list(record.stop_reasons),
            }
            if record.stop_step is not None
            else None
        ),
    }


def list_rollout_summaries(db: str | Path) -> list[dict[str, Any]]:
    """Every rollout of the store, newest first, with its current step and last decision."""
    with _open(db) as store:
        out = []
        for record in list_rollouts(store):
            looks = list_looks(store, record.rollout_id, step=record.current_step.step)
            out.append(_summary(record, looks))
    return out


def _look_row(look: LookRecord) -> dict[str, Any]:
    verdict = json.loads(look.verdict_json)
    rollout = verdict.get("rollout") or {}
    checks = []
    for c in verdict.get("checks", []):
        checks.append(
            {
                "name": c.get("name"),
                "kind": c.get("kind"),
                "status": c.get("status"),
                "estimate": c.get("estimate"),
                "ci_low": c.get("ci_low"),
                "ci_high": c.get("ci_high"),
                "threshold": c.get("threshold"),
                "bound": c.get("bound"),
                "pvalue": c.get("pvalue"),
                "required": c.get("required"),
                "summary": c.get("summary"),
            }
        )
    return {
        "step": look.step,
        "look": look.look,
        "until": _iso(look.until),
        "decision": look.decision,
        "reasons": verdict.get("reasons", []),
        "observed_split": rollout.get("observed_split"),
        "planned_split": rollout.get("planned_split"),
        "minutes_in_step": rollout.get("minutes_in_step"),
        "minutes_left": rollout.get("minutes_left"),
        "control": rollout.get("control"),
        "not_applicable": rollout.get("not_applicable", []),
        "forecast": verdict.get("forecast", []),
        "checks": checks,
    }


def rollout_detail(db: str | Path, rollout_id: int) -> dict[str, Any]:
    """One rollout: plan, steps, every look (decision, checks, forecast), latency by arm."""
    with _open(db) as store:
        record = get_rollout(store, rollout_id)
        if record is None:
            raise InvalidInputError(f"rollout {rollout_id}: no such rollout in {db}")
        looks = list_looks(store, rollout_id)
        current = [lk for lk in looks if lk.step == record.current_step.step]
        step = record.current_step
        until = current[-1].until if current else step.started_at
        latency = latency_by_arm(store, record, step.started_at, until)
    return {
        **_summary(record, current),
        "policy_digest": record.policy_digest,
        "plan": [dict(p) for p in record.plan],
        "step_records": [s.to_dict() for s in record.steps],
        "end_reason": record.end_reason,
        "window_minutes": step.window_minutes,
        "looks": [_look_row(lk) for lk in looks],
        "latency": latency,
    }


def latency_by_arm(
    store: TraceStore, record: RolloutRecord, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    """Latency quantiles of each arm in the step window ``[since, until)``."""
    levels = list(QUANTILE_LEVELS)
    rows = store.connection.execute(
        "SELECT arm, version, count(*), quantile_cont(latency_ms, ?) FROM traces "
        "WHERE model = ? AND ts >= ? AND ts < ? AND latency_ms IS NOT NULL "
        "AND ((arm = 'control' AND version = ?) OR (arm = 'canary' AND version = ?)) "
        "GROUP BY arm, version ORDER BY arm DESC",
        [levels, record.model, since, until, record.baseline, record.candidate],
    ).fetchall()
    return [
        {
            "arm": arm,
            "version": version,
            "n": int(n),
            "quantiles": {
                f"p{round(q * 100):d}": _finite(v)
                for q, v in zip(levels, values or [], strict=False)
            },
        }
        for arm, version, n, values in rows
    ]


def latest_verdict(db: str | Path, model: str) -> dict[str, Any] | None:
    """The latest logged verdict of ``model`` (the verdict contract), or ``None``."""
    with _open(db) as store:
        records = list_decisions(store, model=model, limit=1)
    return json.loads(records[0].verdict_json) if records else None


def change_token(db: str | Path) -> str:
    """A value that changes whenever a look or a decision is recorded (for live updates)."""
    path = Path(db)
    stat = path.stat()
    wal = Path(f"{db}.wal")
    extra = wal.stat().st_mtime_ns if wal.exists() else 0
    return f"{stat.st_mtime_ns}-{stat.st_size}-{extra}"


def governance(
    registry: str | Path, model: str, *, mlflow: bool = False, mlflow_uri: str | None = None
) -> dict[str, Any]:
    """Stage, approvals, waivers, aliases, change tickets (window and freeze state now),
    recent events and the audit-chain status of ``model``; ``drill`` says whether the registry
    is a drill registry (a rehearsal: the page shows a DRILL banner). ``mlflow`` (None when no
    version was submitted from MLflow) holds a pending mirror failure and, when ``mlflow`` is
    true, what a live check of MLflow found (drift named difference by difference; see
    :func:`canarykit.integrations.mlflow.after_action.mlflow_status`)."""
    if not Path(registry).is_file():
        raise InvalidInputError(f"{registry}: no such registry")
    import time

    from canarykit.promotion import Promotion
    from canarykit.promotion.facts import calendar_facts

    now_ns = time.time_ns()
    with Promotion(registry) as promotion:
        status = promotion.status(model).to_dict()
        events = [e.to_dict() for e in promotion.events(model=model)]
        chain = promotion.audit_verify().to_dict()
        drill = promotion.drill
        calendar = calendar_facts(promotion.store.conn, now_ns=now_ns)
        chg_ids = list(dict.fromkeys(e["chg_id"] for e in events if e.get("chg_id")))
        tickets = [promotion.show_change(c).to_dict() for c in chg_ids[-10:]]
        mirrored = _mlflow(promotion, model, check=mlflow, uri=mlflow_uri)
    freezes_now = [f["name"] for f in calendar["freezes"] if f["start_ns"] <= now_ns < f["end_ns"]]
    for ticket in tickets:
        window = ticket["ticket"].get("window") or {}
        ticket["state"] = _window_state(window, now_ns)
        ticket["freezes_now"] = freezes_now
    history = [
        e
        for e in events
        if e.get("kind") in ("alias_update", "rollback", "revocation", "promotion")
    ]
    return {
        "model": model,
        "drill": drill,
        "status": status,
        "alias_history": history[-20:],
        "changes": tickets,
        "calendar": {"configured": calendar["configured"], "freezes_now": freezes_now},
        "recent_events": events[-20:],
        "audit": chain,
        "mlflow": mirrored,
    }


def _mlflow(promotion: Any, model: str, *, check: bool, uri: str | None) -> Any:
    linked = promotion.store.conn.execute(
        "SELECT 1 FROM events WHERE model = ? AND kind = 'submission'"
        " AND json_extract(payload_json, '$.origin.mlflow') IS NOT NULL LIMIT 1",
        (model,),
    ).fetchone()
    if linked is None:  # nothing mirrored: MLflow's integration is never imported
        return None
    from canarykit.integrations.mlflow.after_action import mlflow_status

    return mlflow_status(promotion, model, check=check, uri=uri)


def _window_state(window: dict[str, Any], now_ns: int) -> str:
    """``open``, ``upcoming`` or ``over`` for a ticket window ``{"start", "end"}`` (ISO)."""
    from canarykit.promotion import parse_instant

    try:
        start, end = parse_instant(window["start"]), parse_instant(window["end"])
    except (KeyError, TypeError, ValueError, CanaryError):
        return "unknown"
    if now_ns < start:
        return "upcoming"
    return "open" if now_ns < end else "over"
