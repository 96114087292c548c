"""Exact latency order statistics at chosen ranks, reading only the buckets that hold them.

The merged DDSketch bucket counts of pass 1 say which bucket holds each wanted rank. Rank 1
and the last rank are the arm's minimum and maximum (known from pass 1: no read); every other
rank's bucket is read with a latency *range* predicate — one ``(low, high]`` range per run of
consecutive needed buckets, so rows outside them are dropped by two comparisons and the bucket
key (a logarithm) is computed only for rows inside. The values come back as two flat numpy
columns and are sorted per bucket in numpy. An arm whose needed buckets hold more than
``MAX_BUCKET_VALUES`` values is read as distinct values with their counts, by a ``GROUP BY``
that spills to disk under the store's memory limit (a 100 M-row window's needed buckets do not
fit as one row per value, nor does ``quantile_disc`` over the whole arm).

The looks of a rollout step avoid even that read while an arm's latencies take few distinct
values: :func:`latency_value_counts` counts the distinct values of the rows a look adds, the
counts merge from look to look (:class:`~canarykit.traces.partial_summaries.ArmPartial`), and
:func:`ranks_from_values` answers every rank from them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import numpy.typing as npt

from canarykit.errors import StorageError
from canarykit.traces.partial_summaries import ValueCounts
from canarykit.traces.summary_passes import (
    FINE_FACTOR,
    ZERO_KEY,
    latency_key_sql,
    sketch_multiplier,
)

if TYPE_CHECKING:
    from canarykit.traces.summaries import Selection

__all__ = [
    "MAX_BUCKET_VALUES",
    "StaleCountsError",
    "bucket_ranges_sql",
    "latency_value_counts",
    "order_statistics",
    "ranks_from_values",
]

MAX_BUCKET_VALUES = 2_000_000
"""Per arm: above this many values in the needed buckets they are fetched as (value, count)."""
MAX_RANGES = 4  # runs of needed buckets read with range predicates; beyond, a key test


class StaleCountsError(StorageError):
    """The bucket counts do not describe the rows read (they changed, or a cache is stale)."""


def _range(low_key: int, high_key: int, factor: int) -> str:
    """``(low, high]`` holding every value of the buckets ``low_key..high_key`` (positive keys).

    Bucket ``k`` holds ``x`` with ``ceil(ln(x)·m) = k``, i.e. ``x`` in ``(exp((k−1)/m),
    exp(k/m)]``; the range is widened by 1e-9 (relative) so rounding in ``exp``/``ln`` never
    drops a value (the exact key test follows it).
    """
    m = sketch_multiplier(factor)
    low = math.exp((low_key - 1) / m) * (1 - 1e-9)
    high = math.exp(high_key / m) * (1 + 1e-9)
    return f"(latency_ms > {low!r} AND latency_ms <= {high!r})"


def bucket_ranges_sql(
    needed: npt.NDArray[np.int64], keys: npt.NDArray[np.int64], factor: int = 1
) -> str:
    """A predicate holding every value of the ``needed`` buckets among the arm's ``keys``.

    Needed buckets that follow each other in ``keys`` (no non-empty bucket between them) share
    one range.

    Examples
    --------
    >>> keys = np.array([ZERO_KEY, 100, 101, 105, 200])
    >>> bucket_ranges_sql(np.array([100, 101, 200]), keys).count("latency_ms >")
    2
    >>> bucket_ranges_sql(np.array([ZERO_KEY]), keys)
    '(latency_ms = 0)'
    """
    wanted = set(int(k) for k in needed)
    parts: list[str] = []
    if ZERO_KEY in wanted:
        parts.append("(latency_ms = 0)")
    run: list[int] = []
    for k in (int(k) for k in keys if int(k) != ZERO_KEY):
        if k in wanted:
            run.append(k)
            continue
        if run:
            parts.append(_range(run[0], run[-1], factor))
            run = []
    if run:
        parts.append(_range(run[0], run[-1], factor))
    return "(" + " OR ".join(parts) + ")" if len(parts) > 1 else parts[0]


def latency_value_counts(
    con: duckdb.DuckDBPyConnection, selection: Selection, arm: str, limit: int
) -> ValueCounts | None:
    """Count of each distinct non-NULL latency of ``arm``'s rows, or ``None`` past ``limit``.

    Examples
    --------
    >>> import duckdb
    >>> from canarykit.traces.summaries import Selection
    >>> con = duckdb.connect()
    >>> _ = con.execute(
    ...     "CREATE TABLE traces AS SELECT * FROM (VALUES ('m', 'v1', 'control', 2.5), "
    ...     "('m', 'v1', 'control', 2.5), ('m', 'v1', 'control', NULL), ('m', 'v1', 'control', 7.0))"
    ...     " t(model, version, arm, latency_ms)")
    >>> sel = Selection(model="m", baseline="v1", candidate="v2", mode="canary")
    >>> c = latency_value_counts(con, sel, "control", 10)
    >>> c.values.tolist(), c.counts.tolist()
    ([2.5, 7.0], [2, 1])
    >>> latency_value_counts(con, sel, "control", 1) is None
    True
    """
    where, params = selection.arm_where(arm)
    cols = con.execute(
        f"SELECT latency_ms AS v, count(*) AS c FROM traces WHERE {where} "
        f"AND latency_ms IS NOT NULL GROUP BY latency_ms LIMIT {int(limit) + 1}",
        params,
    ).fetchnumpy()
    if len(cols["v"]) > limit:
        return None
    return ValueCounts.of(cols["v"], cols["c"])


def ranks_from_values(
    values: ValueCounts, ranks: npt.NDArray[np.int64], *, arm: str, n: int
) -> npt.NDArray[np.float64]:
    """The 1-based ``ranks`` of the latencies counted in ``values`` (``n`` of them in all).

    Raises :class:`StaleCountsError` when the counts do not add up to ``n``.

    Examples
    --------
    >>> counts = ValueCounts.of([3.0, 1.0], [2, 1])
    >>> ranks_from_values(counts, np.array([1, 2, 3]), arm="control", n=3)
    array([1., 3., 3.])
    """
    if values.total != n:
        raise StaleCountsError(
            f"traces: the latency values of arm {arm} do not add up to its count "
            "(rows changed while the window was read)"
        )
    if ranks.size == 0:
        return np.zeros(0)
    return values.values[np.searchsorted(np.cumsum(values.counts), ranks, side="left")]


def order_statistics(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    arm: str,
    ranks: npt.NDArray[np.int64],
    buckets: dict[int, int],
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    factor: int = FINE_FACTOR,
) -> npt.NDArray[np.float64]:
    """Exact values of the 1-based ``ranks`` of an arm's non-NULL latencies.

    ``buckets`` are the arm's counts per key of :func:`latency_key_sql` ``(factor)``.
    ``minimum`` and ``maximum``, when known, answer ranks 1 and ``n`` without a read.
    """
    if ranks.size == 0:
        return np.zeros(0)
    keys = np.array(sorted(buckets), dtype=np.int64)
    counts = np.array([buckets[int(k)] for k in keys], dtype=np.int64)
    cum = np.cumsum(counts)
    n = int(cum[-1])
    out = np.full(ranks.size, np.nan)
    todo = np.ones(ranks.size, dtype=bool)
    if minimum is not None:
        out[ranks == 1] = minimum
        todo &= ranks != 1
    if maximum is not None:
        out[(ranks == n) & todo] = maximum
        todo &= ranks != n
    if not todo.any():
        return out
    index = np.searchsorted(cum, ranks, side="left")
    needed = np.unique(keys[index[todo]])
    needed_values = int(counts[np.isin(keys, needed)].sum())
    arm_where, arm_params = selection.arm_where(arm)
    # few runs of needed buckets: range predicates (no logarithm outside them); many runs: the
    # key of every row of the arm tested against the needed set (cheaper than a long OR)
    ranges = bucket_ranges_sql(needed, keys, factor)
    keep = ranges if ranges.count(" OR ") < MAX_RANGES else "latency_ms IS NOT NULL"
    inner = (
        f"SELECT {latency_key_sql(factor)} AS k, latency_ms AS v "
        f"FROM traces WHERE {arm_where} AND {keep}"
    )
    wanted_keys = f"k IN ({', '.join(str(int(k)) for k in needed)})"
    if needed_values > MAX_BUCKET_VALUES:
        # many values: one row per distinct value with its count (a GROUP BY spills to disk
        # under the memory limit, where one row per value or quantile_disc would not fit)
        sql = f"SELECT k, v, count(*) AS c FROM ({inner}) WHERE {wanted_keys} GROUP BY k, v"
    else:
        sql = f"SELECT k, v FROM ({inner}) WHERE {wanted_keys}"
    cols = con.execute(sql, arm_params).fetchnumpy()
    k_col = np.asarray(cols["k"], dtype=np.int64)
    v_col = np.asarray(cols["v"], dtype=np.float64)
    c_col = np.asarray(cols["c"], dtype=np.int64) if "c" in cols else np.ones(k_col.size, np.int64)
    order = np.lexsort((v_col, k_col))
    k_col, v_col, c_col = k_col[order], v_col[order], c_col[order]
    found_keys, first = np.unique(k_col, return_index=True)
    found = np.add.reduceat(c_col, first) if first.size else np.zeros(0, np.int64)
    expected = counts[np.isin(keys, needed)]
    if not np.array_equal(found_keys, needed) or not np.array_equal(found, expected):
        raise StaleCountsError(
            f"traces: the latency buckets of arm {arm} hold other rows than their counts say "
            "(rows changed while the window was read)"
        )
    before = np.concatenate([[0], cum[:-1]])  # the arm's rows below each bucket
    held = np.cumsum(c_col)  # rows fetched up to and including each (bucket, value)
    segment = np.searchsorted(k_col, keys[index[todo]], side="left")
    below = held[segment] - c_col[segment]  # rows fetched below the bucket's first value
    within = ranks[todo] - before[index[todo]] - 1  # 0-based position in the bucket
    out[todo] = v_col[np.searchsorted(held, below + within, side="right")]
    return out
