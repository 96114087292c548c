"""Per-segment sufficient statistics in one pushed-down DuckDB pass (``evaluate --by``).

A *segment* is one value (or one combination of values) of extra trace columns such as
``region`` or ``(region, route)``. One ``GROUP BY GROUPING SETS`` query over the selected
window's ``UNION ALL`` of the two arms (the same arm conditions as
:mod:`canarykit.traces.summaries`, pushed into the scan) returns, per arm and segment:

* per latency bucket (DDSketch keys, relative accuracy 1 %): request, error and latency
  counts, and the count of latencies above each absolute latency threshold of the policy
  (summed over buckets they are exact);
* when score histograms are wanted: counts per (label, score bin) on ``n_bins`` coarse bins.

Before it, a ``SELECT DISTINCT`` over the segment columns alone (with ``LIMIT``) refuses a
``--by`` that would create more than ``max_segments`` segments, so a column such as
``request_id`` fails fast with a one-line message instead of building millions of groups.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.traces.summaries import Selection
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=2000, seed=1, segments=True))
>>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")
>>> seg = summarize_segments(store, sel, by=("region",))
>>> len(seg.segments), sum(a.n for s in seg.segments.values() for a in s)
(8, 2000)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.traces.sources import quote_ident
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import ZERO_KEY, Selection

__all__ = [
    "MAX_BY_COLUMNS",
    "NOT_SEGMENTS",
    "SegmentArm",
    "SegmentSummaries",
    "check_by",
    "summarize_segments",
    "too_many_segments",
]

MAX_BY_COLUMNS = 3
SEGMENT_RELATIVE_ACCURACY = 0.001
"""Latency buckets of the segment pass: 0.1 % relative accuracy (ten times finer than the
verdict's sketch) so that the bucket-edge bounds cost the two-sample quantile test almost
nothing; a few thousand buckets per segment and arm."""


def _key_sql(relative_accuracy: float) -> str:
    multiplier = 1.0 / math.log((1 + relative_accuracy) / (1 - relative_accuracy))
    return (
        f"CASE WHEN latency_ms > 0 THEN CAST(CEIL(LN(latency_ms) * {multiplier!r}) AS BIGINT) "
        f"WHEN latency_ms = 0 THEN {ZERO_KEY} END"
    )


NOT_SEGMENTS = frozenset(
    {"request_id", "ts", "model", "version", "arm", "latency_ms", "error", "score", "label"}
)
"""Columns of the trace contract that cannot define segments (ids, times, the measurements)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentArm:
    """One arm's aggregates within one segment."""

    n: int = 0
    errors: int = 0
    n_latency: int = 0
    exceed: dict[float, int] = field(default_factory=dict)
    keys: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    counts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    zero_count: int = 0
    positives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    negatives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentSummaries:
    """``segments[key] = (control, candidate)`` for every segment key (a tuple of strings)."""

    by: tuple[str, ...]
    segments: dict[tuple[str, ...], tuple[SegmentArm, SegmentArm]]
    n_bins: int
    relative_accuracy: float = SEGMENT_RELATIVE_ACCURACY


def check_by(by: Sequence[str], columns: Sequence[str], *, where: str = "--by") -> tuple[str, ...]:
    """Validate segment columns against the traces' columns; one-line errors name the rule.

    Examples
    --------
    >>> check_by(["region", "route"], ["ts", "region", "route"])
    ('region', 'route')
    >>> check_by(["zone"], ["ts", "region"])
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: --by zone: not a column of the traces (segment columns: region)
    """
    names = tuple(str(b).strip() for b in by)
    if not names or any(not b for b in names):
        raise InvalidInputError(f"{where}: name one or more trace columns, e.g. region,route")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"{where} {','.join(names)}: a column is named twice")
    if len(names) > MAX_BY_COLUMNS:
        raise InvalidInputError(
            f"{where} {','.join(names)}: at most {MAX_BY_COLUMNS} columns (intersections "
            "beyond that leave too little data per segment)"
        )
    present = {c for c in columns if not c.startswith("__")}  # "__": canarykit's own columns
    for b in names:
        if b in NOT_SEGMENTS:
            raise InvalidInputError(
                f"{where} {b}: a column of the trace contract, not a segment "
                "(segment by extra columns such as region or route)"
            )
        if b not in present:
            extra = sorted(c for c in present if c not in NOT_SEGMENTS)
            raise InvalidInputError(
                f"{where} {b}: not a column of the traces (segment columns: "
                f"{', '.join(extra) or 'none'})"
            )
    return names


def too_many_segments(names: Sequence[str], max_segments: int) -> InvalidInputError:
    """The one-line error of a ``--by`` that makes more than ``max_segments`` segments."""
    return InvalidInputError(
        f"--by {','.join(names)}: more than {max_segments} segments in the window "
        f"(policy segments.max_segments); choose coarser columns"
    )


def _count_segments(
    store: TraceStore, selection: Selection, seg_sql: str, limit: int, arms: Sequence[str]
) -> int:
    conditions = [selection.arm_where(arm) for arm in arms]
    where = " OR ".join(f"({c})" for c, _ in conditions)
    params = [p for _, ps in conditions for p in ps]
    row = store.connection.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT {seg_sql} FROM traces WHERE {where} "
        f"LIMIT {int(limit) + 1})",
        params,
    ).fetchone()
    return int(row[0]) if row else 0


