"""Anytime-valid latency-quantile checks from a few order statistics (Howard & Ramdas 2022).

Rank-request flow (the storage layer never ships rows):

1. ask which order statistics a check needs —
   :func:`quantile_cs_rank_request` (absolute SLO, e.g. p95 ≤ 120 ms) or
   :func:`quantile_ratio_rank_requests` (candidate/control ratio with the two-sample test);
   each returns a :class:`RankRequest` per arm: sample size and sorted 1-based ranks;
2. fetch exactly those values (``RankRequest.levels`` gives DuckDB ``quantile_disc`` levels
   that hit the ranks exactly: ``quantile_disc`` returns the value of rank ``⌈n·q⌉``);
3. wrap them as :class:`OrderStatistics` and call :func:`quantile_cs` or
   :func:`quantile_ratio_test`.

A full sorted sample is also an :class:`OrderStatistics` (:meth:`OrderStatistics.from_sample`),
and then every primitive is exact.

Examples
--------
>>> import numpy as np
>>> x = np.arange(1.0, 10_001.0)
>>> req = quantile_cs_rank_request(x.size, 0.95, t_opt=10_000)
>>> os = OrderStatistics.from_sample(x).select(req.ranks)
>>> res = quantile_cs(os, 0.95, t_opt=10_000)
>>> res.ci_low, res.ci_high
(9433.0, 9565.0)
>>> res.decide(9600, bound="max")
'pass'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import optimize

from canarykit.errors import InvalidInputError
from canarykit.stats.boundaries import (
    beta_binomial_log_mixture,
    beta_binomial_mixture_bound,
    check_count,
    check_open_unit,
    check_positive,
)
from canarykit.stats.result import IntervalResult

__all__ = [
    "OrderStatistics",
    "QuantileRatioResult",
    "RankRequest",
    "quantile_ab_p_value",
    "quantile_cs",
    "quantile_cs_from_bounds",
    "quantile_cs_rank_request",
    "quantile_cs_ranks",
    "quantile_ratio_rank_requests",
    "quantile_ratio_test",
]

DEFAULT_T_OPT = 10_000.0
_P_FLOOR = 1e-6  # A/B rank grids are exact for p-values above this floor


@dataclass(frozen=True, slots=True, kw_only=True)
class RankRequest:
    """Order statistics (1-based ranks) that a primitive needs from one arm's sorted sample.

    Attributes
    ----------
    n : int
        Sample size of the arm.
    ranks : tuple of int
        Sorted, distinct ranks in ``1..n``.
    """

    n: int
    ranks: tuple[int, ...]

    @property
    def levels(self) -> tuple[float, ...]:
        """Levels ``(r − ½)/n`` for which ``quantile_disc`` (rank ``⌈n·q⌉``) returns rank ``r``."""
        return tuple((r - 0.5) / self.n for r in self.ranks)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OrderStatistics:
    """Values of some order statistics of one arm's sample (a partial view of the sorted sample).

    Attributes
    ----------
    n : int
        Sample size.
    ranks : ndarray of int
        Sorted distinct 1-based ranks.
    values : ndarray of float
        Value of each rank (non-decreasing); a lower bound of it when ``values_high`` is given.
    values_high : ndarray of float, optional
        Upper bounds of the values when they are only known to lie in ``[values, values_high]``
        (e.g. bucket edges of a sketch); ``None`` means exact values.
    """

    n: int
    ranks: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    values_high: npt.NDArray[np.float64] | None = None

    @property
    def high(self) -> npt.NDArray[np.float64]:
        """Upper bounds of the values (the values themselves when exact)."""
        return self.values if self.values_high is None else self.values_high

    def __post_init__(self) -> None:
        check_count("n", self.n)
        r = np.asarray(self.ranks)
        v = np.asarray(self.values, dtype=float)
        if r.shape != v.shape or r.ndim != 1:
            raise InvalidInputError(
                f"ranks and values must be 1-d of equal length, got {r.shape} and {v.shape}"
            )
        if r.size and (r[0] < 1 or r[-1] > self.n or np.any(np.diff(r) <= 0)):
            raise InvalidInputError(f"ranks must be increasing integers in [1, n={self.n}]")
        if np.any(np.isnan(v)) or np.any(np.diff(v) < 0):
            raise InvalidInputError("values must be non-decreasing in rank and not NaN")
        if self.values_high is not None:
            vh = np.asarray(self.values_high, dtype=float)
            if vh.shape != v.shape or np.any(np.diff(vh) < 0) or np.any(vh < v):
                raise InvalidInputError(
                    "values_high must match values in shape, be non-decreasing and >= values"
                )

    @classmethod
    def from_sample(cls, x: npt.ArrayLike, *, assume_sorted: bool = False) -> OrderStatistics:
        """All order statistics of a sample (sorted once; pass ``assume_sorted`` to skip)."""
        arr = np.asarray(x, dtype=float).ravel()
        if np.any(np.isnan(arr)):
            raise InvalidInputError("sample contains NaN values")
        vals = arr if assume_sorted else np.sort(arr)
        return cls(n=vals.size, ranks=np.arange(1, vals.size + 1, dtype=np.int64), values=vals)

    @classmethod
    def from_request(cls, request: RankRequest, values: npt.ArrayLike) -> OrderStatistics:
        """Pair the values fetched for a :class:`RankRequest` with its ranks."""
        return cls(
            n=request.n,
            ranks=np.asarray(request.ranks, dtype=np.int64),
            values=np.asarray(values, dtype=float),
        )

    def select(self, ranks: tuple[int, ...] | npt.ArrayLike) -> OrderStatistics:
        """Restrict to the given ranks (they must be present)."""
        want = np.asarray(ranks, dtype=np.int64)
        idx = np.searchsorted(self.ranks, want)
        if want.size and (np.any(idx >= self.ranks.size) or np.any(self.ranks[idx] != want)):
            raise InvalidInputError("requested ranks are not all available")
        high = None if self.values_high is None else self.values_high[idx]
        return OrderStatistics(n=self.n, ranks=want, values=self.values[idx], values_high=high)

    def bounds(self, rank: int) -> tuple[float, float]:
        """``(low, high)`` bounds of one order statistic; raises if the rank was not fetched."""
        i = int(np.searchsorted(self.ranks, rank))
        if i >= self.ranks.size or self.ranks[i] != rank:
            raise InvalidInputError(
                f"order statistic of rank {rank} (n={self.n}) was not provided; "
                "fetch the ranks of the matching RankRequest"
            )
        return float(self.values[i]), float(self.high[i])

    def value(self, rank: int) -> float:
        """Value of one order statistic (midpoint of its bounds when not exact)."""
        lo, hi = self.bounds(rank)
        return lo if lo == hi else 0.5 * (lo + hi)


# --------------------------------------------------------------------------- one-arm CS


@lru_cache(maxsize=4096)
def _cs_ranks_cached(n: int, p: float, alpha: float, t_opt: float) -> tuple[int, int]:
    v = p * (1.0 - p) * n
    v_opt = p * (1.0 - p) * t_opt
    b_lo = float(beta_binomial_mixture_bound(v, alpha, v_opt, 1.0 - p, p, one_sided=False))
    b_hi = float(beta_binomial_mixture_bound(v, alpha, v_opt, p, 1.0 - p, one_sided=False))
    lower = math.floor(n * p - b_lo + 1.0)
    upper = math.ceil(n * p + b_hi)
    # The boundary is capped at the largest reachable value of S (all observations on one
    # side); if the mixture stays below 1/α even there, no order statistic bounds the quantile.
    # (confseq's demo would return the sample extreme here, which is not a valid bound.)
    thr = math.log(1.0 / alpha)
    cap_hi = (1.0 - p) * n
    if float(beta_binomial_log_mixture(cap_hi, v, v_opt, p, 1.0 - p, one_sided=False)) < thr:
        upper = n + 1
    cap_lo = p * n
    if float(beta_binomial_log_mixture(cap_lo, v, v_opt, 1.0 - p, p, one_sided=False)) < thr:
        lower = 0
    return lower, upper


def quantile_cs_ranks(
    n: int, p: float, *, confidence_level: float = 0.95, t_opt: float = DEFAULT_T_OPT
) -> tuple[int, int]:
    """Ranks of the order statistics bounding the Howard–Ramdas quantile confidence sequence.

    Parameters
    ----------
    n : int
        Sample size so far.
    p : float
        Quantile level in (0, 1), e.g. 0.95.
    confidence_level : float, default 0.95
    t_opt : float, default 10_000
        Sample size at which the sequence is tightest; fix before data.

    Returns
    -------
    (int, int)
        ``(lower, upper)`` 1-based ranks; ``lower < 1`` means the lower bound is ``-inf`` and
        ``upper > n`` means the upper bound is ``+inf`` (too little data).

    Notes
    -----
    ``lower = ⌊np − u_lo + 1⌋``, ``upper = ⌈np + u_hi⌉`` with ``u`` the two-sided beta-binomial
    boundary at ``v = np(1−p)`` (``g = 1−p, h = p`` for the lower side, ``g = p, h = 1−p`` for the
    upper side), tuned at ``v_opt = t_opt·p(1−p)``. One two-sided mixture covers both sides
    jointly: ``P(∃n: q_p ∉ [X_(lower), X_(upper)]) ≤ α``.

    References
    ----------
    .. [1] Howard & Ramdas, Bernoulli 28(3), 2022, Theorem 1 / Section 3; confseq
       ``demo/quantiles.py::fixed_quantile_confidence_bounds``.

    Examples
    --------
    >>> quantile_cs_ranks(1000, 0.5, t_opt=100)
    (449, 552)
    """
    n = check_count("n", n)
    p = check_open_unit("p", p)
    alpha = 1.0 - check_open_unit("confidence_level", confidence_level)
    t_opt = check_positive("t_opt", t_opt)
    if n == 0:
        return 0, 1
    return _cs_ranks_cached(n, p, alpha, t_opt)


def _estimate_rank(n: int, p: float) -> int:
    """Rank of the sample p-quantile, inverted-CDF definition: ``max(1, ⌈n·p⌉)``."""
    return max(1, math.ceil(n * p - 1e-9))


def quantile_cs_rank_request(
    n: int, p: float, *, confidence_level: float = 0.95, t_opt: float = DEFAULT_T_OPT
) -> RankRequest:
    """Ranks :func:`quantile_cs` needs: the CS bounds (when finite) and the point estimate.

    Examples
    --------
    >>> quantile_cs_rank_request(1000, 0.5, t_opt=100).ranks
    (449, 500, 552)
    """
    lower, upper = quantile_cs_ranks(n, p, confidence_level=confidence_level, t_opt=t_opt)
    ranks = {r for r in (lower, upper) if 1 <= r <= n}
    if n > 0:
        ranks.add(_estimate_rank(n, p))
    return RankRequest(n=n, ranks=tuple(sorted(ranks)))


def quantile_cs_from_bounds(
    *,
    n: int,
    p: float,
    lower_value: float,
    upper_value: float,
    estimate: float,
    confidence_level: float,
    t_opt: float,
    method_suffix: str = "",
    note: str = "",
) -> IntervalResult:
    """Assemble the :class:`IntervalResult` of a quantile CS from its bound values."""
    notes = [note] if note else []
    if n == 0:
        notes.append("no observations: quantile not estimable")
    elif math.isinf(upper_value) or math.isinf(lower_value):
        notes.append(f"too few observations (n={n}) for a finite bound at p={p:g}")
    return IntervalResult(
        method=(
            f"howard-ramdas quantile confidence sequence (p={p:g}, t_opt={t_opt:g})" + method_suffix
        ),
        estimate=estimate,
        ci_low=lower_value,
        ci_high=upper_value,
        confidence_level=confidence_level,
        pvalue=None,
        n_control=0,
        n_candidate=n,
        note="; ".join(notes),
    )


def quantile_cs(
    order_statistics: OrderStatistics,
    p: float,
    *,
    confidence_level: float = 0.95,
    t_opt: float = DEFAULT_T_OPT,
) -> IntervalResult:
    """Anytime-valid confidence sequence for one arm's p-quantile (absolute SLO check).

    Parameters
    ----------
    order_statistics : OrderStatistics
        At least the ranks of :func:`quantile_cs_rank_request` for the same arguments.
    p : float
        Quantile level, e.g. 0.95.
    confidence_level : float, default 0.95
    t_opt : float, default 10_000

    Returns
    -------
    IntervalResult
        ``[X_(lower), X_(upper)]`` (infinite ends while data is short), estimate = sample
        quantile of rank ``⌈n·p⌉``; compare with an SLO via ``decide(120.0, bound="max")``.

    References
    ----------
    .. [1] Howard & Ramdas, Bernoulli 28(3), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> os = OrderStatistics.from_sample(np.arange(1.0, 1001.0))
    >>> r = quantile_cs(os, 0.5, t_opt=100)
    >>> r.ci_low, r.estimate, r.ci_high
    (449.0, 500.0, 552.0)
    """
    n = order_statistics.n
    lower, upper = quantile_cs_ranks(n, p, confidence_level=confidence_level, t_opt=t_opt)
    lo = order_statistics.bounds(lower)[0] if lower >= 1 else -math.inf
    hi = order_statistics.bounds(upper)[1] if upper <= n else math.inf
    est = order_statistics.value(_estimate_rank(n, p)) if n > 0 else math.nan
    exact = order_statistics.values_high is None
    return quantile_cs_from_bounds(
        n=n,
        p=p,
        lower_value=lo,
        upper_value=hi,
        estimate=est,
        confidence_level=confidence_level,
        t_opt=t_opt,
        note="" if exact else "bounds widened to the enclosing bounds of the order statistics",
    )


# --------------------------------------------------------------------------- two-sample A/B test


@lru_cache(maxsize=4096)
def _ab_arm(n: int, p: float, t_opt: float, alpha_opt: float) -> tuple[float, float]:
    """Minimiser ``c*`` (in counts) and minimum of the arm's log-mixture as a function of count."""

    def f(c: float) -> float:
        return _arm_log_m(np.asarray(c), n, p, t_opt, alpha_opt).item()

    res = optimize.minimize_scalar(
        f, bounds=(0.0, float(n)), method="bounded", options={"xatol": 1e-9 * n}
    )
    return float(res.x), float(res.fun)


