"""The pass and fail statistics of the direct quantile-ratio test and their inversion.

For one arm's known order statistics, :func:`_arm` tabulates the two one-sided beta-binomial
log-mixtures ("count too small", "count too large") at the ends of every count bracket;
:func:`_t_pass` and :func:`_t_fail` evaluate ``T_pass(r)`` and ``T_fail(r)`` (minimum over ``x``
at the data's jump points, conservative for partial order statistics), and
:func:`_upper_bound` / :func:`_lower_bound` invert them into the confidence sequence's ``U``
and ``L`` by bisection on ``log r``. The derivation is in
:func:`canarykit.stats.quantile_ratio.quantile_ratio_cs`; this module is part of
:mod:`canarykit.stats.quantile_ratio`, which re-exports its names (the validation simulations of
:mod:`canarykit.simulate.quantile_ratio` call ``_arm``, ``_t_pass`` and ``_t_fail`` from there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from canarykit.stats.count_mixtures import count_log_mixture
from canarykit.stats.order_statistics import OrderStatistics

__all__ = ["RATIO_TOL"]

FloatArray = npt.NDArray[np.float64]

RATIO_TOL = 1e-9
"""Relative tolerance of the comparisons ``r·x_control`` vs ``x_candidate``, always applied in the
conservative direction (the pass test runs at ``r·(1 − tol)``, the fail test at ``r·(1 + tol)``):
a decimal threshold such as 1.10 is not a binary float and ``r·x`` is rounded, so without it a
candidate whose p99 is exactly 1.10 × the control's (latencies on a 0.1 ms grid) could land on
the wrong side of the scaled control by a rounding error of 1e-16 and be passed or failed."""

_BISECT_RTOL = 1e-10


# --------------------------------------------------------------------------- mixture tables


def _tables(
    n: int, k: FloatArray, p: float, t_opt: float, alpha_opt_low: float, alpha_opt_up: float
) -> tuple[FloatArray, FloatArray]:
    """Log-mixtures at the ends of every count bracket the known ranks ``k`` allow.

    Returns ``(low_at_hi, up_at_lo)``: the non-increasing (too-small) mixture at the bracket
    upper ends ``[k₁−1, …, k_m−1, n]`` and the non-decreasing (too-large) mixture at the lower
    ends ``[0, k₁, …, k_m]`` — the conservative end for each.
    """
    ext_hi = np.concatenate((k - 1.0, [float(n)]))
    ext_lo = np.concatenate(([0.0], k))
    return (
        count_log_mixture(ext_hi, n, p, t_opt, alpha_opt_low, upper=False),
        count_log_mixture(ext_lo, n, p, t_opt, alpha_opt_up, upper=True),
    )


@dataclass(frozen=True, slots=True)
class _Arm:
    """One arm's known order statistics and its two mixture tables."""

    n: int
    lo: FloatArray
    hi: FloatArray
    low_at_hi: FloatArray
    up_at_lo: FloatArray


@lru_cache(maxsize=256)
def _tables_cached(
    n: int, ranks: bytes, p: float, t_opt: float, alpha_opt_low: float, alpha_opt_up: float
) -> tuple[FloatArray, FloatArray]:
    k = np.frombuffer(ranks, dtype=np.int64).astype(float)
    return _tables(n, k, p, t_opt, alpha_opt_low, alpha_opt_up)


_CACHE_MAX_RANKS = 4096
"""Rank-request grids (the same ranks at every look of every check) are cached; samples are not."""


def _arm(
    os: OrderStatistics, p: float, t_opt: float, alpha_opt_low: float, alpha_opt_up: float
) -> _Arm:
    ranks = np.ascontiguousarray(os.ranks, dtype=np.int64)
    if ranks.size <= _CACHE_MAX_RANKS:
        low, up = _tables_cached(os.n, ranks.tobytes(), p, t_opt, alpha_opt_low, alpha_opt_up)
    else:
        low, up = _tables(os.n, ranks.astype(float), p, t_opt, alpha_opt_low, alpha_opt_up)
    return _Arm(
        n=os.n,
        lo=np.asarray(os.values, dtype=float),
        hi=np.asarray(os.high, dtype=float),
        low_at_hi=low,
        up_at_lo=up,
    )


# --------------------------------------------------------------------------- the two statistics


def _t_pass(c: _Arm, t: _Arm, r: float) -> float:
    """``T_pass(r) = min_x [log M⁻_c(#{r·X_c ≤ x}) + log M⁺_t(#{X_t < x})]`` (conservative).

    The control's count ``≤ x`` enters through its bracket's upper end, the candidate's strict
    count through its lower end; both are step functions of ``x`` (right- and left-continuous),
    so the minimum over all real ``x`` is attained at one of their jump points.
    """
    y = c.lo * (r * (1.0 - RATIO_TOL))
    x = np.concatenate((y, t.hi, [math.inf]))
    a = c.low_at_hi[np.searchsorted(y, x, side="right")]
    b = t.up_at_lo[np.searchsorted(t.hi, x, side="left")]
    return float(np.min(a + b))


def _t_fail(c: _Arm, t: _Arm, r: float) -> float:
    """``T_fail(r) = min_x [log M⁻_t(#{X_t ≤ x}) + log M⁺_c(#{r·X_c < x})]`` (conservative)."""
    y = c.hi * (r * (1.0 + RATIO_TOL))
    x = np.concatenate((t.lo, y, [math.inf]))
    d = t.low_at_hi[np.searchsorted(t.lo, x, side="right")]
    e = c.up_at_lo[np.searchsorted(y, x, side="left")]
    return float(np.min(d + e))


def _ratio_range(c: _Arm, t: _Arm) -> tuple[float, float] | None:
    """Ratios below/above which the order of ``r·X_c`` and ``X_t`` no longer changes."""
    pc = np.concatenate((c.lo, c.hi))
    pt = np.concatenate((t.lo, t.hi))
    pc = pc[pc > 0.0]
    pt = pt[pt > 0.0]
    if pc.size == 0 or pt.size == 0:
        return None
    return float(pt.min() / pc.max()) / 4.0, float(pt.max() / pc.min()) * 4.0


def _upper_bound(c: _Arm, t: _Arm, level: float) -> float:
    """``U = inf{r : T_pass(r) ≥ level}`` (a point where the pass test rejects; T_pass ↑ in r)."""
    rng = _ratio_range(c, t)
    if rng is None:
        return 0.0 if _t_pass(c, t, 1.0) >= level else math.inf
    lo, hi = rng
    if _t_pass(c, t, hi) < level:
        return math.inf
    if _t_pass(c, t, lo) >= level:
        return 0.0
    while hi > lo * (1.0 + _BISECT_RTOL):
        mid = math.sqrt(lo * hi)
        if _t_pass(c, t, mid) >= level:
            hi = mid
        else:
            lo = mid
    return hi


def _lower_bound(c: _Arm, t: _Arm, level: float) -> float:
    """``L = sup{r : T_fail(r) ≥ level}`` (a point where the fail test rejects; T_fail ↓ in r)."""
    rng = _ratio_range(c, t)
    if rng is None:
        return math.inf if _t_fail(c, t, 1.0) >= level else 0.0
    lo, hi = rng
    if _t_fail(c, t, lo) < level:
        return 0.0
    if _t_fail(c, t, hi) >= level:
        return math.inf
    while hi > lo * (1.0 + _BISECT_RTOL):
        mid = math.sqrt(lo * hi)
        if _t_fail(c, t, mid) >= level:
            lo = mid
        else:
            hi = mid
    return lo