def summarize_segments(
    store: TraceStore,
    selection: Selection,
    *,
    by: Sequence[str],
    latency_thresholds: Sequence[float] = (),
    scores: bool = False,
    n_bins: int = 100,
    max_segments: int = 64,
    relative_accuracy: float = SEGMENT_RELATIVE_ACCURACY,
    arms: Sequence[str] | None = None,
) -> SegmentSummaries:
    """Per-segment aggregates of ``selection`` (see the module docstring).

    ``arms`` (default both) limits the rows read to those arms; the others count nothing.

    Raises
    ------
    InvalidInputError
        A ``by`` column is unknown or reserved, or it makes more than ``max_segments``.
    """
    con = store.connection
    present = [str(r[0]) for r in con.execute("DESCRIBE traces").fetchall()]
    names = check_by(by, present)
    cols = ", ".join(quote_ident(b) for b in names)
    every = ("control", selection.candidate_arm)
    read = [arm for arm in every if arms is None or arm in arms]
    if not read:
        return SegmentSummaries(
            by=names, segments={}, n_bins=n_bins, relative_accuracy=relative_accuracy
        )
    n_found = _count_segments(store, selection, cols, max_segments, read)
    if n_found > max_segments:
        raise too_many_segments(names, max_segments)
    seg = [f"CAST({quote_ident(b)} AS VARCHAR) AS s{i}" for i, b in enumerate(names)]
    seg_keys = ", ".join(f"s{i}" for i in range(len(names)))
    thresholds = sorted({float(t) for t in latency_thresholds})
    parts, params = [], []
    bin_sql = (
        f"CASE WHEN score IS NULL OR label IS NULL THEN NULL ELSE "
        f"LEAST(CAST(floor(score * {n_bins}) AS INTEGER), {n_bins - 1}) END"
    )
    for i, arm in enumerate(every):
        if arm not in read:
            continue
        where, arm_params = selection.arm_where(arm)
        parts.append(
            f"SELECT {i} AS a, {', '.join(seg)}, {_key_sql(relative_accuracy)} AS k, error, latency_ms, "
            f"label, {bin_sql if scores else 'NULL::INTEGER'} AS b FROM traces WHERE {where}"
        )
        params += arm_params
    exceed = "".join(f", count(*) FILTER (WHERE latency_ms > {t!r})" for t in thresholds)
    sets = f"(a, {seg_keys}, k)" + (f", (a, {seg_keys}, label, b)" if scores else "")
    sql = (
        f"SELECT a, {seg_keys}, k, {'label, b' if scores else 'NULL, NULL'}, GROUPING(k) AS gk, count(*), "
        f"count(*) FILTER (WHERE error), count(latency_ms){exceed} "
        f"FROM ({' UNION ALL '.join(parts)}) GROUP BY GROUPING SETS ({sets}) ORDER BY ALL"
    )
    rows = con.execute(sql, params).fetchall()
    ns = len(names)
    acc: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        a = int(row[0])
        key = tuple("NULL" if v is None else str(v) for v in row[1 : 1 + ns])
        k, label, b, gk = row[1 + ns : 5 + ns]
        n, errors, n_lat = (int(v) for v in row[5 + ns : 8 + ns])
        ex = row[8 + ns :]
        arms_acc = acc.setdefault(key, [_empty(n_bins), _empty(n_bins)])
        d = arms_acc[a]
        if gk == 0:  # the (a, segment, k) set
            d["n"] += n
            d["errors"] += errors
            d["n_latency"] += n_lat
            for t, c in zip(thresholds, ex, strict=True):
                d["exceed"][t] = d["exceed"].get(t, 0) + int(c)
            if k is not None and n_lat:
                if int(k) == ZERO_KEY:
                    d["zero_count"] += n_lat
                else:
                    d["keys"].append(int(k))
                    d["counts"].append(n_lat)
        elif b is not None and label is not None:
            (d["positives"] if label else d["negatives"])[int(b)] += n
    for d in (d for pair in acc.values() for d in pair):
        for t in thresholds:
            d["exceed"].setdefault(t, 0)
    segments = {key: (_arm(pair[0]), _arm(pair[1])) for key, pair in sorted(acc.items())}
    return SegmentSummaries(
        by=names, segments=segments, n_bins=n_bins, relative_accuracy=relative_accuracy
    )


def _empty(n_bins: int) -> dict[str, Any]:
    return {
        "n": 0,
        "errors": 0,
        "n_latency": 0,
        "exceed": {},
        "keys": [],
        "counts": [],
        "zero_count": 0,
        "positives": np.zeros(n_bins, np.int64),
        "negatives": np.zeros(n_bins, np.int64),
    }


def _arm(d: dict[str, Any]) -> SegmentArm:
    exceed = d["exceed"]
    return SegmentArm(
        n=d["n"],
        errors=d["errors"],
        n_latency=d["n_latency"],
        exceed={t: exceed.get(t, 0) for t in sorted(exceed)},
        keys=np.asarray(d["keys"], dtype=np.int64),
        counts=np.asarray(d["counts"], dtype=np.int64),
        zero_count=int(d["zero_count"]),
        positives=d["positives"],
        negatives=d["negatives"],
    )
