"""The quantile-ratio validation runs: decisions and intervals at every look of every path.

:func:`look_decisions` records the first look at which the direct test
(:func:`~canarykit.stats.quantile_ratio.quantile_ratio_cs`) passes or fails the threshold
(:class:`LookDecisions`); :func:`interval_paths` keeps the running intersections of its
``[L, U]`` and of the old per-arm interval
(:func:`~canarykit.stats.quantiles.quantile_ratio_test`'s construction) (:class:`IntervalPaths`).
Both run on the seeded latency paths of :mod:`canarykit.simulate.latency_paths`. Part of
:mod:`canarykit.simulate.quantile_ratio`, which re-exports every name and turns the runs into
``docs/validation.md`` sections (its docstring has an example of :func:`look_decisions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from canarykit.simulate.latency_paths import (
    ALPHA_FAIL,
    ALPHA_PASS,
    LOOKS,
    STEP_MINUTES,
    THRESHOLD,
    FloatArray,
    IntArray,
    LatencyArms,
    P,
    _paths,
    _requested,
    _values_at,
)
from canarykit.stats.count_mixtures import mixture_tuning
from canarykit.stats.quantile_ratio import _arm, _t_fail, _t_pass, quantile_ratio_cs
from canarykit.stats.quantiles import quantile_cs_ranks

__all__ = ["IntervalPaths", "LookDecisions", "interval_paths", "look_decisions"]


def _se(rate: float, n: int) -> float:
    """Binomial standard error of a Monte-Carlo rate (floored at one event)."""
    return math.sqrt(max(rate, 1.0 / n) * (1.0 - min(rate, 0.5)) / n)


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
