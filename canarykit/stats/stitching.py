"""Stitched and law-of-the-iterated-logarithm boundaries (Howard et al. 2021, §3.2;
Howard & Ramdas 2022, Theorem 2): part of :mod:`canarykit.stats.boundaries`, which re-exports
them.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import check_open_unit, check_positive
from canarykit.stats.mixture_roots import FloatOrArray, as_output
from canarykit.stats.roots import brentq

ArrayLike = npt.ArrayLike

__all__ = ["double_stitching_bound", "empirical_process_lil_bound", "poly_stitching_bound"]


def poly_stitching_bound(
    v: ArrayLike, alpha: float, v_min: float, c: float = 0.0, s: float = 1.4, eta: float = 2.0
) -> FloatOrArray:
    """Polynomial stitched boundary (Howard et al. 2021, Theorem 1), valid for ``v ≥ v_min``.

    Notes
    -----
    ``ℓ = s·ln ln(ηv/m) + ln(ζ(s)/ln(η)^s) + ln(1/α)``; ``u = √(k1²vℓ + (k2cℓ)²) + k2cℓ`` with
    ``k1 = (η^¼ + η^−¼)/√2``, ``k2 = (√η + 1)/2``; ``v`` below ``v_min`` is clamped to it.

    Examples
    --------
    >>> round(poly_stitching_bound(100, 0.05, v_min=10, c=3), 3)
    64.488
    """
    alpha = check_open_unit("alpha", alpha)
    v_min = check_positive("v_min", v_min)
    if not s > 1:
        raise InvalidInputError(f"s must be > 1, got {s!r}")
    if not eta > 1:
        raise InvalidInputError(f"eta must be > 1, got {eta!r}")
    k1 = (eta**0.25 + eta**-0.25) / math.sqrt(2.0)
    k2 = (math.sqrt(eta) + 1.0) / 2.0
    a = math.log(special.zeta(s) / math.log(eta) ** s)
    use_v = np.maximum(np.asarray(v, dtype=float), v_min)
    ell = s * np.log(np.log(eta * use_v / v_min)) + a + math.log(1.0 / alpha)
    term2 = k2 * c * ell
    return as_output(np.sqrt(k1 * k1 * use_v * ell + term2 * term2) + term2)


def _lil_optimal_c(alpha: float, a: float) -> float:
    """Constant C of Howard & Ramdas (2022) Theorem 2 (confseq ``find_optimal_C``)."""

    def error_bound(c: float, eta: float) -> float:
        gamma_sq = 2.0 / eta * (a - math.sqrt(2.0 * (eta - 1.0) / c)) ** 2
        if gamma_sq <= 1.0:
            return math.inf
        return 4.0 * math.exp(-gamma_sq * c) * (1.0 + 1.0 / ((gamma_sq - 1.0) * math.log(eta)))

    def optimum_error(c: float) -> float:
        from scipy import optimize  # only here (a once-cached constant): 0.2 s to import

        eta_upper = brentq(
            lambda eta: math.sqrt(eta / 2.0) + math.sqrt(2.0 * (eta - 1.0) / c) - a,
            1.0,
            2.0 * a * a,
            xtol=1e-14,
        )
        res = optimize.minimize_scalar(
            lambda eta: error_bound(c, eta),
            bounds=(1.0 + 1e-12, eta_upper),
            method="bounded",
            options={"xatol": 1e-10},
        )
        return float(res.fun)

    lo, hi = 1.0, 5.0
    while optimum_error(hi) > alpha:
        lo, hi = hi, 2.0 * hi
    return float(brentq(lambda c: optimum_error(c) - alpha, lo, hi, xtol=1e-12))


def empirical_process_lil_bound(
    t: ArrayLike, alpha: float, t_min: float, A: float = 0.85
) -> FloatOrArray:
    """Uniform-over-quantiles bound on ``sup_x |F̂_t(x) − F(x)|`` (Howard & Ramdas 2022, Thm 2).

    Notes
    -----
    ``A·√((ln(1 + ln(t/t_min)) + C)/t)`` for ``t ≥ t_min`` (``inf`` before), with ``C`` chosen
    so that the crossing probability equals ``alpha``; requires ``A > 1/√2``.

    Examples
    --------
    >>> round(empirical_process_lil_bound(1000, 0.05, t_min=100), 6)
    0.082048
    """
    alpha = check_open_unit("alpha", alpha)
    t_min = float(t_min)
    if not t_min >= 1:
        raise InvalidInputError(f"t_min must be >= 1, got {t_min!r}")
    if not 1.0 / math.sqrt(2.0) < A:
        raise InvalidInputError(f"A must be > 1/sqrt(2) ≈ 0.7071, got {A!r}")
    c = _lil_optimal_c(alpha, A)
    t_ = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = A * np.sqrt((np.log1p(np.log(np.maximum(t_, t_min) / t_min)) + c) / t_)
    return as_output(np.where(t_ < t_min, np.inf, val))


def double_stitching_bound(
    p: float,
    t: ArrayLike,
    alpha: float,
    t_opt: float,
    delta: float = 0.5,
    s: float = 1.4,
    eta: float = 2.0,
) -> FloatOrArray:
    """Double-stitching boundary for all quantiles at once (Howard & Ramdas 2022, Theorem 3).

    Returns the boundary on ``t·(F̂_t − F)`` at quantile ``p``; its radius in quantile space
    shrinks for extreme quantiles.

    Examples
    --------
    >>> round(double_stitching_bound(0.5, 1000, 0.05, t_opt=100), 4)
    68.628
    """
    p = check_open_unit("p", p)
    alpha = check_open_unit("alpha", alpha)
    t_opt = check_positive("t_opt", t_opt)
    k1 = (eta**0.25 + eta**-0.25) / math.sqrt(2.0)
    k2 = (math.sqrt(eta) + 1.0) / 2.0
    t_max = np.maximum(np.asarray(t, dtype=float), t_opt)
    logit_p = math.log(p / (1.0 - p))
    if p >= 0.5:
        r = np.full_like(t_max, p)
    else:
        r = np.minimum(0.5, special.expit(logit_p + 2.0 * delta * np.sqrt(t_opt * eta / t_max)))
    sigma_sq = r * (1.0 - r)
    j = np.sqrt(t_max / t_opt) * abs(logit_p) / (2.0 * delta) + 1.0
    zeta_s = float(special.zeta(s))
    ell = (
        s * np.log(np.log(eta * t_max / t_opt))
        + s * np.log(j)
        + math.log(2.0 * zeta_s * (2.0 * zeta_s + 1.0) / (alpha * math.log(eta) ** s))
    )
    cp = (1.0 - 2.0 * p) / 3.0
    term2 = k2 * cp * ell
    return as_output(
        delta * np.sqrt(eta * t_max * sigma_sq / t_opt)
        + np.sqrt(k1 * k1 * sigma_sq * t_max * ell + term2 * term2)
        + term2
    )
