"""Roots of mixture supermartingales: the shared machinery of the uniform boundaries.

A mixture boundary is the ``s`` where ``log M(s, v) = log(1/α)``; :func:`mixture_bound` finds
it (confseq's bracketing, then a vectorised bisection or, for a scalar, Brent's method), for
:mod:`canarykit.stats.boundaries`, :mod:`canarykit.stats.beta_binomial_bounds` and
:mod:`canarykit.stats.stitching`; :func:`normal_mixture_rho` is the tuning that the normal and
beta-binomial mixtures share.

Examples
--------
>>> float(solve_increasing(lambda x: x - 0.25, np.asarray(0.0), np.asarray(1.0)))
0.25
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_open_unit, check_positive
from canarykit.stats.roots import brentq

__all__ = [
    "FloatOrArray",
    "as_output",
    "mixture_bound",
    "normal_mixture_rho",
    "solve_increasing",
]

FloatOrArray = Any  # float for scalar input, numpy array otherwise


def as_output(x: npt.NDArray[np.float64]) -> FloatOrArray:
    """A float for a 0-d result, else the array."""
    return float(x) if x.ndim == 0 else x


def solve_increasing(
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


def mixture_bound(
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
    root = solve_increasing(lambda s: log_m(s, v) - log_threshold, np.zeros_like(v), s_upper)
    return np.where(capped, s_upper, root)


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
