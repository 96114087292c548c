"""Time-uniform boundaries for confidence sequences (Howard et al. 2021; Howard & Ramdas 2022).

A *uniform boundary* ``u(v)`` bounds a sum ``S_t`` with variance process ``V_t`` at every time at
once: ``P(∃t: S_t ≥ u(V_t)) ≤ α``. Mixture boundaries come from a log-mixture supermartingale
``log M(s, v)``: the boundary is the ``s`` where ``log M(s, v) = log(1/α)``. Every mixture is
tuned by ``v_opt`` (the intrinsic time where the boundary is tightest) and ``alpha_opt``; both are
tuning parameters that must be fixed before data is seen (they change power, never validity).

This module is a numpy/scipy port of the simplified interface of ``confseq``'s
``uniform_boundaries.h`` (gostevehoward/confseq, MIT); it reproduces the library's unit-test
values. Functions accept scalars or numpy arrays for ``s`` and ``v``.

Examples
--------
>>> round(normal_mixture_bound(100, 0.05, v_opt=100, one_sided=False), 4)
30.3521
>>> round(beta_binomial_mixture_bound(100, 0.05, 100, g=0.2, h=0.8, one_sided=False), 4)
31.4308

The Bernoulli confidence sequence built on the beta-binomial mixture lives in
:mod:`canarykit.stats.bernoulli`.

References
----------
.. [1] S. R. Howard, A. Ramdas, J. McAuliffe, J. Sekhon, "Time-uniform, nonparametric,
   nonasymptotic confidence sequences", Ann. Statist. 49(2), 2021. arXiv:1810.08240.
.. [2] S. R. Howard, A. Ramdas, "Sequential estimation of quantiles with applications to A/B
   testing and best-arm identification", Bernoulli 28(3), 2022. arXiv:1906.09712.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import check_open_unit, check_positive
from canarykit.stats.roots import brentq

__all__ = [
    "beta_binomial_log_mixture",
    "beta_binomial_mixture_bound",
    "double_stitching_bound",
    "empirical_process_lil_bound",
    "gamma_exponential_log_mixture",
    "gamma_exponential_mixture_bound",
    "gamma_poisson_log_mixture",
    "gamma_poisson_mixture_bound",
    "normal_log_mixture",
    "normal_mixture_bound",
    "normal_mixture_rho",
    "poly_stitching_bound",
]

ArrayLike = npt.ArrayLike
FloatOrArray = Any  # float for scalar input, numpy array otherwise


def _out(x: npt.NDArray[np.float64]) -> FloatOrArray:
    return float(x) if x.ndim == 0 else x


# --------------------------------------------------------------------------- root finding


def _solve_increasing(
    fn: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]],
    lo: npt.NDArray[np.float64],
    hi: npt.NDArray[np.float64],
    iterations: int = 80,
) -> npt.NDArray[np.float64]:
    """Vectorised bisection for the root of an increasing function on ``[lo, hi]``."""
    lo = np.array(lo, dtype=float, copy=True)
    hi = np.array(hi, dtype=float, copy=True)
    if lo.ndim == 0:
        flo, fhi = float(fn(lo)), float(fn(hi))
        if flo >= 0.0:
            return lo
        if fhi <= 0.0:
            return hi
        root = brentq(lambda x: float(fn(np.asarray(x))), float(lo), float(hi), xtol=1e-12)
        return np.asarray(root, dtype=float)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = fn(mid) >= 0.0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


def _mixture_bound(
    log_m: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], npt.NDArray[np.float64]],
    v: npt.NDArray[np.float64],
    log_threshold: float,
    s_upper: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """``s`` solving ``log_m(s, v) = log_threshold`` on ``[0, s_upper]`` (confseq)."""
    v = np.asarray(v, dtype=float)
    if s_upper is None:
        # double v until the supermartingale exceeds the threshold (confseq find_s_upper_bound)
        s_upper = np.maximum(v, 1e-12).copy()
        for _ in range(60):
            below = log_m(s_upper, v) <= log_threshold
            if not np.any(below):
                break
            s_upper = np.where(below, 2.0 * s_upper, s_upper)
    s_upper = np.asarray(s_upper, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        capped = log_m(s_upper, v) - log_threshold < 0.0
    root = _solve_increasing(lambda s: log_m(s, v) - log_threshold, np.zeros_like(v), s_upper)
    return np.where(capped, s_upper, root)


# --------------------------------------------------------------------------- normal mixtures


def normal_mixture_rho(v_opt: float, alpha_opt: float = 0.05, *, one_sided: bool = True) -> float:
    """Mixture precision ρ that makes the normal-mixture boundary tightest at ``v = v_opt``.

    Parameters
    ----------
    v_opt : float
        Intrinsic time (variance process value) at which to optimise, ``> 0``.
    alpha_opt : float, default 0.05
        Crossing probability used for the optimisation, in (0, 1).
    one_sided : bool, default True
        One-sided mixtures use ``2 * alpha_opt`` (confseq ``OneSidedNormalMixture::best_rho``).

    Returns
    -------
    float
        ``ρ = v_opt / (2 ln(1/a) + ln(1 + 2 ln(1/a)))`` with ``a = alpha_opt`` (two-sided) or
        ``2 alpha_opt`` (one-sided).

    Notes
    -----
    Howard et al. (2021), eq. (3.12) and Proposition 3.

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021.

    Examples
    --------
    >>> round(normal_mixture_rho(100, 0.05, one_sided=False), 5)
    12.60056
    """
    v_opt = check_positive("v_opt", v_opt)
    a = check_open_unit("alpha_opt", alpha_opt)
    if one_sided:
        a = 2.0 * a
        if a >= 1.0:
            raise InvalidInputError(
                f"alpha_opt must be < 0.5 for a one-sided mixture, got {alpha_opt!r}"
            )
    la = math.log(1.0 / a)
    return v_opt / (2.0 * la + math.log(1.0 + 2.0 * la))


def normal_log_mixture(
    s: ArrayLike, v: ArrayLike, v_opt: float, alpha_opt: float = 0.05, *, one_sided: bool = True
) -> FloatOrArray:
    """Log of the normal-mixture supermartingale ``log M(s, v)``.

    Notes
    -----
    Two-sided (λ ~ N(0, 1/ρ)): ``½ ln(ρ/(v+ρ)) + s²/(2(v+ρ))``. One-sided (half-normal mixing):
    ``½ ln(4ρ/(v+ρ)) + s²/(2(v+ρ)) + ln Φ(s/√(v+ρ))``. ρ from :func:`normal_mixture_rho`.

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021, Section 3.2.

    Examples
    --------
    >>> round(normal_log_mixture(10, 100, v_opt=100, one_sided=False), 6)
    -0.651005
    """
    rho = normal_mixture_rho(v_opt, alpha_opt, one_sided=one_sided)
    s_ = np.asarray(s, dtype=float)
    v_ = np.asarray(v, dtype=float)
    vr = v_ + rho
    out = 0.5 * np.log(rho / vr) + s_ * s_ / (2.0 * vr)
    if one_sided:
        out = out + math.log(2.0) + special.log_ndtr(s_ / np.sqrt(vr))
    return _out(np.asarray(out))


def normal_mixture_bound(
    v: ArrayLike, alpha: float, v_opt: float, alpha_opt: float = 0.05, *, one_sided: bool = True
) -> FloatOrArray:
    """Normal-mixture uniform boundary ``u(v)`` with crossing probability ``alpha``.

    Notes
    -----
    Two-sided closed form ``u(v) = √((v+ρ)(ln(1+v/ρ) + 2 ln(1/α)))`` bounds ``|S_t|``; the
    one-sided boundary is the root of ``log M(s, v) = ln(1/α)`` (bisection).

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021, Proposition 3.

    Examples
    --------
    >>> round(normal_mixture_bound(100, 0.05, v_opt=100, one_sided=True), 4)
    27.6607
    """
    alpha = check_open_unit("alpha", alpha)
    rho = normal_mixture_rho(v_opt, alpha_opt, one_sided=one_sided)
    v_ = np.asarray(v, dtype=float)
    if not one_sided:
        return _out(np.sqrt((v_ + rho) * (np.log1p(v_ / rho) + 2.0 * math.log(1.0 / alpha))))
    return _out(
        _mixture_bound(
            lambda s, vv: np.asarray(normal_log_mixture(s, vv, v_opt, alpha_opt, one_sided=True)),
            v_,
            math.log(1.0 / alpha),
        )
    )


# --------------------------------------------------------------------------- gamma mixtures


def _gamma_constants(v_opt: float, alpha_opt: float, c: float) -> tuple[float, float]:
    rho = normal_mixture_rho(v_opt, alpha_opt, one_sided=True)
    c = float(c)
    if not (math.isfinite(c) and c > 0):
        raise InvalidInputError(f"c must be a finite number > 0, got {c!r}")
    return rho, c


def gamma_exponential_log_mixture(
    s: ArrayLike, v: ArrayLike, v_opt: float, c: float, alpha_opt: float = 0.05
) -> FloatOrArray:
    """Log gamma-exponential mixture supermartingale (sub-exponential increments, scale ``c``).

    Notes
    -----
    ``log M = L + lnΓ((v+ρ)/c²) + ln P((v+ρ)/c², (cs+v+ρ)/c²) − ((v+ρ)/c²) ln((cs+v+ρ)/c²)
    + (cs+v)/c²`` with ``L = (ρ/c²) ln(ρ/c²) − lnΓ(ρ/c²) − ln P(ρ/c², ρ/c²)``, P the regularised
    lower incomplete gamma, ρ from the one-sided rule.

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021, Proposition 9.

    Examples
    --------
    >>> round(gamma_exponential_log_mixture(10, 100, v_opt=100, c=2), 5)
    -0.24902
    """
    rho, c = _gamma_constants(v_opt, alpha_opt, c)
    c2 = c * c
    rc = rho / c2
    lead = rc * math.log(rc) - special.gammaln(rc) - math.log(special.gammainc(rc, rc))
    s_ = np.asarray(s, dtype=float)
    v_ = np.asarray(v, dtype=float)
    cs_v = (c * s_ + v_) / c2
    vr = (v_ + rho) / c2
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (
            lead
            + special.gammaln(vr)
            + np.log(special.gammainc(vr, cs_v + rc))
            - vr * np.log(cs_v + rc)
            + cs_v
        )
    return _out(np.asarray(out))


def gamma_exponential_mixture_bound(
    v: ArrayLike, alpha: float, v_opt: float, c: float, alpha_opt: float = 0.05
) -> FloatOrArray:
    """Gamma-exponential mixture uniform boundary (root of ``log M = ln(1/α)``).

    Examples
    --------
    >>> round(gamma_exponential_mixture_bound(100, 0.05, v_opt=100, c=2), 4)
    33.0202
    """
    alpha = check_open_unit("alpha", alpha)
    _gamma_constants(v_opt, alpha_opt, c)
    return _out(
        _mixture_bound(
            lambda s, vv: np.asarray(gamma_exponential_log_mixture(s, vv, v_opt, c, alpha_opt)),
            np.asarray(v, dtype=float),
            math.log(1.0 / alpha),
        )
    )


def gamma_poisson_log_mixture(
    s: ArrayLike, v: ArrayLike, v_opt: float, c: float, alpha_opt: float = 0.05
) -> FloatOrArray:
    """Log gamma-Poisson mixture supermartingale (sub-Poisson increments, scale ``c``).

    Notes
    -----
    ``log M = L + lnΓ(s/c + (v+ρ)/c²) + ln Q(s/c + (v+ρ)/c², (v+ρ)/c²)
    − (s/c + (v+ρ)/c²) ln((v+ρ)/c²) + v/c²`` with ``L = (ρ/c²) ln(ρ/c²) − lnΓ(ρ/c²) −
    ln Q(ρ/c², ρ/c²)``, Q the regularised upper incomplete gamma.

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021, Proposition 9.

    Examples
    --------
    >>> round(gamma_poisson_log_mixture(10, 100, v_opt=100, c=2), 6)
    -0.069912
    """
    rho, c = _gamma_constants(v_opt, alpha_opt, c)
    c2 = c * c
    rc = rho / c2
    lead = rc * math.log(rc) - special.gammaln(rc) - math.log(special.gammaincc(rc, rc))
    s_ = np.asarray(s, dtype=float)
    v_ = np.asarray(v, dtype=float)
    vr = (v_ + rho) / c2
    a = s_ / c + vr
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (
            lead + special.gammaln(a) + np.log(special.gammaincc(a, vr)) - a * np.log(vr) + v_ / c2
        )
    return _out(np.asarray(out))


def gamma_poisson_mixture_bound(
    v: ArrayLike, alpha: float, v_opt: float, c: float, alpha_opt: float = 0.05
) -> FloatOrArray:
    """Gamma-Poisson mixture uniform boundary (root of ``log M = ln(1/α)``).

    Examples
    --------
    >>> round(gamma_poisson_mixture_bound(100, 0.05, v_opt=100, c=2), 3)
    30.195
    """
    alpha = check_open_unit("alpha", alpha)
    _gamma_constants(v_opt, alpha_opt, c)
    return _out(
        _mixture_bound(
            lambda s, vv: np.asarray(gamma_poisson_log_mixture(s, vv, v_opt, c, alpha_opt)),
            np.asarray(v, dtype=float),
            math.log(1.0 / alpha),
        )
    )


# --------------------------------------------------------------------------- beta-binomial


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
    return _out(np.asarray(out))


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
    return _out(
        _mixture_bound(
            lambda s, vv: np.asarray(
                beta_binomial_log_mixture(s, vv, v_opt, g, h, alpha_opt, one_sided=one_sided)
            ),
            v_,
            math.log(1.0 / alpha),
            s_upper=v_ / g,
        )
    )


# --------------------------------------------------------------------------- stitching and LIL


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
    return _out(np.sqrt(k1 * k1 * use_v * ell + term2 * term2) + term2)


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
    return _out(np.where(t_ < t_min, np.inf, val))


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
    return _out(
        delta * np.sqrt(eta * t_max * sigma_sq / t_opt)
        + np.sqrt(k1 * k1 * sigma_sq * t_max * ell + term2 * term2)
        + term2
    )
