"""Fail-side e-values of the policy's check kinds, for one segment (inputs to e-BH).

Each function returns the log of an e-value for the null "this check does **not** fail",
i.e. the candidate is within the policy's threshold, that is dominated by a test
supermartingale under every distribution of that null — so its value *at any stopping time*
(in particular at the current look) is an e-value, the property :func:`canarykit.stats.ebh.ebh`
needs. None of them takes a running maximum over looks.

=========================  ===================================================================
kind                       e-value of "no regression beyond the threshold"
=========================  ===================================================================
``latency_quantile``       one-sided beta-binomial mixture on the count of candidate latencies
                           above the SLO ``T`` vs Bernoulli(``1 − p``): ``Q(p) ≤ T`` ⇔
                           ``P(X > T) ≤ 1 − p`` (:func:`exceedance_log_e`)
``error_rate``             the same on the candidate's error count vs the SLO rate
``error_rate_ratio``       conditional binomial on the arm of each error, a Beta prior
                           *truncated to the alternative* ``θ > θ(margin)`` (one-sided), the
                           composite null ``θ ≤ θ(margin)`` handled by the supremum of the
                           null likelihood (:func:`error_ratio_one_sided_log_e`; the
                           two-sided Lindon–Malek prior, :func:`error_ratio_log_e`, wastes
                           most of its mass on ``θ < θ(margin)``)
``latency_quantile_ratio`` ``T_fail`` of the direct two-sample quantile test at the threshold
                           (:func:`canarykit.stats.quantile_ratio.quantile_ratio_cs`), from
                           sketch bucket edges (conservative)
``auc_delta``              one-sided normal mixture over drops of ΔAUC below the margin, in
                           DeLong information time — *asymptotic*, as the check itself
                           (:func:`auc_drop_log_e`)
=========================  ===================================================================

Examples
--------
>>> round(exceedance_log_e(30, 1000, 0.01, t_opt=1000), 3) > 3.0   # 3 % above a 1 % budget
True
>>> exceedance_log_e(5, 1000, 0.01, t_opt=1000) < 0.0                 # within budget
True
"""

from __future__ import annotations

import math

import numpy as np

from canarykit.stats import _special as special
from canarykit.stats._checks import check_count, check_open_unit, check_positive
from canarykit.stats.boundaries import normal_log_mixture
from canarykit.stats.count_mixtures import count_log_mixture
from canarykit.stats.error_rate import lindon_malek_log_bf, ratio_to_theta

__all__ = [
    "auc_drop_log_e",
    "error_ratio_log_e",
    "error_ratio_one_sided_log_e",
    "exceedance_log_e",
]

ERROR_PRIOR_CONCENTRATION = 8.0
"""``a + b`` of the one-sided error-ratio prior (:func:`error_ratio_one_sided_log_e`): a
standard deviation of about 0.16 in θ, the scale on which a segment's few dozen errors
locate the share of errors from the candidate (chosen on the A/B error counts of one region
of eight in a 25 % step, where it gains about 1.2 nats over the two-sided k = 7 prior)."""


def exceedance_log_e(
    count: int, n: int, p0: float, *, t_opt: float, alpha_opt: float = 0.05
) -> float:
    """Log e-value against "the rate of an event is at most ``p0``" from ``count`` of ``n``.

    Parameters
    ----------
    count, n : int
        Events (errors, latencies above an SLO) and trials.
    p0 : float
        Largest rate allowed under the null, in (0, 1).
    t_opt : float
        Trials at which the mixture is tightest (fixed before data).
    alpha_opt : float, default 0.05

    Notes
    -----
    ``log M⁺(S, V)`` with ``S = count − n·p0``, ``V = n·p0(1 − p0)``, the one-sided
    beta-binomial mixture of Howard et al. [1]_ (Prop. 7, ``g = p0, h = 1 − p0``). For
    Bernoulli(``p ≤ p0``) indicators it is a nonnegative supermartingale with initial value 1,
    so its value at any stopping time is an e-value (optional stopping). It is non-decreasing
    in ``count``.

    References
    ----------
    .. [1] Howard, Ramdas, McAuliffe, Sekhon, Ann. Statist. 49(2), 2021.

    Examples
    --------
    >>> exceedance_log_e(0, 0, 0.05, t_opt=100)
    0.0
    """
    k = check_count("count", count)
    n = check_count("n", n)
    p0 = check_open_unit("p0", p0)
    t_opt = check_positive("t_opt", t_opt)
    if n == 0:
        return 0.0
    out = count_log_mixture(np.asarray([float(k)]), n, p0, t_opt, alpha_opt, upper=True)
    return float(out[0])


