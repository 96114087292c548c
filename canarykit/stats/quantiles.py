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

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_count, check_open_unit, check_positive
from canarykit.stats.boundaries import beta_binomial_log_mixture, beta_binomial_mixture_bound
from canarykit.stats.order_statistics import DEFAULT_T_OPT, OrderStatistics, RankRequest
from canarykit.stats.quantile_ab import P_FLOOR, ab_rank_grid, quantile_ab_arm, quantile_ab_p_value
from canarykit.stats.result import IntervalResult

__all__ = [
    "DEFAULT_T_OPT",
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
    mins = [
        quantile_ab_arm(n, p, t_opt, alpha_opt)[1] if n > 0 else 0.0
        for n in (n_control, n_candidate)
    ]
    out = []
    for i, n in enumerate((n_control, n_candidate)):
        ranks = set(quantile_cs_rank_request(n, p, confidence_level=level, t_opt=t_opt).ranks)
        if n <= size:
            ranks.update(range(1, n + 1))
        else:
            cap = math.log(1.0 / P_FLOOR) - min(0.0, mins[1 - i]) + 1.0
            ranks |= ab_rank_grid(n, p, t_opt, alpha_opt, cap, size)
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
    for name, os in (("control", control), ("candidate", candidate)):
        if os.values.size and float(os.values[0]) < 0.0:
            raise InvalidInputError(f"{name} latency order statistics must be >= 0")
    t_low, t_high = t_res.ci_low, t_res.ci_high
    c_low, c_high = c_res.ci_low, c_res.ci_high
    if math.isinf(t_low) or math.isinf(c_high):
        lo = 0.0
    elif c_high == 0.0:
        lo = math.inf if t_low > 0.0 else 0.0
    else:
        lo = t_low / c_high
    hi = math.inf if (math.isinf(c_low) or c_low <= 0.0 or math.isinf(t_high)) else t_high / c_low
    c_est, t_est = c_res.estimate, t_res.estimate
    est = t_est / c_est if c_est > 0.0 and not math.isnan(t_est) else math.nan
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
