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
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_count, check_open_unit, check_positive
from canarykit.stats.count_mixtures import count_log_mixture, mixture_tuning
from canarykit.stats.order_statistics import OrderStatistics, RankRequest
from canarykit.stats.quantile_ab import P_FLOOR
from canarykit.stats.quantiles import _estimate_rank
from canarykit.stats.result import IntervalResult
from canarykit.stats.roots import brentq

__all__ = ["QuantileRatioCSResult", "quantile_ratio_cs", "quantile_ratio_rank_requests"]

FloatArray = npt.NDArray[np.float64]

RATIO_TOL = 1e-9
"""Relative tolerance of the comparisons ``r·x_control`` vs ``x_candidate``, always applied in the
conservative direction (the pass test runs at ``r·(1 − tol)``, the fail test at ``r·(1 + tol)``):
a decimal threshold such as 1.10 is not a binary float and ``r·x`` is rounded, so without it a
candidate whose p99 is exactly 1.10 × the control's (latencies on a 0.1 ms grid) could land on
the wrong side of the scaled control by a rounding error of 1e-16 and be passed or failed."""

_TAIL_RATIO = 1.2
"""Geometric spacing of the ranks requested outside an arm's band (log-mixture error ≤ ln 1.2)."""

_BISECT_RTOL = 1e-10


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


def _tables(
    n: int, k: FloatArray, p: float, t_opt: float, alpha_opt_low: float, alpha_opt_up: float
) -> tuple[FloatArray, FloatArray]:
    """Log-mixtures at the ends of every count bracket the known ranks ``k`` allow.

    Returns ``(low_at_hi, up_at_lo)``: the non-increasing (too-small) mixture at the bracket
    upper ends ``[k₁−1, …, k_m−1, n]`` and the non-decreasing (too-large) mixture at the lower
    ends ``[0, k₁, …, k_m]`` — the conservative end for each.
    """
    ext_hi = np.concatenate((k - 1.0, [float(n)]))
    ext_lo = np.concatenate(([0.0], k))
    return (
        count_log_mixture(ext_hi, n, p, t_opt, alpha_opt_low, upper=False),
        count_log_mixture(ext_lo, n, p, t_opt, alpha_opt_up, upper=True),
    )


@dataclass(frozen=True, slots=True)
class _Arm:
    """One arm's known order statistics and its two mixture tables."""

    n: int
    lo: FloatArray
    hi: FloatArray
    low_at_hi: FloatArray
    up_at_lo: FloatArray


@lru_cache(maxsize=256)
def _tables_cached(
    n: int, ranks: bytes, p: float, t_opt: float, alpha_opt_low: float, alpha_opt_up: float
) -> tuple[FloatArray, FloatArray]:
    k = np.frombuffer(ranks, dtype=np.int64).astype(float)
    return _tables(n, k, p, t_opt, alpha_opt_low, alpha_opt_up)


_CACHE_MAX_RANKS = 4096
"""Rank-request grids (the same ranks at every look of every check) are cached; samples are not."""


def _arm(
    os: OrderStatistics, p: float, t_opt: float, alpha_opt_low: float, alpha_opt_up: float
) -> _Arm:
    ranks = np.ascontiguousarray(os.ranks, dtype=np.int64)
    if ranks.size <= _CACHE_MAX_RANKS:
        low, up = _tables_cached(os.n, ranks.tobytes(), p, t_opt, alpha_opt_low, alpha_opt_up)
    else:
        low, up = _tables(os.n, ranks.astype(float), p, t_opt, alpha_opt_low, alpha_opt_up)
    return _Arm(
        n=os.n,
        lo=np.asarray(os.values, dtype=float),
        hi=np.asarray(os.high, dtype=float),
        low_at_hi=low,
        up_at_lo=up,
    )


# --------------------------------------------------------------------------- the two statistics


def _t_pass(c: _Arm, t: _Arm, r: float) -> float:
    """``T_pass(r) = min_x [log M⁻_c(#{r·X_c ≤ x}) + log M⁺_t(#{X_t < x})]`` (conservative).

    The control's count ``≤ x`` enters through its bracket's upper end, the candidate's strict
    count through its lower end; both are step functions of ``x`` (right- and left-continuous),
    so the minimum over all real ``x`` is attained at one of their jump points.
    """
    y = c.lo * (r * (1.0 - RATIO_TOL))
    x = np.concatenate((y, t.hi, [math.inf]))
    a = c.low_at_hi[np.searchsorted(y, x, side="right")]
    b = t.up_at_lo[np.searchsorted(t.hi, x, side="left")]
    return float(np.min(a + b))


