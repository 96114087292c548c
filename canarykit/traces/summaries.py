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
4. exact order statistics at the ranks the quantile confidence sequences ask for: the bucket
   counts of pass 1 locate each rank's bucket, and only the values of those buckets leave
   DuckDB (sorted in numpy), read with a latency range predicate around the buckets so the
   bucket key is computed only for rows inside it; an arm whose needed buckets are very large
   is read with ``quantile_disc`` instead;
5. shadow mode only: the paired table (a join on ``request_id``) with the joint score-bin
   table, the 2×2 decision agreement table and the paired score-difference sums.

The data digest (``canarykit.data/1 duckdb-hash``) is the SHA-256 of one line
``arm:n:sum:xor`` per arm with rows (sorted), where ``sum`` and ``xor`` are the sum (exact,
HUGEINT) and the xor of ``hash(request_id, ts, model, version, arm, latency_ms, error, score,
label, <sensitive features, sorted>)`` over the arm's selected rows. Sums and xors are
combined exactly across buckets, so the value is the one the single per-arm pass gave.

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
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import duckdb
import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.traces.sources import quote_ident
from canarykit.traces.store import TraceStore

Mode = Literal["canary", "shadow"]
RanksFor = Callable[[int, int], tuple[Sequence[int], Sequence[int]]]

SKETCH_RELATIVE_ACCURACY = 0.01
ZERO_KEY = -(2**62)  # bucket of latency 0 (below every positive key)
MAX_BUCKET_VALUES = 2_000_000  # per arm; beyond, exact ranks come from quantile_disc
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

__all__ = ["ArmSummary", "PairedSummary", "Selection", "Summaries", "SummaryPlan", "summarize"]


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
class PairedSummary:
    """Shadow mode: requests scored by both models."""

    n_pairs: int
    agreement: npt.NDArray[np.int64]  # [control decision, shadow decision]
    sum_diff: float
    sum_sq_diff: float
    bin_control: npt.NDArray[np.int64]
    bin_candidate: npt.NDArray[np.int64]
    label: npt.NDArray[np.bool_]
    count: npt.NDArray[np.int64]


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


def _latency_key_sql() -> str:
    multiplier = 1.0 / math.log((1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY))
    return (
        f"CASE WHEN latency_ms > 0 THEN CAST(CEIL(LN(latency_ms) * {multiplier!r}) AS BIGINT) "
        f"WHEN latency_ms = 0 THEN {ZERO_KEY} END"
    )


def _bin_sql(column: str, n_bins: int) -> str:
    """The score bin of ``column`` in [0, n_bins); NULL for a row without a score.

    (``LEAST`` ignores NULL in DuckDB: without the CASE a row without a score would land in
    the top bin and count in the AUC histograms — the bug fixed in issue 15.)
    """
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" ELSE LEAST(CAST(floor({column} * {n_bins}) AS INTEGER), {n_bins - 1}) END"
    )


def summarize(store: TraceStore, selection: Selection, plan: SummaryPlan) -> Summaries:
    """Compute the sufficient statistics of ``selection`` (see the module docstring)."""
    con = store.connection
    arms = {"control": "control", selection.candidate_arm: "candidate"}
    present = {str(r[0]) for r in con.execute("DESCRIBE traces").fetchall()}
    missing = sorted({f for fs in plan.feature_sets for f in fs} - present)
    if missing:  # a policy's sensitive feature the traces do not carry: its checks skip
        plan = replace(
            plan, feature_sets=tuple(fs for fs in plan.feature_sets if not set(fs) & set(missing))
        )
    base = _arm_pass(con, selection, arms, plan)
    base_scores = _score_pass(con, selection, arms, plan)
    base_confusion = _confusion_passes(con, selection, arms, plan)
    for role in arms.values():
        base[role].update(base_scores[role])
        base[role]["confusion"] = base_confusion[role]
    if plan.ranks_for is not None:
        wanted = plan.ranks_for(base["control"]["n_latency"], base["candidate"]["n_latency"])
        for (arm, role), ranks in zip(arms.items(), wanted, strict=True):
            ranks_arr = np.asarray(sorted(set(int(r) for r in ranks)), dtype=np.int64)
            base[role]["latency_ranks"] = ranks_arr
            base[role]["latency_values"] = _order_statistics(
                con, selection, arm, ranks_arr, base[role].get("latency_buckets", {})
            )
    digest_parts = base.pop("_digest")
    paired = _paired_pass(con, selection, plan) if selection.mode == "shadow" else None
    return Summaries(
        selection=selection,
        plan=plan,
        control=ArmSummary(arm="control", **base["control"]),
        candidate=ArmSummary(arm=selection.candidate_arm, **base["candidate"]),
        data_digest=_digest(digest_parts),
        paired=paired,
        missing_columns=tuple(missing),
    )


