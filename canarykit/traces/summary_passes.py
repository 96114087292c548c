"""The mergeable summary passes (1–3 of :mod:`canarykit.traces.summaries`) as SQL.

Each pass is one plain ``GROUP BY`` over a ``UNION ALL`` of the arms' rows, every arm
selected by a conjunction DuckDB pushes into the scan; each returns, per arm, figures that
merge exactly across slices of rows (:class:`~canarykit.traces.partial_summaries.ArmPartial`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.traces.partial_summaries import (
    MAX_DISTINCT_VALUES,
    ArmPartial,
    Confusion,
    PartialSummaries,
    ValueCounts,
    sum_by_key,
)
from canarykit.traces.sources import quote_ident

if TYPE_CHECKING:
    from canarykit.traces.summaries import Selection, SummaryPlan

__all__ = [
    "DIGEST_COLUMNS",
    "FINE_FACTOR",
    "SKETCH_RELATIVE_ACCURACY",
    "ZERO_KEY",
    "bin_sql",
    "coarse_buckets",
    "latency_key_sql",
    "partial_summaries",
]

SKETCH_RELATIVE_ACCURACY = 0.01
ZERO_KEY = -(2**62)  # bucket of latency 0 (below every positive key)
# pass 1 counts FINE_FACTOR sub-buckets per DDSketch bucket: the order statistics then read
# only the values of the (16× narrower) sub-buckets that hold the wanted ranks
FINE_FACTOR = 16
DIGEST_COLUMNS = (
    "request_id",
    "ts",
    "model",
    "version",
    "arm",
    "latency_ms",
    "error",
    "score",
    "label",
)


def sketch_multiplier(factor: int = 1) -> float:
    """``factor / ln γ``: the DDSketch key multiplier (``factor`` finer sub-buckets per bucket).

    ``factor`` is a power of two, so ``LN(x) · (factor·m)`` is exactly ``factor`` times
    ``LN(x) · m`` in floating point and ``⌈fine / factor⌉`` is exactly the coarse key.
    """
    m = 1.0 / math.log((1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY))
    return m * factor


def latency_key_sql(factor: int = 1, column: str = "latency_ms") -> str:
    """The DDSketch bucket key of ``column`` (``⌈ln x / ln γ⌉``; ``ZERO_KEY`` for 0).

    With ``factor`` (a power of two) the key of ``factor`` finer sub-buckets per bucket.
    """
    return (
        f"CASE WHEN {column} > 0 THEN CAST(CEIL(LN({column}) * {sketch_multiplier(factor)!r}) "
        f"AS BIGINT) WHEN {column} = 0 THEN {ZERO_KEY} END"
    )


def coarse_buckets(fine: dict[int, int], factor: int = FINE_FACTOR) -> dict[int, int]:
    """The DDSketch bucket counts (relative accuracy 1 %) from sub-bucket counts.

    Examples
    --------
    >>> coarse_buckets({ZERO_KEY: 2, -15: 1, 1: 3, 16: 1, 17: 4}, factor=16)
    {-4611686018427387904: 2, 0: 1, 1: 4, 2: 4}
    """
    out: dict[int, int] = {}
    for k, c in fine.items():
        key = k if k == ZERO_KEY else -(-k // factor)
        out[key] = out.get(key, 0) + c
    return dict(sorted(out.items()))


def bin_sql(column: str, n_bins: int) -> str:
    """The score bin of ``column`` in [0, n_bins); NULL for a row without a score.

    (``LEAST`` ignores NULL in DuckDB: without the CASE a row without a score would land in
    the top bin and count in the AUC histograms — the bug fixed in issue 15.)

    Examples
    --------
    >>> bin_sql("score", 10)
    'CASE WHEN score IS NULL THEN NULL ELSE LEAST(CAST(floor(score * 10) AS INTEGER), 9) END'
    """
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" ELSE LEAST(CAST(floor({column} * {n_bins}) AS INTEGER), {n_bins - 1}) END"
    )


def arms_union(
    selection: Selection,
    arms: Sequence[str],
    columns: str | Callable[[str], str],
    condition: str = "",
) -> tuple[str, list[Any]]:
    """``UNION ALL`` of the arms' rows: ``a`` (the arm's position in ``arms``) and ``columns``
    (the same for every arm, or a function of the arm)."""
    parts, params = [], []
    for i, arm in enumerate(arms):
        where, arm_params = selection.arm_where(arm)
        cols = columns(arm) if callable(columns) else columns
        parts.append(f"SELECT {i} AS a, {cols} FROM traces WHERE {where}{condition}")
        params += arm_params
    return " UNION ALL ".join(parts), params


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> Any:
    """Run ``sql``; a column the traces lack becomes a one-line :class:`InvalidInputError`."""
    try:
        return con.execute(sql, params)
    except duckdb.BinderException as err:
        raise InvalidInputError(
            f"traces: {str(err).splitlines()[0]} (policy sensitive features "
            "must be columns of the traces)"
        ) from None


def partial_summaries(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    plan: SummaryPlan,
    *,
    arms: Sequence[str] | None = None,
    count_values: Collection[str] = (),
) -> PartialSummaries:
    """Passes 1–3 over ``selection``'s rows of ``arms`` (default both); other arms are empty.

    Pass 1 also counts each distinct latency of the arms in ``count_values`` (``values`` of
    their :class:`ArmPartial`; ``None`` past ``MAX_DISTINCT_VALUES``): it then groups their rows
    by value instead of by sub-bucket, and each value's sub-bucket key is computed once.
    """
    every = ["control", selection.candidate_arm]
    read = [a for a in every if arms is None or a in arms]
    figures: dict[str, dict[str, Any]] = {arm: {} for arm in every}
    if read:
        for arm, values in _arm_pass(con, selection, read, plan, count_values).items():
            figures[arm].update(values)
        for arm, values in _score_pass(con, selection, read, plan).items():
            figures[arm].update(values)
        for arm, cells in _confusion_passes(con, selection, read, plan).items():
            figures[arm]["confusion"] = cells
    empty = {
        "scores": np.zeros(plan.n_bins, np.int64),
        "positives": np.zeros(plan.n_bins, np.int64),
        "negatives": np.zeros(plan.n_bins, np.int64),
        "confusion": {fs: {} for fs in plan.feature_sets},
    }
    control, candidate = ({**empty, **figures[arm]} for arm in every)
    return PartialSummaries(control=ArmPartial(**control), candidate=ArmPartial(**candidate))


def _arm_pass(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    arms: list[str],
    plan: SummaryPlan,
    count_values: Collection[str] = (),
) -> dict[str, dict[str, Any]]:
    """Pass 1: per (arm, latency sub-bucket) counts, time and latency range, digest parts.

    The rows of an arm in ``count_values`` are grouped by latency value (``k`` NULL inside,
    the value's key computed per group outside), the others by sub-bucket (``v`` NULL).
    """
    columns = list(DIGEST_COLUMNS) + sorted({f for fs in plan.feature_sets for f in fs})
    hashed = f"hash({', '.join(quote_ident(c) for c in columns)})"
    rest = f"error, latency_ms, score, label, ts, {hashed} AS h"

    def keys(arm: str) -> str:
        if arm in count_values:
            return f"CAST(NULL AS BIGINT) AS k, latency_ms AS v, {rest}"
        return f"{latency_key_sql(FINE_FACTOR)} AS k, CAST(NULL AS DOUBLE) AS v, {rest}"

    union, params = arms_union(selection, arms, keys)
    try:
        cols = con.execute(
            # per (arm, sub-bucket or value) group: its latency count (the buckets and values);
            # per arm (k and v NULL, ``total``): every other figure, summed over its groups
            "SELECT a, k, v, n_lat, GROUPING_ID(a, k, v, n_lat) > 0 AS total, sum(n) AS n, "
            "sum(errors) AS errors, sum(scored) AS scored, sum(labelled) AS labelled, "
            "min(t0) AS t0, max(t1) AS t1, min(lo) AS lo, max(hi) AS hi, "
            "CAST(sum(hsum) AS VARCHAR) AS hsum, bit_xor(hxor) AS hxor, sum(n_lat) AS n_latency "
            f"FROM (SELECT a, coalesce(k, {latency_key_sql(FINE_FACTOR, 'v')}) AS k, v, n, "
            "errors, n_lat, scored, labelled, t0, t1, lo, hi, hsum, hxor FROM (SELECT a, k, v, "
            "count(*) AS n, count(*) FILTER (WHERE error) AS errors, count(latency_ms) AS n_lat, "
            "count(score) AS scored, "
            "count(*) FILTER (WHERE score IS NOT NULL AND label IS NOT NULL) AS labelled, "
            "min(ts) AS t0, max(ts) AS t1, "
            "min(latency_ms) AS lo, max(latency_ms) AS hi, "
            "sum(CAST(h AS HUGEINT)) AS hsum, bit_xor(h) AS hxor "
            f"FROM ({union}) GROUP BY a, k, v)) "
            "GROUP BY GROUPING SETS ((a, k, v, n_lat), (a))",
            params,
        ).fetchnumpy()
    except duckdb.BinderException as err:
        raise InvalidInputError(f"traces: {str(err).splitlines()[0]}") from None
    a_col = np.asarray(cols["a"], dtype=np.int64)
    total = np.asarray(np.ma.filled(cols["total"], False), dtype=bool)
    k_col, k_known = _column(cols["k"], ~total)
    v_col, v_known = _column(cols["v"], ~total)
    n_lat = np.asarray(np.ma.filled(cols["n_lat"], 0), dtype=np.int64)[~total]
    a_groups = a_col[~total]
    out: dict[str, dict[str, Any]] = {}
    for row in np.flatnonzero(total):
        i = int(a_col[row])
        arm = arms[i]

        def figure(name: str, row: int = int(row)) -> Any:
            value = cols[name][row]
            return None if value is np.ma.masked or value is None else value

        mine = a_groups == i
        counted = mine & k_known & (n_lat > 0)
        bucket_keys, bucket_counts = sum_by_key(k_col[counted].astype(np.int64), n_lat[counted])
        t0, t1, lo, hi = (figure(c) for c in ("t0", "t1", "lo", "hi"))
        out[arm] = {
            "n": int(figure("n")),
            "errors": int(figure("errors")),
            "n_latency": int(figure("n_latency")),
            "scored": int(figure("scored")),
            "labelled": int(figure("labelled")),
            "start": _datetime(t0),
            "end": _datetime(t1),
            "min_latency": None if lo is None else float(lo),
            "max_latency": None if hi is None else float(hi),
            "hsum": int(figure("hsum")),
            "hxor": int(figure("hxor")),
            "buckets": dict(zip(bucket_keys.tolist(), bucket_counts.tolist(), strict=True)),
        }
        if arm in count_values:
            valued = mine & v_known
            out[arm]["values"] = (
                ValueCounts.of(v_col[valued].astype(np.float64), n_lat[valued])
                if int(valued.sum()) <= MAX_DISTINCT_VALUES
                else None
            )
    return out


def _datetime(value: Any) -> dt.datetime | None:
    """A fetched timestamp as ``fetchall`` gives it: a naive ``datetime`` (or ``None``)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return np.datetime64(value, "us").item()


def _score_pass(
    con: duckdb.DuckDBPyConnection, selection: Selection, arms: list[str], plan: SummaryPlan
) -> dict[str, dict[str, npt.NDArray[np.int64]]]:
    """Pass 2: score histograms per (arm, label) (all scored rows, and labelled ones by label)."""
    union, params = arms_union(selection, arms, f"label, {bin_sql('score', plan.n_bins)} AS b")
    cols = execute(
        con, f"SELECT a, label, b, count(*) AS n FROM ({union}) GROUP BY a, label, b", params
    ).fetchnumpy()
    a_col = np.asarray(cols["a"], dtype=np.int64)
    # a row without a score has no bin (b NULL): it is in no histogram
    b_all, b_valid_all = _column(cols["b"], np.ones(a_col.size, dtype=bool))
    label_all, l_valid_all = _column(cols["label"], np.ones(a_col.size, dtype=bool))
    n_col = np.asarray(cols["n"], dtype=np.int64)
    out: dict[str, dict[str, npt.NDArray[np.int64]]] = {}
    for i, arm in enumerate(arms):
        scores = np.zeros(plan.n_bins, np.int64)
        positives = np.zeros(plan.n_bins, np.int64)
        negatives = np.zeros(plan.n_bins, np.int64)
        sel = (a_col == i) & b_valid_all
        b = b_all[sel].astype(np.int64)
        counts = n_col[sel]
        label = label_all[sel].astype(bool)
        l_valid = l_valid_all[sel]
        np.add.at(scores, b, counts)
        np.add.at(positives, b[l_valid & label], counts[l_valid & label])
        np.add.at(negatives, b[l_valid & ~label], counts[l_valid & ~label])
        out[arm] = {"scores": scores, "positives": positives, "negatives": negatives}
    return out


def _confusion_passes(
    con: duckdb.DuckDBPyConnection, selection: Selection, arms: list[str], plan: SummaryPlan
) -> dict[str, dict[tuple[str, ...], Confusion]]:
    """Pass 3: confusion counts per (arm, label, decision, features), one pass per feature set."""
    out: dict[str, dict[tuple[str, ...], Confusion]] = {arm: {} for arm in arms}
    for fs in plan.feature_sets:
        names = [quote_ident(f"f{j}") for j in range(len(fs))]
        feats = ", ".join(
            f"CAST({quote_ident(f)} AS VARCHAR) AS {n}" for f, n in zip(fs, names, strict=True)
        )
        union, params = arms_union(
            selection,
            arms,
            f"label, score >= {plan.decision_threshold!r} AS d, {feats}",
            " AND score IS NOT NULL AND label IS NOT NULL",
        )
        keys = ", ".join(names)
        rows = execute(
            con,
            f"SELECT a, label, d, {keys}, count(*) FROM ({union}) GROUP BY a, label, d, {keys}",
            params,
        ).fetchall()
        for arm in arms:
            out[arm][fs] = {}
        for row in rows:
            groups = tuple(None if v is None else str(v) for v in row[3 : 3 + len(fs)])
            out[arms[int(row[0])]][fs][(groups, bool(row[1]), bool(row[2]))] = int(row[-1])
    return out


def _column(
    values: Any, sel: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """The selected entries of a fetched column and which of them are not NULL."""
    data = np.ma.getdata(values)[sel]
    mask = np.ma.getmaskarray(values)[sel]
    if data.dtype == object:
        mask = mask | np.array([v is None for v in data], dtype=bool)
        data = np.where(mask, 0, data)
    return data, ~mask
