"""Rollout records as read back from a trace store: a rollout, its steps and its looks.

The three tables (``rollouts``, ``rollout_steps``, ``rollout_looks``) are written by
:mod:`canarykit.traces.rollouts`; this module holds the records and every read. A look needs
one rollout record and the last look of its step (:func:`current_rollout`, :func:`last_look`),
however many rollouts and looks the store keeps.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from canarykit.traces.store import TraceStore

__all__ = [
    "OPEN_STATUSES",
    "LookRecord",
    "RolloutRecord",
    "StepRecord",
    "current_rollout",
    "get_rollout",
    "has_rollout_tables",
    "last_look",
    "list_looks",
    "list_rollouts",
    "load_record",
    "open_models",
    "read_looks",
]

OPEN_STATUSES = ("active", "stopped", "completed")


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRecord:
    """One step a rollout has entered."""

    step: int
    share: float
    window_minutes: float
    control_window_minutes: float | None
    started_at: dt.datetime
    rate: float | None
    tuning: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "step": self.step,
            "share": self.share,
            "window_minutes": self.window_minutes,
            "control_window_minutes": self.control_window_minutes,
            "started_at": _iso(self.started_at),
            "rate": self.rate,
            "tuning": self.tuning,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class LookRecord:
    """One recorded look at a step."""

    rollout_id: int
    step: int
    look: int
    until: dt.datetime
    decision: str
    state: dict[str, Any]
    verdict_json: str
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the verdict as an object)."""
        return {
            "rollout_id": self.rollout_id,
            "step": self.step,
            "look": self.look,
            "until": _iso(self.until),
            "decision": self.decision,
            "created_at": _iso(self.created_at),
            "verdict": json.loads(self.verdict_json),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutRecord:
    """A rollout, its plan and the steps entered so far (newest last)."""

    rollout_id: int
    model: str
    baseline: str
    candidate: str
    policy_digest: str
    plan: tuple[dict[str, Any], ...]
    rate: float | None
    started_at: dt.datetime
    status: str
    ended_at: dt.datetime | None
    end_reason: str | None
    stop_step: int | None
    stop_look: int | None
    stop_reasons: tuple[str, ...]
    steps: tuple[StepRecord, ...]

    @property
    def current_step(self) -> StepRecord:
        """The step traffic is at now (the last one entered)."""
        return self.steps[-1]

    @property
    def is_open(self) -> bool:
        """Whether looks still evaluate this rollout (``active`` or ``stopped``)."""
        return self.status in OPEN_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "rollout_id": self.rollout_id,
            "model": self.model,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "policy_digest": self.policy_digest,
            "plan": [dict(s) for s in self.plan],
            "rate": self.rate,
            "started_at": _iso(self.started_at),
            "status": self.status,
            "ended_at": _iso(self.ended_at),
            "end_reason": self.end_reason,
            "stop": (
                {"step": self.stop_step, "look": self.stop_look, "reasons": list(self.stop_reasons)}
                if self.stop_step is not None
                else None
            ),
            "steps": [s.to_dict() for s in self.steps],
        }


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def has_rollout_tables(store: TraceStore) -> bool:
    """Whether the store has rollout records at all (an older or a fresh store has none)."""
    row = store.connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'rollouts'"
    ).fetchall()
    return bool(row[0][0])