def _arm_log_m(
    count: npt.NDArray[np.float64], n: int, p: float, t_opt: float, alpha_opt: float
) -> npt.NDArray[np.float64]:
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
    c_star, _ = _ab_arm(n, p, t_opt, alpha_opt)
    i_lo = np.searchsorted(os.high, x, side="left")
    i_hi = np.searchsorted(os.values, x, side="right")
    ranks = np.concatenate(([0], os.ranks, [n + 1])).astype(float)
    lo = ranks[i_lo]
    hi = ranks[i_hi + 1] - 1.0
    c = np.clip(c_star, lo, hi)
    return _arm_log_m(c, n, p, t_opt, alpha_opt)


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
    ca, _ = _ab_arm(a.n, p, t_opt, alpha_opt)
    cb, _ = _ab_arm(b.n, p, t_opt, alpha_opt)
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


def _ab_grid(n: int, p: float, t_opt: float, alpha_opt: float, level: float, size: int) -> set[int]:
    """Ranks on an even grid over the counts where the arm's log-mixture is below ``level``."""
    if n == 0:
        return set()
    c_star, _ = _ab_arm(n, p, t_opt, alpha_opt)

    def f(c: float) -> float:
        return _arm_log_m(np.asarray(c), n, p, t_opt, alpha_opt).item() - level

    lo = 0.0 if f(0.0) <= 0 else optimize.brentq(f, 0.0, c_star, xtol=0.5)
    hi = float(n) if f(float(n)) <= 0 else optimize.brentq(f, c_star, float(n), xtol=0.5)
    grid = np.unique(np.clip(np.round(np.linspace(lo, hi, size)), 1, n).astype(int))
    out = {int(r) for r in grid}
    out.update(r for r in (math.ceil(c_star), math.floor(c_star) + 1) if 1 <= r <= n)
    return out