def _arms_union(
    selection: Selection, arms: dict[str, str], columns: str, condition: str = ""
) -> tuple[str, list[Any]]:
    """``UNION ALL`` of the arms' rows: ``a`` (the arm's position in ``arms``) and ``columns``."""
    parts, params = [], []
    for i, arm in enumerate(arms):
        where, arm_params = selection.arm_where(arm)
        parts.append(f"SELECT {i} AS a, {columns} FROM traces WHERE {where}{condition}")
        params += arm_params
    return " UNION ALL ".join(parts), params


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> Any:
    try:
        return con.execute(sql, params)
    except duckdb.BinderException as err:
        raise InvalidInputError(
            f"traces: {str(err).splitlines()[0]} (policy sensitive features "
            "must be columns of the traces)"
        ) from None


def _arm_pass(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    arms: dict[str, str],
    plan: SummaryPlan,
) -> dict[str, Any]:
    """Pass 1: per (arm, latency bucket) counts, time range and digest parts, combined per arm."""
    columns = list(DIGEST_COLUMNS) + sorted({f for fs in plan.feature_sets for f in fs})
    hashed = f"hash({', '.join(quote_ident(c) for c in columns)})"
    union, params = _arms_union(
        selection,
        arms,
        f"{_latency_key_sql()} AS k, error, latency_ms, score, label, ts, {hashed} AS h",
    )
    try:
        rows = con.execute(
            "SELECT a, k, count(*), count(*) FILTER (WHERE error), count(latency_ms), "
            "count(score), count(*) FILTER (WHERE score IS NOT NULL AND label IS NOT NULL), "
            f"min(ts), max(ts), sum(CAST(h AS HUGEINT)), bit_xor(h) FROM ({union}) GROUP BY a, k",
            params,
        ).fetchall()
    except duckdb.BinderException as err:
        raise InvalidInputError(f"traces: {str(err).splitlines()[0]}") from None
    names = list(arms)
    out: dict[str, Any] = {role: {} for role in arms.values()}
    totals: dict[str, list[Any]] = {}
    for a, k, n, errors, n_lat, scored, labelled, start, end, hsum, hxor in rows:
        arm = names[int(a)]
        t = totals.setdefault(arm, [0, 0, 0, 0, 0, start, end, 0, 0, {}])
        t[0] += int(n)
        t[1] += int(errors)
        t[2] += int(n_lat)
        t[3] += int(scored)
        t[4] += int(labelled)
        t[5] = start if t[5] is None or (start is not None and start < t[5]) else t[5]
        t[6] = end if t[6] is None or (end is not None and end > t[6]) else t[6]
        t[7] += int(hsum)
        t[8] ^= int(hxor)
        if k is not None and n_lat:
            t[9][int(k)] = int(n_lat)
    digest = []
    for arm in sorted(totals):
        n, errors, n_lat, scored, labelled, start, end, hsum, hxor, buckets = totals[arm]
        out[arms[arm]] = {
            "n": n,
            "errors": errors,
            "n_latency": n_lat,
            "scored": scored,
            "labelled": labelled,
            "start": start,
            "end": end,
            "latency_buckets": dict(sorted(buckets.items())),
        }
        digest.append(f"{arm}:{n}:{hsum}:{hxor}")
    for role in arms.values():
        out[role].setdefault("n", 0)
        out[role].setdefault("n_latency", 0)
        out[role].setdefault("latency_buckets", {})
    out["_digest"] = digest
    return out