def load_record(con: duckdb.DuckDBPyConnection, rollout_id: int) -> RolloutRecord | None:
    """The rollout with this id and its steps, or ``None`` (on an open connection)."""
    rows = con.execute(
        "SELECT rollout_id, model, baseline, candidate, policy_digest, plan_json, rate, "
        "started_at, status, ended_at, end_reason, stop_step, stop_look, stop_reasons_json "
        "FROM rollouts WHERE rollout_id = ?",
        [rollout_id],
    ).fetchall()
    if not rows:
        return None
    r = rows[0]
    steps = con.execute(
        "SELECT step, share, window_minutes, control_window_minutes, started_at, rate, tuning_json "
        "FROM rollout_steps WHERE rollout_id = ? ORDER BY step",
        [rollout_id],
    ).fetchall()
    return RolloutRecord(
        rollout_id=int(r[0]),
        model=r[1],
        baseline=r[2],
        candidate=r[3],
        policy_digest=r[4],
        plan=tuple(json.loads(r[5])),
        rate=r[6],
        started_at=r[7],
        status=r[8],
        ended_at=r[9],
        end_reason=r[10],
        stop_step=r[11],
        stop_look=r[12],
        stop_reasons=tuple(json.loads(r[13])) if r[13] else (),
        steps=tuple(
            StepRecord(
                step=int(s[0]),
                share=float(s[1]),
                window_minutes=float(s[2]),
                control_window_minutes=s[3],
                started_at=s[4],
                rate=s[5],
                tuning=json.loads(s[6]) if s[6] else None,
            )
            for s in steps
        ),
    )


def get_rollout(store: TraceStore, rollout_id: int) -> RolloutRecord | None:
    """The rollout with this id, or ``None``."""
    if not has_rollout_tables(store):
        return None
    return load_record(store.connection, rollout_id)


def current_rollout(store: TraceStore, model: str) -> RolloutRecord | None:
    """The open (``active`` or ``stopped``) rollout of ``model``, or ``None``."""
    if not has_rollout_tables(store):
        return None
    rows = store.connection.execute(
        "SELECT max(rollout_id) FROM rollouts WHERE model = ? AND status IN (?, ?, ?)",
        [model, *OPEN_STATUSES],
    ).fetchall()
    return load_record(store.connection, int(rows[0][0])) if rows[0][0] is not None else None


def open_models(store: TraceStore) -> list[str]:
    """The models with an open rollout, sorted (one query, however many rollouts are kept)."""
    if not has_rollout_tables(store):
        return []
    rows = store.connection.execute(
        "SELECT DISTINCT model FROM rollouts WHERE status IN (?, ?, ?) ORDER BY model",
        list(OPEN_STATUSES),
    ).fetchall()
    return [str(r[0]) for r in rows]


def list_rollouts(store: TraceStore, *, model: str | None = None) -> list[RolloutRecord]:
    """Every rollout (of ``model``), newest first."""
    if not has_rollout_tables(store):
        return []
    where, params = ("WHERE model = ?", [model]) if model else ("", [])
    ids = store.connection.execute(
        f"SELECT rollout_id FROM rollouts {where} ORDER BY rollout_id DESC", params
    ).fetchall()
    out = []
    for (rid,) in ids:
        record = load_record(store.connection, int(rid))
        if record is not None:
            out.append(record)
    return out


def list_looks(store: TraceStore, rollout_id: int, *, step: int | None = None) -> list[LookRecord]:
    """The looks of a rollout (of one step), in order."""
    return read_looks(store, rollout_id, step=step)


def last_look(store: TraceStore, rollout_id: int, *, step: int) -> LookRecord | None:
    """The latest look of a step, or ``None`` (reads one row, not the step's every verdict)."""
    looks = read_looks(store, rollout_id, step=step, last=True)
    return looks[0] if looks else None


def read_looks(
    store: TraceStore, rollout_id: int, *, step: int | None, last: bool = False
) -> list[LookRecord]:
    """The looks of a rollout (of one step) in order, or only the latest one (``last``)."""
    if not has_rollout_tables(store):
        return []
    where = "rollout_id = ?" + (" AND step = ?" if step is not None else "")
    params: list[Any] = [rollout_id] + ([step] if step is not None else [])
    order = "step DESC, look DESC LIMIT 1" if last else "step, look"
    rows = store.connection.execute(
        f"SELECT rollout_id, step, look, until, decision, state_json, verdict_json, created_at "
        f"FROM rollout_looks WHERE {where} ORDER BY {order}",
        params,
    ).fetchall()
    return [
        LookRecord(
            rollout_id=int(r[0]),
            step=int(r[1]),
            look=int(r[2]),
            until=r[3],
            decision=r[4],
            state=json.loads(r[5]),
            verdict_json=r[6],
            created_at=r[7],
        )
        for r in rows
    ]
