"""Sequential two-sample quantile test (Howard & Ramdas 2022, Theorem 5; confseq QuantileABTest).

Works on full samples (exact, reproduces confseq) or on the partial order statistics of a rank
request, where it returns a valid upper bound of the exact p-value.

Examples
--------
>>> import numpy as np
>>> a = np.arange(1.0, 1001.0)
>>> round(quantile_ab_p_value(a, a + 85, 0.5, t_opt=100), 5)
0.08381
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from canarykit.stats._checks import check_open_unit, check_positive
from canarykit.stats.boundaries import beta_binomial_log_mixture
from canarykit.stats.order_statistics import DEFAULT_T_OPT, OrderStatistics
from canarykit.stats.roots import brentq

__all__ = ["ab_rank_grid", "arm_log_mixture", "quantile_ab_arm", "quantile_ab_p_value"]

P_FLOOR = 1e-6
"""Rank grids make the A/B p-value exact (up to grid resolution) above this floor."""


@lru_cache(maxsize=4096)
def quantile_ab_arm(n: int, p: float, t_opt: float, alpha_opt: float) -> tuple[float, float]:
    """Minimiser ``c*`` (in counts) and minimum of the arm's log-mixture as a function of count."""

    def f(c: float) -> float:
        return arm_log_mixture(np.asarray(c), n, p, t_opt, alpha_opt).item()

    from scipy import optimize  # only here (cached per arm): 0.2 s to import

    res = optimize.minimize_scalar(
        f, bounds=(0.0, float(n)), method="bounded", options={"xatol": 1e-9 * n}
    )
    return float(res.x), float(res.fun)


def arm_log_mixture(
    count: npt.NDArray[np.float64], n: int, p: float, t_opt: float, alpha_opt: float
) -> npt.NDArray[np.float64]:
    """Arm log-mixture ``log M_bb((count − np), np(1−p))`` tuned at ``v_opt = t_opt·p(1−p)``."""
    return np.asarray(
        beta_binomial_log_mixture(
            count - p * n,
            p * (1.0 - p) * n,
            t_opt * p * (1.0 - p),
            p,
            1.0 - p,
            alpha_opt,
            one_sided=False,
        )
    )


def _g_lower(
    os: OrderStatistics, x: npt.NDArray[np.float64], p: float, t_opt: float, alpha_opt: float
) -> npt.NDArray[np.float64]:
    """Lower bound of the arm's log-mixture at each ``x`` from the known order statistics.

    The count of observations ``≤ x`` lies in ``[lo, hi]`` with ``lo`` = largest known rank with
    value < x and ``hi`` = (smallest known rank with value > x) − 1; the log-mixture is unimodal
    in the count, so its minimum over the bracket is at the clip of the minimiser. With a full
    sample this is exactly confseq's ``G`` function.
    """
    n = os.n
    c_star, _ = quantile_ab_arm(n, p, t_opt, alpha_opt)
    i_lo = np.searchsorted(os.high, x, side="left")
    i_hi = np.searchsorted(os.values, x, side="right")
    ranks = np.concatenate(([0], os.ranks, [n + 1])).astype(float)
    lo = ranks[i_lo]
    hi = ranks[i_hi + 1] - 1.0
    c = np.clip(c_star, lo, hi)
    return arm_log_mixture(c, n, p, t_opt, alpha_opt)


def _as_os(x: OrderStatistics | npt.ArrayLike) -> OrderStatistics:
    return x if isinstance(x, OrderStatistics) else OrderStatistics.from_sample(x)


