"""Time-uniform confidence sequence for a Bernoulli rate (beta-binomial mixture, Howard et al.).

Examples
--------
>>> lo, hi = bernoulli_confidence_interval(700, 1000, alpha=0.05, t_opt=100)
>>> round(lo, 5), round(hi, 5)
(0.65163, 0.74595)
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import check_count, check_open_unit, check_positive
from canarykit.stats.boundaries import FloatOrArray
from canarykit.stats.roots import brentq

__all__ = ["bernoulli_confidence_interval", "bernoulli_log_mixture"]


def bernoulli_log_mixture(
    p: npt.ArrayLike,
    successes: npt.ArrayLike,
    trials: npt.ArrayLike,
    t_opt: float,
    alpha_opt: float = 0.05,
) -> FloatOrArray:
    """Two-sided beta-binomial log-mixture for the null ``P(success) = p`` (vectorised).

    ``log M`` evaluated at ``s = successes − p·trials`` and ``v = p(1−p)·trials`` with the mixture
    tuned at ``v_opt = p(1−p)·t_opt``; ``exp(−log M)`` is an anytime-valid p-value (take the
    running minimum) and ``{p : log M < ln(1/α)}`` is a confidence sequence.

    Examples
    --------
    >>> round(bernoulli_log_mixture(0.7, 700, 1000, t_opt=100), 4)
    -2.2608
    """
    p_ = np.asarray(p, dtype=float)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    g = p_
    h = 1.0 - p_
    gh = g * h
    la = math.log(1.0 / check_open_unit("alpha_opt", alpha_opt))
    rho = gh * t_opt / (2.0 * la + math.log(1.0 + 2.0 * la))
    r = np.maximum(rho - gh, 1e-3 * gh)
    s = k - p_ * n
    v = gh * n
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (
            -((v + h * s) / h) * np.log(g)
            - ((v - g * s) / g) * np.log(h)
            + special.betaln((r + v - g * s) / g, (r + v + h * s) / h)
            - special.betaln(r / g, r / h)
        )
    arr = np.asarray(out)
    return float(arr) if arr.ndim == 0 else arr


def bernoulli_confidence_interval(
    num_successes: float, num_trials: int, alpha: float, t_opt: float, alpha_opt: float = 0.05
) -> tuple[float, float]:
    """Time-uniform confidence sequence for a Bernoulli success probability.

    Parameters
    ----------
    num_successes : float
        Number of successes so far (e.g. errors), ``0 ≤ num_successes ≤ num_trials``.
    num_trials : int
        Number of trials so far (e.g. requests), ``≥ 1``.
    alpha : float
        Crossing probability (1 − confidence level), in (0, 1).
    t_opt : float
        Number of trials at which the sequence is tightest; fix before seeing data.
    alpha_opt : float, default 0.05

    Returns
    -------
    (float, float)
        ``(lower, upper)``: all ``p`` whose two-sided beta-binomial mixture
        (:func:`bernoulli_log_mixture`) stays below ``ln(1/α)``.

    Notes
    -----
    Exact (non-asymptotic) for Bernoulli data at any rate, including rates near 0: the mixture is
    a supermartingale under each ``p``. Port of confseq ``bernoulli_confidence_interval``.

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021, Proposition 7.

    Examples
    --------
    >>> lo, hi = bernoulli_confidence_interval(0, 1000, alpha=0.05, t_opt=1000)
    >>> lo, round(hi, 4)
    (0.0, 0.00...)
    """
    alpha = check_open_unit("alpha", alpha)
    n = check_count("num_trials", num_trials)
    if n < 1:
        raise InvalidInputError(f"num_trials must be >= 1, got {num_trials!r}")
    k = float(num_successes)
    if not 0.0 <= k <= n:
        raise InvalidInputError(
            f"num_successes must be in [0, num_trials={n}], got {num_successes!r}"
        )
    t_opt = check_positive("t_opt", t_opt)
    threshold = math.log(1.0 / alpha)
    p_hat = k / n

    def objective(p: float) -> float:
        return float(bernoulli_log_mixture(p, k, n, t_opt, alpha_opt)) - threshold

    lower = 0.0
    if p_hat > 0.0:
        if objective(p_hat * 1e-12) <= 0.0:
            lower = 0.0
        else:
            end = min(p_hat, 1.0 - 1e-15)
            lower = float(brentq(objective, p_hat * 1e-12, end, xtol=1e-15, rtol=1e-12))
    upper = 1.0
    if p_hat < 1.0:
        top = 1.0 - (1.0 - p_hat) * 1e-12
        if objective(top) <= 0.0:
            upper = 1.0
        else:
            start = max(p_hat, 1e-15)
            upper = float(brentq(objective, start, top, xtol=1e-15, rtol=1e-12))
    return lower, upper
