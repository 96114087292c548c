"""Latency simulations for :mod:`canarykit.stats.simulation` (quantile CS, ratio, A/B test).

Latency samples are drawn once per rollout (vectorised over rollouts) and sorted at each look;
the checks read only the order statistics their rank requests ask for.

Examples
--------
>>> row = p95_slo_false_stops(n_rollouts=200, seed=1)
>>> row.anytime <= 0.05 < row.naive_every_look
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from canarykit.stats.fixed_horizon import quantile_ci_ranks
from canarykit.stats.quantile_ab import arm_log_mixture, quantile_ab_arm
from canarykit.stats.quantiles import (
    DEFAULT_T_OPT,
    _estimate_rank,
    quantile_cs_ranks,
    quantile_ratio_rank_requests,
)

__all__ = [
    "DetectionRow",
    "FalseStopRow",
    "ab_log_min",
    "detection",
    "latency_false_stops",
    "latency_power",
    "p95_slo_false_stops",
]

ALPHA = 0.05
LOOKS = 100
Z975 = float(stats.norm.isf(0.025))
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, kw_only=True)
class FalseStopRow:
    """False-STOP rates of one gating test and its naive fixed-horizon counterpart."""

    test: str
    anytime: float
    naive_every_look: float
    naive_final_look: float
    n_rollouts: int
    looks: int

    @staticmethod
    def se(rate: float, n: int) -> float:
        """Binomial standard error of a Monte-Carlo rate (floored at one event)."""
        return math.sqrt(max(rate, 1.0 / n) * (1.0 - min(rate, 0.5)) / n)

    @property
    def valid(self) -> bool:
        """Anytime-valid rate ≤ α within 3 standard errors."""
        return self.anytime <= ALPHA + 3.0 * self.se(ALPHA, self.n_rollouts)

    @property
    def inflated(self) -> bool:
        """The naive re-run test exceeds its single-look rate by more than 3 standard errors."""
        se = self.se(self.naive_final_look, self.n_rollouts) + self.se(
            self.naive_every_look, self.n_rollouts
        )
        return self.naive_every_look > self.naive_final_look + 3.0 * se


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionRow:
    """Power by the last look and median time to detection of one test in one scenario."""

    test: str
    scenario: str
    power: float
    median_detect: float
    unit: str
    n_rollouts: int


def _first_true(stop: BoolArray) -> npt.NDArray[np.int64]:
    """Index of the first look with a STOP per rollout (−1 if never)."""
    any_stop = stop.any(axis=1)
    return np.where(any_stop, stop.argmax(axis=1), -1).astype(np.int64)


def detection(
    stop: BoolArray, test: str, scenario: str, per_look: float, unit: str
) -> DetectionRow:
    first = _first_true(stop)
    hit = first >= 0
    med = float(np.median((first[hit] + 1) * per_look)) if hit.any() else math.nan
    return DetectionRow(
        test=test,
        scenario=scenario,
        power=float(hit.mean()),
        median_detect=med,
        unit=unit,
        n_rollouts=stop.shape[0],
    )


def p95_slo_false_stops(
    *,
    n_rollouts: int,
    looks: int = LOOKS,
    per_look: int = 100,
    p: float = 0.95,
    t_opt: float = DEFAULT_T_OPT,
    seed: int = 2026,
) -> FalseStopRow:
    """False STOPs of the quantile-CS SLO check when the true p-quantile equals the SLO.

    Only ``#{X ≤ SLO}`` matters for continuous data (``X_(r) > SLO ⟺ #{X ≤ SLO} < r``), so
    the count is simulated exactly as a Binomial(n, p) path.
    """
    rng = np.random.default_rng(seed)
    below = np.cumsum(rng.binomial(per_look, p, size=(n_rollouts, looks)), axis=1)
    ns = per_look * np.arange(1, looks + 1)
    lo_cs = np.array([quantile_cs_ranks(int(n), p, t_opt=t_opt)[0] for n in ns])
    lo_fh = np.array([quantile_ci_ranks(int(n), p)[0] for n in ns])
    anytime = (below < lo_cs) & (lo_cs >= 1)
    naive = (below < lo_fh) & (lo_fh >= 1)
    return FalseStopRow(
        test=f"latency_p{round(p * 100)}: quantile CS L > SLO (p{round(p * 100)} = SLO)",
        anytime=float(anytime.any(axis=1).mean()),
        naive_every_look=float(naive.any(axis=1).mean()),
        naive_final_look=float(naive[:, -1].mean()),
        n_rollouts=n_rollouts,
        looks=looks,
    )


def _control_quantile(u: FloatArray) -> FloatArray:
    return np.asarray(50.0 * np.exp(0.5 * special.ndtri(u)))


def _candidate_quantile(u: FloatArray, scenario: str) -> FloatArray:
    q = _control_quantile(u)
    if scenario == "aa":
        return q
    if scenario == "shift":
        return 1.10 * q
    if scenario == "tail":
        return np.where(u > 0.97, 1.3 * q, q)
    raise ValueError(f"unknown scenario {scenario!r}")


def ab_log_min(
    vals_a: FloatArray,
    ranks_a: npt.NDArray[np.int64],
    n_a: int,
    vals_b: FloatArray,
    ranks_b: npt.NDArray[np.int64],
    n_b: int,
    p: float,
    t_opt: float,
    alpha_opt: float = 0.05,
) -> FloatArray:
    """Vectorised (over rollouts) ``min_x [G_a(x) + G_b(x)]`` of the quantile A/B test.

    Same statistic as :func:`canarykit.stats.quantiles.quantile_ab_p_value` on the given order
    statistics, for data without ties (continuous simulations). Rows of ``vals_*`` are rollouts.
    """
    r = vals_a.shape[0]
    ka = vals_a.shape[1]
    merged = np.concatenate((vals_a, vals_b), axis=1)
    order = np.argsort(merged, axis=1, kind="stable")
    is_a = (order < ka).astype(np.int64)
    cum_a = np.cumsum(is_a, axis=1)
    cum_b = np.cumsum(1 - is_a, axis=1)
    zeros = np.zeros((r, 1), dtype=np.int64)
    # known values ≤ x: at data points (lt excludes the point itself) and at midpoints/ends
    le_a = np.concatenate((zeros, cum_a), axis=1)
    le_b = np.concatenate((zeros, cum_b), axis=1)
    lt_a = np.concatenate((cum_a - is_a, le_a), axis=1)
    lt_b = np.concatenate((cum_b - (1 - is_a), le_b), axis=1)
    le_a = np.concatenate((cum_a, le_a), axis=1)
    le_b = np.concatenate((cum_b, le_b), axis=1)
    total = np.zeros(lt_a.shape)
    for lt, le, ranks, n in ((lt_a, le_a, ranks_a, n_a), (lt_b, le_b, ranks_b, n_b)):
        c_star, f_min = quantile_ab_arm(n, p, t_opt, alpha_opt)
        table = arm_log_mixture(np.arange(n + 1, dtype=float), n, p, t_opt, alpha_opt)
        ext = np.concatenate(([0], ranks, [n + 1]))
        lo = ext[lt]
        hi = ext[le + 1] - 1
        g = np.where(lo > c_star, table[np.minimum(lo, n)], f_min)
        g = np.where(hi < c_star, table[np.maximum(hi, 0)], g)
        total += g
    return np.asarray(total.min(axis=1))


class _SortedPrefix:
    """Sorted uniforms of every rollout, grown by one batch per look with an O(n) merge.

    Rows are kept in one flat sorted array by adding the row index to each uniform, so a single
    ``searchsorted`` + ``insert`` merges a whole batch; order statistics of any continuous
    distribution follow by applying its quantile function at the requested ranks.
    """

    def __init__(self, n_rows: int, quantile: Callable[[FloatArray], FloatArray]) -> None:
        self.quantile = quantile
        self.rows = n_rows
        self.offset = np.arange(n_rows, dtype=float)[:, None]
        self.flat = np.zeros(0)
        self.n = 0

    def add(self, batch: FloatArray) -> None:
        new = (np.sort(np.minimum(batch, 1.0 - 1e-12), axis=1) + self.offset).ravel()
        self.flat = np.insert(self.flat, np.searchsorted(self.flat, new), new)
        self.n += batch.shape[1]

    def at(self, ranks: npt.ArrayLike) -> FloatArray:
        """Uniform order statistics (rows × ranks) at 1-based ``ranks``."""
        r = np.asarray(ranks, dtype=np.int64)
        return np.asarray(self.flat.reshape(self.rows, self.n)[:, r - 1] - self.offset)

    def __call__(self, ranks: npt.ArrayLike) -> FloatArray:
        """Order statistics of the simulated latencies (rows × ranks) at 1-based ``ranks``."""
        return self.quantile(self.at(ranks))


def _latency_stops(
    n_rollouts: int,
    scenario: str,
    *,
    looks: int,
    per_look: int,
    margin: float,
    slo: float,
    t_opt: float,
    seed: int,
    chunk: int = 250,
) -> dict[str, BoolArray]:
    """STOP indicators (rollouts × looks) of every latency check in one scenario."""
    rng = np.random.default_rng(seed)
    names = ["ratio99", "naive_ratio99", "ab99", "ab95", "naive_ab99", "naive_ab95", "slo95"]
    out = {k: np.zeros((n_rollouts, looks), dtype=bool) for k in names}
    half = 1.0 - ALPHA / 2.0
    for start in range(0, n_rollouts, chunk):
        rows = slice(start, min(n_rollouts, start + chunk))
        size = (rows.stop - rows.start, looks * per_look)
        u_c, u_t = rng.random(size), rng.random(size)
        xc = _SortedPrefix(size[0], _control_quantile)
        xt = _SortedPrefix(size[0], partial(_candidate_quantile, scenario=scenario))

        for j in range(looks):
            n = (j + 1) * per_look
            xc.add(u_c[:, n - per_look : n])
            xt.add(u_t[:, n - per_look : n])
            # ratio CS of p99 (Bonferroni over arms)
            lo, hi = quantile_cs_ranks(n, 0.99, confidence_level=half, t_opt=t_opt)
            if lo >= 1 and hi <= n:
                out["ratio99"][rows, j] = xt([lo])[:, 0] / xc([hi])[:, 0] > margin
            # naive: fixed-horizon MOVER on log latencies (difference of log quantiles),
            # re-run at every look: ratio check (p99) and equality test (p99, p95)
            for p, key in ((0.99, "99"), (0.95, "95")):
                flo, fhi = quantile_ci_ranks(n, p)
                if flo < 1 or fhi > n:
                    continue
                e = _estimate_rank(n, p)
                lc, qc, uc = np.log(xc([flo, e, fhi])).T
                lt, qt, ut = np.log(xt([flo, e, fhi])).T
                d = qt - qc
                lower = d - np.sqrt((qt - lt) ** 2 + (uc - qc) ** 2)
                upper = d + np.sqrt((ut - qt) ** 2 + (qc - lc) ** 2)
                if key == "99":
                    out["naive_ratio99"][rows, j] = lower > math.log(margin)
                out["naive_ab" + key][rows, j] = (lower > 0) | (upper < 0)
            # sequential two-sample tests on the storage layer's rank grid
            for p, key in ((0.99, "ab99"), (0.95, "ab95")):
                rq_c, rq_t = quantile_ratio_rank_requests(n, n, p, t_opt=t_opt)
                ra = np.asarray(rq_c.ranks, dtype=np.int64)
                rb = np.asarray(rq_t.ranks, dtype=np.int64)
                m = ab_log_min(xc(ra), ra, n, xt(rb), rb, n, p, t_opt)
                out[key][rows, j] = m >= math.log(1.0 / ALPHA)
            # absolute p95 SLO on the candidate
            lo95, _ = quantile_cs_ranks(n, 0.95, t_opt=t_opt)
            if lo95 >= 1:
                out["slo95"][rows, j] = xt([lo95])[:, 0] > slo
    return out


def latency_false_stops(
    *,
    n_rollouts: int,
    looks: int = LOOKS,
    per_look: int = 100,
    margin: float = 1.10,
    t_opt: float = DEFAULT_T_OPT,
    seed: int = 2026,
) -> list[FalseStopRow]:
    """A/A false alarms of the quantile A/B test and false STOPs of the p99 ratio at its margin.

    The ratio check's least-favourable null is a candidate exactly ``margin`` × control at every
    quantile (the "+10 % shift" scenario); the A/B test's null is A/A.
    """
    aa = _latency_stops(
        n_rollouts,
        "aa",
        looks=looks,
        per_look=per_look,
        margin=margin,
        slo=120.0,
        t_opt=t_opt,
        seed=seed,
    )
    at_margin = _latency_stops(
        n_rollouts,
        "shift",
        looks=looks,
        per_look=per_look,
        margin=margin,
        slo=120.0,
        t_opt=t_opt,
        seed=seed + 1,
    )

    def row(test: str, anytime: BoolArray, naive: BoolArray) -> FalseStopRow:
        return FalseStopRow(
            test=test,
            anytime=float(anytime.any(axis=1).mean()),
            naive_every_look=float(naive.any(axis=1).mean()),
            naive_final_look=float(naive[:, -1].mean()),
            n_rollouts=n_rollouts,
            looks=looks,
        )

    return [
        row(
            f"latency_p99: ratio CS L > {margin:g} (candidate = {margin:g} × control)",
            at_margin["ratio99"],
            at_margin["naive_ratio99"],
        ),
        row("latency_p99: quantile A/B test p ≤ α (A/A)", aa["ab99"], aa["naive_ab99"]),
        row("latency_p95: quantile A/B test p ≤ α (A/A)", aa["ab95"], aa["naive_ab95"]),
    ]


def latency_power(
    *,
    n_rollouts: int,
    looks: int = LOOKS,
    per_look: int = 100,
    t_opt: float = DEFAULT_T_OPT,
    seed: int = 2026,
) -> list[DetectionRow]:
    """Power and median requests per arm to detection: +10 % shift and a p99-only regression."""
    rows = []
    unit = "requests per arm"
    for scenario, label in (("shift", "latency +10 % (all quantiles)"), ("tail", "p99 +30 %")):
        s = _latency_stops(
            n_rollouts,
            scenario,
            looks=looks,
            per_look=per_look,
            margin=1.10,
            slo=120.0,
            t_opt=t_opt,
            seed=seed + 7,
        )
        rows += [
            detection(s["ab95"], "quantile A/B test p95, p ≤ α", label, per_look, unit),
            detection(s["ab99"], "quantile A/B test p99, p ≤ α", label, per_look, unit),
            detection(s["slo95"], "p95 CS L > 120 ms (STOP)", label, per_look, unit),
            detection(s["ratio99"], "p99 ratio CS L > 1.10 (STOP)", label, per_look, unit),
        ]
    return rows
