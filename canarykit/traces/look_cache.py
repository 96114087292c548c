"""The trace catalogue and the figures a look hands to the next one (incremental looks).

Two small tables in a trace store:

``trace_batches``
    Written by every ingest in its own transaction: per model, the rows a batch added (or, for
    a label ingest, the rows it labelled) and their time range, under the batch's
    ``ingests.ingest_id``. It answers "did anything change in this model's window since
    ingest ``seq``?" without reading the traces.
``look_summaries``
    Written with each recorded look of a rollout: the look's mergeable figures
    (:class:`~canarykit.traces.partial_summaries.PartialSummaries`), the ``until`` they end
    at, the last ingest they saw and a key of the summary plan. Only the latest look of a step
    is kept.

The next look of the step reuses the figures when the plan is the same and no batch after
``seq`` touched the model inside the figures' time range — then it reads only the rows after
the previous ``until`` (:func:`canarykit.traces.summaries.summarize_since`). Anything else
(other plan, a late batch inside the window, labels arriving for it, an ingest from an
older canarykit without a catalogue) makes the look read its whole window, as before.

Rows changed by SQL outside canarykit are not in the catalogue: a look may then merge stale
figures. ``canarykit replay`` recomputes every look from the rows and reports a different data
digest (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from canarykit.traces.partial_summaries import FORMAT, PartialSummaries
from canarykit.traces.summary_passes import DIGEST_COLUMNS

if TYPE_CHECKING:
    from canarykit.traces.summaries import Selection, SummaryPlan

__all__ = [
    "CachedLook",
    "catalogued_groups",
    "catalogued_models",
    "ensure_catalogue",
    "ingest_seq",
    "is_fresh",
    "load_cached",
    "plan_key",
    "record_batches",
    "save_cached",
    "untouched_since",
]

_CREATE = (
    "CREATE TABLE IF NOT EXISTS trace_batches (ingest_id INTEGER NOT NULL, kind VARCHAR NOT NULL, "
    "model VARCHAR, version VARCHAR, arm VARCHAR, rows BIGINT NOT NULL, min_ts TIMESTAMP, "
    "max_ts TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS look_summaries (rollout_id INTEGER NOT NULL, step INTEGER NOT "
    "NULL, until TIMESTAMP NOT NULL, ingest_seq INTEGER NOT NULL, plan_key VARCHAR NOT NULL, "
    "figures BLOB NOT NULL, PRIMARY KEY (rollout_id, step))",
)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[Any] | None:
    """``sql``'s rows, or ``None`` when a table it reads does not exist (an older store)."""
    try:
        return con.execute(sql, params).fetchall()
    except duckdb.CatalogException:
        return None


def ensure_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    """Create the two tables when missing (a writable store)."""
    for sql in _CREATE:
        con.execute(sql)


Batch = tuple[str, str | None, str | None, int, dt.datetime | None, dt.datetime | None]


def record_batches(
    con: duckdb.DuckDBPyConnection, ingest_id: int, kind: str, batches: list[Batch]
) -> None:
    """Record what ingest ``ingest_id`` changed: (model, version, arm, rows, first ts, last ts).

    Runs inside the ingest's transaction (a label ingest records version and arm as NULL).
    """
    ensure_catalogue(con)
    for model, version, arm, rows, low, high in batches:
        con.execute(
            "INSERT INTO trace_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [ingest_id, kind, model, version, arm, int(rows), low, high],
        )


