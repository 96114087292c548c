"""The decision log and policy snapshots kept inside a trace store.

Every evaluation of a DuckDB store appends one row to ``decision_log`` (the verdict JSON and its
key fields) and stores the policy snapshot it used in ``policy_snapshots`` keyed by digest, so
``canarykit replay`` can rebuild the exact policy months later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from canarykit.traces.store import TraceStore

__all__ = [
    "DecisionLog",
    "DecisionRecord",
    "append_decision",
    "decision_log",
    "insert_decision",
    "list_decisions",
    "load_policy_snapshot",
    "store_policy_snapshot",
]

_CREATE = (
    "CREATE TABLE IF NOT EXISTS decision_log (created_at TIMESTAMP, model VARCHAR, "
    "baseline VARCHAR, candidate VARCHAR, mode VARCHAR, decision VARCHAR, "
    "policy_digest VARCHAR, data_digest VARCHAR, window_start VARCHAR, window_end VARCHAR, "
    "verdict_json VARCHAR)",
    "CREATE TABLE IF NOT EXISTS policy_snapshots (digest VARCHAR, name VARCHAR, content BLOB)",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """One row of the decision log."""

    created_at: dt.datetime
    model: str
    baseline: str
    candidate: str
    mode: str
    decision: str
    policy_digest: str
    data_digest: str
    window_start: str | None
    window_end: str | None
    verdict_json: str


def append_decision(
    store: TraceStore,
    verdict: Mapping[str, Any],
    verdict_json: str,
    policy_files: Mapping[str, bytes],
) -> None:
    """Append a verdict (and its policy snapshot, once per digest) in one transaction."""
    con = store.connection
    con.begin()
    try:
        insert_decision(con, verdict, verdict_json, policy_files)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def store_policy_snapshot(
    con: duckdb.DuckDBPyConnection, digest: str, policy_files: Mapping[str, bytes]
) -> None:
    """Keep a policy snapshot under its digest (once), inside the caller's transaction."""
    for statement in _CREATE:
        con.execute(statement)
    known = con.execute(
        "SELECT count(*) FROM policy_snapshots WHERE digest = ?", [digest]
    ).fetchall()[0][0]
    if not known:
        for name in sorted(policy_files):
            con.execute(
                "INSERT INTO policy_snapshots VALUES (?, ?, ?)", [digest, name, policy_files[name]]
            )


def insert_decision(
    con: duckdb.DuckDBPyConnection,
    verdict: Mapping[str, Any],
    verdict_json: str,
    policy_files: Mapping[str, bytes],
) -> None:
    """Insert a decision-log row and its policy snapshot, inside the caller's transaction."""
    digest = verdict["policy_digest"]
    store_policy_snapshot(con, digest, policy_files)
    window = verdict.get("window") or {}
    con.execute(
        "INSERT INTO decision_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            verdict["model"],
            verdict["baseline"],
            verdict["candidate"],
            verdict["mode"],
            verdict["decision"],
            digest,
            verdict["data_digest"],
            window.get("start"),
            window.get("end"),
            verdict_json,
        ],
    )


@dataclass(frozen=True, slots=True)
class DecisionLog:
    """Logged decisions, newest first, renderable in a notebook (``to_frame``, HTML)."""

    records: tuple[DecisionRecord, ...]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Any:
        return iter(self.records)

    def to_frame(self) -> Any:
        """One row per decision as a pandas DataFrame (the verdict JSON left out)."""
        import pandas as pd

        rows = [
            {k: getattr(r, k) for k in DecisionRecord.__dataclass_fields__ if k != "verdict_json"}
            for r in self.records
        ]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        from canarykit.report.display import decisions_html

        return decisions_html(self.records)


def decision_log(
    store: TraceStore, *, model: str | None = None, limit: int | None = None
) -> DecisionLog:
    """The decision log of ``store`` (of one model), newest first."""
    return DecisionLog(tuple(list_decisions(store, model=model, limit=limit)))


def _has(store: TraceStore, table: str) -> bool:
    rows = store.connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
    ).fetchall()
    return bool(rows[0][0])


def list_decisions(
    store: TraceStore, *, model: str | None = None, limit: int | None = None
) -> list[DecisionRecord]:
    """Past decisions, newest first."""
    if not _has(store, "decision_log"):
        return []
    where, params = ("WHERE model = ?", [model]) if model else ("", [])
    tail = f" LIMIT {int(limit)}" if limit else ""
    rows = store.connection.execute(
        f"SELECT * FROM decision_log {where} ORDER BY created_at DESC{tail}", params
    ).fetchall()
    return [
        DecisionRecord(
            created_at=r[0],
            model=r[1],
            baseline=r[2],
            candidate=r[3],
            mode=r[4],
            decision=r[5],
            policy_digest=r[6],
            data_digest=r[7],
            window_start=r[8],
            window_end=r[9],
            verdict_json=r[10],
        )
        for r in rows
    ]


def load_policy_snapshot(store: TraceStore, digest: str) -> dict[str, bytes] | None:
    """The policy files stored under ``digest``, or ``None``."""
    if not _has(store, "policy_snapshots"):
        return None
    rows = store.connection.execute(
        "SELECT name, content FROM policy_snapshots WHERE digest = ? ORDER BY name", [digest]
    ).fetchall()
    return {str(name): bytes(content) for name, content in rows} or None
