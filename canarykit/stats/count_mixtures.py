"""One-sided beta-binomial mixtures on a count, the evidence of the quantile tests.

A rank test asks whether the count of an arm's latencies below a value is too large or too
small for a quantile ``p``; :func:`count_log_mixture` is that evidence as a log-mixture
(Howard et al. 2021, Prop. 7) that stays finite far on the side of no evidence, and
:func:`mixture_tuning` splits a test's level between the two arms' mixtures. Used by
:mod:`canarykit.stats.quantile_ratio` and the segment tests (:mod:`canarykit.stats.segment_tests`).

Examples
--------
>>> import numpy as np
>>> float(count_log_mixture(np.array([30.0]), 1000, 0.01, 1000, 0.05, upper=True)[0]) > 3.0
True
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from canarykit.stats import _special as special
from canarykit.stats.beta_binomial_bounds import _beta_binomial_r, beta_binomial_log_mixture

__all__ = ["count_log_mixture", "log_incomplete_beta_cf", "mixture_tuning"]

FloatArray = npt.NDArray[np.float64]


def mixture_tuning(
    alpha_pass: float, alpha_fail: float, t_opt_control: float, t_opt_candidate: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """``alpha_opt`` of the (too-small, too-large) mixtures of the control and the candidate.

    A test at level α needs a total evidence ``z ≈ √(2 ln(1/(2α)))``; at the minimising ``x``
    the arms share it in proportion to their variances, ``z_arm² = z² · share_arm`` with
    ``share_control = t_opt_candidate / (t_opt_control + t_opt_candidate)``. A one-sided
    mixture is tightest for ``z_arm`` when tuned at ``alpha_opt`` with
    ``ln(1/(2·alpha_opt)) = share · ln(1/(2α))``, i.e. ``alpha_opt = ½ (2α)^share``.
    """
    share_c = t_opt_candidate / (t_opt_control + t_opt_candidate)
    share_t = t_opt_control / (t_opt_control + t_opt_candidate)

    def a_opt(alpha: float, share: float) -> float:
        return 0.5 * (2.0 * min(alpha, 0.25)) ** share

    return (
        (a_opt(alpha_pass, share_c), a_opt(alpha_fail, share_c)),
        (a_opt(alpha_fail, share_t), a_opt(alpha_pass, share_t)),
    )


def log_incomplete_beta_cf(
    a: FloatArray, b: FloatArray, x: float, iterations: int = 2000
) -> FloatArray:
    """``ln B_x(a, b)`` (non-regularised) by Lentz's continued fraction, in log space.

    ``B_x(a, b) = x^a (1−x)^b / a · cf`` (Numerical Recipes ``betacf``); used where
    ``betainc`` underflows, which happens only for ``x`` far below the mean ``a/(a+b)``, where
    the fraction converges quickly.
    """
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(a)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, iterations + 1):
        m2 = 2.0 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            step = d * c
            h = h * step
        if np.all(np.abs(step - 1.0) < 1e-15):
            break
    return np.asarray(a * math.log(x) + b * math.log1p(-x) - np.log(a) + np.log(h))


def count_log_mixture(
    count: npt.ArrayLike, n: int, p: float, t_opt: float, alpha_opt: float, *, upper: bool
) -> FloatArray:
    """One-sided beta-binomial log-mixture of ``S = count − n·p`` at ``V = n·p(1−p)``.

    ``upper``: evidence that the count is too large (``g = p, h = 1−p``), non-decreasing in the
    count; otherwise evidence that it is too small (``g = 1−p, h = p`` and ``−S``), non-increasing.
    Values come from :func:`~canarykit.stats.boundaries.beta_binomial_log_mixture`, except
    where its incomplete beta function underflows (counts far on the side of no evidence, whose
    log-mixture decreases only like ``−ln|S|``): those are recomputed with the same formula and
    a log-space continued fraction, so the tables stay finite.
    """
    v = n * p * (1.0 - p)
    v_opt = t_opt * p * (1.0 - p)
    a_opt = alpha_opt
    g, h = (p, 1.0 - p) if upper else (1.0 - p, p)
    s = np.asarray(count, dtype=float) - n * p
    s = s if upper else -s
    out = np.array(
        beta_binomial_log_mixture(s, v, v_opt, g, h, a_opt, one_sided=True), dtype=float, ndmin=1
    )
    gh = g + h
    x = h / gh
    r = _beta_binomial_r(v_opt, a_opt, g, h, True)
    s1 = np.atleast_1d(s)
    a = (r + v - g * s1) / (g * gh)
    b = (r + v + h * s1) / (h * gh)
    bad = special.betainc(a, b, x) < 1e-250
    if np.any(bad):
        a0, b0 = r / (g * gh), r / (h * gh)
        norm = math.log(float(special.betainc(a0, b0, x))) + float(special.betaln(a0, b0))
        sb = s1[bad]
        out[bad] = (
            v / (g * h) * math.log(gh)
            - ((v + h * sb) / (h * gh)) * math.log(g)
            - ((v - g * sb) / (g * gh)) * math.log(h)
            + log_incomplete_beta_cf(a[bad], b[bad], x)
            - norm
        )
    return out.reshape(np.shape(s))