def error_ratio_log_e(
    control_errors: int,
    candidate_errors: int,
    *,
    rho_candidate: float,
    margin: float,
    k: float = 100.0,
) -> float:
    """Log e-value against "candidate error rate ≤ ``margin`` × control error rate".

    Notes
    -----
    The Lindon–Malek Dirichlet-mixture Bayes factor on the arm of each error, with null
    ``θ₀ = ρ·margin/(1 − ρ + ρ·margin)`` (:func:`~canarykit.stats.error_rate.ratio_to_theta`)
    and the one-sided composite null handled by ``θ₀ ← min(θ₀, θ̂)``: the null likelihood at
    that point is at least the likelihood at any true ``θ ≤ θ₀`` (the likelihood is unimodal
    at ``θ̂``), so the statistic is at most the mixture martingale of the true ``θ`` and its
    value at a stopping time is an e-value. Assumes the planned share ``ρ`` within the segment
    (random routing independent of the segment).

    Examples
    --------
    >>> round(error_ratio_log_e(30, 40, rho_candidate=0.25, margin=1.25, k=7), 2) > 4
    True
    >>> error_ratio_log_e(30, 10, rho_candidate=0.25, margin=1.25) <= 0.0
    True
    """
    rho = check_open_unit("rho_candidate", rho_candidate)
    margin = check_positive("margin", margin)
    theta0 = float(ratio_to_theta(margin, rho))
    return float(
        lindon_malek_log_bf(
            check_count("control_errors", control_errors),
            check_count("candidate_errors", candidate_errors),
            rho,
            k=k,
            alternative="greater",
            theta_null=theta0,
        )
    )


