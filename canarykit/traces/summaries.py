"""Sufficient statistics for every check, computed in DuckDB in a few passes (no per-row Python).

The tea-tasting pattern: the database aggregates, Python does statistics on the aggregates.
One evaluation reads the selected window in these passes, each a plain ``GROUP BY`` over one
``UNION ALL`` of the two arms' rows (each arm selected by ``model = ? AND arm = ? AND version
= ?`` and its time range: conjunctions DuckDB pushes into the scan, so no OR filter is
re-evaluated per row and nothing is materialised):

1. per arm and latency bucket (DDSketch keys, relative accuracy 1 %): counts, errors,
   latency/score/label coverage, time range and an order-independent data digest (sum and xor
   of DuckDB ``hash()`` over the rows' columns); the per-arm figures are the exact sums,
   minima, maxima and xors of the per-bucket ones;
2. score histograms per (arm, label) on ``n_bins`` equal bins;
3. confusion counts per (arm, label, decision, sensitive features), one pass per feature set
   the policy names;
4. exact order statistics at the ranks the quantile confidence sequences ask for
   (:mod:`canarykit.traces.rank_values`): ranks 1 and ``n`` are pass 1's minimum and maximum;
   the bucket counts of pass 1 locate every other rank's bucket, and only the values of those
   buckets leave DuckDB (sorted in numpy), read with latency range predicates (one per run of
   needed buckets) so the bucket key is computed only for rows inside them; an arm whose needed
   buckets hold very many values reads them as distinct values with counts (a GROUP BY);
5. shadow mode only: the paired table (pairs by ``request_id``; joined on the integer pair
   id every ingest assigns, :mod:`canarykit.traces.paired`) with the joint score-bin table,
   the 2×2 decision agreement table and the paired score-difference sums.

The data digest (``canarykit.data/1 duckdb-hash``) is the SHA-256 of one line
``arm:n:sum:xor`` per arm with rows (sorted), where ``sum`` and ``xor`` are the sum (exact,
HUGEINT) and the xor of ``hash(request_id, ts, model, version, arm, latency_ms, error, score,
label, <sensitive features, sorted>)`` over the arm's selected rows. Sums and xors are
combined exactly across buckets, so the value is the one the single per-arm pass gave.

Passes 1–3 give figures that merge exactly across slices of rows
(:mod:`canarykit.traces.partial_summaries`, SQL in :mod:`canarykit.traces.summary_passes`):
:func:`summarize_since` reads only the rows after an earlier look and merges them with that
look's figures, which is how a rollout's looks cost in proportion to their new data. A look
also counts each distinct latency of its new rows (while an arm has at most
``MAX_DISTINCT_VALUES`` of them); merged, those counts answer step 4 without a read. In
shadow mode the pairs a slice completes (the later row of the pair in the slice) merge into
the paired table of step 5, while the store's pairing is complete.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=2000, seed=1))
>>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")
>>> s = summarize(store, sel, SummaryPlan(feature_sets=(("group",),)))
>>> s.control.n + s.candidate.n
2000
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import duckdb
import numpy as np
import numpy.typing as npt

from canarykit.traces.paired import PairedSummary, paired_partial, paired_pass, summary_of
from canarykit.traces.partial_summaries import (
    MAX_DISTINCT_VALUES,
    ArmPartial,
    PartialSummaries,
    ValueCounts,
)
from canarykit.traces.rank_values import (
    MAX_BUCKET_VALUES,
    StaleCountsError,
    latency_value_counts,
    order_statistics,
    ranks_from_values,
)
from canarykit.traces.store import TraceStore
from canarykit.traces.summary_passes import (
    SKETCH_RELATIVE_ACCURACY,
    ZERO_KEY,
    coarse_buckets,
    partial_summaries,
)

Mode = Literal["canary", "shadow"]
RanksFor = Callable[[int, int], tuple[Sequence[int], Sequence[int]]]


__all__ = [
    "MAX_BUCKET_VALUES",
    "SKETCH_RELATIVE_ACCURACY",
    "ZERO_KEY",
    "ArmSummary",
    "PairedSummary",
    "Selection",
    "Summaries",
    "SummaryPlan",
    "complete",
    "summarize",
    "summarize_since",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """Which traces an evaluation reads: one model, a baseline and a candidate version.

    Rows are read from ``[since, until)`` (either end open when ``None``). ``control_window``,
    when given, reads the control arm from that ``(start, end)`` window instead: a control
    recorded before a 100 % rollout step, which has no concurrent control.
    """

    model: str
    baseline: str
    candidate: str
    mode: Mode
    until: str | None = None
    since: str | None = None
    control_window: tuple[str, str] | None = None

    @property
    def candidate_arm(self) -> str:
        """``canary`` or ``shadow``."""
        return "shadow" if self.mode == "shadow" else "canary"

    def time_condition(self, arm: str) -> tuple[str, list[Any]]:
        """SQL condition on ``ts`` for one arm's rows, and its parameters (``TRUE`` if open)."""
        start, end = (
            self.control_window
            if arm == "control" and self.control_window is not None
            else (self.since, self.until)
        )
        parts, params = [], []
        if start is not None:
            parts.append("ts >= CAST(? AS TIMESTAMP)")
            params.append(start)
        if end is not None:
            parts.append("ts < CAST(? AS TIMESTAMP)")
            params.append(end)
        return (" AND ".join(parts) or "TRUE"), params

    def arm_where(self, arm: str) -> tuple[str, list[Any]]:
        """SQL condition selecting one arm's rows (a conjunction DuckDB pushes into the scan)."""
        time_sql, time_params = self.time_condition(arm)
        version = self.baseline if arm == "control" else self.candidate
        sql = "model = ? AND arm = ? AND version = ?"
        params: list[Any] = [self.model, arm, version]
        if time_sql != "TRUE":
            sql += f" AND {time_sql}"
            params += time_params
        return sql, params

    def where(self) -> tuple[str, list[Any]]:
        """SQL condition selecting both arms, and its parameters."""
        c_time, c_params = self.time_condition("control")
        t_time, t_params = self.time_condition(self.candidate_arm)
        if self.control_window is None and c_time == t_time:
            sql = "model = ? AND ((arm = 'control' AND version = ?) OR (arm = ? AND version = ?))"
            params: list[Any] = [self.model, self.baseline, self.candidate_arm, self.candidate]
            if c_time != "TRUE":
                sql += f" AND {c_time}"
                params += c_params
            return sql, params
        sql = (
            f"model = ? AND ((arm = 'control' AND version = ? AND {c_time}) OR "
            f"(arm = ? AND version = ? AND {t_time}))"
        )
        return sql, [
            self.model,
            self.baseline,
            *c_params,
            self.candidate_arm,
            self.candidate,
            *t_params,
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryPlan:
    """What to summarise: score bins, decision threshold, feature sets and quantile ranks."""

    n_bins: int = 10_000
    # the paired (shadow) table crosses two binnings: 1,000 bins keep it small (at most 2e6
    # cells) at an AUC bias of about 1e-6 (see canarykit.stats.auc_histogram)
    paired_n_bins: int = 1_000
    decision_threshold: float = 0.5
    feature_sets: tuple[tuple[str, ...], ...] = ()
    ranks_for: RanksFor | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmSummary:
    """Per-arm aggregates."""

    arm: str
    n: int = 0
    errors: int = 0
    n_latency: int = 0
    scored: int = 0
    labelled: int = 0
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    latency_ranks: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    latency_values: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    latency_buckets: dict[int, int] = field(default_factory=dict)
    positives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    negatives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    scores: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    confusion: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Summaries:
    """Everything the checks need, plus the digest of the rows they came from."""

    selection: Selection
    plan: SummaryPlan
    control: ArmSummary
    candidate: ArmSummary
    data_digest: str
    paired: PairedSummary | None = None
    missing_columns: tuple[str, ...] = ()

    @property
    def window(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """First and last timestamp over both arms."""
        starts = [a.start for a in (self.control, self.candidate) if a.start is not None]
        ends = [a.end for a in (self.control, self.candidate) if a.end is not None]
        return (min(starts) if starts else None, max(ends) if ends else None)


def summarize(store: TraceStore, selection: Selection, plan: SummaryPlan) -> Summaries:
    """Compute the sufficient statistics of ``selection`` (see the module docstring)."""
    plan, missing = _usable_plan(store.connection, plan)
    partial = partial_summaries(store.connection, selection, plan)
    return complete(store, selection, plan, partial, missing=missing)


def summarize_since(
    store: TraceStore,
    selection: Selection,
    plan: SummaryPlan,
    previous: PartialSummaries | None,
    previous_until: str | None,
) -> tuple[Summaries, PartialSummaries]:
    """Summaries of ``selection`` from the figures of an earlier look plus the rows after it.

    ``previous`` holds the mergeable figures of the same selection ending at
    ``previous_until`` (``None``: read everything). Only rows in ``[previous_until, until)``
    are read by passes 1–3 (a control arm read from a fixed ``control_window`` not at all); the
    order statistics and a shadow pairing read the whole window. The result is identical to
    :func:`summarize` on the same rows (``tests/traces/test_incremental_looks.py``).

    Returns
    -------
    (Summaries, PartialSummaries)
        The summaries, and the merged figures to hand to the next look.
    """
    plan, missing = _usable_plan(store.connection, plan)
    con = store.connection
    shadow = selection.mode == "shadow"
    if previous is None or previous_until is None:
        partial = _with_values(con, selection, partial_summaries(con, selection, plan), None)
        if shadow:
            partial = replace(partial, paired=paired_partial(con, selection, plan))
    else:
        if selection.since is not None and previous_until < selection.since:
            raise ValueError("previous_until: before the selection's start")
        delta = replace(selection, since=previous_until, control_window=None)
        grows = [selection.candidate_arm]
        if selection.control_window is None:
            grows.insert(0, "control")
        # an arm whose counts are kept has them counted by the slice's first pass itself
        counted = [a for a in grows if _arm_of(previous, a).values is not None]
        added = _with_values(
            con,
            delta,
            partial_summaries(con, delta, plan, arms=grows, count_values=counted),
            previous,
            counted,
        )
        if shadow and previous.paired is not None:
            # the pairs the new rows complete (their partner may be older): the whole window
            # with the later row of the pair in the slice
            pairs = paired_partial(con, selection, plan, after=previous_until)
            added = replace(added, paired=pairs)
        partial = previous.merge(added)
    return complete(store, selection, plan, partial, missing=missing), partial


def _with_values(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    partial: PartialSummaries,
    previous: PartialSummaries | None,
    counted: Collection[str] = (),
) -> PartialSummaries:
    """``partial`` with the distinct latency counts of its rows (:mod:`.rank_values`).

    They are read for an arm with rows whose ``previous`` figures still keep them (the arms in
    ``counted`` have them from ``partial``'s own pass already); an arm without rows here counts
    none. A count that disagrees with the pass that counted the same rows means they changed
    in between (:class:`StaleCountsError`).
    """
    arms = {"control": partial.control, selection.candidate_arm: partial.candidate}
    before = {} if previous is None else {"control": previous.control}
    if previous is not None:
        before[selection.candidate_arm] = previous.candidate
    out = {}
    for arm, figures in arms.items():
        values: ValueCounts | None = ValueCounts.empty()
        if arm in before and before[arm].values is None:
            values = None
        elif arm in counted:
            values = figures.values
            if values is not None and len(values) > MAX_DISTINCT_VALUES:
                values = None
        elif figures.n_latency:
            values = latency_value_counts(con, selection, arm, MAX_DISTINCT_VALUES)
            if values is not None and values.total != figures.n_latency:
                raise StaleCountsError(
                    f"traces: the latency values of arm {arm} changed while the window was read"
                )
        out[arm] = replace(figures, values=values)
    return PartialSummaries(control=out["control"], candidate=out[selection.candidate_arm])


def _arm_of(partial: PartialSummaries, arm: str) -> ArmPartial:
    return partial.control if arm == "control" else partial.candidate


def _usable_plan(
    con: duckdb.DuckDBPyConnection, plan: SummaryPlan
) -> tuple[SummaryPlan, tuple[str, ...]]:
    """The plan without feature sets naming columns the traces lack (their checks skip)."""
    present = {str(r[0]) for r in con.execute("DESCRIBE traces").fetchall()}
    missing = sorted({f for fs in plan.feature_sets for f in fs} - present)
    if missing:
        plan = replace(
            plan, feature_sets=tuple(fs for fs in plan.feature_sets if not set(fs) & set(missing))
        )
    return plan, tuple(missing)


def complete(
    store: TraceStore,
    selection: Selection,
    plan: SummaryPlan,
    partial: PartialSummaries,
    *,
    missing: tuple[str, ...] = (),
) -> Summaries:
    """Summaries from the merged figures: order statistics and a shadow pairing read here."""
    con = store.connection
    arms = {"control": partial.control, selection.candidate_arm: partial.candidate}
    wanted: tuple[Sequence[int], Sequence[int]] = ((), ())
    if plan.ranks_for is not None:
        wanted = plan.ranks_for(partial.control.n_latency, partial.candidate.n_latency)
    built: list[ArmSummary] = []
    for (arm, figures), ranks in zip(arms.items(), wanted, strict=True):
        ranks_arr = np.asarray(sorted(set(int(r) for r in ranks)), dtype=np.int64)
        if figures.values is not None:
            values = ranks_from_values(figures.values, ranks_arr, arm=arm, n=figures.n_latency)
            built.append(_arm_summary(arm, figures, ranks_arr, values))
            continue
        values = order_statistics(
            con,
            selection,
            arm,
            ranks_arr,
            figures.buckets,
            minimum=figures.min_latency,
            maximum=figures.max_latency,
        )
        built.append(_arm_summary(arm, figures, ranks_arr, values))
    digest = [f"{arm}:{f.n}:{f.hsum}:{f.hxor}" for arm, f in sorted(arms.items()) if f.n]
    return Summaries(
        selection=selection,
        plan=plan,
        control=built[0],
        candidate=built[1],
        data_digest=_digest(digest, getattr(con, "DIGEST_SCHEME", "duckdb-hash")),
        paired=_paired(con, selection, plan, partial),
        missing_columns=missing,
    )


def _paired(
    con: duckdb.DuckDBPyConnection, selection: Selection, plan: SummaryPlan, p: PartialSummaries
) -> PairedSummary | None:
    """Shadow mode's paired table: from merged figures when a look kept them, else a pass."""
    if selection.mode != "shadow":
        return None
    return summary_of(p.paired) if p.paired is not None else paired_pass(con, selection, plan)


def _arm_summary(
    arm: str,
    f: ArmPartial,
    ranks: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
) -> ArmSummary:
    confusion: dict[tuple[str, ...], dict[str, Any]] = {}
    for fs, cells in f.confusion.items():
        # the order of DuckDB's ORDER BY label, decision, features (NULLs last)
        ordered = sorted(
            cells.items(),
            key=lambda kv: (kv[0][1], kv[0][2], tuple((g is None, g or "") for g in kv[0][0])),
        )
        confusion[fs] = {
            "groups": [g for (g, _, _), _ in ordered],
            "label": [lab for (_, lab, _), _ in ordered],
            "decision": [dec for (_, _, dec), _ in ordered],
            "count": [c for _, c in ordered],
        }
    return ArmSummary(
        arm=arm,
        n=f.n,
        errors=f.errors,
        n_latency=f.n_latency,
        scored=f.scored,
        labelled=f.labelled,
        start=f.start,
        end=f.end,
        latency_ranks=ranks,
        latency_values=values,
        latency_buckets=coarse_buckets(f.buckets),
        positives=f.positives,
        negatives=f.negatives,
        scores=f.scores,
        confusion=confusion,
    )


def _digest(parts: list[str], scheme: str = "duckdb-hash") -> str:
    # scheme: the engine's row hash (another engine's connection names its own, e.g. Spark's
    # "spark-xxhash64": canarykit.engines.spark), so digests of different engines never collide
    text = f"canarykit.data/1 {scheme}\n" + "\n".join(sorted(parts))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
