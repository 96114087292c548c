"""Mixture SPRT statistics (Johari et al.): reference helpers for normal and Bernoulli data.

canarykit gates error rates with the Lindon–Malek e-process (:mod:`canarykit.stats.error_rate`);
these closed forms are kept to cross-check against published values and for equal-allocation
experiments. The always-valid p-value is the running minimum of ``1/Λ``.

Examples
--------
>>> round(1 / msprt_bernoulli(20_000, 0.010, 0.013, 0.005), 4)
0.1087
"""

from __future__ import annotations

import math

from canarykit.stats._checks import check_count, check_positive

__all__ = ["msprt_bernoulli", "msprt_normal"]


def msprt_normal(
    n: int,
    mean_diff: float,
    sigma: float,
    tau: float,
    *,
    theta0: float = 0.0,
    two_sample: bool = False,
) -> float:
    """Mixture SPRT statistic Λ_n for normal data with known σ (Johari et al.).

    Notes
    -----
    One sample: ``Λ = √(σ²/(σ²+nτ²)) · exp(n²τ²(X̄−θ0)² / (2σ²(σ²+nτ²)))``. Two-sample (n pairs):
    σ² is replaced by 2σ². The always-valid p-value is the running minimum of ``1/Λ``.

    References
    ----------
    .. [1] R. Johari, L. Pekelis, D. Walsh, "Always valid inference", Oper. Res. 70(3), 2022.

    Examples
    --------
    >>> round(msprt_normal(1000, 0.1, 1.0, 0.1, two_sample=True), 6)
    3.278722
    """
    check_count("n", n)
    s2 = check_positive("sigma", sigma) ** 2 * (2.0 if two_sample else 1.0)
    t2 = check_positive("tau", tau) ** 2
    d = mean_diff - theta0
    return math.sqrt(s2 / (s2 + n * t2)) * math.exp(n * n * t2 * d * d / (2.0 * s2 * (s2 + n * t2)))


def msprt_bernoulli(
    n: int, x_bar: float, y_bar: float, tau: float, *, theta0: float = 0.0
) -> float:
    """Two-proportion mSPRT statistic with plug-in variance (n observations per arm).

    ``V = x̄(1−x̄) + ȳ(1−ȳ)``; ``Λ = √(V/(V+nτ²)) · exp(n²τ²(ȳ−x̄−θ0)² / (2V(V+nτ²)))``; Λ = 1
    while V = 0. Only asymptotically valid (plug-in variance); kept as a reference helper.

    Examples
    --------
    >>> round(msprt_bernoulli(10_000, 0.010, 0.013, 0.005), 6)
    1.772338
    """
    check_count("n", n)
    t2 = check_positive("tau", tau) ** 2
    v = x_bar * (1.0 - x_bar) + y_bar * (1.0 - y_bar)
    if v <= 0.0:
        return 1.0
    d = y_bar - x_bar - theta0
    return math.sqrt(v / (v + n * t2)) * math.exp(n * n * t2 * d * d / (2.0 * v * (v + n * t2)))
