"""The control traffic of one model, summarised for planning a rollout (plain numbers, arrays).

``canarykit plan --from DB`` plans a rollout from what production looks like today: the
control arm's error rate, its latency quantile function, label coverage, prevalence, a score
histogram (for the AUC) and the shares of the sensitive groups. This module reads them in
three small SQL passes over the control rows of one model and returns plain numbers and numpy
arrays; :func:`canarykit.verdict.planning.profile_from_store` turns them into a
``BaselineProfile`` (the verdict layer does the statistics, DESIGN.md §1).

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=4000, seed=1))
>>> c = control_traffic(store, "risk-default")
>>> c.rows == int(c.group_counts.sum()), c.groups
(True, ('A', 'B', 'C'))
>>> round(float(c.latency_values[c.latency_levels.searchsorted(0.5)]))
40
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from canarykit.errors import InvalidInputError
from canarykit.traces.sources import quote_ident
from canarykit.traces.store import TraceStore
from canarykit.traces.window import parse_utc_timestamp

__all__ = ["LATENCY_LEVELS", "SCORE_BINS", "ControlTraffic", "control_traffic"]

LATENCY_LEVELS: tuple[float, ...] = tuple(float(ndtr(z / 10.0)) for z in range(-40, 46))
"""Levels at which the control's latency quantiles are read: Φ(z) for z = −4.0 … 4.5 by 0.1
(dense in the tails, where p95/p99 checks and their order statistics live)."""
SCORE_BINS = 1000
"""Equal score bins on [0, 1] of the control's score histograms (AUC bias ≈ 1e-6)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlTraffic:
    """Control requests of one model in a window (see the module docstring).

    ``latency_values[i]`` is ``quantile_disc(latency_ms, latency_levels[i])`` (empty without
    latencies); ``score_positives`` / ``score_negatives`` count labelled, scored control rows
    per score bin; ``groups`` / ``group_counts`` are the values of ``group_feature`` and their
    row counts (empty when the column is absent). ``requests`` counts both canary-mode arms
    (control and canary) over ``[first, last]``, for the traffic rate.
    """

    model: str
    rows: int
    errors: int
    n_latency: int
    labelled: int
    positives: int
    first: dt.datetime | None
    last: dt.datetime | None
    requests: int
    latency_levels: npt.NDArray[np.float64]
    latency_values: npt.NDArray[np.float64]
    score_positives: npt.NDArray[np.int64]
    score_negatives: npt.NDArray[np.int64]
    group_feature: str | None
    groups: tuple[str, ...]
    group_counts: npt.NDArray[np.int64]

    @property
    def requests_per_second(self) -> float | None:
        """Requests per second of both arms between the first and last control request."""
        if self.first is None or self.last is None or self.last <= self.first:
            return None
        return self.requests / (self.last - self.first).total_seconds()


def _window(since: str | None, until: str | None) -> tuple[str, list[object]]:
    parts: list[str] = []
    params: list[object] = []
    if since is not None:
        parts.append("ts >= CAST(? AS TIMESTAMP)")
        params.append(parse_utc_timestamp(since, name="since"))
    if until is not None:
        parts.append("ts < CAST(? AS TIMESTAMP)")
        params.append(parse_utc_timestamp(until, name="until"))
    return (" AND ".join(parts) or "TRUE"), params


