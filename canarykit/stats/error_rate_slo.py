"""The absolute error-rate check: a time-uniform confidence sequence for one arm's error rate.

:func:`error_rate_bound` inverts the two-sided beta-binomial mixture of Howard et al. (2021)
for a Bernoulli rate; the policy's ``error_rate`` check compares its upper bound with the SLO.
Part of :mod:`canarykit.stats.error_rate`, which re-exports it.
"""

from __future__ import annotations

import math

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_count, check_open_unit, check_positive
from canarykit.stats.bernoulli import bernoulli_confidence_interval
from canarykit.stats.result import IntervalResult

__all__ = ["error_rate_bound"]


def error_rate_bound(
    n_errors: int,
    n_requests: int,
    *,
    confidence_level: float = 0.95,
    t_opt: float = 10_000.0,
    alpha_opt: float = 0.05,
) -> IntervalResult:
    """Time-uniform confidence sequence for one arm's error rate (absolute SLO check).

    Parameters
    ----------
    n_errors, n_requests : int
        Cumulative errors and requests of the arm (usually the candidate).
    confidence_level : float, default 0.95
    t_opt : float, default 10_000
        Number of requests at which the sequence is tightest; fix before data.
    alpha_opt : float, default 0.05

    Returns
    -------
    IntervalResult
        ``estimate`` = observed rate; ``[ci_low, ci_high]`` valid simultaneously at every look.
        Compare with the SLO through ``decide(slo, bound="max")``.

    Notes
    -----
    Inverts the two-sided beta-binomial mixture of Howard et al. (2021) (g = p, h = 1 − p),
    which is an exact supermartingale for Bernoulli data at every rate, including rates of a
    fraction of a percent (checked by simulation in ``canarykit.stats.simulation``).

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021.

    Examples
    --------
    >>> r = error_rate_bound(10, 10_000)
    >>> round(r.estimate, 4), r.decide(0.005, bound="max")
    (0.001, 'pass')
    """
    k = check_count("n_errors", n_errors)
    n = check_count("n_requests", n_requests)
    if k > n:
        raise InvalidInputError(f"n_errors must be <= n_requests={n}, got {n_errors!r}")
    alpha = 1.0 - check_open_unit("confidence_level", confidence_level)
    t_opt = check_positive("t_opt", t_opt)
    method = f"beta-binomial mixture confidence sequence (t_opt={t_opt:g})"
    if n == 0:
        return IntervalResult(
            method=method,
            estimate=math.nan,
            ci_low=0.0,
            ci_high=1.0,
            confidence_level=confidence_level,
            pvalue=None,
            n_control=0,
            n_candidate=0,
            note="no requests yet: rate not estimable",
        )
    lo, hi = bernoulli_confidence_interval(k, n, alpha, t_opt, alpha_opt)
    return IntervalResult(
        method=method,
        estimate=k / n,
        ci_low=lo,
        ci_high=hi,
        confidence_level=confidence_level,
        pvalue=None,
        n_control=0,
        n_candidate=n,
        note="",
    )