def _complete(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the trace batches add up to exactly the stored rows (no scan: table counts)."""
    counts = _rows(
        con,
        "SELECT (SELECT count(*) FROM traces), (SELECT coalesce(sum(rows), 0) FROM trace_batches "
        "WHERE kind = 'traces')",
        [],
    )
    return counts is not None and int(counts[0][0]) == int(counts[0][1])


def catalogued_groups(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]] | None:
    """The (model, version, arm) of the stored rows by the catalogue, or ``None``.

    ``None`` when the catalogue cannot tell (see :func:`catalogued_models`).

    Examples
    --------
    >>> from canarykit.traces import TraceStore
    >>> from canarykit.traces.generate import generate_traces
    >>> store = TraceStore()
    >>> _ = store.ingest(generate_traces("identical", n_requests=200, seed=1))
    >>> catalogued_groups(store.connection)
    [('risk-default', 'v2.2.4', 'control'), ('risk-default', 'v2.3.0', 'canary')]
    """
    if not _complete(con):
        return None
    rows = con.execute(
        "SELECT DISTINCT model, version, arm FROM trace_batches WHERE kind = 'traces' "
        "AND rows > 0 ORDER BY 1, 2, 3"
    ).fetchall()
    return [(str(m), str(v), str(a)) for m, v, a in rows]


def catalogued_models(con: duckdb.DuckDBPyConnection) -> list[str] | None:
    """The models of the stored rows by the catalogue, or ``None`` when it cannot tell.

    The catalogue tells when its trace batches add up to exactly the stored row count (a
    table's row count is known without a scan): rows inserted or deleted by SQL, or ingested
    before the catalogue existed, make it ``None``.
    """
    if not _complete(con):
        return None
    rows = con.execute(
        "SELECT DISTINCT model FROM trace_batches WHERE kind = 'traces' AND rows > 0 ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def ingest_seq(con: duckdb.DuckDBPyConnection) -> int:
    """The last ingest's id (0 for none): figures computed now saw every batch up to it."""
    rows = _rows(con, "SELECT coalesce(max(ingest_id), 0) FROM ingests", [])
    return 0 if rows is None else int(rows[0][0])


def plan_key(plan: SummaryPlan) -> str:
    """What makes two looks' figures mergeable: bins, threshold, feature sets, digest columns.

    Examples
    --------
    >>> from canarykit.traces.summaries import SummaryPlan
    >>> plan_key(SummaryPlan()) == plan_key(SummaryPlan(ranks_for=lambda a, b: ((), ())))
    True
    >>> plan_key(SummaryPlan()) == plan_key(SummaryPlan(feature_sets=(("group",),)))
    False
    """
    text = json.dumps(
        [
            FORMAT,
            plan.n_bins,
            repr(plan.decision_threshold),
            [list(fs) for fs in plan.feature_sets],
            list(DIGEST_COLUMNS),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CachedLook:
    """A look's figures, where they end, the last ingest they saw and the plan they follow."""

    until: dt.datetime
    seq: int
    key: str
    figures: PartialSummaries


def load_cached(con: duckdb.DuckDBPyConnection, rollout_id: int, step: int) -> CachedLook | None:
    """The figures the latest recorded look of the step left, if any (and readable)."""
    rows = _rows(
        con,
        "SELECT until, ingest_seq, plan_key, figures FROM look_summaries "
        "WHERE rollout_id = ? AND step = ?",
        [rollout_id, step],
    )
    if not rows:
        return None
    until, seq, key, blob = rows[0]
    figures = PartialSummaries.from_bytes(bytes(blob))
    return None if figures is None else CachedLook(until, int(seq), str(key), figures)


def save_cached(
    con: duckdb.DuckDBPyConnection, rollout_id: int, step: int, cached: CachedLook
) -> None:
    """Keep ``cached`` as the step's figures (inside the look's transaction)."""
    ensure_catalogue(con)
    con.execute(
        "INSERT OR REPLACE INTO look_summaries VALUES (?, ?, ?, ?, ?, ?)",
        [rollout_id, step, cached.until, cached.seq, cached.key, cached.figures.to_bytes()],
    )


def is_fresh(
    con: duckdb.DuckDBPyConnection, cached: CachedLook, selection: Selection, plan: SummaryPlan
) -> bool:
    """Whether ``cached`` still describes ``selection``'s rows before ``cached.until``.

    True when the plan is the same and every ingest after ``cached.seq`` is in the catalogue
    without touching the model inside ``[window start, cached.until)`` (the window start is the
    earlier of the selection's start and its control window's).
    """
    if cached.key != plan_key(plan):
        return False
    return untouched_since(con, cached.seq, selection, cached.until)


def untouched_since(
    con: duckdb.DuckDBPyConnection, seq: int, selection: Selection, until: dt.datetime
) -> bool:
    """Whether no ingest after ``seq`` wrote ``selection``'s model inside its window before
    ``until`` (each in the catalogue; an ingest without catalogue rows counts as touching).

    The window starts at the earlier of the selection's start and its control window's.
    """
    start: dt.datetime | None = None
    if selection.since is not None:
        start = dt.datetime.fromisoformat(selection.since)
        if selection.control_window is not None:
            start = min(start, dt.datetime.fromisoformat(selection.control_window[0]))
    rows = _rows(
        con,
        "SELECT count(*) FROM ingests i WHERE i.ingest_id > ? AND i.rows > 0 AND ("
        "NOT EXISTS (SELECT 1 FROM trace_batches b WHERE b.ingest_id = i.ingest_id) OR "
        "EXISTS (SELECT 1 FROM trace_batches b WHERE b.ingest_id = i.ingest_id "
        "AND (b.model = ? OR b.model IS NULL) AND b.min_ts < ? "
        "AND (CAST(? AS TIMESTAMP) IS NULL OR b.max_ts >= ?)))",
        [seq, selection.model, until, start, start],
    )
    return rows is not None and int(rows[0][0]) == 0