def control_traffic(
    store: TraceStore,
    model: str,
    *,
    since: str | None = None,
    until: str | None = None,
    feature: str | None = "group",
) -> ControlTraffic:
    """Summarise the control arm of ``model`` in ``[since, until)`` (either end open).

    Parameters
    ----------
    store : TraceStore
        The trace store.
    model : str
        Model name; its rows with ``arm = 'control'`` are read.
    since, until : str, optional
        Window, ISO-8601 UTC.
    feature : str or None, default "group"
        Sensitive feature whose group shares are counted (skipped when not a column).

    Raises
    ------
    InvalidInputError
        ``model`` has no control rows in the window (the message lists the stored models).

    Examples
    --------
    >>> from canarykit.traces.generate import generate_traces
    >>> store = TraceStore()
    >>> _ = store.ingest(generate_traces("identical", n_requests=2000, seed=2))
    >>> c = control_traffic(store, "risk-default", until="2026-01-01T00:15:00Z")
    >>> c.rows < 2000, c.group_feature, c.score_positives.size
    (True, 'group', 1000)
    >>> control_traffic(store, "other")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: model: 'other' has no control traces (models in the store: risk-default)
    """
    con = store.connection
    time_sql, time_params = _window(since, until)
    where = f"model = ? AND arm = 'control' AND {time_sql}"
    params: list[object] = [model, *time_params]
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE error), count(latency_ms), "
        "count(*) FILTER (WHERE score IS NOT NULL AND label IS NOT NULL), "
        "count(*) FILTER (WHERE score IS NOT NULL AND label), min(ts), max(ts) "
        f"FROM traces WHERE {where}",
        params,
    ).fetchall()[0]
    rows = int(row[0])
    if rows == 0:
        models = [
            str(r[0])
            for r in con.execute("SELECT DISTINCT model FROM traces ORDER BY 1").fetchall()
        ]
        window = "" if since is None and until is None else " in the window"
        raise InvalidInputError(
            f"model: {model!r} has no control traces{window} "
            f"(models in the store: {', '.join(models) or 'none'})"
        )
    first, last = row[5], row[6]
    requests = int(
        con.execute(
            "SELECT count(*) FROM traces WHERE model = ? AND arm IN ('control', 'canary') "
            "AND ts >= ? AND ts <= ?",
            [model, first, last],
        ).fetchall()[0][0]
    )
    levels = np.asarray(LATENCY_LEVELS)
    values = np.zeros(0)
    if int(row[2]):
        got = con.execute(
            f"SELECT quantile_disc(latency_ms, {list(LATENCY_LEVELS)!r}) FROM traces "
            f"WHERE {where} AND latency_ms IS NOT NULL",
            params,
        ).fetchall()[0][0]
        values = np.asarray(got, dtype=np.float64)
    pos = np.zeros(SCORE_BINS, np.int64)
    neg = np.zeros(SCORE_BINS, np.int64)
    for b, label, n in con.execute(
        f"SELECT LEAST(CAST(floor(score * {SCORE_BINS}) AS INTEGER), {SCORE_BINS - 1}) AS b, "
        f"label, count(*) FROM traces WHERE {where} AND score IS NOT NULL "
        "AND label IS NOT NULL GROUP BY ALL",
        params,
    ).fetchall():
        (pos if label else neg)[int(b)] += int(n)
    columns = {str(r[0]) for r in con.execute("DESCRIBE traces").fetchall()}
    groups: tuple[str, ...] = ()
    counts = np.zeros(0, np.int64)
    used = feature if feature is not None and feature in columns else None
    if used is not None:
        grouped = con.execute(
            f"SELECT CAST({quote_ident(used)} AS VARCHAR) AS g, count(*) FROM traces "
            f"WHERE {where} AND {quote_ident(used)} IS NOT NULL GROUP BY ALL ORDER BY g",
            params,
        ).fetchall()
        groups = tuple(str(g) for g, _ in grouped)
        counts = np.asarray([int(n) for _, n in grouped], dtype=np.int64)
    return ControlTraffic(
        model=model,
        rows=rows,
        errors=int(row[1]),
        n_latency=int(row[2]),
        labelled=int(row[3]),
        positives=int(row[4]),
        first=first,
        last=last,
        requests=requests,
        latency_levels=levels if values.size else np.zeros(0),
        latency_values=values,
        score_positives=pos,
        score_negatives=neg,
        group_feature=used,
        groups=groups,
        group_counts=counts,
    )
