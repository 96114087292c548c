"""Time-uniform boundaries for confidence sequences (Howard et al. 2021; Howard & Ramdas 2022).

A *uniform boundary* ``u(v)`` bounds a sum ``S_t`` with variance process ``V_t`` at every time at
once: ``P(∃t: S_t ≥ u(V_t)) ≤ α``. Mixture boundaries come from a log-mixture supermartingale
``log M(s, v)``: the boundary is the ``s`` where ``log M(s, v) = log(1/α)``. Every mixture is
tuned by ``v_opt`` (the intrinsic time where the boundary is tightest) and ``alpha_opt``; both are
tuning parameters that must be fixed before data is seen (they change power, never validity).

This module is a numpy/scipy port of the simplified interface of ``confseq``'s
``uniform_boundaries.h`` (gostevehoward/confseq, MIT); it reproduces the library's unit-test
values. Functions accept scalars or numpy arrays for ``s`` and ``v``. The normal and gamma
mixtures are here; the beta-binomial mixtures (:mod:`canarykit.stats.beta_binomial_bounds`),
the stitched and LIL boundaries (:mod:`canarykit.stats.stitching`) and the shared root finding
(:mod:`canarykit.stats.mixture_roots`) have their own modules, and every name is importable
from this one.

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

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import check_open_unit
from canarykit.stats.beta_binomial_bounds import (
    beta_binomial_log_mixture,
    beta_binomial_mixture_bound,
)
from canarykit.stats.mixture_roots import FloatOrArray, as_output, mixture_bound, normal_mixture_rho
from canarykit.stats.stitching import (
    double_stitching_bound,
    empirical_process_lil_bound,
    poly_stitching_bound,
)

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


# --------------------------------------------------------------------------- normal mixtures


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
    return as_output(np.asarray(out))


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
        return as_output(np.sqrt((v_ + rho) * (np.log1p(v_ / rho) + 2.0 * math.log(1.0 / alpha))))
    return as_output(
        mixture_bound(
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
    return as_output(np.asarray(out))


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
    return as_output(
        mixture_bound(
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
    return as_output(np.asarray(out))


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
    return as_output(
        mixture_bound(
            lambda s, vv: np.asarray(gamma_poisson_log_mixture(s, vv, v_opt, c, alpha_opt)),
            np.asarray(v, dtype=float),
            math.log(1.0 / alpha),
        )
    )