def quantile_ab_p_value(
    control: OrderStatistics | npt.ArrayLike,
    candidate: OrderStatistics | npt.ArrayLike,
    p: float,
    *,
    t_opt: float = DEFAULT_T_OPT,
    alpha_opt: float = 0.05,
) -> float:
    """Sequential p-value for H0: the two arms have the same p-quantile (two-sided).

    Parameters
    ----------
    control, candidate : OrderStatistics or array_like
        Full samples (exact test) or the order statistics of
        :func:`quantile_ratio_rank_requests` (a valid, slightly conservative upper bound of the
        exact p-value, exact above ``1e-6`` up to the grid resolution).
    p : float
        Quantile level.
    t_opt : float, default 10_000
        Per-arm sample size at which the test is tuned (``v_opt = t_opt·p(1−p)``).
    alpha_opt : float, default 0.05

    Returns
    -------
    float
        ``min(1, exp(−min_x [G_c(x) + G_t(x)]))``; anytime-valid after a running minimum.

    Notes
    -----
    ``G_arm(x) = log M_bb((F̂_arm(x) − p)·N_arm, p(1−p)·N_arm)`` with the two-sided beta-binomial
    mixture; under H0 both arms' mixtures evaluated at the common quantile are supermartingales,
    so the infimum over ``x`` lower-bounds their product. The statistic is symmetric in the arms.

    References
    ----------
    .. [1] Howard & Ramdas, Bernoulli 28(3), 2022, Theorem 5; confseq ``QuantileABTest``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(1.0, 1001.0)
    >>> round(quantile_ab_p_value(a, a + 100, 0.5, t_opt=100), 6)
    0.005495
    """
    p = check_open_unit("p", p)
    t_opt = check_positive("t_opt", t_opt)
    check_open_unit("alpha_opt", alpha_opt)
    a = _as_os(control)
    b = _as_os(candidate)
    if a.n == 0 or b.n == 0:
        return 1.0
    vals = np.union1d(np.union1d(a.values, b.values), np.union1d(a.high, b.high))
    # the minimum of the sum of two unimodal functions lies between their flat regions
    ca, _ = quantile_ab_arm(a.n, p, t_opt, alpha_opt)
    cb, _ = quantile_ab_arm(b.n, p, t_opt, alpha_opt)
    lo_x = min(_value_below(a, ca), _value_below(b, cb))
    hi_x = max(_value_above(a, ca), _value_above(b, cb))
    vals = vals[(vals >= lo_x) & (vals <= hi_x)]
    mids = 0.5 * (vals[:-1] + vals[1:])
    edges = []
    if math.isinf(lo_x) or vals.size == 0:
        edges.append(-math.inf)
    if math.isinf(hi_x) or vals.size == 0:
        edges.append(math.inf)
    x = np.concatenate((vals, mids, np.asarray(edges, dtype=float)))
    total = _g_lower(a, x, p, t_opt, alpha_opt) + _g_lower(b, x, p, t_opt, alpha_opt)
    return float(min(1.0, math.exp(-float(np.min(total)))))


def _value_below(os: OrderStatistics, c_star: float) -> float:
    """Value of the largest known rank ``≤ ⌈c*⌉`` (start of the flat region), or -inf."""
    i = int(np.searchsorted(os.ranks, math.ceil(c_star), side="right")) - 1
    return float(os.values[i]) if i >= 0 else -math.inf


def _value_above(os: OrderStatistics, c_star: float) -> float:
    """Value of the smallest known rank ``≥ ⌊c*⌋ + 1`` (end of the flat region), or +inf."""
    i = int(np.searchsorted(os.ranks, math.floor(c_star) + 1, side="left"))
    return float(os.high[i]) if i < os.ranks.size else math.inf


def ab_rank_grid(
    n: int, p: float, t_opt: float, alpha_opt: float, level: float, size: int
) -> set[int]:
    """Ranks on an even grid over the counts where the arm's log-mixture is below ``level``."""
    if n == 0:
        return set()
    c_star, _ = quantile_ab_arm(n, p, t_opt, alpha_opt)

    def f(c: float) -> float:
        return arm_log_mixture(np.asarray(c), n, p, t_opt, alpha_opt).item() - level

    lo = 0.0 if f(0.0) <= 0 else brentq(f, 0.0, c_star, xtol=0.5)
    hi = float(n) if f(float(n)) <= 0 else brentq(f, c_star, float(n), xtol=0.5)
    grid = np.unique(np.clip(np.round(np.linspace(lo, hi, size)), 1, n).astype(int))
    out = {int(r) for r in grid}
    out.update(r for r in (math.ceil(c_star), math.floor(c_star) + 1) if 1 <= r <= n)
    return out
