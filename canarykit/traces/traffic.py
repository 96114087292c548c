"""Traffic of a model before a moment: what a rollout step's tuning is computed from.

A sequence must be tuned before the data it covers is seen (DESIGN.md §9), so a rollout step
measures the traffic of the minutes *before* it starts: the request rate, how many requests
carry a label, the prevalence, and a coarse score histogram of control for the expected AUC.

Examples
--------
>>> import datetime as dt
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=6000, seed=1, duration_minutes=10))
>>> t = traffic_before(store, "risk-default", dt.datetime(2026, 1, 1, 0, 10), minutes=10)
>>> t.rows, round(t.rate_per_second)
(6000, 10)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from canarykit.traces.look_cache import catalogued_models
from canarykit.traces.sources import quote_ident
from canarykit.traces.store import TraceStore

__all__ = ["TrafficBefore", "latest_timestamp", "stored_models", "traffic_before"]

HISTOGRAM_BINS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficBefore:
    """Requests of one model (control and canary arms) in ``[start, end)``."""

    start: dt.datetime
    end: dt.datetime
    rows: int
    first: dt.datetime | None
    labelled: int
    positives: int
    groups: int | None
    control_positives: npt.NDArray[np.int64]
    control_negatives: npt.NDArray[np.int64]

    @property
    def span_seconds(self) -> float:
        """Seconds from the first request seen (or the window start) to the window end."""
        begin = max(self.first, self.start) if self.first is not None else self.end
        return max((self.end - begin).total_seconds(), 0.0)

    @property
    def rate_per_second(self) -> float:
        """Requests per second over the observed span (0 without traffic)."""
        span = self.span_seconds
        return self.rows / span if span > 0 else 0.0


def traffic_before(
    store: TraceStore, model: str, end: dt.datetime, *, minutes: float, feature: str | None = None
) -> TrafficBefore:
    """Summarise the ``minutes`` of traffic of ``model`` before ``end`` (canary-mode arms)."""
    start = end - dt.timedelta(minutes=minutes)
    con = store.connection
    where = "model = ? AND arm IN ('control', 'canary') AND ts >= ? AND ts < ?"
    params = [model, start, end]
    columns = {str(r[0]) for r in con.execute("DESCRIBE traces").fetchall()}
    groups_sql = (
        f"count(DISTINCT {quote_ident(feature)})" if feature and feature in columns else "NULL"
    )
    row = con.execute(
        f"SELECT count(*), min(ts), count(*) FILTER (WHERE score IS NOT NULL AND label IS NOT NULL), "
        f"count(*) FILTER (WHERE score IS NOT NULL AND label), {groups_sql} FROM traces WHERE {where}",
        params,
    ).fetchall()[0]
    pos = np.zeros(HISTOGRAM_BINS, np.int64)
    neg = np.zeros(HISTOGRAM_BINS, np.int64)
    hist = con.execute(
        f"SELECT LEAST(CAST(floor(score * {HISTOGRAM_BINS}) AS INTEGER), {HISTOGRAM_BINS - 1}), "
        f"label, count(*) FROM traces WHERE {where} AND arm = 'control' AND score IS NOT NULL "
        "AND label IS NOT NULL GROUP BY ALL",
        params,
    ).fetchall()
    for b, label, n in hist:
        (pos if label else neg)[int(b)] += int(n)
    return TrafficBefore(
        start=start,
        end=end,
        rows=int(row[0]),
        first=row[1],
        labelled=int(row[2]),
        positives=int(row[3]),
        groups=None if row[4] is None else int(row[4]),
        control_positives=pos,
        control_negatives=neg,
    )


def latest_timestamp(
    store: TraceStore, model: str, *, since: dt.datetime | None = None
) -> dt.datetime | None:
    """Timestamp of the latest row of ``model`` (at or after ``since``), or ``None``."""
    sql = "SELECT max(ts) FROM traces WHERE model = ?"
    params: list[object] = [model]
    if since is not None:
        sql += " AND ts >= ?"
        params.append(since)
    value = store.connection.execute(sql, params).fetchall()[0][0]
    return value if isinstance(value, dt.datetime) else None


def stored_models(store: TraceStore) -> list[str]:
    """The distinct model names in the store's traces, sorted.

    From the catalogue of ingested batches (:mod:`canarykit.traces.look_cache`) when it
    accounts for every stored row, else from a scan of the traces.
    """
    known = catalogued_models(store.connection)
    if known is not None:
        return known
    rows = store.connection.execute("SELECT DISTINCT model FROM traces ORDER BY model").fetchall()
    return [str(r[0]) for r in rows]
