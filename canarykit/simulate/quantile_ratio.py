"""Validation of the direct quantile-ratio test (:mod:`canarykit.stats.quantile_ratio`).

Latencies are lognormal (σ = 0.5) rounded to 0.1 ms, so ties are everywhere. The control's p99
is 64.0 ms; a candidate "at ratio ρ" is ρ × the control before rounding, so with ρ = 1.10 its
p99 is exactly 70.4 ms = 1.10 × 64.0 ms (both on the 0.1 ms grid): the least favourable null of
both the pass test and the fail test at the threshold 1.10.

Because the data are discrete, each arm's sample at a look is its vector of counts per 0.1 ms
bin, grown by one multinomial batch per look; any order statistic is read off the cumulative
counts. Each look hands the checks exactly the ranks of their rank requests, as the store would.
The top bin collects the mass above the 1 − 10⁻⁹ quantile of the slower arm (a monotone cap of
both arms that leaves every p99 unchanged).

Examples
--------
>>> d = look_decisions(ratio=1.10, n_paths=40, n_control=4_000, n_candidate=1_000, seed=3)
>>> d.true_ratio, d.pass_rate <= 0.05 + 3 * d.se(0.05), d.fail_rate <= 0.003 + 3 * d.se(0.003)
(1.1, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from canarykit.stats.count_mixtures import mixture_tuning
from canarykit.stats.order_statistics import OrderStatistics
from canarykit.stats.quantile_ratio import (
    _arm,
    _t_fail,
    _t_pass,
    quantile_ratio_cs,
    quantile_ratio_rank_requests,
)
from canarykit.stats.quantiles import quantile_cs_ranks

__all__ = [
    "IntervalPaths",
    "LatencyArms",
    "LookDecisions",
    "interval_paths",
    "look_decisions",
    "validation_sections",
]

P = 0.99
SIGMA = 0.5
CONTROL_P99 = 64.0
RESOLUTION = 0.1
THRESHOLD = 1.10
ALPHA_PASS = 0.05
ALPHA_FAIL = 0.003
LOOKS = 20
STEP_MINUTES = 30.0

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _se(rate: float, n: int) -> float:
    """Binomial standard error of a Monte-Carlo rate (floored at one event)."""
    return math.sqrt(max(rate, 1.0 / n) * (1.0 - min(rate, 0.5)) / n)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class LatencyArms:
    """Bin probabilities of control and candidate latencies on a shared 0.1 ms grid.

    Attributes
    ----------
    ratio : float
        Candidate = ratio × control before rounding.
    grid : ndarray
        Latency of each bin (``k·0.1`` ms).
    pmf_control, pmf_candidate : ndarray
        Probabilities per bin.
    """

    ratio: float
    grid: FloatArray
    pmf_control: FloatArray
    pmf_candidate: FloatArray

    @classmethod
    def lognormal(cls, ratio: float) -> LatencyArms:
        """Lognormal(σ = 0.5) control with p99 = 64.0 ms and a candidate scaled by ``ratio``."""
        z99 = float(special.ndtri(P))
        log_median = math.log(CONTROL_P99) - SIGMA * z99
        top = math.exp(log_median + math.log(max(ratio, 1.0)) + SIGMA * 6.0)
        k = np.arange(0, math.ceil(top / RESOLUTION) + 1, dtype=float)
        grid = k / 10.0  # k·0.1 ms, rounded exactly as the decimal value

        def pmf(scale: float) -> FloatArray:
            edges = (k[1:] - 0.5) / 10.0
            cdf = special.ndtr((np.log(edges) - log_median - math.log(scale)) / SIGMA)
            cdf = np.concatenate((cdf, [1.0]))  # the top bin collects the rest
            return np.asarray(np.diff(np.concatenate(([0.0], cdf))))

        return cls(ratio=ratio, grid=grid, pmf_control=pmf(1.0), pmf_candidate=pmf(ratio))

    def true_quantile(self, arm: str) -> float:
        """Inverted-CDF p99 of one arm (``"control"`` or ``"candidate"``)."""
        pmf = self.pmf_control if arm == "control" else self.pmf_candidate
        return float(self.grid[np.searchsorted(np.cumsum(pmf), P, side="left")])


def _values_at(cum: IntArray, grid: FloatArray, n: int, ranks: tuple[int, ...]) -> FloatArray:
    """Order statistics (paths × ranks) at 1-based ``ranks`` from cumulative bin counts."""
    rows, bins = cum.shape
    offset = (np.arange(rows, dtype=np.int64) * (n + 1))[:, None]
    r = np.asarray(ranks, dtype=np.int64)
    idx = np.searchsorted((cum + offset).ravel(), (r[None, :] + offset).ravel(), side="left")
    idx = idx.reshape(rows, r.size) - (np.arange(rows) * bins)[:, None]
    return np.asarray(grid[idx])


def _order_statistics(
    cum: IntArray, grid: FloatArray, n: int, ranks: tuple[int, ...]
) -> list[OrderStatistics]:
    """One :class:`OrderStatistics` per path with the values at ``ranks``."""
    r = np.asarray(ranks, dtype=np.int64)
    return [OrderStatistics(n=n, ranks=r, values=v) for v in _values_at(cum, grid, n, ranks)]


def _paths(
    arms: LatencyArms,
    *,
    n_paths: int,
    n_control: int,
    n_candidate: int,
    looks: int,
    fixed_control: bool,
    seed: int,
    chunk: int = 100,
) -> Iterator[tuple[int, int, IntArray, IntArray]]:
    """Yield ``(first_path, look, cum_control, cum_candidate)`` chunk by chunk.

    ``cum_*`` are the cumulative bin counts (paths × bins) of each arm at the look: arms grow
    linearly to their final sizes over ``looks`` looks; with ``fixed_control`` the whole
    control sample exists from the first look (a historical control window).
    """
    rng = np.random.default_rng(seed)
    for start in range(0, n_paths, chunk):
        rows = min(chunk, n_paths - start)
        counts_c = np.zeros((rows, arms.grid.size), dtype=np.int64)
        counts_t = np.zeros((rows, arms.grid.size), dtype=np.int64)
        n_c = n_t = 0
        for j in range(looks):
            target_c = n_control if fixed_control else round(n_control * (j + 1) / looks)
            target_t = round(n_candidate * (j + 1) / looks)
            if target_c > n_c:
                counts_c += rng.multinomial(target_c - n_c, arms.pmf_control, size=rows)
                n_c = target_c
            if target_t > n_t:
                counts_t += rng.multinomial(target_t - n_t, arms.pmf_candidate, size=rows)
                n_t = target_t
            yield start, j, np.cumsum(counts_c, axis=1), np.cumsum(counts_t, axis=1)


def _requested(
    arms: LatencyArms, cum_c: IntArray, cum_t: IntArray, n_control: int, n_candidate: int
) -> tuple[list[OrderStatistics], list[OrderStatistics]]:
    """Each path's order statistics at the ranks of :func:`quantile_ratio_rank_requests`."""
    n_c, n_t = int(cum_c[0, -1]), int(cum_t[0, -1])
    req_c, req_t = quantile_ratio_rank_requests(
        n_c,
        n_t,
        P,
        alpha_pass=ALPHA_PASS,
        alpha_fail=ALPHA_FAIL,
        t_opt_control=n_control,
        t_opt_candidate=n_candidate,
    )
    return (
        _order_statistics(cum_c, arms.grid, n_c, req_c.ranks),
        _order_statistics(cum_t, arms.grid, n_t, req_t.ranks),
    )