def _digest(parts: list[str]) -> str:
    text = "canarykit.data/1 duckdb-hash\n" + "\n".join(sorted(parts))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _score_pass(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    arms: dict[str, str],
    plan: SummaryPlan,
) -> dict[str, dict[str, Any]]:
    """Pass 2: score histograms per (arm, label) (all scored rows, and labelled ones by label)."""
    union, params = _arms_union(
        selection,
        arms,
        f"label, {_bin_sql('score', plan.n_bins)} AS b",
    )
    cols = _execute(
        con, f"SELECT a, label, b, count(*) AS n FROM ({union}) GROUP BY a, label, b", params
    ).fetchnumpy()
    a_col = np.asarray(cols["a"], dtype=np.int64)
    # a row without a score has no bin (b NULL): it is in no histogram
    b_all, b_valid_all = _column(cols["b"], np.ones(a_col.size, dtype=bool))
    label_all, l_valid_all = _column(cols["label"], np.ones(a_col.size, dtype=bool))
    n_col = np.asarray(cols["n"], dtype=np.int64)
    out: dict[str, dict[str, Any]] = {}
    for i, role in enumerate(arms.values()):
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
        out[role] = {"scores": scores, "positives": positives, "negatives": negatives}
    return out


def _confusion_passes(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    arms: dict[str, str],
    plan: SummaryPlan,
) -> dict[str, dict[tuple[str, ...], dict[str, Any]]]:
    """Pass 3: confusion counts per (arm, label, decision, features), one pass per feature set."""
    out: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {role: {} for role in arms.values()}
    roles = list(arms.values())
    for fs in plan.feature_sets:
        names = [quote_ident(f"f{j}") for j in range(len(fs))]
        feats = ", ".join(
            f"CAST({quote_ident(f)} AS VARCHAR) AS {n}" for f, n in zip(fs, names, strict=True)
        )
        union, params = _arms_union(
            selection,
            arms,
            f"label, score >= {plan.decision_threshold!r} AS d, {feats}",
            " AND score IS NOT NULL AND label IS NOT NULL",
        )
        keys = ", ".join(names)
        rows = _execute(
            con,
            f"SELECT a, label, d, {keys}, count(*) FROM ({union}) GROUP BY a, label, d, {keys} "
            f"ORDER BY ALL",
            params,
        ).fetchall()
        for role in roles:
            out[role][fs] = {"groups": [], "label": [], "decision": [], "count": []}
        for row in rows:
            entry = out[roles[int(row[0])]][fs]
            entry["groups"].append(tuple(_text(v) for v in row[3 : 3 + len(fs)]))
            entry["label"].append(bool(row[1]))
            entry["decision"].append(bool(row[2]))
            entry["count"].append(int(row[-1]))
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


def _text(value: Any) -> str | None:
    return None if value is None or value is np.ma.masked else str(value)


def _bucket_range_sql(keys: npt.NDArray[np.int64]) -> str:
    """One latency range predicate holding every value of the DDSketch buckets ``keys``.

    Bucket ``k > ZERO_KEY`` holds ``x`` with ``ceil(ln(x)·m) = k``, i.e. ``x`` in
    ``(exp((k−1)/m), exp(k/m)]``; the range runs from the lowest needed bucket to the highest,
    widened by 1e-9 (relative) so rounding in ``exp``/``ln`` never drops a value (the exact key
    test still follows it). One conjunctive range is pushed into the scan (zone maps, no
    ``LN()`` outside it); a disjunction of ranges would be evaluated row by row.
    """
    multiplier = 1.0 / math.log((1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY))
    positive = [int(k) for k in keys if int(k) != ZERO_KEY]
    if not positive:
        return "latency_ms = 0"
    high = math.exp(max(positive) / multiplier) * (1 + 1e-9)
    if len(positive) < len(keys):
        return f"latency_ms >= 0 AND latency_ms <= {high!r}"
    low = math.exp((min(positive) - 1) / multiplier) * (1 - 1e-9)
    return f"latency_ms > {low!r} AND latency_ms <= {high!r}"