# --------------------------------------------------------------------------- ratio of quantiles


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantileRatioResult(IntervalResult):
    """CS for ``Q_candidate(p) / Q_control(p)`` plus the two-sample sequential test.

    ``pvalue`` is the Howard–Ramdas two-sided test of equal quantiles at this look (take the
    running minimum across looks); ``estimate`` is the ratio of sample quantiles.
    """

    p: float = math.nan
    control_estimate: float = math.nan
    candidate_estimate: float = math.nan


def quantile_ratio_rank_requests(
    n_control: int,
    n_candidate: int,
    p: float,
    *,
    confidence_level: float = 0.95,
    t_opt: float = DEFAULT_T_OPT,
    alpha_opt: float = 0.05,
    grid_size: int = 512,
) -> tuple[RankRequest, RankRequest]:
    """Ranks :func:`quantile_ratio_test` needs from (control, candidate).

    Each arm gets the ranks of its CS at ``α/2`` (union bound), its sample quantile and an
    even grid of ``grid_size`` ranks over the counts where its A/B log-mixture can contribute to
    a p-value above ``1e-6``. Arms smaller than the grid are requested in full (exact test).

    Examples
    --------
    >>> c, t = quantile_ratio_rank_requests(200, 100, 0.99, t_opt=1000)
    >>> c.n, len(c.ranks) <= 200, t.ranks[-1] <= 100
    (200, True, True)
    """
    n_control = check_count("n_control", n_control)
    n_candidate = check_count("n_candidate", n_candidate)
    p = check_open_unit("p", p)
    level = 1.0 - (1.0 - check_open_unit("confidence_level", confidence_level)) / 2.0
    size = check_count("grid_size", grid_size)
    if size < 2:
        raise InvalidInputError(f"grid_size must be >= 2, got {grid_size!r}")
    mins = [_ab_arm(n, p, t_opt, alpha_opt)[1] if n > 0 else 0.0 for n in (n_control, n_candidate)]
    out = []
    for i, n in enumerate((n_control, n_candidate)):
        ranks = set(quantile_cs_rank_request(n, p, confidence_level=level, t_opt=t_opt).ranks)
        if n <= size:
            ranks.update(range(1, n + 1))
        else:
            cap = math.log(1.0 / _P_FLOOR) - min(0.0, mins[1 - i]) + 1.0
            ranks |= _ab_grid(n, p, t_opt, alpha_opt, cap, size)
        out.append(RankRequest(n=n, ranks=tuple(sorted(ranks))))
    return out[0], out[1]