# --------------------------------------------------------------------------- experiments


@dataclass(frozen=True, slots=True, kw_only=True)
class LookDecisions:
    """First look (0-based, ``-1`` = never) at which the new test passes / fails the threshold.

    From ``T_pass``/``T_fail`` at the threshold at every look, which is exactly
    ``decide(1.10, bound="max")`` on the running intersection of ``[L, U]``.
    """

    ratio: float
    true_ratio: float
    n_paths: int
    n_control: int
    n_candidate: int
    looks: int
    fixed_control: bool
    first_pass: IntArray
    first_fail: IntArray

    @property
    def pass_rate(self) -> float:
        """Fraction of paths that pass by the last look."""
        return float((self.first_pass >= 0).mean())

    @property
    def fail_rate(self) -> float:
        """Fraction of paths that fail by the last look."""
        return float((self.first_fail >= 0).mean())

    @property
    def either_rate(self) -> float:
        """Fraction of paths with any decision by the last look."""
        return float(((self.first_pass >= 0) | (self.first_fail >= 0)).mean())

    def se(self, rate: float) -> float:
        """Monte-Carlo standard error of a rate over these paths."""
        return _se(rate, self.n_paths)

    def median_minutes(self, which: str) -> float:
        """Median minutes to ``"pass"`` or ``"fail"`` among the paths that reach it."""
        first = self.first_pass if which == "pass" else self.first_fail
        return _median_minutes(first, self.looks)