def _order_statistics(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    arm: str,
    ranks: npt.NDArray[np.int64],
    buckets: dict[int, int],
) -> npt.NDArray[np.float64]:
    """Exact values of the 1-based ``ranks`` of an arm's non-NULL latencies."""
    if ranks.size == 0:
        return np.zeros(0)
    keys = np.array(sorted(buckets), dtype=np.int64)
    counts = np.array([buckets[int(k)] for k in keys], dtype=np.int64)
    cum = np.cumsum(counts)
    index = np.searchsorted(cum, ranks, side="left")
    needed = np.unique(keys[index])
    needed_values = int(counts[np.isin(keys, needed)].sum())
    arm_where, arm_params = selection.arm_where(arm)
    if needed_values > MAX_BUCKET_VALUES:
        levels = [(int(r) - 0.5) / int(cum[-1]) for r in ranks]
        row = con.execute(
            f"SELECT quantile_disc(latency_ms, {levels!r}) FROM traces "
            f"WHERE {arm_where} AND latency_ms IS NOT NULL",
            arm_params,
        ).fetchall()
        return np.asarray(row[0][0], dtype=np.float64)
    rows = con.execute(
        f"SELECT k, list(latency_ms) FROM (SELECT {_latency_key_sql()} AS k, latency_ms "
        f"FROM traces WHERE {arm_where} AND {_bucket_range_sql(needed)}) "
        f"WHERE k IN ({', '.join(str(int(k)) for k in needed)}) GROUP BY k",
        arm_params,
    ).fetchall()
    values_by_key = {int(k): np.sort(np.asarray(v, dtype=np.float64)) for k, v in rows}
    before = np.concatenate([[0], cum[:-1]])
    out = np.empty(ranks.size)
    for i, (r, j) in enumerate(zip(ranks, index, strict=True)):
        out[i] = values_by_key[int(keys[j])][int(r - before[j]) - 1]
    return out


def _paired_pass(
    con: duckdb.DuckDBPyConnection, selection: Selection, plan: SummaryPlan
) -> PairedSummary:
    time_sql, time_params = selection.time_condition("shadow")
    cond = f"model = ? AND {time_sql}"
    params_one = [selection.model, *time_params]
    pairs = (
        f"SELECT c.score AS sc, s.score AS ss, c.label AS label "
        f"FROM (SELECT request_id, score, label FROM traces WHERE {cond} AND arm = 'control' "
        f"AND version = ? AND score IS NOT NULL) c "
        f"JOIN (SELECT request_id, score FROM traces WHERE {cond} AND arm = 'shadow' "
        f"AND version = ? AND score IS NOT NULL) s USING (request_id)"
    )
    params = [*params_one, selection.baseline, *params_one, selection.candidate]
    t = plan.decision_threshold
    sql = (
        f"SELECT bc, bs, label, dc, ds, GROUPING_ID(bc, bs, label, dc, ds) AS gid, "
        f"count(*), fsum(ss - sc), fsum((ss - sc) * (ss - sc)) "
        f"FROM (SELECT *, {_bin_sql('sc', plan.paired_n_bins)} AS bc, "
        f"{_bin_sql('ss', plan.paired_n_bins)} AS bs, "
        f"sc >= {t!r} AS dc, ss >= {t!r} AS ds FROM ({pairs})) "
        f"GROUP BY GROUPING SETS ((bc, bs, label), (dc, ds), ())"
    )
    agreement = np.zeros((2, 2), np.int64)
    n_pairs, s1, s2 = 0, 0.0, 0.0
    joint: list[tuple[int, int, int, int]] = []
    for bcv, bsv, label, dc, ds, gid, n, sd, sq in con.execute(sql, params).fetchall():
        if gid == 0b00011:  # (bc, bs, label)
            if label is not None:
                joint.append((int(bcv), int(bsv), int(bool(label)), int(n)))
        elif gid == 0b11100:  # (dc, ds)
            agreement[int(dc), int(ds)] += int(n)
        else:  # grand total
            n_pairs, s1, s2 = int(n), float(sd or 0.0), float(sq or 0.0)
    arr = np.array(joint, dtype=np.int64).reshape(-1, 4)
    return PairedSummary(
        n_pairs=n_pairs,
        agreement=agreement,
        sum_diff=s1,
        sum_sq_diff=s2,
        bin_control=arr[:, 0],
        bin_candidate=arr[:, 1],
        label=arr[:, 2].astype(bool),
        count=arr[:, 3],
    )