def error_ratio_one_sided_log_e(
    control_errors: int,
    candidate_errors: int,
    *,
    rho_candidate: float,
    margin: float,
    center_ratio: float = 2.0,
    concentration: float = ERROR_PRIOR_CONCENTRATION,
) -> float:
    """Log e-value against "candidate error rate ≤ ``margin`` × control error rate", one-sided.

    Parameters
    ----------
    control_errors, candidate_errors : int
        Cumulative error counts of each arm in the segment.
    rho_candidate : float
        Planned share of the candidate's requests (within the segment), in (0, 1).
    margin : float
        Largest rate ratio allowed under the null (the policy's threshold, e.g. 1.25).
    center_ratio : float, default 2.0
        Rate ratio at which the prior is centred (``max(center_ratio, margin)`` is used).
    concentration : float, default :data:`ERROR_PRIOR_CONCENTRATION`
        ``a + b`` of the Beta prior. Tuning (fixed before data): power only, never validity.

    Returns
    -------
    float
        ``log E``; ``-inf`` is not returned (see Notes).

    Notes
    -----
    Given the errors, each error comes from the candidate with probability
    ``θ = ρ·r/(1 − ρ + ρ·r)`` (``r`` the rate ratio), independently: the arm of the ``i``-th
    error is Bernoulli(θ) conditionally on the past. The null ``r ≤ margin`` is ``θ ≤ θ₀ =
    θ(margin)``. With ``π`` the Beta(``a, b``) density (``a = c·θ_a``, ``b = c·(1 − θ_a)``,
    ``θ_a = θ(center_ratio)``) restricted to ``(θ₀, 1)`` and renormalised,

    ``E = ∫_{θ₀}^1 θ^{N_t}(1−θ)^{N_c} π(θ) dθ / (θ̃^{N_t}(1−θ̃)^{N_c})``,
    ``θ̃ = min(θ₀, N_t/(N_t+N_c))``,

    in closed form ``B(a+N_t, b+N_c)·Ī_{θ₀}(a+N_t, b+N_c) / (B(a, b)·Ī_{θ₀}(a, b))`` over the
    denominator (``Ī`` the regularised upper incomplete beta function). For any true ``θ ≤
    θ₀`` the denominator is at least ``θ^{N_t}(1−θ)^{N_c}`` (the binomial likelihood is unimodal
    at ``θ̂``, so its supremum over ``θ ≤ θ₀`` is at ``θ̃``), hence ``E`` is at most a mixture of
    likelihood ratios — a test martingale in event time — and its value at any stopping time
    (a look) is an e-value. Concentrating the prior on the alternative side is what makes it
    sharper than the two-sided Lindon–Malek prior at the same data; the price is no evidence at
    all for ``θ < θ₀`` (which this fail-side e-value never needs). Where the upper incomplete
    beta function underflows (candidate errors far below the margin) it is floored at the
    smallest normal float, so ``E`` stays a tiny positive number.

    References
    ----------
    .. [1] M. Lindon, A. Malek, "Anytime-Valid Inference for Multinomial Count Data",
       NeurIPS 2022, arXiv:2011.03567 (the conditional multinomial e-process).
    .. [2] A. Ramdas, P. Grünwald, V. Vovk, G. Shafer, "Game-theoretic statistics and safe
       anytime-valid inference", Statist. Sci. 38(4), 2023 (mixtures over a composite
       alternative, supremum over a composite null).

    Examples
    --------
    >>> round(error_ratio_one_sided_log_e(34, 34, rho_candidate=0.25, margin=1.25), 2)
    5.33
    >>> error_ratio_one_sided_log_e(30, 5, rho_candidate=0.25, margin=1.25) < 0
    True
    """
    rho = check_open_unit("rho_candidate", rho_candidate)
    margin = check_positive("margin", margin)
    center = max(check_positive("center_ratio", center_ratio), margin)
    c = check_positive("concentration", concentration)
    nc = check_count("control_errors", control_errors)
    nt = check_count("candidate_errors", candidate_errors)
    theta0 = float(ratio_to_theta(margin, rho))
    theta_a = float(ratio_to_theta(center, rho))
    a, b = c * theta_a, c * (1.0 - theta_a)
    tiny = np.finfo(float).tiny
    numerator = float(special.betaln(a + nt, b + nc)) + math.log(
        max(float(special.betaincc(a + nt, b + nc, theta0)), tiny)
    )
    prior = float(special.betaln(a, b)) + math.log(float(special.betaincc(a, b, theta0)))
    theta = min(theta0, nt / (nt + nc)) if nt + nc else theta0
    null = float(special.xlogy(nt, theta) + special.xlog1py(nc, -theta))
    return numerator - prior - null


def auc_drop_log_e(
    delta: float, se: float, *, margin: float, planned_se: float, alpha_opt: float = 0.05
) -> float:
    """Log e-value against "ΔAUC ≥ ``margin``" from an estimate and its DeLong standard error.

    Notes
    -----
    In information time ``I = 1/se²`` the score ``S = I·(margin − Δ̂)`` is asymptotically a
    Brownian motion with drift ``I·(margin − Δ)`` ≤ 0 under the null; the one-sided
    normal mixture over positive drifts (tuned at ``I* = 1/planned_se²``) is then an
    asymptotic test supermartingale [1]_. Like the ``auc_delta`` check itself, its validity is
    asymptotic (large positive and negative counts per arm).

    References
    ----------
    .. [1] Howard et al., Ann. Statist. 49(2), 2021, Section 3.2; Waudby-Smith et al.,
       "Time-uniform central limit theory", arXiv:2103.06476.

    Examples
    --------
    >>> auc_drop_log_e(-0.05, 0.01, margin=-0.01, planned_se=0.01) > 5
    True
    >>> auc_drop_log_e(0.0, 0.01, margin=-0.01, planned_se=0.01) < 0
    True
    """
    if not (math.isfinite(delta) and math.isfinite(se) and se > 0):
        return 0.0
    info = 1.0 / se**2
    s = info * (margin - delta)
    return float(normal_log_mixture(s, info, 1.0 / planned_se**2, alpha_opt, one_sided=True))