def _median_minutes(first: IntArray, looks: int) -> float:
    hit = first[first >= 0]
    if hit.size == 0:
        return math.nan
    return float(np.median((hit + 1) * STEP_MINUTES / looks))


def look_decisions(
    *,
    ratio: float,
    n_paths: int,
    n_control: int,
    n_candidate: int,
    looks: int = LOOKS,
    fixed_control: bool = False,
    seed: int = 2026,
) -> LookDecisions:
    """Pass/fail looks of the new test at 1.10 with the candidate at ``ratio`` × control.

    Arms grow linearly to ``n_control``/``n_candidate`` over ``looks`` looks (30 minutes), the
    mixtures are tuned at those final sizes; with ``fixed_control`` the control is a fixed
    sample of ``n_control`` recorded before the window.
    """
    arms = LatencyArms.lognormal(ratio)
    first_pass = np.full(n_paths, -1, dtype=np.int64)
    first_fail = np.full(n_paths, -1, dtype=np.int64)
    lvl_p, lvl_f = math.log(1.0 / ALPHA_PASS), math.log(1.0 / ALPHA_FAIL)
    tune_c, tune_t = mixture_tuning(ALPHA_PASS, ALPHA_FAIL, n_control, n_candidate)
    for start, j, cum_c, cum_t in _paths(
        arms,
        n_paths=n_paths,
        n_control=n_control,
        n_candidate=n_candidate,
        looks=looks,
        fixed_control=fixed_control,
        seed=seed,
    ):
        os_c, os_t = _requested(arms, cum_c, cum_t, n_control, n_candidate)
        for i, (c, t) in enumerate(zip(os_c, os_t, strict=True)):
            k = start + i
            a_c = _arm(c, P, n_control, *tune_c)
            a_t = _arm(t, P, n_candidate, *tune_t)
            if first_pass[k] < 0 and _t_pass(a_c, a_t, THRESHOLD) >= lvl_p:
                first_pass[k] = j
            if first_fail[k] < 0 and _t_fail(a_c, a_t, THRESHOLD) >= lvl_f:
                first_fail[k] = j
    return LookDecisions(
        ratio=ratio,
        true_ratio=arms.true_quantile("candidate") / arms.true_quantile("control"),
        n_paths=n_paths,
        n_control=n_control,
        n_candidate=n_candidate,
        looks=looks,
        fixed_control=fixed_control,
        first_pass=first_pass,
        first_fail=first_fail,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class IntervalPaths:
    """Running intersections of the new ``[L, U]`` and of the old per-arm interval.

    Arrays are paths × looks; ``covered`` says whether the new running intersection holds the
    true ratio at every look of a path.
    """

    ratio: float
    true_ratio: float
    n_control: int
    n_candidate: int
    looks: int
    lower_new: FloatArray
    upper_new: FloatArray
    lower_old: FloatArray
    upper_old: FloatArray

    @property
    def covered(self) -> npt.NDArray[np.bool_]:
        """Per path: the running intersection holds the true ratio at the last look."""
        return np.asarray(
            (self.lower_new[:, -1] <= self.true_ratio) & (self.true_ratio <= self.upper_new[:, -1])
        )

    def first(self, which: str) -> IntArray:
        """First look of ``"pass_new"``, ``"fail_new"``, ``"pass_old"`` or ``"fail_old"``."""
        decision, test = which.split("_")
        bound = self.upper_new if test == "new" else self.upper_old
        if decision == "fail":
            bound = self.lower_new if test == "new" else self.lower_old
            hit = bound > THRESHOLD
        else:
            hit = bound <= THRESHOLD
        return np.where(hit.any(axis=1), hit.argmax(axis=1), -1).astype(np.int64)


def _old_bounds(
    arms: LatencyArms,
    cum_c: IntArray,
    cum_t: IntArray,
    n_control: int,
    n_candidate: int,
    alpha: float,
) -> tuple[FloatArray, FloatArray]:
    """The per-arm ratio CS ``[L_t/U_c, U_t/L_c]`` at level ``1 − α`` for every path.

    Each arm's Howard–Ramdas CS at ``1 − α/2``, tuned at its own final size: the construction
    of :func:`canarykit.stats.quantiles.quantile_ratio_test` (which takes one ``t_opt`` for
    both arms; per-arm tuning only helps it).
    """
    n_c, n_t = int(cum_c[0, -1]), int(cum_t[0, -1])
    rows = cum_c.shape[0]
    lo_c, hi_c = quantile_cs_ranks(n_c, P, confidence_level=1 - alpha / 2, t_opt=n_control)
    lo_t, hi_t = quantile_cs_ranks(n_t, P, confidence_level=1 - alpha / 2, t_opt=n_candidate)
    lower = np.zeros(rows)
    upper = np.full(rows, math.inf)
    if lo_t >= 1 and hi_c <= n_c:
        t_low = _values_at(cum_t, arms.grid, n_t, (lo_t,))[:, 0]
        lower = t_low / _values_at(cum_c, arms.grid, n_c, (hi_c,))[:, 0]
    if hi_t <= n_t and lo_c >= 1:
        c_low = _values_at(cum_c, arms.grid, n_c, (lo_c,))[:, 0]
        t_high = _values_at(cum_t, arms.grid, n_t, (hi_t,))[:, 0]
        upper = np.where(c_low > 0, t_high / np.where(c_low > 0, c_low, 1.0), math.inf)
    return lower, upper


def interval_paths(
    *,
    ratio: float,
    n_paths: int,
    n_control: int,
    n_candidate: int,
    looks: int = LOOKS,
    seed: int = 2026,
) -> IntervalPaths:
    """Run :func:`quantile_ratio_cs` and the old per-arm interval at every look of every path.

    The old interval uses ``1 − alpha_pass`` for its upper end and ``1 − alpha_fail`` for its
    lower end, the same error split as the new one.
    """
    arms = LatencyArms.lognormal(ratio)
    out = {k: np.zeros((n_paths, looks)) for k in ("ln", "un", "lo", "uo")}
    for start, j, cum_c, cum_t in _paths(
        arms,
        n_paths=n_paths,
        n_control=n_control,
        n_candidate=n_candidate,
        looks=looks,
        fixed_control=False,
        seed=seed,
    ):
        rows = slice(start, start + cum_c.shape[0])
        os_c, os_t = _requested(arms, cum_c, cum_t, n_control, n_candidate)
        for i, (c, t) in enumerate(zip(os_c, os_t, strict=True)):
            res = quantile_ratio_cs(
                c,
                t,
                P,
                alpha_pass=ALPHA_PASS,
                alpha_fail=ALPHA_FAIL,
                t_opt_control=n_control,
                t_opt_candidate=n_candidate,
                threshold=THRESHOLD,
            )
            out["ln"][start + i, j] = res.ci_low
            out["un"][start + i, j] = res.ci_high
        out["uo"][rows, j] = _old_bounds(arms, cum_c, cum_t, n_control, n_candidate, ALPHA_PASS)[1]
        out["lo"][rows, j] = _old_bounds(arms, cum_c, cum_t, n_control, n_candidate, ALPHA_FAIL)[0]
    return IntervalPaths(
        ratio=ratio,
        true_ratio=arms.true_quantile("candidate") / arms.true_quantile("control"),
        n_control=n_control,
        n_candidate=n_candidate,
        looks=looks,
        lower_new=np.maximum.accumulate(out["ln"], axis=1),
        upper_new=np.minimum.accumulate(out["un"], axis=1),
        lower_old=np.maximum.accumulate(out["lo"], axis=1),
        upper_old=np.minimum.accumulate(out["uo"], axis=1),
    )


# --------------------------------------------------------------------------- report


def _rate(rate: float, n: int) -> str:
    return f"{rate:.4f} ({_se(rate, n):.4f})"


def _ok(rate: float, alpha: float, n: int) -> str:
    return "yes" if rate <= alpha + 3.0 * _se(alpha, n) else "**NO**"


def _num(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.1f}"


def _ratio_str(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.4f}"


def _validity_section(n_paths: int, seed: int) -> str:
    settings = (
        ("5 % canary, concurrent control", 171_000, 9_000, False),
        ("50 % split, concurrent control", 9_000, 9_000, False),
        ("100 % step vs a historical control window (fixed)", 180_000, 180_000, True),
    )
    rows = []
    for i, (label, n_c, n_t, fixed) in enumerate(settings):
        d = look_decisions(
            ratio=THRESHOLD,
            n_paths=n_paths,
            n_control=n_c,
            n_candidate=n_t,
            fixed_control=fixed,
            seed=seed + i,
        )
        cover = 1.0 - d.either_rate
        rows.append(
            f"| {label} | {n_c:,} / {n_t:,} | {n_paths:,} × {LOOKS} "
            f"| {_rate(d.pass_rate, n_paths)} | {_ok(d.pass_rate, ALPHA_PASS, n_paths)} "
            f"| {_rate(d.fail_rate, n_paths)} | {_ok(d.fail_rate, ALPHA_FAIL, n_paths)} "
            f"| {cover:.4f} |\n"
        )
    return (
        f"Candidate p99 exactly {THRESHOLD:.2f} × the control's ({CONTROL_P99:.1f} ms vs "
        f"{THRESHOLD * CONTROL_P99:.1f} ms; lognormal σ = {SIGMA:g} rounded to "
        f"{RESOLUTION:g} ms, so ties everywhere): the least favourable null of both tests at the "
        f"threshold {THRESHOLD:.2f}. A false PASS is a path on which the pass test rejects at any "
        f"of {LOOKS} looks (α_pass = {ALPHA_PASS:g}), a false FAIL one on which the fail test "
        f"does (α_fail = {ALPHA_FAIL:g}); 'coverage' is the fraction of paths whose running "
        "intersection of [L, U] still holds 1.10 after the last look (no rejection at the true "
        f"ratio), nominal ≥ {1 - ALPHA_PASS - ALPHA_FAIL:.3f}. Sizes are control / candidate "
        "at the end of the 30-minute step (arms grow linearly over the looks; the historical "
        "control is complete from the first look); each arm's mixture is tuned at its final "
        "size; the checks read only the ranks of their rank requests. Seeds "
        f"{seed}, {seed + 1}, {seed + 2}.\n\n"
        "| setting | control / candidate | paths × looks | false PASS (se) | ≤ α_pass + 3 se "
        "| false FAIL (se) | ≤ α_fail + 3 se | coverage of 1.10 |\n"
        "|---|---|---|---|---|---|---|---|\n" + "".join(rows)
    )


def _interval_section(n_paths: int, seed: int) -> tuple[str, str]:
    scenarios = (
        ("identical (ratio 1.00), 5 % canary", 1.0, 171_000, 9_000),
        ("ratio 1.05, 5 % canary", 1.05, 171_000, 9_000),
        ("ratio 1.10 (= threshold), 5 % canary", THRESHOLD, 171_000, 9_000),
        ("ratio 1.30, 25 % canary", 1.3, 135_000, 45_000),
    )
    cov_rows = []
    pow_rows = []
    for i, (label, ratio, n_c, n_t) in enumerate(scenarios):
        ip = interval_paths(
            ratio=ratio, n_paths=n_paths, n_control=n_c, n_candidate=n_t, seed=seed + i
        )
        cov = float(ip.covered.mean())
        nominal = 1.0 - ALPHA_PASS - ALPHA_FAIL
        ok = "yes" if cov >= nominal - 3.0 * _se(1.0 - nominal, n_paths) else "**NO**"
        width_new = float(np.median(np.log(ip.upper_new[:, -1] / ip.lower_new[:, -1])))
        width_old = float(np.median(np.log(ip.upper_old[:, -1] / ip.lower_old[:, -1])))
        cov_rows.append(
            f"| {label} | {n_c:,} / {n_t:,} | {n_paths:,} | {cov:.4f} "
            f"({_se(1.0 - cov, n_paths):.4f}) | {ok} | {width_new:.4f} | {width_old:.4f} |\n"
        )
        for decision in ("pass", "fail"):
            new = ip.first(f"{decision}_new")
            old = ip.first(f"{decision}_old")
            end = ip.upper_new if decision == "pass" else ip.lower_new
            end_old = ip.upper_old if decision == "pass" else ip.lower_old
            pow_rows.append(
                f"| {label} | {decision.upper()} | {float((new >= 0).mean()):.3f} "
                f"| {float((old >= 0).mean()):.3f} | {_num(_median_minutes(new, LOOKS))} "
                f"| {_num(_median_minutes(old, LOOKS))} "
                f"| {_ratio_str(float(np.median(end[:, -1])))} "
                f"| {_ratio_str(float(np.median(end_old[:, -1])))} |\n"
            )
    intro = (
        f"{n_paths:,} paths per scenario, {LOOKS} looks over {STEP_MINUTES:g} minutes, "
        f"α_pass = {ALPHA_PASS:g}, α_fail = {ALPHA_FAIL:g}, seeds {seed}–{seed + 3}. 'new' is "
        "`quantile_ratio_cs` (direct two-sample test); 'old' is the per-arm construction of "
        "`quantile_ratio_test`, [L_t/U_c, U_t/L_c] from each arm's Howard–Ramdas CS at α/2 "
        "(α = α_pass for the upper end, α_fail for the lower end), each arm tuned at its own "
        "final size. Both are running intersections over the looks.\n\n"
    )
    coverage = (
        intro + "| scenario | control / candidate | paths | coverage of the true ratio (se) "
        f"| ≥ {1 - ALPHA_PASS - ALPHA_FAIL:.3f} − 3 se | median log(U/L), new "
        "| median log(U/L), old |\n|---|---|---|---|---|---|---|\n" + "".join(cov_rows)
    )
    power = (
        intro + "Decision rates are by the last look; minutes are medians among the paths that "
        "reach the decision; the bound columns give the median (over paths) of U (PASS rows) "
        "or L (FAIL rows) after the last look.\n\n"
        "| scenario | decision at 1.10 | rate, new | rate, old | median minutes, new "
        "| median minutes, old | median bound, new | median bound, old |\n"
        "|---|---|---|---|---|---|---|---|\n" + "".join(pow_rows)
    )
    return coverage, power


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """Markdown sections for ``docs/validation.md`` (see ``benchmarks/validate.py``).

    Parameters
    ----------
    scale : float, default 1
        Multiplies the number of simulated paths: 2,000 per validity setting and 200 per
        interval scenario at ``scale = 1`` (≈ 1–2 minutes).
    seed : int, default 2026
        Base seed; the output is a deterministic function of ``(scale, seed)``.

    Returns
    -------
    list of (str, str)
        ``(title, markdown)``: false PASS / FAIL at the threshold, coverage and width of the
        running intersection, power and time to decision vs the per-arm test.
    """
    n_valid = max(50, round(2000 * scale))
    n_int = max(20, round(200 * scale))
    cover, power = _interval_section(n_int, seed + 10)
    return [
        (
            "Quantile ratio, direct test: false PASS / FAIL at the threshold",
            _validity_section(n_valid, seed),
        ),
        ("Quantile ratio, direct test: coverage and width of the running intersection", cover),
        ("Quantile ratio, direct test: power and time to decision vs the per-arm test", power),
    ]