def _t_fail(c: _Arm, t: _Arm, r: float) -> float:
    """``T_fail(r) = min_x [log M⁻_t(#{X_t ≤ x}) + log M⁺_c(#{r·X_c < x})]`` (conservative)."""
    y = c.hi * (r * (1.0 + RATIO_TOL))
    x = np.concatenate((t.lo, y, [math.inf]))
    d = t.low_at_hi[np.searchsorted(t.lo, x, side="right")]
    e = c.up_at_lo[np.searchsorted(y, x, side="left")]
    return float(np.min(d + e))


def _ratio_range(c: _Arm, t: _Arm) -> tuple[float, float] | None:
    """Ratios below/above which the order of ``r·X_c`` and ``X_t`` no longer changes."""
    pc = np.concatenate((c.lo, c.hi))
    pt = np.concatenate((t.lo, t.hi))
    pc = pc[pc > 0.0]
    pt = pt[pt > 0.0]
    if pc.size == 0 or pt.size == 0:
        return None
    return float(pt.min() / pc.max()) / 4.0, float(pt.max() / pc.min()) * 4.0


def _upper_bound(c: _Arm, t: _Arm, level: float) -> float:
    """``U = inf{r : T_pass(r) ≥ level}`` (a point where the pass test rejects; T_pass ↑ in r)."""
    rng = _ratio_range(c, t)
    if rng is None:
        return 0.0 if _t_pass(c, t, 1.0) >= level else math.inf
    lo, hi = rng
    if _t_pass(c, t, hi) < level:
        return math.inf
    if _t_pass(c, t, lo) >= level:
        return 0.0
    while hi > lo * (1.0 + _BISECT_RTOL):
        mid = math.sqrt(lo * hi)
        if _t_pass(c, t, mid) >= level:
            hi = mid
        else:
            lo = mid
    return hi


def _lower_bound(c: _Arm, t: _Arm, level: float) -> float:
    """``L = sup{r : T_fail(r) ≥ level}`` (a point where the fail test rejects; T_fail ↓ in r)."""
    rng = _ratio_range(c, t)
    if rng is None:
        return math.inf if _t_fail(c, t, 1.0) >= level else 0.0
    lo, hi = rng
    if _t_fail(c, t, lo) < level:
        return 0.0
    if _t_fail(c, t, hi) >= level:
        return math.inf
    while hi > lo * (1.0 + _BISECT_RTOL):
        mid = math.sqrt(lo * hi)
        if _t_fail(c, t, mid) >= level:
            lo = mid
        else:
            hi = mid
    return lo


# --------------------------------------------------------------------------- rank requests


def _check_alphas(alpha_pass: float, alpha_fail: float) -> tuple[float, float]:
    a_p = check_open_unit("alpha_pass", alpha_pass)
    a_f = check_open_unit("alpha_fail", alpha_fail)
    if not a_p + a_f < 1.0:
        raise InvalidInputError(
            f"alpha_pass + alpha_fail must be < 1, got {alpha_pass!r} + {alpha_fail!r}"
        )
    return a_p, a_f


@lru_cache(maxsize=1024)
def _band(
    n: int,
    p: float,
    t_opt: float,
    alpha_opt_low: float,
    alpha_opt_up: float,
    cap_low: float,
    cap_up: float,
) -> tuple[float, float]:
    """Counts ``[c_lo, c_hi]`` where both of an arm's mixtures are below their caps."""

    def low(c: float) -> float:
        return float(count_log_mixture(c, n, p, t_opt, alpha_opt_low, upper=False)) - cap_low

    def up(c: float) -> float:
        return float(count_log_mixture(c, n, p, t_opt, alpha_opt_up, upper=True)) - cap_up

    mid = n * p
    c_lo = 0.0 if low(0.0) <= 0.0 else float(brentq(low, 0.0, mid, xtol=0.25))
    c_hi = float(n) if up(float(n)) <= 0.0 else float(brentq(up, mid, n, xtol=0.25))
    return c_lo, c_hi


def _arm_ranks(n: int, p: float, band: tuple[float, float], size: int) -> tuple[int, ...]:
    """Even grid over the band, geometric tails down to rank 1 and up to rank n, the estimate."""
    if n <= size:
        return tuple(range(1, n + 1))
    c_lo, c_hi = band
    ranks = {int(r) for r in np.round(np.linspace(c_lo, c_hi, size))}
    mid = n * p
    for start, sign, stop in ((mid - c_lo, -1.0, mid), (c_hi - mid, 1.0, n - mid)):
        d = max(start, 1.0)
        while d < stop:
            d *= _TAIL_RATIO
            ranks.add(round(mid + sign * min(d, stop)))
    ranks.update((1, n, _estimate_rank(n, p)))
    return tuple(sorted(r for r in ranks if 1 <= r <= n))


