"""Rank requests of the direct quantile-ratio test: which order statistics each arm needs.

:func:`quantile_ratio_rank_requests` gives, per arm, an even grid of ranks over the *band* of
counts where the arm's mixtures can still decide (:func:`_band`), geometric tails down to rank 1
and up to rank ``n``, and the sample-quantile rank (:func:`_arm_ranks`); the store fetches
exactly those and :func:`canarykit.stats.quantile_ratio.quantile_ratio_cs` runs on them. Part of
:mod:`canarykit.stats.quantile_ratio`, which re-exports :func:`quantile_ratio_rank_requests`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_count, check_open_unit, check_positive
from canarykit.stats.count_mixtures import count_log_mixture, mixture_tuning
from canarykit.stats.order_statistics import RankRequest
from canarykit.stats.quantile_ab import P_FLOOR
from canarykit.stats.quantiles import _estimate_rank
from canarykit.stats.roots import brentq

__all__ = ["quantile_ratio_rank_requests"]

_TAIL_RATIO = 1.2
"""Geometric spacing of the ranks requested outside an arm's band (log-mixture error ≤ ln 1.2)."""


def _check_alphas(alpha_pass: float, alpha_fail: float) -> tuple[float, float]:
    a_p = check_open_unit("alpha_pass", alpha_pass)
    a_f = check_open_unit("alpha_fail", alpha_fail)
    if not a_p + a_f < 1.0:
        raise InvalidInputError(
            f"alpha_pass + alpha_fail must be < 1, got {alpha_pass!r} + {alpha_fail!r}"
        )
    return a_p, a_f


@lru_cache(maxsize=1024)
def _band(
    n: int,
    p: float,
    t_opt: float,
    alpha_opt_low: float,
    alpha_opt_up: float,
    cap_low: float,
    cap_up: float,
) -> tuple[float, float]:
    """Counts ``[c_lo, c_hi]`` where both of an arm's mixtures are below their caps."""

    def low(c: float) -> float:
        return float(count_log_mixture(c, n, p, t_opt, alpha_opt_low, upper=False)) - cap_low

    def up(c: float) -> float:
        return float(count_log_mixture(c, n, p, t_opt, alpha_opt_up, upper=True)) - cap_up

    mid = n * p
    c_lo = 0.0 if low(0.0) <= 0.0 else float(brentq(low, 0.0, mid, xtol=0.25))
    c_hi = float(n) if up(float(n)) <= 0.0 else float(brentq(up, mid, n, xtol=0.25))
    return c_lo, c_hi


def _arm_ranks(n: int, p: float, band: tuple[float, float], size: int) -> tuple[int, ...]:
    """Even grid over the band, geometric tails down to rank 1 and up to rank n, the estimate."""
    if n <= size:
        return tuple(range(1, n + 1))
    c_lo, c_hi = band
    ranks = {int(r) for r in np.round(np.linspace(c_lo, c_hi, size))}
    mid = n * p
    for start, sign, stop in ((mid - c_lo, -1.0, mid), (c_hi - mid, 1.0, n - mid)):
        d = max(start, 1.0)
        while d < stop:
            d *= _TAIL_RATIO
            ranks.add(round(mid + sign * min(d, stop)))
    ranks.update((1, n, _estimate_rank(n, p)))
    return tuple(sorted(r for r in ranks if 1 <= r <= n))


def quantile_ratio_rank_requests(
    n_control: int,
    n_candidate: int,
    p: float,
    *,
    alpha_pass: float,
    alpha_fail: float,
    t_opt_control: float,
    t_opt_candidate: float,
    grid_size: int = 512,
) -> tuple[RankRequest, RankRequest]:
    """Ranks :func:`quantile_ratio_cs` needs from (control, candidate).

    Parameters
    ----------
    n_control, n_candidate : int
        Arm sizes at this look.
    p : float
        Quantile level in (0, 1), e.g. 0.99.
    alpha_pass, alpha_fail : float
        Error levels of the pass and fail tests (as given to :func:`quantile_ratio_cs`).
    t_opt_control, t_opt_candidate : float
        Each arm's tuning sample size (fixed before data).
    grid_size : int, default 512
        Ranks on the even grid of each arm's band; arms with ``n ≤ grid_size`` are requested
        in full (then the test is exact).

    Returns
    -------
    (RankRequest, RankRequest)
        Sorted 1-based ranks for the control and the candidate.

    Notes
    -----
    Each arm has two one-sided mixtures, a "count too small" one (non-increasing in the count)
    and a "count too large" one (non-decreasing). With ``Λ = max(ln 10⁶, ln 1/α_pass,
    ln 1/α_fail) + 1`` the arm's *band* is the set of counts where the too-small mixture is
    ``≤ Λ − m₁`` and the too-large one ``≤ Λ − m₂``, where ``m₁, m₂`` are the smallest values
    the other arm's partner mixture can take (so outside the band the statistic exceeds ``Λ``
    whatever the other arm does, or the arm's mixture is in its slowly varying logarithmic
    tail). The band gets an even grid of ``grid_size`` ranks (so ``T`` is exact there up to
    the grid step); outside, ranks at geometrically growing distances from ``n·p`` (ratio 1.2,
    costing at most ``ln 1.2`` in the tails), ranks 1 and ``n``, and the sample-quantile rank
    ``max(1, ⌈n·p⌉)``.

    Examples
    --------
    >>> c, t = quantile_ratio_rank_requests(171_000, 300, 0.99, alpha_pass=0.05,
    ...     alpha_fail=0.003, t_opt_control=171_000, t_opt_candidate=9_000)
    >>> len(t.ranks), 512 < len(c.ranks) < 700, 169_290 in c.ranks
    (300, True, True)
    """
    n_c = check_count("n_control", n_control)
    n_t = check_count("n_candidate", n_candidate)
    p = check_open_unit("p", p)
    a_p, a_f = _check_alphas(alpha_pass, alpha_fail)
    to_c = check_positive("t_opt_control", t_opt_control)
    to_t = check_positive("t_opt_candidate", t_opt_candidate)
    size = check_count("grid_size", grid_size)
    if size < 2:
        raise InvalidInputError(f"grid_size must be >= 2, got {grid_size!r}")
    cap = max(math.log(1.0 / P_FLOOR), math.log(1.0 / a_p), math.log(1.0 / a_f)) + 1.0

    tune_c, tune_t = mixture_tuning(a_p, a_f, to_c, to_t)

    def floor(n: int, t_opt: float, alpha_opt: float, count: int, upper: bool) -> float:
        if n == 0:
            return 0.0
        return min(0.0, float(count_log_mixture(count, n, p, t_opt, alpha_opt, upper=upper)))

    # an arm's too-small mixture is paired with the other arm's too-large one (smallest at
    # count 0) and vice versa (pass: control too-small × candidate too-large; fail: the mirror)
    out = []
    for n, t_opt, tune, n_o, t_opt_o, tune_o in (
        (n_c, to_c, tune_c, n_t, to_t, tune_t),
        (n_t, to_t, tune_t, n_c, to_c, tune_c),
    ):
        if n == 0:
            out.append(RankRequest(n=0, ranks=()))
            continue
        band = (0.0, float(n))
        if n > size:
            cap_low = cap - floor(n_o, t_opt_o, tune_o[1], 0, True)
            cap_up = cap - floor(n_o, t_opt_o, tune_o[0], n_o, False)
            band = _band(n, p, t_opt, tune[0], tune[1], cap_low, cap_up)
        out.append(RankRequest(n=n, ranks=_arm_ranks(n, p, band, size)))
    return out[0], out[1]
