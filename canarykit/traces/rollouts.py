"""Rollout records kept inside a trace store: the plan, its steps and every look.

A rollout is a stateful process, not something inferred from the data (DESIGN.md §9). Three
tables hold it, next to ``traces`` and ``decision_log``:

``rollouts``
    one row per rollout: model, baseline, candidate, the policy digest it runs under, the plan
    (JSON list of steps), an optional declared traffic rate, its status and, once a look
    STOPs, the latched STOP (step, look and reasons).
``rollout_steps``
    one row per step entered: planned share and window, start time, the declared rate, and the
    tuning of its sequences (JSON, fixed at the step's first look and never changed).
``rollout_looks``
    one row per look: the ``until`` it read up to, the decision, the carried sequential state
    (JSON) and the verdict.

This module writes the records; the records and every read are in
:mod:`canarykit.traces.rollout_records` (and importable from here); what a look computes lives
in :mod:`canarykit.verdict.look`. Times are naive UTC, like ``traces.ts``.

Statuses: ``active`` (looks evaluate the current step), ``stopped`` (a look STOPped: every
later look repeats that STOP until the rollout is aborted or a new rollout starts),
``completed`` (the last step PROCEEDed; looks keep monitoring it, so a batch job that keeps
running still gets the last step's verdict), ``aborted`` (a person ended it, with a reason),
``superseded`` (a stopped rollout replaced by a new one) and ``finished`` (a completed rollout
replaced by a new one). The first three are *open*: looks evaluate them.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> store = TraceStore()
>>> rid = create_rollout(store, model="m", baseline="v1", candidate="v2",
...                      policy_digest="sha256:x", plan=[{"share": 0.05, "window_minutes": 30}],
...                      started_at=dt.datetime(2026, 1, 1))
>>> r = current_rollout(store, "m")
>>> r.rollout_id == rid, r.status, r.current_step.share
(True, 'active', 0.05)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import duckdb

from canarykit.errors import InvalidInputError, StorageError
from canarykit.traces.rollout_records import (
    OPEN_STATUSES,
    LookRecord,
    RolloutRecord,
    StepRecord,
    current_rollout,
    get_rollout,
    last_look,
    list_looks,
    list_rollouts,
    load_record,
    open_models,
)
from canarykit.traces.store import TraceStore

__all__ = [
    "LookRecord",
    "RolloutRecord",
    "StepRecord",
    "add_step",
    "create_rollout",
    "current_rollout",
    "end_rollout",
    "get_rollout",
    "last_look",
    "list_looks",
    "list_rollouts",
    "open_models",
    "record_look",
    "set_step_tuning",
]

T = TypeVar("T")

_CREATE = (
    "CREATE TABLE IF NOT EXISTS rollouts (rollout_id INTEGER PRIMARY KEY, model VARCHAR NOT NULL, "
    "baseline VARCHAR NOT NULL, candidate VARCHAR NOT NULL, policy_digest VARCHAR NOT NULL, "
    "plan_json VARCHAR NOT NULL, rate DOUBLE, started_at TIMESTAMP NOT NULL, "
    "status VARCHAR NOT NULL, ended_at TIMESTAMP, end_reason VARCHAR, stop_step INTEGER, "
    "stop_look INTEGER, stop_reasons_json VARCHAR, created_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rollout_steps (rollout_id INTEGER NOT NULL, step INTEGER NOT NULL, "
    "share DOUBLE NOT NULL, window_minutes DOUBLE NOT NULL, control_window_minutes DOUBLE, "
    "started_at TIMESTAMP NOT NULL, rate DOUBLE, tuning_json VARCHAR, "
    "recorded_at TIMESTAMP NOT NULL, PRIMARY KEY (rollout_id, step))",
    "CREATE TABLE IF NOT EXISTS rollout_looks (rollout_id INTEGER NOT NULL, step INTEGER NOT NULL, "
    "look INTEGER NOT NULL, until TIMESTAMP NOT NULL, decision VARCHAR NOT NULL, "
    "state_json VARCHAR NOT NULL, verdict_json VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, "
    "PRIMARY KEY (rollout_id, step, look))",
)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _writable(store: TraceStore) -> duckdb.DuckDBPyConnection:
    if store.read_only:
        raise StorageError(f"{store.path}: opened read-only; rollout records need a writable store")
    if store.path == ":memory:" and _is_view(store):
        raise StorageError("this store reads files in place; rollouts need a DuckDB trace store")
    return store.connection


def _is_view(store: TraceStore) -> bool:
    row = store.connection.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = 'traces'"
    ).fetchall()
    return bool(row[0][0])


def _transaction(store: TraceStore, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    con = _writable(store)
    con.begin()
    try:
        for statement in _CREATE:
            con.execute(statement)
        result = body(con)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def create_rollout(
    store: TraceStore,
    *,
    model: str,
    baseline: str,
    candidate: str,
    policy_digest: str,
    plan: Sequence[dict[str, Any]],
    started_at: dt.datetime,
    rate: float | None = None,
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> int:
    """Record a new rollout whose step 1 starts at ``started_at``; returns its id.

    ``also`` runs inside the same transaction (it stores the policy snapshot).

    Raises
    ------
    InvalidInputError
        The model already has an ``active`` rollout (abort it first). A ``stopped`` one is
        closed as ``superseded`` by the new rollout.
    """
    if not plan:
        raise InvalidInputError("plan: a rollout needs at least one step")

    def body(con: duckdb.DuckDBPyConnection) -> int:
        open_rows = con.execute(
            "SELECT rollout_id, status FROM rollouts WHERE model = ? AND status IN (?, ?, ?)",
            [model, *OPEN_STATUSES],
        ).fetchall()
        for rid, status in open_rows:
            if status == "active":
                raise InvalidInputError(
                    f"model {model}: rollout {rid} is still active; end it with "
                    "`canarykit rollout abort` before starting another"
                )
            closed = "superseded" if status == "stopped" else "finished"
            con.execute(
                "UPDATE rollouts SET status = ?, ended_at = coalesce(ended_at, ?), "
                "end_reason = coalesce(end_reason, 'replaced by a new rollout') "
                "WHERE rollout_id = ?",
                [closed, _now(), rid],
            )
        rid = int(
            con.execute("SELECT coalesce(max(rollout_id), 0) + 1 FROM rollouts").fetchall()[0][0]
        )
        con.execute(
            "INSERT INTO rollouts (rollout_id, model, baseline, candidate, policy_digest, "
            "plan_json, rate, started_at, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
            [
                rid,
                model,
                baseline,
                candidate,
                policy_digest,
                json.dumps(list(plan), sort_keys=True),
                rate,
                started_at,
                _now(),
            ],
        )
        _insert_step(con, rid, 1, plan[0], started_at, rate)
        if also is not None:
            also(con)
        return rid

    return _transaction(store, body)


def _insert_step(
    con: duckdb.DuckDBPyConnection,
    rollout_id: int,
    step: int,
    planned: dict[str, Any],
    started_at: dt.datetime,
    rate: float | None,
) -> None:
    con.execute(
        "INSERT INTO rollout_steps (rollout_id, step, share, window_minutes, "
        "control_window_minutes, started_at, rate, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            rollout_id,
            step,
            float(planned["share"]),
            float(planned["window_minutes"]),
            planned.get("control_window_minutes"),
            started_at,
            rate,
            _now(),
        ],
    )


def add_step(
    store: TraceStore,
    rollout_id: int,
    *,
    step: int,
    started_at: dt.datetime,
    rate: float | None = None,
) -> None:
    """Record that traffic moved to plan step ``step`` (1-based) at ``started_at``.

    Raises
    ------
    InvalidInputError
        The rollout is not active, ``step`` is not after the current step or not in the plan,
        or ``started_at`` is before the current step's start or its last look.
    """

    def body(con: duckdb.DuckDBPyConnection) -> None:
        record = load_record(con, rollout_id)
        if record is None:
            raise InvalidInputError(f"rollout {rollout_id}: no such rollout")
        if record.status == "stopped":
            raise InvalidInputError(
                f"rollout {rollout_id} STOPped at step {record.stop_step}, look "
                f"{record.stop_look}: it cannot advance; abort it and start a new rollout"
            )
        if record.status == "completed":
            raise InvalidInputError(
                f"rollout {rollout_id} completed its plan (the last step PROCEEDed)"
            )
        if record.status != "active":
            raise InvalidInputError(f"rollout {rollout_id} is {record.status}: it cannot advance")
        current = record.current_step
        if not current.step < step <= len(record.plan):
            raise InvalidInputError(
                f"--to {step}: must be a later step of the plan (current step "
                f"{current.step}, plan has {len(record.plan)} steps)"
            )
        if started_at < current.started_at:
            raise InvalidInputError(
                f"--at {_iso(started_at)}: before step {current.step} started "
                f"({_iso(current.started_at)})"
            )
        last = con.execute(
            "SELECT max(until) FROM rollout_looks WHERE rollout_id = ? AND step = ?",
            [rollout_id, current.step],
        ).fetchall()[0][0]
        if last is not None and started_at < last:
            raise InvalidInputError(
                f"--at {_iso(started_at)}: before the last look of step {current.step} "
                f"(until {_iso(last)}); a step change cannot rewrite what was already looked at"
            )
        _insert_step(con, rollout_id, step, record.plan[step - 1], started_at, rate)

    _transaction(store, body)


def set_step_tuning(
    con: duckdb.DuckDBPyConnection, rollout_id: int, step: int, tuning: dict[str, Any]
) -> None:
    """Fix a step's tuning (inside :func:`record_look`'s transaction); never overwrites."""
    con.execute(
        "UPDATE rollout_steps SET tuning_json = ? WHERE rollout_id = ? AND step = ? "
        "AND tuning_json IS NULL",
        [json.dumps(tuning, sort_keys=True), rollout_id, step],
    )


def record_look(
    store: TraceStore,
    *,
    rollout_id: int,
    step: int,
    until: dt.datetime,
    decision: str,
    state: dict[str, Any],
    verdict_json: str,
    tuning: dict[str, Any] | None = None,
    stop_reasons: Sequence[str] | None = None,
    complete: bool = False,
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> int:
    """Append a look (and fix the step's tuning, latch a STOP, complete the rollout) atomically.

    ``also`` runs inside the same transaction (the decision log row). Returns the look number.

    Raises
    ------
    InvalidInputError
        ``until`` is older than the previous look of the step, or the step is not current.
    """

    def body(con: duckdb.DuckDBPyConnection) -> int:
        record = load_record(con, rollout_id)
        if record is None or not record.is_open or record.current_step.step != step:
            raise InvalidInputError(
                f"rollout {rollout_id}: step {step} is no longer the current step of an open "
                "rollout (it changed while this look was computed); evaluate again"
            )
        last = con.execute(
            "SELECT max(look), max(until) FROM rollout_looks WHERE rollout_id = ? AND step = ?",
            [rollout_id, step],
        ).fetchall()[0]
        if last[1] is not None and until < last[1]:
            raise InvalidInputError(
                f"--until {_iso(until)}: older than the previous look of step {step} "
                f"(until {_iso(last[1])}); looks of a step must move forward in time"
            )
        look = int(last[0] or 0) + 1
        if tuning is not None:
            set_step_tuning(con, rollout_id, step, tuning)
        con.execute(
            "INSERT INTO rollout_looks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                rollout_id,
                step,
                look,
                until,
                decision,
                json.dumps(state, sort_keys=True),
                verdict_json,
                _now(),
            ],
        )
        if stop_reasons is not None and record.status == "active":
            con.execute(
                "UPDATE rollouts SET status = 'stopped', stop_step = ?, stop_look = ?, "
                "stop_reasons_json = ? WHERE rollout_id = ?",
                [step, look, json.dumps(list(stop_reasons)), rollout_id],
            )
        elif stop_reasons is not None and record.status == "completed":
            con.execute(
                "UPDATE rollouts SET status = 'stopped', stop_step = ?, stop_look = ?, "
                "stop_reasons_json = ?, ended_at = NULL, end_reason = NULL WHERE rollout_id = ?",
                [step, look, json.dumps(list(stop_reasons)), rollout_id],
            )
        elif complete and record.status == "active":
            con.execute(
                "UPDATE rollouts SET status = 'completed', ended_at = ?, "
                "end_reason = 'the last step PROCEEDed' WHERE rollout_id = ?",
                [until, rollout_id],
            )
        if also is not None:
            also(con)
        return look

    return _transaction(store, body)


def end_rollout(store: TraceStore, rollout_id: int, *, status: str, reason: str) -> None:
    """Close an open rollout (``aborted`` by a person, with a reason)."""
    if not reason.strip():
        raise InvalidInputError("--reason: say why the rollout ends (it is kept in the record)")

    def body(con: duckdb.DuckDBPyConnection) -> None:
        record = load_record(con, rollout_id)
        if record is None:
            raise InvalidInputError(f"rollout {rollout_id}: no such rollout")
        if not record.is_open:
            raise InvalidInputError(f"rollout {rollout_id} is already {record.status}")
        con.execute(
            "UPDATE rollouts SET status = ?, ended_at = ?, end_reason = ? WHERE rollout_id = ?",
            [status, _now(), reason, rollout_id],
        )

    _transaction(store, body)