def quantile_ratio_rank_requests(
    n_control: int,
    n_candidate: int,
    p: float,
    *,
    alpha_pass: float,
    alpha_fail: float,
    t_opt_control: float,
    t_opt_candidate: float,
    grid_size: int = 512,
) -> tuple[RankRequest, RankRequest]:
    """Ranks :func:`quantile_ratio_cs` needs from (control, candidate).

    Parameters
    ----------
    n_control, n_candidate : int
        Arm sizes at this look.
    p : float
        Quantile level in (0, 1), e.g. 0.99.
    alpha_pass, alpha_fail : float
        Error levels of the pass and fail tests (as given to :func:`quantile_ratio_cs`).
    t_opt_control, t_opt_candidate : float
        Each arm's tuning sample size (fixed before data).
    grid_size : int, default 512
        Ranks on the even grid of each arm's band; arms with ``n ≤ grid_size`` are requested
        in full (then the test is exact).

    Returns
    -------
    (RankRequest, RankRequest)
        Sorted 1-based ranks for the control and the candidate.

    Notes
    -----
    Each arm has two one-sided mixtures, a "count too small" one (non-increasing in the count)
    and a "count too large" one (non-decreasing). With ``Λ = max(ln 10⁶, ln 1/α_pass,
    ln 1/α_fail) + 1`` the arm's *band* is the set of counts where the too-small mixture is
    ``≤ Λ − m₁`` and the too-large one ``≤ Λ − m₂``, where ``m₁, m₂`` are the smallest values
    the other arm's partner mixture can take (so outside the band the statistic exceeds ``Λ``
    whatever the other arm does, or the arm's mixture is in its slowly varying logarithmic
    tail). The band gets an even grid of ``grid_size`` ranks (so ``T`` is exact there up to
    the grid step); outside, ranks at geometrically growing distances from ``n·p`` (ratio 1.2,
    costing at most ``ln 1.2`` in the tails), ranks 1 and ``n``, and the sample-quantile rank
    ``max(1, ⌈n·p⌉)``.

    Examples
    --------
    >>> c, t = quantile_ratio_rank_requests(171_000, 300, 0.99, alpha_pass=0.05,
    ...     alpha_fail=0.003, t_opt_control=171_000, t_opt_candidate=9_000)
    >>> len(t.ranks), 512 < len(c.ranks) < 700, 169_290 in c.ranks
    (300, True, True)
    """
    n_c = check_count("n_control", n_control)
    n_t = check_count("n_candidate", n_candidate)
    p = check_open_unit("p", p)
    a_p, a_f = _check_alphas(alpha_pass, alpha_fail)
    to_c = check_positive("t_opt_control", t_opt_control)
    to_t = check_positive("t_opt_candidate", t_opt_candidate)
    size = check_count("grid_size", grid_size)
    if size < 2:
        raise InvalidInputError(f"grid_size must be >= 2, got {grid_size!r}")
    cap = max(math.log(1.0 / P_FLOOR), math.log(1.0 / a_p), math.log(1.0 / a_f)) + 1.0

    tune_c, tune_t = mixture_tuning(a_p, a_f, to_c, to_t)

    def floor(n: int, t_opt: float, alpha_opt: float, count: int, upper: bool) -> float:
        if n == 0:
            return 0.0
        return min(0.0, float(count_log_mixture(count, n, p, t_opt, alpha_opt, upper=upper)))

    # an arm's too-small mixture is paired with the other arm's too-large one (smallest at
    # count 0) and vice versa (pass: control too-small × candidate too-large; fail: the mirror)
    out = []
    for n, t_opt, tune, n_o, t_opt_o, tune_o in (
        (n_c, to_c, tune_c, n_t, to_t, tune_t),
        (n_t, to_t, tune_t, n_c, to_c, tune_c),
    ):
        if n == 0:
            out.append(RankRequest(n=0, ranks=()))
            continue
        band = (0.0, float(n))
        if n > size:
            cap_low = cap - floor(n_o, t_opt_o, tune_o[1], 0, True)
            cap_up = cap - floor(n_o, t_opt_o, tune_o[0], n_o, False)
            band = _band(n, p, t_opt, tune[0], tune[1], cap_low, cap_up)
        out.append(RankRequest(n=n, ranks=_arm_ranks(n, p, band, size)))
    return out[0], out[1]


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
