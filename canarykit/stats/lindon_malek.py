"""The Lindon–Malek Dirichlet-mixture e-value for two event counts and its rate-ratio CS.

Under a planned candidate share ``ρ_t`` of requests, the arm of the next error is
Bernoulli(θ) with ``θ = ρ_t·r / (ρ_c + ρ_t·r)`` for the rate ratio ``r``
(:func:`ratio_to_theta`, :func:`theta_to_ratio`). :func:`lindon_malek_log_bf` is the log Bayes
factor (log e-value) of a null θ against a Dirichlet(k·ρ) mixture, and ``_ratio_cs`` inverts it
into the confidence sequence for ``r``. The error-rate checks of
:mod:`canarykit.stats.error_rate` (which re-exports these names) and the segment tests of
:mod:`canarykit.stats.segment_tests` are built on it.

References
----------
.. [1] M. Lindon, A. Malek, "Anytime-Valid Inference for Multinomial Count Data",
   NeurIPS 2022, arXiv:2011.03567.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import check_open_unit, check_positive
from canarykit.stats.roots import brentq

__all__ = ["Alternative", "lindon_malek_log_bf", "ratio_to_theta", "theta_to_ratio"]

Alternative = Literal["two-sided", "greater"]


def _check_alternative(alternative: str) -> Alternative:
    if alternative not in ("two-sided", "greater"):
        raise InvalidInputError(
            f"alternative must be 'two-sided' or 'greater' (candidate worse), got {alternative!r}"
        )
    return alternative  # type: ignore[return-value]


def ratio_to_theta(ratio: npt.ArrayLike, rho_candidate: float) -> npt.NDArray[np.float64]:
    """Probability that an error comes from the candidate, for a candidate/control rate ratio.

    ``θ = ρ_t·r / (ρ_c + ρ_t·r)`` with ``ρ_c = 1 − ρ_t``.

    Examples
    --------
    >>> float(ratio_to_theta(1.0, 0.05))
    0.05
    """
    r = np.asarray(ratio, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(
            np.isinf(r), 1.0, rho_candidate * r / ((1.0 - rho_candidate) + rho_candidate * r)
        )


def theta_to_ratio(theta: npt.ArrayLike, rho_candidate: float) -> npt.NDArray[np.float64]:
    """Inverse of :func:`ratio_to_theta`: ``r = θ·ρ_c / ((1 − θ)·ρ_t)``.

    Examples
    --------
    >>> round(float(theta_to_ratio(0.05, 0.05)), 12)
    1.0
    """
    th = np.asarray(theta, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            th >= 1.0, np.inf, th * (1.0 - rho_candidate) / ((1.0 - th) * rho_candidate)
        )


def _xlogy(x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(special.xlogy(x, y), dtype=float)


def lindon_malek_log_bf(
    n_control_events: npt.ArrayLike,
    n_candidate_events: npt.ArrayLike,
    rho_candidate: float,
    *,
    k: float = 100.0,
    alternative: Alternative = "two-sided",
    theta_null: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64] | float:
    """Log Bayes factor (log e-value) of the Lindon–Malek Dirichlet-mixture count test.

    Parameters
    ----------
    n_control_events, n_candidate_events : array_like of int
        Cumulative event (error) counts of each arm.
    rho_candidate : float
        Planned share of exposure (requests) of the candidate, in (0, 1).
    k : float, default 100
        Prior concentration: Dirichlet(k·ρ) (savvi default). Fix before data.
    alternative : {"two-sided", "greater"}, default "two-sided"
        "greater": H0 candidate *not worse* (θ_t ≤ θ0), the composite null is handled by
        the supremum of the null likelihood.
    theta_null : array_like, optional
        Null probability that an event comes from the candidate; default ``rho_candidate``
        (equal rates). Use :func:`ratio_to_theta` for a rate-ratio null.

    Returns
    -------
    float or ndarray
        ``log BF``; ``exp(-log BF)`` is an e-value based p-value (take the running minimum).

    Notes
    -----
    ``log BF = lnB(kρ_c + N_c, kρ_t + N_t) − lnB(kρ_c, kρ_t) − N_c ln(1−θ0) − N_t ln θ0``;
    one-sided: ``θ0 ← min(θ0, N_t/(N_c+N_t))``. The marginal likelihood is exchangeable, so the
    value depends on the counts only: batch updates equal event-by-event updates.

    References
    ----------
    .. [1] M. Lindon, A. Malek, "Anytime-Valid Inference for Multinomial Count Data",
       NeurIPS 2022, arXiv:2011.03567.

    Examples
    --------
    >>> round(lindon_malek_log_bf(100, 150, 0.5), 8)
    2.96583888
    """
    rho_t = check_open_unit("rho_candidate", rho_candidate)
    k = check_positive("k", k)
    alternative = _check_alternative(alternative)
    nc = np.asarray(n_control_events, dtype=float)
    nt = np.asarray(n_candidate_events, dtype=float)
    rho_c = 1.0 - rho_t
    theta0 = np.asarray(rho_t if theta_null is None else theta_null, dtype=float)
    if alternative == "greater":
        n = nc + nt
        with np.errstate(invalid="ignore", divide="ignore"):
            theta0 = np.where(n > 0, np.minimum(theta0, nt / np.where(n > 0, n, 1.0)), theta0)
    log_marginal = special.betaln(k * rho_c + nc, k * rho_t + nt) - special.betaln(
        k * rho_c, k * rho_t
    )
    out = log_marginal - _xlogy(nc, 1.0 - theta0) - _xlogy(nt, theta0)
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def _ratio_cs(nc: int, nt: int, rho_t: float, k: float, alpha: float) -> tuple[float, float]:
    """Rate-ratio CS ``{r : log BF(θ(r)) < ln(1/α)}`` (an interval: log BF is convex in θ).

    Roots are found in logit(θ), and ``r = exp(logit θ)·ρ_c/ρ_t`` is formed without ``1 − θ``.
    """
    rho_c = 1.0 - rho_t
    const = float(
        special.betaln(k * rho_c + nc, k * rho_t + nt) - special.betaln(k * rho_c, k * rho_t)
    )
    thr = math.log(1.0 / alpha)
    n = nc + nt
    if n == 0:
        return 0.0, math.inf
    shift = math.log(rho_c / rho_t)

    def f(logit: float) -> float:
        # log BF(θ) − ln(1/α) with θ = expit(logit); numerically stable logs
        log_t = -math.log1p(math.exp(-logit)) if logit > -700 else logit
        log_c = -math.log1p(math.exp(logit)) if logit < 700 else -logit
        return const - nc * log_c - nt * log_t - thr

    theta_hat = nt / n
    lo_ratio, hi_ratio = 0.0, math.inf
    if nt > 0:
        centre = math.log(theta_hat / (1.0 - theta_hat)) if nc > 0 else 40.0
        a = centre - 1.0
        while f(a) < 0.0 and a > -745.0:
            a = 2.0 * a - centre - 1.0
        if f(a) >= 0.0:
            lo_ratio = math.exp(brentq(f, a, centre, xtol=1e-13) + shift)
    if nc > 0:
        centre = math.log(theta_hat / (1.0 - theta_hat)) if nt > 0 else -40.0
        b = centre + 1.0
        while f(b) < 0.0 and b < 745.0:
            b = 2.0 * b - centre + 1.0
        if f(b) >= 0.0:
            hi_ratio = math.exp(brentq(f, centre, b, xtol=1e-13) + shift)
    return lo_ratio, hi_ratio
