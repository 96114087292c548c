"""Fixed-horizon companions for exploration: valid only when evaluated once, at a planned end.

Re-running these at every look inflates the false-alarm rate (see ``canarykit.stats.simulation``);
gate on them only when the policy marks a check as evaluated once, at the end of the window.

* :func:`quantile_ci` — distribution-free order-statistic CI for a quantile (matches
  ``scipy.stats.quantile_test(...).confidence_interval()``);
* :func:`quantile_difference_ci` — MOVER CI for ``Q_candidate(p) − Q_control(p)``;
* :func:`rate_difference_ci` — Newcombe (Wilson hybrid score) or Wald CI for
  ``rate_candidate − rate_control``.

Examples
--------
>>> import numpy as np
>>> r = quantile_ci(np.arange(1.0, 1001.0), 0.95)
>>> r.ci_low, r.ci_high
(936.0, 964.0)
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import check_count, check_open_unit
from canarykit.stats.quantiles import OrderStatistics, RankRequest, _estimate_rank
from canarykit.stats.result import IntervalResult

__all__ = [
    "quantile_ci",
    "quantile_ci_rank_request",
    "quantile_ci_ranks",
    "quantile_difference_ci",
    "rate_difference_ci",
]


def quantile_ci_ranks(n: int, p: float, *, confidence_level: float = 0.95) -> tuple[int, int]:
    """1-based ranks ``(l, u)`` of the two-sided order-statistic CI (``l < 1``, ``u > n``: none).

    Notes
    -----
    With ``B ~ Binomial(n, p)`` and ``a = (1 − confidence_level)/2``: ``l = F_B^{-1}(a)`` and
    ``u = F̄_B^{-1}(a) + 1`` (scipy's ``quantile_test`` convention), so
    ``P(X_(l) ≤ q_p ≤ X_(u)) ≥ 1 − 2a``.

    Examples
    --------
    >>> quantile_ci_ranks(1000, 0.99)
    (983, 997)
    """
    n = check_count("n", n)
    p = check_open_unit("p", p)
    a = (1.0 - check_open_unit("confidence_level", confidence_level)) / 2.0
    if n == 0:
        return 0, 1
    from scipy import stats  # only here: scipy.stats costs ~0.3 s to import

    bd = stats.binom(n, p)
    return int(bd.ppf(a)), int(bd.isf(a)) + 1


def quantile_ci_rank_request(n: int, p: float, *, confidence_level: float = 0.95) -> RankRequest:
    """Ranks :func:`quantile_ci` needs (bounds when finite, and the estimate ``⌈n·p⌉``).

    Examples
    --------
    >>> quantile_ci_rank_request(1000, 0.95).ranks
    (936, 950, 964)
    """
    lo, hi = quantile_ci_ranks(n, p, confidence_level=confidence_level)
    ranks = {r for r in (lo, hi) if 1 <= r <= n}
    if n > 0:
        ranks.add(_estimate_rank(n, p))
    return RankRequest(n=n, ranks=tuple(sorted(ranks)))


def _as_os(x: OrderStatistics | npt.ArrayLike) -> OrderStatistics:
    return x if isinstance(x, OrderStatistics) else OrderStatistics.from_sample(x)


def _bounds(os: OrderStatistics, p: float, confidence_level: float) -> tuple[float, float, float]:
    lo_r, hi_r = quantile_ci_ranks(os.n, p, confidence_level=confidence_level)
    lo = os.bounds(lo_r)[0] if lo_r >= 1 else -math.inf
    hi = os.bounds(hi_r)[1] if hi_r <= os.n else math.inf
    est = os.value(_estimate_rank(os.n, p)) if os.n > 0 else math.nan
    return lo, est, hi


def quantile_ci(
    x: OrderStatistics | npt.ArrayLike, p: float, *, confidence_level: float = 0.95
) -> IntervalResult:
    """Fixed-horizon distribution-free CI for the p-quantile of one sample.

    Parameters
    ----------
    x : OrderStatistics or array_like
        Sample, or the order statistics of :func:`quantile_ci_rank_request`.
    p : float
        Quantile level.
    confidence_level : float, default 0.95

    Returns
    -------
    IntervalResult
        ``[X_(l), X_(u)]`` (infinite when the sample is too small), estimate ``X_(⌈np⌉)``.

    References
    ----------
    .. [1] SciPy ``scipy.stats.quantile_test``; W. J. Conover, Practical Nonparametric
       Statistics, 3rd ed., 1999, Section 3.2.

    Examples
    --------
    >>> import numpy as np
    >>> r = quantile_ci(np.arange(1.0, 1001.0), 0.99)
    >>> r.ci_low, r.estimate, r.ci_high
    (983.0, 990.0, 997.0)
    """
    os = _as_os(x)
    lo, est, hi = _bounds(os, p, confidence_level)
    note = ""
    if os.n == 0:
        note = "no observations: quantile not estimable"
    elif math.isinf(lo) or math.isinf(hi):
        note = f"sample too small (n={os.n}) for a finite bound at p={p:g}"
    return IntervalResult(
        method=f"fixed-horizon order-statistic CI (p={p:g})",
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        confidence_level=confidence_level,
        pvalue=None,
        n_control=0,
        n_candidate=os.n,
        note=note,
    )


def quantile_difference_ci(
    control: OrderStatistics | npt.ArrayLike,
    candidate: OrderStatistics | npt.ArrayLike,
    p: float,
    *,
    confidence_level: float = 0.95,
) -> IntervalResult:
    """Fixed-horizon MOVER CI for ``Q_candidate(p) − Q_control(p)``.

    Notes
    -----
    With per-arm estimates ``q̂`` and order-statistic CIs ``[l, u]`` at the same level:
    ``L = Δ̂ − √((q̂_t − l_t)² + (u_c − q̂_c)²)``, ``U = Δ̂ + √((u_t − q̂_t)² + (q̂_c − l_c)²)``.
    Positive differences mean the candidate is slower; swapping arms negates the interval.

    References
    ----------
    .. [1] G. Y. Zou, A. Donner, "Construction of confidence limits about effect measures:
       a general approach", Stat. Med. 27(10), 2008.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(1.0, 1001.0)
    >>> r = quantile_difference_ci(a, a + 100, 0.5)
    >>> r.estimate, r.ci_low > 0
    (100.0, True)
    """
    c = _as_os(control)
    t = _as_os(candidate)
    lc, qc, uc = _bounds(c, p, confidence_level)
    lt, qt, ut = _bounds(t, p, confidence_level)
    est = qt - qc
    with np.errstate(invalid="ignore"):
        lo = est - math.sqrt((qt - lt) ** 2 + (uc - qc) ** 2)
        hi = est + math.sqrt((ut - qt) ** 2 + (qc - lc) ** 2)
    note = ""
    if math.isnan(est):
        note = "an arm has no observations"
        lo, hi = -math.inf, math.inf
    elif math.isinf(lo) or math.isinf(hi):
        note = f"too few observations for finite bounds at p={p:g}"
    return IntervalResult(
        method=f"fixed-horizon MOVER CI for a quantile difference (p={p:g})",
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        confidence_level=confidence_level,
        pvalue=None,
        n_control=c.n,
        n_candidate=t.n,
        note=note,
    )


def _wilson(k: float, n: float, z: float) -> tuple[float, float]:
    ph = k / n
    denom = 1.0 + z * z / n
    centre = (ph + z * z / (2 * n)) / denom
    half = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_difference_ci(
    *,
    n_control: int,
    n_control_errors: int,
    n_candidate: int,
    n_candidate_errors: int,
    confidence_level: float = 0.95,
    method: Literal["newcombe", "wald"] = "newcombe",
) -> IntervalResult:
    """Fixed-horizon CI for the error-rate difference ``rate_candidate − rate_control``.

    Parameters
    ----------
    n_control, n_control_errors, n_candidate, n_candidate_errors : int
    confidence_level : float, default 0.95
    method : {"newcombe", "wald"}, default "newcombe"
        Newcombe's hybrid score interval (method 10, Wilson limits per arm) or the Wald interval.

    Returns
    -------
    IntervalResult
        ``pvalue`` is the two-sided pooled z-test of equal rates.

    References
    ----------
    .. [1] R. G. Newcombe, "Interval estimation for the difference between independent
       proportions", Stat. Med. 17(8), 1998.

    Examples
    --------
    >>> r = rate_difference_ci(n_control=10_000, n_control_errors=100,
    ...                        n_candidate=10_000, n_candidate_errors=150)
    >>> round(r.estimate, 4), r.ci_low > 0, round(r.pvalue, 4)
    (0.005, True, 0.0015)
    """
    nc = check_count("n_control", n_control)
    kc = check_count("n_control_errors", n_control_errors)
    nt = check_count("n_candidate", n_candidate)
    kt = check_count("n_candidate_errors", n_candidate_errors)
    if kc > nc or kt > nt:
        raise InvalidInputError(
            f"error counts must not exceed request counts, got {kc}/{nc} and {kt}/{nt}"
        )
    if method not in ("newcombe", "wald"):
        raise InvalidInputError(f"method must be 'newcombe' or 'wald', got {method!r}")
    alpha = 1.0 - check_open_unit("confidence_level", confidence_level)
    name = f"fixed-horizon {method} CI for a rate difference"
    if nc == 0 or nt == 0:
        return IntervalResult(
            method=name,
            estimate=math.nan,
            ci_low=-1.0,
            ci_high=1.0,
            confidence_level=confidence_level,
            pvalue=None,
            n_control=nc,
            n_candidate=nt,
            note="an arm has no requests: difference not estimable",
        )
    z = float(-special.ndtri(alpha / 2.0))
    pc, pt = kc / nc, kt / nt
    d = pt - pc
    if method == "wald":
        se = math.sqrt(pc * (1 - pc) / nc + pt * (1 - pt) / nt)
        lo, hi = d - z * se, d + z * se
    else:
        lc, uc = _wilson(kc, nc, z)
        lt, ut = _wilson(kt, nt, z)
        lo = d - math.sqrt((pt - lt) ** 2 + (uc - pc) ** 2)
        hi = d + math.sqrt((ut - pt) ** 2 + (pc - lc) ** 2)
    pooled = (kc + kt) / (nc + nt)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt))
    pval = float(2.0 * special.ndtr(-abs(d) / se0)) if se0 > 0 else 1.0
    return IntervalResult(
        method=name,
        estimate=d,
        ci_low=max(-1.0, lo),
        ci_high=min(1.0, hi),
        confidence_level=confidence_level,
        pvalue=pval,
        n_control=nc,
        n_candidate=nt,
        note="",
    )
