"""Direct anytime-valid two-sample test of "candidate p-quantile ≤ r × control p-quantile".

One confidence sequence ``[L, U]`` for the quantile ratio ``Q_candidate(p) / Q_control(p)``,
built by inverting two one-sided sequential tests (a *pass* test and a *fail* test) that compare
the arms' empirical counts at a common point instead of dividing two per-arm confidence
sequences (:func:`canarykit.stats.quantiles.quantile_ratio_test`, kept as public API). It is much
tighter when one arm is large: at a 5 % canary the control's count is nearly exact and the
candidate's own uncertainty alone decides.

Rank-request flow, as for the other quantile checks: :func:`quantile_ratio_rank_requests` says
which order statistics each arm needs, the store fetches exactly those, and
:func:`quantile_ratio_cs` runs on them (a full sorted sample is also accepted and is exact).

The result and the test are here; the pass and fail statistics and their inversion
(:mod:`canarykit.stats.quantile_ratio_statistics`) and the rank requests
(:mod:`canarykit.stats.quantile_ratio_ranks`) have their own modules, and every name is
importable from this one.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x_c = np.round(rng.lognormal(3.0, 0.5, 40_000), 1)
>>> x_t = np.round(rng.lognormal(3.0, 0.5, 4_000), 1)
>>> req_c, req_t = quantile_ratio_rank_requests(
...     x_c.size, x_t.size, 0.99, alpha_pass=0.05, alpha_fail=0.003,
...     t_opt_control=40_000, t_opt_candidate=4_000)
>>> control = OrderStatistics.from_sample(x_c).select(req_c.ranks)
>>> candidate = OrderStatistics.from_sample(x_t).select(req_t.ranks)
>>> res = quantile_ratio_cs(control, candidate, 0.99, alpha_pass=0.05, alpha_fail=0.003,
...                         t_opt_control=40_000, t_opt_candidate=4_000, threshold=1.25)
>>> res.decide(1.25, bound="max"), res.ci_low < res.estimate < res.ci_high < 1.25
('pass', True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_open_unit, check_positive
from canarykit.stats.count_mixtures import mixture_tuning
from canarykit.stats.order_statistics import OrderStatistics
from canarykit.stats.quantile_ratio_ranks import _check_alphas, quantile_ratio_rank_requests
from canarykit.stats.quantile_ratio_statistics import RATIO_TOL as RATIO_TOL
from canarykit.stats.quantile_ratio_statistics import FloatArray as FloatArray
from canarykit.stats.quantile_ratio_statistics import (
    _arm,
    _lower_bound,
    _t_fail,
    _t_pass,
    _upper_bound,
)
from canarykit.stats.quantiles import _estimate_rank
from canarykit.stats.result import IntervalResult

__all__ = ["QuantileRatioCSResult", "quantile_ratio_cs", "quantile_ratio_rank_requests"]

# --------------------------------------------------------------------------- result


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantileRatioCSResult(IntervalResult):
    """Confidence sequence for ``Q_candidate(p) / Q_control(p)`` from the direct two-sample test.

    ``ci_low``/``ci_high`` are ``L``/``U`` (``0``/``inf`` while data is short); ``estimate`` is the
    ratio of the arms' sample quantiles (inverted-CDF definition); ``pvalue`` is the anytime-valid
    p-value ``min(1, exp(−log_e_fail))`` of "no regression beyond the threshold" when a threshold
    was given (take the running minimum over looks), else ``None``.

    Attributes
    ----------
    p : float
        Quantile level.
    control_estimate, candidate_estimate : float
        Sample p-quantiles of the arms (NaN for an empty arm).
    log_e_pass, log_e_fail : float
        ``T_pass`` and ``T_fail`` at the threshold (log e-values; the check passes when
        ``log_e_pass ≥ ln(1/alpha_pass)`` and fails when ``log_e_fail ≥ ln(1/alpha_fail)``);
        NaN without a threshold.
    alpha_pass, alpha_fail : float
        Error levels of the pass and fail tests; ``confidence_level = 1 − alpha_pass − alpha_fail``.
    """

    p: float = math.nan
    control_estimate: float = math.nan
    candidate_estimate: float = math.nan
    log_e_pass: float = math.nan
    log_e_fail: float = math.nan
    alpha_pass: float = math.nan
    alpha_fail: float = math.nan


# --------------------------------------------------------------------------- the test


def _check_latencies(name: str, os: OrderStatistics) -> None:
    if not isinstance(os, OrderStatistics):
        raise InvalidInputError(
            f"{name} must be an OrderStatistics (use OrderStatistics.from_sample for a sample), "
            f"got {type(os).__name__}"
        )
    if os.values.size and not (float(os.values[0]) >= 0.0 and bool(np.all(np.isfinite(os.high)))):
        raise InvalidInputError(f"{name} latency order statistics must be finite and >= 0")


def _sample_quantile(os: OrderStatistics, p: float) -> float:
    return os.value(_estimate_rank(os.n, p)) if os.n > 0 else math.nan


def quantile_ratio_cs(
    control: OrderStatistics,
    candidate: OrderStatistics,
    p: float,
    *,
    alpha_pass: float,
    alpha_fail: float,
    t_opt_control: float,
    t_opt_candidate: float,
    threshold: float | None = None,
) -> QuantileRatioCSResult:
    """Anytime-valid CS for ``Q_candidate(p) / Q_control(p)`` from a direct two-sample test.

    Parameters
    ----------
    control, candidate : OrderStatistics
        Latencies (``≥ 0``): the ranks of :func:`quantile_ratio_rank_requests` (a valid,
        slightly conservative version of the exact test) or full samples (exact). The control
        may be a fixed sample recorded before the candidate's window (see Notes).
    p : float
        Quantile level in (0, 1), e.g. 0.99.
    alpha_pass : float
        Error level of the pass test: probability of ever concluding "ratio < r" when it is
        ``≥ r``; bounds ``P(∃ look: ratio > U)``.
    alpha_fail : float
        Error level of the fail test: probability of ever concluding "ratio > r" when it is
        ``≤ r``; bounds ``P(∃ look: ratio < L)``.
    t_opt_control, t_opt_candidate : float
        Each arm's expected sample size (``v_opt = t_opt·p(1−p)``), fixed before data.
    threshold : float, optional
        Policy ratio (e.g. 1.10) at which to report ``log_e_pass``, ``log_e_fail`` and the
        p-value; ``decide(threshold, bound="max")`` is then exactly the outcome of the two tests.

    Returns
    -------
    QuantileRatioCSResult
        ``[L, U]`` at ``confidence_level = 1 − alpha_pass − alpha_fail``; ``L = 0`` and/or
        ``U = inf`` (with a ``note``) while the data cannot bound that side. Intersect it over
        the looks of one step (running intersection) before deciding.

    Notes
    -----
    Write ``Y = r·X_c`` so that ``Q_Y(p) = r·Q_c(p)`` (inverted-CDF quantiles,
    ``Q(p) = inf{x: F(x) ≥ p}``), and let ``M⁻(k; n)`` / ``M⁺(k; n)`` be the one-sided
    beta-binomial mixtures [1]_ (Prop. 7) of ``S = k − n·p``, ``V = n·p(1−p)`` for "the count
    ``k`` is too small" (``g = 1−p, h = p``, ``−S``) and "too large" (``g = p, h = 1−p``), each
    tuned at the arm's ``v_opt = t_opt·p(1−p)``. The arms share the evidence a test at level α
    needs (``z² ≈ 2 ln(1/(2α))``) in proportion to their variances, so each arm's mixture is
    tuned for its share, ``alpha_opt = ½ (2α)^share`` with ``share_control = t_opt_candidate /
    (t_opt_control + t_opt_candidate)``: at a 5 % canary the candidate's mixture is tuned near
    α and the control's is diffuse (it costs almost nothing where the control is at its
    quantile). Tuning changes power only, never validity.

    *Pass test*, ``H0_pass(r): Q_t(p) ≥ r·Q_c(p)``. At the unknown point ``x* = Q_Y(p)``,
    ``P(Y ≤ x*) ≥ p`` (right-continuity of the CDF) and ``P(X_t < x*) ≤ p`` (every
    ``x < x* ≤ Q_t(p)`` has ``F_t(x) < p``; this also holds when ``Q_t(p) = x*`` and the
    candidate has an atom there, which is why the candidate count is strict — the count
    ``#{X_t ≤ x*}`` could then have drift ``> 0``). So the indicators ``1{Y_i ≤ x*}`` are
    Bernoulli(``≥ p``) and ``1{X_t,j < x*}`` Bernoulli(``≤ p``); for them ``M⁻_c(x*)`` and
    ``M⁺_t(x*)`` are nonnegative supermartingales with initial value 1 (each mixes likelihood
    ratios ``Bernoulli(q')/Bernoulli(p)`` over ``q'`` on the far side of ``p``, whose one-step
    expectation is ``≤ 1`` on the near side). The arms are independent, so their product is a
    test supermartingale along the merged arrival order, and

    ``T_pass(r) = inf_x [log M⁻(#{Y ≤ x}; n_c) + log M⁺(#{X_t < x}; n_t)]``

    is at most its log. Ville's inequality gives ``P(∃ look: T_pass(r) ≥ ln 1/α_pass) ≤ α_pass``
    under ``H0_pass(r)``: the check passes at ``r`` when ``T_pass(r) ≥ ln(1/α_pass)``.

    *Fail test*, ``H0_fail(r): Q_t(p) ≤ r·Q_c(p)``, the mirror image at ``x* = Q_t(p)``:
    ``P(X_t ≤ x*) ≥ p`` and ``P(Y < x*) ≤ p``, so

    ``T_fail(r) = inf_x [log M⁻(#{X_t ≤ x}; n_t) + log M⁺(#{Y < x}; n_c)]``

    and the check fails at ``r`` when ``T_fail(r) ≥ ln(1/α_fail)``.

    *Inversion.* ``M⁻`` is non-increasing and ``M⁺`` non-decreasing in the count, and the
    counts of ``Y = r·X_c`` below any ``x`` fall as ``r`` grows, so ``T_pass`` is non-decreasing
    and ``T_fail`` non-increasing in ``r``. Hence ``U = inf{r: T_pass(r) ≥ ln 1/α_pass}`` and
    ``L = sup{r: T_fail(r) ≥ ln 1/α_fail}`` (bisection on ``log r``; the bound returned is a
    point where the test rejects) give ``P(∃ look: ratio ∉ [L, U]) ≤ α_pass + α_fail``: a
    ratio above ``U`` would make the pass test reject at the true ratio itself, where its
    null holds. When ``threshold`` is given, ``U ≤ threshold`` iff the pass test rejects there
    and ``L > threshold`` iff the fail test does (``L`` is moved to the next float above the
    threshold when the fail test's rejection region ends exactly at it). Products ``r·x`` are
    compared with a relative tolerance of ``1e-9`` in the conservative direction (see
    :data:`RATIO_TOL`). ``L > U`` (an empty set) can only happen on the error event.

    *Minimum over x.* Both terms are step functions of ``x``: the ``≤`` count is
    right-continuous and the strict count left-continuous, so on any gap between jump points
    the statistic is no smaller than at the gap's left end; the minimum over the reals is a
    minimum over the data values (no midpoints or ``±∞`` needed).

    *Partial order statistics.* From the known ranks each count is only bracketed; the
    too-small mixture takes the bracket's upper end and the too-large mixture its lower end,
    so ``T`` never exceeds its full-sample value and validity is kept.

    *Fixed (historical) control.* When the control is a sample recorded before the
    candidate's window and no longer grows, the control factor at ``x*`` is the value of a
    test supermartingale at a fixed time, so ``E[M_c(x*)] ≤ 1``; conditionally on it, the
    candidate's factor times ``M_c(x*)`` is a nonnegative supermartingale started at
    ``M_c(x*)``, and Ville's inequality gives ``P(∃ look: product ≥ 1/α | control) ≤
    α·M_c(x*)``; averaging over the control gives ``≤ α``. Only independence of the two
    samples is used, not simultaneity (seasonality between the windows is a bias the test
    cannot see).

    Zero latencies are handled as values: ``r·0 = 0`` ties with candidate zeros. If the
    control's p-quantile is 0 the ratio is ``inf`` (or undefined when both are 0); the tests
    are then about ``Q_t(p) ≤ r·Q_c(p)`` as stated.

    References
    ----------
    .. [1] S. R. Howard, A. Ramdas, J. McAuliffe, J. Sekhon, "Time-uniform, nonparametric,
       nonasymptotic confidence sequences", Ann. Statist. 49(2), 2021, Proposition 7.
    .. [2] S. R. Howard, A. Ramdas, "Sequential estimation of quantiles with applications to
       A/B testing and best-arm identification", Bernoulli 28(3), 2022, Section 4
       (two-sample quantile tests; a ratio by scaling one arm).
    .. [3] J. Ville, "Étude critique de la notion de collectif", 1939 (maximal inequality).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> control = OrderStatistics.from_sample(np.round(rng.lognormal(3.0, 0.5, 30_000), 1))
    >>> candidate = OrderStatistics.from_sample(np.round(1.5 * rng.lognormal(3.0, 0.5, 3_000), 1))
    >>> r = quantile_ratio_cs(control, candidate, 0.99, alpha_pass=0.05, alpha_fail=0.003,
    ...                       t_opt_control=30_000, t_opt_candidate=3_000, threshold=1.10)
    >>> r.decide(1.10, bound="max"), r.pvalue < 0.003, 1.10 < r.ci_low < 1.5 < r.ci_high
    ('fail', True, True)
    """
    _check_latencies("control", control)
    _check_latencies("candidate", candidate)
    p = check_open_unit("p", p)
    a_p, a_f = _check_alphas(alpha_pass, alpha_fail)
    to_c = check_positive("t_opt_control", t_opt_control)
    to_t = check_positive("t_opt_candidate", t_opt_candidate)
    thr = None if threshold is None else check_positive("threshold", threshold)
    lvl_p, lvl_f = math.log(1.0 / a_p), math.log(1.0 / a_f)

    tune_c, tune_t = mixture_tuning(a_p, a_f, to_c, to_t)
    c = _arm(control, p, to_c, *tune_c)
    t = _arm(candidate, p, to_t, *tune_t)
    upper = _upper_bound(c, t, lvl_p)
    lower = _lower_bound(c, t, lvl_f)
    log_e_pass = log_e_fail = math.nan
    pvalue = None
    if thr is not None:
        log_e_pass = _t_pass(c, t, thr)
        log_e_fail = _t_fail(c, t, thr)
        if log_e_pass >= lvl_p:
            upper = min(upper, thr)
        if log_e_fail >= lvl_f and lower <= thr:
            lower = math.nextafter(thr, math.inf)
        pvalue = min(1.0, math.exp(-max(log_e_fail, 0.0)))

    c_est = _sample_quantile(control, p)
    t_est = _sample_quantile(candidate, p)
    if c_est > 0.0:
        est = t_est / c_est
    elif c_est == 0.0 and t_est > 0.0:
        est = math.inf
    else:
        est = math.nan
    notes = []
    if control.n == 0 or candidate.n == 0:
        notes.append("no observations in one arm: ratio not estimable")
    elif math.isinf(upper) or lower == 0.0:
        notes.append(
            f"too few observations for finite bounds at p={p:g} "
            f"(n_control={control.n}, n_candidate={candidate.n})"
        )
    return QuantileRatioCSResult(
        method=(
            f"direct two-sample quantile-ratio test (one-sided beta-binomial mixtures, p={p:g}, "
            f"t_opt_control={to_c:g}, t_opt_candidate={to_t:g})"
        ),
        estimate=float(est),
        ci_low=float(lower),
        ci_high=float(upper),
        confidence_level=1.0 - a_p - a_f,
        pvalue=pvalue,
        n_control=control.n,
        n_candidate=candidate.n,
        note="; ".join(notes),
        p=p,
        control_estimate=c_est,
        candidate_estimate=t_est,
        log_e_pass=log_e_pass,
        log_e_fail=log_e_fail,
        alpha_pass=a_p,
        alpha_fail=a_f,
    )
