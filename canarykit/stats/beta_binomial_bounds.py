"""Beta-binomial mixture boundaries (Howard et al. 2021, §3): sums of bounded increments.

Part of the uniform boundaries of :mod:`canarykit.stats.boundaries` (which re-exports them);
the Bernoulli confidence sequence built on them lives in :mod:`canarykit.stats.bernoulli`.

Examples
--------
>>> round(beta_binomial_mixture_bound(100, 0.05, 100, g=0.2, h=0.8, one_sided=False), 4)
31.4308
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from canarykit.stats import _special as special
from canarykit.stats._checks import check_open_unit, check_positive
from canarykit.stats.mixture_roots import FloatOrArray, as_output, mixture_bound, normal_mixture_rho

ArrayLike = npt.ArrayLike

__all__ = ["beta_binomial_log_mixture", "beta_binomial_mixture_bound"]


def _beta_binomial_r(v_opt: float, alpha_opt: float, g: float, h: float, one_sided: bool) -> float:
    rho = normal_mixture_rho(v_opt, alpha_opt, one_sided=one_sided)
    return max(rho - g * h, 1e-3 * g * h)


def _log_incomplete_beta(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], x: float
) -> npt.NDArray[np.float64]:
    lb = special.betaln(a, b)
    if x == 1.0:
        return np.asarray(lb)
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(special.betainc(a, b, x)) + lb)


def beta_binomial_log_mixture(
    s: ArrayLike,
    v: ArrayLike,
    v_opt: float,
    g: float,
    h: float,
    alpha_opt: float = 0.05,
    *,
    one_sided: bool = True,
) -> FloatOrArray:
    """Log beta-binomial mixture supermartingale for increments taking the values ``-g`` and ``h``.

    Parameters
    ----------
    s, v : array_like
        Centred sum ``S_t`` and variance process ``V_t = t·g·h``.
    v_opt : float
        Intrinsic time to optimise for.
    g, h : float
        The two values of the (centred) increments are ``h`` (success) and ``-g`` (failure);
        for Bernoulli(p) indicators ``g = p``, ``h = 1 − p``.
    alpha_opt : float, default 0.05
    one_sided : bool, default True

    Notes
    -----
    ``log M = (v/(gh)) ln(g+h) − ((v+hs)/(h(g+h))) ln g − ((v−gs)/(g(g+h))) ln h
    + ln B_x((r+v−gs)/(g(g+h)), (r+v+hs)/(h(g+h))) − ln B_x(r/(g(g+h)), r/(h(g+h)))`` with
    ``x = h/(g+h)`` (one-sided) or 1 (two-sided) and ``r = max(ρ − gh, 10⁻³gh)``. The two-sided
    mixture with ``(g, h, s)`` equals the one with ``(h, g, −s)``, so one two-sided boundary at
    ``α`` controls both tails jointly.

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021, Proposition 7.

    Examples
    --------
    >>> round(beta_binomial_log_mixture(10, 100, 100, g=0.2, h=0.8, one_sided=False), 6)
    -0.694101
    """
    g = check_positive("g", g)
    h = check_positive("h", h)
    r = _beta_binomial_r(check_positive("v_opt", v_opt), alpha_opt, g, h, one_sided)
    x = h / (g + h) if one_sided else 1.0
    gh = g + h
    normalizer = _log_incomplete_beta(np.asarray(r / (g * gh)), np.asarray(r / (h * gh)), x)
    s_ = np.asarray(s, dtype=float)
    v_ = np.asarray(v, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (
            v_ / (g * h) * math.log(gh)
            - ((v_ + h * s_) / (h * gh)) * math.log(g)
            - ((v_ - g * s_) / (g * gh)) * math.log(h)
            + _log_incomplete_beta((r + v_ - g * s_) / (g * gh), (r + v_ + h * s_) / (h * gh), x)
            - normalizer
        )
    return as_output(np.asarray(out))


def beta_binomial_mixture_bound(
    v: ArrayLike,
    alpha: float,
    v_opt: float,
    g: float,
    h: float,
    alpha_opt: float = 0.05,
    *,
    one_sided: bool = True,
) -> FloatOrArray:
    """Beta-binomial mixture uniform boundary: root of ``log M(s, v) = ln(1/α)``, ``s ≤ v/g``.

    Examples
    --------
    >>> round(beta_binomial_mixture_bound(100, 0.05, 100, g=0.2, h=0.8, one_sided=False), 4)
    31.4308
    """
    alpha = check_open_unit("alpha", alpha)
    g = check_positive("g", g)
    h = check_positive("h", h)
    v_ = np.asarray(v, dtype=float)
    return as_output(
        mixture_bound(
            lambda s, vv: np.asarray(
                beta_binomial_log_mixture(s, vv, v_opt, g, h, alpha_opt, one_sided=one_sided)
            ),
            v_,
            math.log(1.0 / alpha),
            s_upper=v_ / g,
        )
    )