def quantile_ratio_test(
    control: OrderStatistics,
    candidate: OrderStatistics,
    p: float,
    *,
    confidence_level: float = 0.95,
    t_opt: float = DEFAULT_T_OPT,
    alpha_opt: float = 0.05,
) -> QuantileRatioResult:
    """Anytime-valid CS for the quantile ratio candidate/control and the two-sample test.

    Parameters
    ----------
    control, candidate : OrderStatistics
        The ranks of :func:`quantile_ratio_rank_requests` (or full samples). Latencies must be
        positive for the ratio.
    p : float
        Quantile level, e.g. 0.99.
    confidence_level : float, default 0.95
        Joint level: each arm's CS is built at ``1 − α/2`` (Bonferroni).
    t_opt : float, default 10_000
    alpha_opt : float, default 0.05

    Returns
    -------
    QuantileRatioResult
        ``[L_t/U_c, U_t/L_c]`` with ``[L, U]`` the arms' quantile CSs; check a relative margin
        with ``decide(1.10, bound="max")``. ``pvalue`` = sequential p-value of equal quantiles.

    Notes
    -----
    Valid at every look simultaneously because both arm CSs hold jointly with probability
    ``≥ 1 − α``; ``ratio > 1`` means the candidate is slower. Swapping arms inverts the interval.

    References
    ----------
    .. [1] Howard & Ramdas, Bernoulli 28(3), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> c = OrderStatistics.from_sample(rng.lognormal(4, 0.5, 20_000))
    >>> t = OrderStatistics.from_sample(1.3 * rng.lognormal(4, 0.5, 20_000))
    >>> r = quantile_ratio_test(c, t, 0.99)
    >>> r.decide(1.10, bound="max"), r.pvalue < 0.05
    ('fail', True)
    """
    p = check_open_unit("p", p)
    level = 1.0 - (1.0 - check_open_unit("confidence_level", confidence_level)) / 2.0
    arms = []
    for os in (control, candidate):
        arms.append(quantile_cs(os, p, confidence_level=level, t_opt=t_opt))
    c_res, t_res = arms
    if (c_res.ci_low <= 0.0 and not math.isinf(c_res.ci_low)) or (
        t_res.ci_low < 0.0 and not math.isinf(t_res.ci_low)
    ):
        raise InvalidInputError("latency order statistics must be > 0 for a quantile ratio")
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = t_res.ci_low / c_res.ci_high if not math.isinf(t_res.ci_low) else 0.0
        hi = t_res.ci_high / c_res.ci_low if not math.isinf(c_res.ci_low) else math.inf
        lo = 0.0 if math.isnan(lo) else max(0.0, lo)
        est = (
            t_res.estimate / c_res.estimate
            if c_res.estimate > 0 and not math.isnan(t_res.estimate)
            else math.nan
        )
    notes = []
    if math.isinf(hi) or lo == 0.0:
        notes.append(
            f"too few observations for finite bounds at p={p:g} "
            f"(n_control={control.n}, n_candidate={candidate.n})"
        )
    pval = quantile_ab_p_value(control, candidate, p, t_opt=t_opt, alpha_opt=alpha_opt)
    return QuantileRatioResult(
        method=(
            f"howard-ramdas quantile ratio CS (p={p:g}, t_opt={t_opt:g}, Bonferroni over arms)"
            " + sequential two-sample quantile test"
        ),
        estimate=float(est),
        ci_low=float(lo),
        ci_high=float(hi),
        confidence_level=confidence_level,
        pvalue=pval,
        n_control=control.n,
        n_candidate=candidate.n,
        note="; ".join(notes),
        p=p,
        control_estimate=c_res.estimate,
        candidate_estimate=t_res.estimate,
    )
