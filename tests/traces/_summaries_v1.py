"""Frozen copy of canarykit.traces.summaries before issue 15 (GROUPING SETS pass): the reference
the new passes are compared with, field by field (tests/traces/test_summaries_reference.py).

Original module docstring follows.

Sufficient statistics for every check, computed in DuckDB in a few passes (no per-row Python).

The tea-tasting pattern: the database aggregates, Python does statistics on the aggregates.
One evaluation reads the selected window in these passes:

1. per arm: counts, errors, latency/score/label coverage, time range and an order-independent
   data digest (sum and xor of DuckDB ``hash()`` over the rows' columns);
2. one ``GROUPING SETS`` pass: latency bucket counts (DDSketch keys, relative accuracy 1 %),
   score histograms per (arm, label) on ``n_bins`` equal bins, and confusion counts per
   (arm, label, decision, sensitive features) for every feature set the policy names;
3. exact order statistics at the ranks the quantile confidence sequences ask for: the bucket
   counts of pass 2 locate each rank's bucket, and only the values of those buckets leave
   DuckDB (sorted in numpy); an arm whose needed buckets are very large is read with
   ``quantile_disc`` instead;
4. shadow mode only: the paired table (a join on ``request_id``) with the joint score-bin
   table, the 2×2 decision agreement table and the paired score-difference sums.

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
    # The one intended difference, patched into this frozen copy too: a row without a score
    # has no bin (the old LEAST put it in the top bin, since DuckDB's LEAST ignores NULL).
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" ELSE LEAST(CAST(floor({column} * {n_bins}) AS INTEGER), {n_bins - 1}) END"
    )


def summarize(store: TraceStore, selection: Selection, plan: SummaryPlan) -> Summaries:
    """Compute the sufficient statistics of ``selection`` (see the module docstring)."""
    con = store.connection
    where, params = selection.where()
    arms = {"control": "control", selection.candidate_arm: "candidate"}
    present = {str(r[0]) for r in con.execute("DESCRIBE traces").fetchall()}
    missing = sorted({f for fs in plan.feature_sets for f in fs} - present)
    if missing:  # a policy's sensitive feature the traces do not carry: its checks skip
        plan = replace(
            plan, feature_sets=tuple(fs for fs in plan.feature_sets if not set(fs) & set(missing))
        )
    base = _arm_pass(con, where, params, arms, plan)
    grouped = _grouping_pass(con, where, params, arms, plan)
    for role in arms.values():
        base[role].update(grouped.get(role, {}))
    if plan.ranks_for is not None:
        wanted = plan.ranks_for(base["control"]["n_latency"], base["candidate"]["n_latency"])
        for (arm, role), ranks in zip(arms.items(), wanted, strict=True):
            ranks_arr = np.asarray(sorted(set(int(r) for r in ranks)), dtype=np.int64)
            base[role]["latency_ranks"] = ranks_arr
            base[role]["latency_values"] = _order_statistics(
                con, where, params, arm, ranks_arr, base[role].get("latency_buckets", {})
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


def _arm_pass(
    con: duckdb.DuckDBPyConnection,
    where: str,
    params: list[Any],
    arms: dict[str, str],
    plan: SummaryPlan,
) -> dict[str, Any]:
    columns = list(DIGEST_COLUMNS) + sorted({f for fs in plan.feature_sets for f in fs})
    hashed = f"hash({', '.join(quote_ident(c) for c in columns)})"
    try:
        rows = con.execute(
            f"SELECT arm, count(*), count(*) FILTER (WHERE error), count(latency_ms), count(score), "
            f"count(*) FILTER (WHERE score IS NOT NULL AND label IS NOT NULL), min(ts), max(ts), "
            f"sum(CAST({hashed} AS HUGEINT)), bit_xor({hashed}) "
            f"FROM traces WHERE {where} GROUP BY arm",
            params,
        ).fetchall()
    except duckdb.BinderException as err:
        raise InvalidInputError(f"traces: {str(err).splitlines()[0]}") from None
    out: dict[str, Any] = {role: {} for role in arms.values()}
    digest = []
    for arm, n, errors, n_lat, scored, labelled, start, end, hsum, hxor in sorted(rows):
        out[arms[arm]] = {
            "n": int(n),
            "errors": int(errors),
            "n_latency": int(n_lat),
            "scored": int(scored),
            "labelled": int(labelled),
            "start": start,
            "end": end,
        }
        digest.append(f"{arm}:{n}:{hsum}:{hxor}")
    for role in arms.values():
        out[role].setdefault("n", 0)
        out[role].setdefault("n_latency", 0)
    out["_digest"] = digest
    return out


def _digest(parts: list[str]) -> str:
    text = "canarykit.data/1 duckdb-hash\n" + "\n".join(sorted(parts))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _grouping_pass(
    con: duckdb.DuckDBPyConnection,
    where: str,
    params: list[Any],
    arms: dict[str, str],
    plan: SummaryPlan,
) -> dict[str, dict[str, Any]]:
    features = sorted({f for fs in plan.feature_sets for f in fs})
    feature_cols = ", ".join(
        f"CAST({quote_ident(f)} AS VARCHAR) AS {quote_ident('f_' + f)}" for f in features
    )
    sets = ["(arm, k)", "(arm, label, b)"]
    sets += [
        "(arm, label, d, " + ", ".join(quote_ident("f_" + f) for f in fs) + ")"
        for fs in plan.feature_sets
    ]
    select_features = (", " + feature_cols) if features else ""
    # GROUPING_ID may only name columns that some grouping set uses
    gid_names = ["k", "b"] + (["d", *features] if plan.feature_sets else [])
    gid_cols = ", ".join(
        ["k", "b"]
        + (["d", *[quote_ident("f_" + f) for f in features]] if plan.feature_sets else [])
    )
    d_col = "d" if plan.feature_sets else "NULL AS d"
    sql = (
        f"SELECT arm, k, label, b, {d_col}{''.join(', ' + quote_ident('f_' + f) for f in features)}, "
        f"GROUPING_ID({gid_cols}) AS gid, count(latency_ms) AS n_lat, count(*) AS n "
        f"FROM (SELECT arm, latency_ms, label, {_latency_key_sql()} AS k, "
        f"{_bin_sql('score', plan.n_bins)} AS b, score >= {plan.decision_threshold!r} AS d"
        f"{select_features} FROM traces WHERE {where}) "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    try:
        cols = con.execute(sql, params).fetchnumpy()
    except duckdb.BinderException as err:
        raise InvalidInputError(
            f"traces: {str(err).splitlines()[0]} (policy sensitive features "
            "must be columns of the traces)"
        ) from None
    out: dict[str, dict[str, Any]] = {
        role: {
            "latency_buckets": {},
            "positives": np.zeros(plan.n_bins, np.int64),
            "negatives": np.zeros(plan.n_bins, np.int64),
            "scores": np.zeros(plan.n_bins, np.int64),
            "confusion": {
                fs: {"groups": [], "label": [], "decision": [], "count": []}
                for fs in plan.feature_sets
            },
        }
        for role in arms.values()
    }
    arm_col = np.asarray(cols["arm"]).astype(str)
    gid_col = np.asarray(cols["gid"], dtype=np.int64)
    n_col = np.asarray(cols["n"], dtype=np.int64)
    n_lat_col = np.asarray(cols["n_lat"], dtype=np.int64)
    # GROUPING_ID bit order: the first of gid_names is the most significant bit
    width = len(gid_names)
    for gid in np.unique(gid_col):
        grouped = {
            name for i, name in enumerate(gid_names) if not (int(gid) >> (width - 1 - i)) & 1
        }
        rows = gid_col == gid
        for arm, role in arms.items():
            sel = rows & (arm_col == arm)
            if not sel.any():
                continue
            target = out[role]
            if grouped == {"k"}:
                k, valid = _column(cols["k"], sel)
                counts = n_lat_col[sel]
                keep = valid & (counts > 0)
                target["latency_buckets"] = {
                    int(a): int(b) for a, b in zip(k[keep], counts[keep], strict=True)
                }
            elif grouped == {"b"}:
                b, b_valid = _column(cols["b"], sel)
                label, l_valid = _column(cols["label"], sel)
                counts = n_col[sel]
                b_idx = b[b_valid].astype(np.int64)
                np.add.at(target["scores"], b_idx, counts[b_valid])
                pos = b_valid & l_valid & label.astype(bool)
                neg = b_valid & l_valid & ~label.astype(bool)
                np.add.at(target["positives"], b[pos].astype(np.int64), counts[pos])
                np.add.at(target["negatives"], b[neg].astype(np.int64), counts[neg])
            else:
                _confusion_rows(target, cols, sel, grouped, features, plan, n_col)
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


def _confusion_rows(
    target: dict[str, Any],
    cols: dict[str, Any],
    sel: npt.NDArray[np.bool_],
    grouped: set[str],
    features: list[str],
    plan: SummaryPlan,
    n_col: npt.NDArray[np.int64],
) -> None:
    key = {f for f in features if f in grouped}
    for fs in plan.feature_sets:
        if set(fs) != key:
            continue
        d, d_valid = _column(cols["d"], sel)
        label, l_valid = _column(cols["label"], sel)
        feats = {f: np.ma.getdata(cols["f_" + f])[sel] for f in fs}
        counts = n_col[sel]
        entry = target["confusion"][fs]
        for i in np.flatnonzero(d_valid & l_valid):
            entry["groups"].append(tuple(_text(feats[f][i]) for f in fs))
            entry["label"].append(bool(label[i]))
            entry["decision"].append(bool(d[i]))
            entry["count"].append(int(counts[i]))


def _text(value: Any) -> str | None:
    return None if value is None or value is np.ma.masked else str(value)


def _order_statistics(
    con: duckdb.DuckDBPyConnection,
    where: str,
    params: list[Any],
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
    arm_where = f"{where} AND arm = ?"
    arm_params = [*params, arm]
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
        f"FROM traces WHERE {arm_where}) WHERE k IN ({', '.join(str(int(k)) for k in needed)}) "
        f"GROUP BY k",
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
