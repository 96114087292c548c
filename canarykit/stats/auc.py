"""ΔAUC by DeLong's method: fast (Sun & Xu) midrank algorithm, paired and unpaired.

The gating estimand is ``AUC(candidate) − AUC(control)``; the policy's non-inferiority rule
is ``ΔAUC ≥ margin`` (default ``margin = −0.01``), decided with ``bound="min"``.

Two interval types are offered:

* ``sequential=True`` (the gating default) — an asymptotic confidence *sequence* in
  information time (Waudby-Smith et al.): with ``I = 1/Var(Δ̂)`` the centred statistic
  ``S = I·(Δ̂ − Δ)`` behaves like a Brownian motion in ``I``, so ``Δ̂ ± u(I)/I`` with ``u`` the
  two-sided normal-mixture boundary of Howard et al. is valid simultaneously at every look
  (a batch job may re-evaluate every few minutes). The mixture is tuned for a *planned
  information* fixed before data are seen: ``planned_se`` (default 0.004, i.e. ~18,000
  labelled requests — far more than a canary step sees). Set it per step with
  :func:`planned_auc_delta_se` from the step's expected labelled counts: the sequence is
  then 1.55× the fixed-horizon DeLong interval at the planned size, and stays below 2×
  while the actual information is between 0.094 and 1,480 times the planned one (4× off
  either way: 1.67× and 1.60×; see :func:`auc_delta_half_width`). The plain normal
  mixture is flat enough for this; no mixture over several tunings is needed.
* ``sequential=False`` — the classical fixed-horizon DeLong z-interval, valid only when the
  check is evaluated once, at the end of the window.

Near AUC 0 or 1 (an arm that separates almost perfectly) DeLong's variance estimate rests
on a handful of misordered pairs; when the sample happens to hold fewer of them than
expected, both the AUC estimate and its variance are too optimistic at once and the
normal interval undercovers on the side that matters (a worse candidate looks
non-inferior). Both interval types therefore use a per-arm *variance floor*
(:func:`auc_variance_floor`), a quarter of the Hanley–McNeil variance at the AUC shrunk
toward ½ by one pseudo-observation; it is inactive (bit-identical results) for AUCs around
0.8 with a thousand labelled requests and is reported in ``method``/``note`` when it acts.

Unpaired comparisons (canary split) use the normal approximation with
``Var = Var(AUC_c) + Var(AUC_t)``; pROC instead uses a Welch-type Student t for the
unpaired case. With the thousands of labelled requests a canary gate needs, the two
quantiles differ by less than 0.1 %; the normal form is what the information-time
confidence sequence requires, so canarykit uses it throughout.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = rng.random(4000) < 0.3
>>> s_c = rng.normal(size=4000) + 1.2 * y
>>> s_t = s_c + rng.normal(scale=0.1, size=4000)
>>> r = paired_auc_delta(y, s_c, s_t, sequential=False)
>>> r.decide(-0.01, bound="min")
'pass'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy.special import ndtri

from canarykit.errors import InvalidInputError
from canarykit.stats.boundaries import normal_log_mixture, normal_mixture_bound
from canarykit.stats.result import IntervalResult

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_MIN_CLASS_COUNT",
    "DEFAULT_PLANNED_SE",
    "VARIANCE_FLOOR_FRACTION",
    "AucDeltaResult",
    "auc_delta",
    "auc_delta_from_moments",
    "auc_delta_half_width",
    "auc_variance_floor",
    "delong_auc",
    "delong_covariance",
    "floored_auc_delta_variance",
    "hanley_mcneil_variance",
    "paired_auc_delta",
    "planned_auc_delta_se",
]

DEFAULT_MARGIN = -0.01
"""Policy margin for ``AUC(candidate) − AUC(control)`` (non-inferiority, ``bound="min"``)."""
DEFAULT_MIN_CLASS_COUNT = 30
"""Minimum number of positives and of negatives per arm below which ΔAUC is inconclusive."""
DEFAULT_PLANNED_SE = 0.004
"""Planned final standard error of Δ̂ used to tune the confidence sequence (ρ).

A default for callers without a plan; a rollout step should pass
:func:`planned_auc_delta_se` at its expected labelled counts instead."""
VARIANCE_FLOOR_FRACTION = 0.25
"""κ of the per-arm variance floor ``κ·Var_HM(Ã)`` (see :func:`auc_variance_floor`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AucDeltaResult(IntervalResult):
    """ΔAUC = AUC(candidate) − AUC(control) with a DeLong interval.

    Extra attributes
    ----------------
    auc_control, auc_candidate : float
        The two empirical AUCs (ties count ½).
    se : float
        Standard error of Δ̂ behind the interval: DeLong's, or the floored one when
        ``variance_floor_active``.
    se_delong : float
        DeLong standard error of Δ̂ before the variance floor.
    variance_floor_active : bool
        Whether the edge variance floor (:func:`auc_variance_floor`) raised the variance.
    margin : float
        Non-inferiority margin the ``pvalue`` refers to.
    z : float
        Non-inferiority statistic ``(Δ̂ − margin)/se``.
    paired, sequential : bool
        Design and interval type.
    planned_information : float
        ``1/planned_se²``, the information the confidence sequence was tuned for
        (NaN for fixed-horizon intervals).
    n_positives_control, n_negatives_control, n_positives_candidate, n_negatives_candidate : int
        Class counts behind each AUC.
    """

    auc_control: float = math.nan
    auc_candidate: float = math.nan
    se: float = math.nan
    se_delong: float = math.nan
    variance_floor_active: bool = False
    margin: float = DEFAULT_MARGIN
    z: float = math.nan
    paired: bool = False
    sequential: bool = True
    planned_information: float = math.nan
    n_positives_control: int = 0
    n_negatives_control: int = 0
    n_positives_candidate: int = 0
    n_negatives_candidate: int = 0


# --------------------------------------------------------------------------- helpers


def _check_level(confidence_level: float) -> float:
    if not 0.0 < confidence_level < 1.0:
        raise InvalidInputError(f"confidence_level: must be in (0, 1), got {confidence_level!r}")
    return 1.0 - confidence_level


def _validate_binary(name: str, labels: ArrayLike) -> NDArray[np.bool_]:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name}: must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr
    bad = ~np.isin(arr, (0, 1)) if np.issubdtype(arr.dtype, np.number) else np.ones(arr.shape, bool)
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidInputError(
            f"{name}: must contain only 0/1 or booleans, got {arr[i].item()!r} at index {i}"
        )
    return arr.astype(bool)


def _validate_scores(name: str, scores: ArrayLike, size: int) -> NDArray[np.float64]:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.shape != (size,):
        raise InvalidInputError(
            f"{name}: must have shape ({size},) like its labels, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        i = int(np.argmax(~np.isfinite(arr)))
        raise InvalidInputError(f"{name}: must be finite, got {arr[i].item()!r} at index {i}")
    return arr


# --------------------------------------------------------------------------- DeLong core


def delong_covariance(
    labels: ArrayLike, scores: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """AUCs and their DeLong covariance matrix for classifiers scored on the same units.

    Parameters
    ----------
    labels : array_like of bool, shape (N,)
        Outcome per unit (True = positive).
    scores : array_like, shape (K, N) or (N,)
        Scores of K classifiers (higher = more likely positive).

    Returns
    -------
    aucs : ndarray, shape (K,)
    cov : ndarray, shape (K, K)
        ``S10/m + S01/n``; NaN when a class has fewer than two members.

    Notes
    -----
    Sun & Xu (2014): with midranks ``T_X`` (positives), ``T_Y`` (negatives), ``T_Z`` (pooled),
    ``AUC = ΣT_Z[pos]/(mn) − (m+1)/(2n)``; placements ``V10 = (T_Z[pos] − T_X)/n`` and
    ``V01 = 1 − (T_Z[neg] − T_Y)/m``; ``S10``, ``S01`` are their sample covariances across
    classifiers (divisor m−1, n−1). Ties count ½. O(N log N) per classifier.

    References
    ----------
    DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44:837–845.
    Sun & Xu (2014), IEEE Signal Processing Letters 21(11):1389–1393.

    Examples
    --------
    >>> aucs, cov = delong_covariance([0, 0, 1, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.9])
    >>> round(float(aucs[0]), 6)
    0.833333
    """
    y = _validate_binary("labels", labels)
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if s.shape[1] != y.size:
        raise InvalidInputError(
            f"scores: must have {y.size} columns like labels, got shape {s.shape}"
        )
    x_pos, x_neg = s[:, y], s[:, ~y]
    m, n = x_pos.shape[1], x_neg.shape[1]
    k = s.shape[0]
    if m == 0 or n == 0:
        return np.full(k, np.nan), np.full((k, k), np.nan)
    from scipy.stats import rankdata  # only here: scipy.stats costs ~0.3 s to import

    tx = rankdata(x_pos, axis=1)
    ty = rankdata(x_neg, axis=1)
    tz = rankdata(np.concatenate([x_pos, x_neg], axis=1), axis=1)
    aucs = (tz[:, :m].sum(axis=1) - m * (m + 1.0) / 2.0) / (m * n)  # Mann-Whitney U/(mn)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    if m < 2 or n < 2:
        return aucs, np.full((k, k), np.nan)
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    return aucs, s10 / m + s01 / n


def delong_auc(
    labels: ArrayLike, scores: ArrayLike, *, confidence_level: float = 0.95
) -> IntervalResult:
    """AUC of one classifier with its DeLong (fixed-horizon, normal) interval.

    For reports; gating uses :func:`auc_delta` / :func:`paired_auc_delta`.

    Examples
    --------
    Hanley & McNeil (1982) rating data (Stata ``roctab`` reports area 0.8932, s.e. 0.0307):

    >>> import numpy as np
    >>> y = np.repeat([0, 1], [58, 51])
    >>> s = np.concatenate([np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2]),
    ...                     np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])])
    >>> r = delong_auc(y, s)
    >>> round(r.estimate, 4), round(r.ci_low, 5), round(r.ci_high, 5)
    (0.8932, 0.83295, 0.95339)
    """
    alpha = _check_level(confidence_level)
    y = _validate_binary("labels", labels)
    s = _validate_scores("scores", scores, y.size)
    aucs, cov = delong_covariance(y, s)
    auc, var = float(aucs[0]), float(cov[0, 0])
    note = ""
    lo = hi = math.nan
    if math.isnan(var):
        note = "fewer than two positives or negatives: AUC variance not estimable"
    else:
        half = float(ndtri(1 - alpha / 2)) * math.sqrt(var)
        lo, hi = auc - half, auc + half
    return IntervalResult(
        method="DeLong AUC, normal",
        estimate=auc,
        ci_low=lo,
        ci_high=hi,
        confidence_level=confidence_level,
        n_control=0,
        n_candidate=int(y.size),
        note=note,
    )


# --------------------------------------------------------------------------- design and floor


def _check_counts(name: str, value: ArrayLike, minimum: float) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if not (np.isfinite(arr) & (arr >= minimum)).all():
        raise InvalidInputError(f"{name}: must be a finite number >= {minimum:g}, got {value!r}")
    return arr


def hanley_mcneil_variance(auc: ArrayLike, n_positives: ArrayLike, n_negatives: ArrayLike) -> Any:
    """Variance of one empirical AUC under Hanley & McNeil's exponential model (vectorised).

    Parameters
    ----------
    auc : array_like
        AUC ``θ`` in [0, 1].
    n_positives, n_negatives : array_like
        Class counts ``m`` (positives) and ``n`` (negatives), each ``>= 1``.

    Returns
    -------
    float or ndarray

    Notes
    -----
    ``Var(θ̂) = [θ(1−θ) + (m−1)(Q1 − θ²) + (n−1)(Q2 − θ²)] / (m·n)`` with
    ``Q1 = θ/(2−θ)`` (two positives both above one negative) and ``Q2 = 2θ²/(1+θ)`` (one
    positive above two negatives), exact when both classes' scores are exponential with
    different rates and a planning approximation otherwise (conservative for binormal
    scores: 1.3× the true variance at θ = 0.8, 3.4× at θ = 0.99 with 200 positives).

    References
    ----------
    .. [1] Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a
       receiver operating characteristic (ROC) curve. Radiology 143(1):29–36.

    Examples
    --------
    >>> round(float(hanley_mcneil_variance(0.8, 200, 800)) ** 0.5, 6)
    0.01973
    """
    a = np.asarray(auc, dtype=np.float64)
    if not ((a >= 0.0) & (a <= 1.0)).all():
        raise InvalidInputError(f"auc: must be within [0, 1], got {auc!r}")
    m = _check_counts("n_positives", n_positives, 1.0)
    n = _check_counts("n_negatives", n_negatives, 1.0)
    q1 = a / (2.0 - a)
    q2 = 2.0 * a * a / (1.0 + a)
    var = (a * (1.0 - a) + (m - 1.0) * (q1 - a * a) + (n - 1.0) * (q2 - a * a)) / (m * n)
    return float(var) if np.ndim(var) == 0 else var


def planned_auc_delta_se(
    n_positives: float,
    n_negatives: float,
    *,
    auc: float = 0.8,
    paired: bool = False,
    correlation: float = 0.0,
    n_positives_control: float | None = None,
    n_negatives_control: float | None = None,
) -> float:
    """Standard error of Δ̂ expected at planned labelled counts (to set ``planned_se``).

    Parameters
    ----------
    n_positives, n_negatives : float
        Labelled positives and negatives expected per arm when the sequence should be
        tightest (e.g. at the end of a rollout step); fractional expectations are fine.
    auc : float
        Anticipated AUC of both models, in [0.5, 1).
    paired : bool
        Shadow mode (both models score the same requests) instead of a canary split.
    correlation : float
        Paired only: anticipated correlation of the two AUC estimates, in (−1, 1) (similar
        models: 0.5–0.9). When unsure, guess low: the sequence loses less when the actual
        information exceeds the planned one than when it falls short.
    n_positives_control, n_negatives_control : float, optional
        Unpaired only: the control arm's counts when the split is uneven (default: the same
        as the candidate's ``n_positives``/``n_negatives``).

    Returns
    -------
    float
        ``sqrt(Var(Δ̂))`` under the plan.

    Notes
    -----
    With ``V(m, n)`` the Hanley & McNeil (1982) variance of one AUC
    (:func:`hanley_mcneil_variance`): unpaired ``Var(Δ̂) = V(m_c, n_c) + V(m_t, n_t)``;
    paired ``Var(Δ̂) = 2·V(m, n)·(1 − r)``. Only the *tuning* of the confidence sequence
    depends on it, never its validity; compute it from the plan, before data are seen.

    References
    ----------
    .. [1] Hanley, J. A. & McNeil, B. J. (1982). Radiology 143(1):29–36.

    Examples
    --------
    1,000 labelled requests per arm at prevalence 0.2:

    >>> round(planned_auc_delta_se(200, 800), 5)
    0.0279
    >>> round(planned_auc_delta_se(200, 800, paired=True, correlation=0.5), 5)
    0.01973
    """
    if not (math.isfinite(auc) and 0.5 <= auc < 1.0):
        raise InvalidInputError(f"auc: must be in [0.5, 1), got {auc!r}")
    if not (math.isfinite(correlation) and -1.0 < correlation < 1.0):
        raise InvalidInputError(f"correlation: must be in (-1, 1), got {correlation!r}")
    m_t = float(_check_counts("n_positives", n_positives, 2.0))
    n_t = float(_check_counts("n_negatives", n_negatives, 2.0))
    if paired:
        for name, value in (
            ("n_positives_control", n_positives_control),
            ("n_negatives_control", n_negatives_control),
        ):
            if value is not None:
                raise InvalidInputError(f"{name}: only for paired=False (paired arms share units)")
        return math.sqrt(2.0 * hanley_mcneil_variance(auc, m_t, n_t) * (1.0 - correlation))
    if correlation != 0.0:
        raise InvalidInputError(
            f"correlation: must be 0 for paired=False (independent arms), got {correlation!r}"
        )
    m_c = m_t if n_positives_control is None else n_positives_control
    n_c = n_t if n_negatives_control is None else n_negatives_control
    m_c = float(_check_counts("n_positives_control", m_c, 2.0))
    n_c = float(_check_counts("n_negatives_control", n_c, 2.0))
    return math.sqrt(hanley_mcneil_variance(auc, m_c, n_c) + hanley_mcneil_variance(auc, m_t, n_t))


def auc_variance_floor(auc: ArrayLike, n_positives: ArrayLike, n_negatives: ArrayLike) -> Any:
    """Lower limit for one arm's DeLong variance near AUC 0 or 1 (vectorised).

    Parameters
    ----------
    auc : array_like
        Empirical AUC in [0, 1].
    n_positives, n_negatives : array_like
        Class counts of the arm (``>= 1``).

    Returns
    -------
    float or ndarray
        ``κ·V_HM(Ã)``, ``κ =`` :data:`VARIANCE_FLOOR_FRACTION` ``= ¼``.

    Notes
    -----
    With ``k = min(m, n)`` the AUC is first shrunk toward ½ by one pseudo-observation,
    ``Ã = (k·Â + ½)/(k + 1)`` — so ``1 − Ã ≥ 1/(2(k+1))``: an arm that happens to show no
    misordered pair is still credited with half an error in its smaller class (a
    continuity correction in the spirit of Agresti–Coull). ``V_HM`` is the Hanley–McNeil
    variance (:func:`hanley_mcneil_variance`), evaluated for ``Ã < ½`` at ``1 − Ã`` with the
    classes swapped (a flipped model is as variable as the original).

    Why these constants: ``V_HM`` is exact for exponential scores and overstates the
    variance of binormal ones (3.4× at AUC 0.99 with 200 positives, 1.3× at 0.8). With
    ``κ = ¼`` and the pseudo-observation, the floor's standard error is about the binormal
    one at AUC 0.99 (1.02× with 200 positives, ~1.15× with 100), so near the edge it binds
    in most samples and only the samples whose DeLong variance fell short — those that also
    overstate the AUC — are widened. Measured (binormal, AUC 0.99 vs 0.98, 100 positives,
    fixed horizon; :mod:`canarykit.simulate.auc`): coverage 0.949 → 0.976 unpaired and
    0.935 → 0.984 paired, at 1.16× / 1.27× the mean width. Away from the edge DeLong is far
    above it (binormal AUC 0.8: true variance 0.76·V_HM, three times the floor), so results
    there are unchanged. Score models with a heavier tail of misordered positives than the
    exponential (e.g. binormal with a wider positive class) are only partly corrected.

    Examples
    --------
    >>> round(float(auc_variance_floor(0.99, 200, 800)) ** 0.5, 5)
    0.00277
    """
    a = np.asarray(auc, dtype=np.float64)
    if not ((a >= 0.0) & (a <= 1.0)).all():
        raise InvalidInputError(f"auc: must be within [0, 1], got {auc!r}")
    m = _check_counts("n_positives", n_positives, 1.0)
    n = _check_counts("n_negatives", n_negatives, 1.0)
    k = np.minimum(m, n)
    shrunk = (k * a + 0.5) / (k + 1.0)
    upper = shrunk >= 0.5
    var = hanley_mcneil_variance(
        np.where(upper, shrunk, 1.0 - shrunk), np.where(upper, m, n), np.where(upper, n, m)
    )
    out = VARIANCE_FLOOR_FRACTION * np.asarray(var)
    return float(out) if np.ndim(out) == 0 else out


def floored_auc_delta_variance(
    variance: ArrayLike,
    *,
    auc_control: ArrayLike,
    auc_candidate: ArrayLike,
    counts: tuple[ArrayLike, ArrayLike, ArrayLike, ArrayLike],
    paired: bool,
    arm_variances: tuple[ArrayLike, ArrayLike] | None = None,
) -> tuple[Any, Any]:
    """Var(Δ̂) with each arm's variance raised to its floor (vectorised).

    Parameters
    ----------
    variance : array_like
        DeLong ``Var(AUC_candidate − AUC_control)``.
    auc_control, auc_candidate : array_like
        Empirical AUCs in [0, 1].
    counts : (m_control, n_control, m_candidate, n_candidate)
        Class counts behind each AUC (``>= 1``).
    paired : bool
        Whether both AUCs come from the same units.
    arm_variances : (var_control, var_candidate), optional
        DeLong variances of the two AUCs. Needed in the paired design (without them no
        floor is applied there); unpaired, they default to the sum rule below.

    Returns
    -------
    variance, active
        The variance to use and whether the floor raised it (same shape as ``variance``).

    Notes
    -----
    With floors ``F`` (:func:`auc_variance_floor`) and arm variances ``V``:
    ``Var' = Var + max(0, F_c − V_c) + max(0, F_t − V_t)`` — each arm's shortfall is added
    as if uncorrelated with the rest (exact for the unpaired design, where it equals
    ``max(V_c, F_c) + max(V_t, F_t)``; errs on the wide side for positively correlated
    paired arms). Unpaired without ``arm_variances``: ``max(Var, F_c + F_t)``. Where no
    shortfall exists the input is returned unchanged, bit for bit.

    Examples
    --------
    >>> v, active = floored_auc_delta_variance(
    ...     2e-6, auc_control=0.995, auc_candidate=0.99, counts=(100, 900, 100, 900),
    ...     paired=False, arm_variances=(0.5e-6, 1.5e-6))
    >>> bool(active), round(float(v) ** 0.5, 5)
    (True, 0.00552)
    """
    var = np.asarray(variance, dtype=np.float64)
    m_c, n_c, m_t, n_t = counts
    floor_c = np.asarray(auc_variance_floor(auc_control, m_c, n_c))
    floor_t = np.asarray(auc_variance_floor(auc_candidate, m_t, n_t))
    with np.errstate(invalid="ignore"):
        if arm_variances is not None:
            v_c = np.asarray(arm_variances[0], dtype=np.float64)
            v_t = np.asarray(arm_variances[1], dtype=np.float64)
            shortfall = np.maximum(floor_c - v_c, 0.0) + np.maximum(floor_t - v_t, 0.0)
        elif not paired:
            shortfall = np.maximum(floor_c + floor_t - var, 0.0)
        else:
            shortfall = np.zeros_like(var)
        active = np.isfinite(var) & (var > 0.0) & (shortfall > 0.0)
    out = np.where(active, var + np.where(active, shortfall, 0.0), var)
    if np.ndim(out) == 0:
        return float(out), bool(active)
    return out, active


# --------------------------------------------------------------------------- decision layer


def auc_delta_half_width(
    variance: ArrayLike,
    *,
    confidence_level: float = 0.95,
    sequential: bool = True,
    planned_se: float = DEFAULT_PLANNED_SE,
) -> NDArray[np.float64]:
    """Half-width of the ΔAUC interval for given DeLong variances (vectorised).

    Fixed horizon ``z_{1−α/2}·sqrt(Var)``; sequential ``u(I)/I`` with ``I = 1/Var`` and the
    two-sided normal-mixture boundary tuned at ``I* = 1/planned_se²`` (see
    :func:`auc_delta_from_moments`). Used by the simulations to evaluate many looks at once.
    Pass the floored variance (:func:`floored_auc_delta_variance`) to match the results.

    The ratio of the two depends only on ``x = I/I*``:
    ``sqrt((1 + 1/(c·x))·(ln(1 + c·x) + 2 ln(1/α)))/z_{1−α/2}`` with
    ``c = 2 ln(1/α) + ln(1 + 2 ln(1/α))`` (7.94 at α = 0.05): 1.55 at ``x = 1``, 1.67 at
    ``x = ¼``, 1.60 at ``x = 4``, below 2 for ``0.094 < x < 1480``.

    Examples
    --------
    >>> round(float(auc_delta_half_width(1e-5, sequential=False)), 5)
    0.0062
    >>> round(float(auc_delta_half_width(1e-5)), 5)
    0.00964
    """
    alpha = _check_level(confidence_level)
    var = np.asarray(variance, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if not sequential:
            return np.asarray(float(ndtri(1 - alpha / 2)) * np.sqrt(var))
        info = 1.0 / var
        u = normal_mixture_bound(info, alpha, 1.0 / planned_se**2, alpha, one_sided=False)
        return np.asarray(u / info)


def auc_delta_from_moments(
    *,
    auc_control: float,
    auc_candidate: float,
    variance: float,
    counts: tuple[int, int, int, int],
    paired: bool,
    margin: float = DEFAULT_MARGIN,
    confidence_level: float = 0.95,
    sequential: bool = True,
    planned_se: float = DEFAULT_PLANNED_SE,
    min_class_count: int = DEFAULT_MIN_CLASS_COUNT,
    method_suffix: str = "",
    arm_variances: tuple[float, float] | None = None,
    variance_floor: bool = True,
) -> AucDeltaResult:
    """Turn two AUCs and the DeLong variance of their difference into a gating result.

    Shared by the sort-based and histogram-based entry points.

    Parameters
    ----------
    auc_control, auc_candidate : float
        Empirical AUCs.
    variance : float
        DeLong variance of ``auc_candidate − auc_control``.
    counts : (m_control, n_control, m_candidate, n_candidate)
        Positives and negatives behind each AUC (paired: the same numbers twice).
    paired : bool
        Whether both AUCs come from the same units.
    margin, confidence_level, sequential, planned_se, min_class_count
        See :func:`auc_delta`.
    method_suffix : str
        Appended to ``method`` (e.g. ``", histogram"``).
    arm_variances : (var_control, var_candidate), optional
        DeLong variances of the two AUCs, for the per-arm variance floor
        (:func:`floored_auc_delta_variance`; paired designs get no floor without them).
    variance_floor : bool
        False gives plain DeLong intervals (for comparisons; not for gating).

    Notes
    -----
    ``SE² = Var``, raised by the shortfall where an arm's variance is below its floor
    (:func:`floored_auc_delta_variance`); ``method`` then ends in ``", variance floor"``
    and ``note`` gives both standard errors. Fixed horizon: ``Δ̂ ± z_{1−α/2}·SE``.
    Sequential: ``Δ̂ ± u(I)/I``, ``I = 1/SE²``, ``u(v) = sqrt((v+ρ)·ln((v+ρ)/(ρα²)))``,
    ``ρ = I*/(2ln(1/α) + ln(1+2ln(1/α)))``, ``I* = 1/planned_se²``
    (:func:`canarykit.stats.boundaries.normal_mixture_bound`, two-sided,
    ``alpha_opt = α``). The ``pvalue`` is for H0: Δ ≤ margin and is dual to the interval:
    ``pvalue ≤ 1 − confidence_level`` exactly when ``ci_low > margin``. Fixed horizon:
    ``2·(1 − Φ(z))`` with ``z = (Δ̂ − margin)/SE`` (1 when Δ̂ ≤ margin); sequential: the
    mixture e-value bound ``min(1, exp(−log M))`` at ``s = I·(Δ̂ − margin)``, ``v = I``.
    Sequential p-values are valid at every look; a caller that keeps state may take
    their running minimum (and intersect the intervals) across looks.

    Examples
    --------
    >>> r = auc_delta_from_moments(auc_control=0.80, auc_candidate=0.805, variance=1e-5,
    ...                            counts=(500, 500, 500, 500), paired=True, sequential=False)
    >>> round(r.ci_low, 4), r.decide(-0.01, bound="min")
    (-0.0012, 'pass')
    """
    alpha = _check_level(confidence_level)
    if not math.isfinite(margin):
        raise InvalidInputError(f"margin: must be a finite number, got {margin!r}")
    if not (math.isfinite(planned_se) and planned_se > 0):
        raise InvalidInputError(f"planned_se: must be a positive number, got {planned_se!r}")
    if min_class_count < 2:
        raise InvalidInputError(f"min_class_count: must be >= 2, got {min_class_count!r}")
    m_c, n_c, m_t, n_t = (int(c) for c in counts)
    delta = auc_candidate - auc_control
    design = "paired" if paired else "unpaired"
    kind = "asymptotic CS (normal mixture, information time)" if sequential else "fixed-horizon"
    method = f"DeLong ΔAUC, {design}, normal, {kind}{method_suffix}"
    planned_info = 1.0 / planned_se**2 if sequential else math.nan
    reasons: list[str] = []
    if min(m_c, m_t) == 0 or min(n_c, n_t) == 0:
        reasons.append("only one class present in an arm")
    elif min(m_c, m_t) < min_class_count or min(n_c, n_t) < min_class_count:
        reasons.append(
            f"too few labelled units: positives (control {m_c}, candidate {m_t}) and "
            f"negatives (control {n_c}, candidate {n_t}) must each be >= {min_class_count}"
        )
    for arm, auc in (("control", auc_control), ("candidate", auc_candidate)):
        if not 0.0 <= auc <= 1.0:
            reasons.append(f"AUC({arm}) = {auc:g}: not an AUC")
        elif min(auc, 1.0 - auc) < 1e-12:
            reasons.append(f"AUC({arm}) = {auc:g}: DeLong variance degenerate")
    if not (math.isfinite(variance) and variance > 0.0):
        reasons.append(f"DeLong variance of ΔAUC is {variance:g}: not estimable")
    se_delong = math.sqrt(variance) if math.isfinite(variance) and variance > 0 else math.nan
    base: dict[str, Any] = dict(
        method=method,
        estimate=delta,
        confidence_level=confidence_level,
        n_control=m_c + n_c,
        n_candidate=m_t + n_t,
        auc_control=auc_control,
        auc_candidate=auc_candidate,
        se_delong=se_delong,
        margin=margin,
        paired=paired,
        sequential=sequential,
        planned_information=planned_info,
        n_positives_control=m_c,
        n_negatives_control=n_c,
        n_positives_candidate=m_t,
        n_negatives_candidate=n_t,
    )
    if reasons:
        return AucDeltaResult(
            ci_low=math.nan,
            ci_high=math.nan,
            pvalue=None,
            se=se_delong,
            note="; ".join(reasons),
            **base,
        )
    floored = False
    if variance_floor:
        variance, floored = floored_auc_delta_variance(
            variance,
            auc_control=auc_control,
            auc_candidate=auc_candidate,
            counts=(m_c, n_c, m_t, n_t),
            paired=paired,
            arm_variances=arm_variances,
        )
    se = math.sqrt(variance)
    note = ""
    if floored:
        base["method"] = f"{method}, variance floor"
        note = (
            f"variance floor active (an arm near AUC 0 or 1, or few labelled units): "
            f"DeLong SE {se_delong:.3g} raised to {se:.3g}"
        )
    z = (delta - margin) / se
    half = float(
        auc_delta_half_width(
            variance,
            confidence_level=confidence_level,
            sequential=sequential,
            planned_se=planned_se,
        )
    )
    if sequential:
        info = 1.0 / variance
        s_margin = info * (delta - margin)
        log_e = float(normal_log_mixture(s_margin, info, planned_info, alpha, one_sided=False))
        pvalue = min(1.0, math.exp(-log_e)) if delta > margin else 1.0
    else:
        pvalue = min(1.0, 2.0 * float(special.ndtr(-z))) if delta > margin else 1.0
    return AucDeltaResult(
        ci_low=delta - half,
        ci_high=delta + half,
        pvalue=pvalue,
        z=z,
        se=se,
        variance_floor_active=floored,
        note=note,
        **base,
    )


def auc_delta(
    labels_control: ArrayLike,
    scores_control: ArrayLike,
    labels_candidate: ArrayLike,
    scores_candidate: ArrayLike,
    *,
    margin: float = DEFAULT_MARGIN,
    confidence_level: float = 0.95,
    sequential: bool = True,
    planned_se: float = DEFAULT_PLANNED_SE,
    min_class_count: int = DEFAULT_MIN_CLASS_COUNT,
) -> AucDeltaResult:
    """Unpaired ΔAUC (canary split: the arms score different requests).

    Parameters
    ----------
    labels_control, scores_control : array_like, shape (N_c,)
        Outcomes and scores of the control arm.
    labels_candidate, scores_candidate : array_like, shape (N_t,)
        Outcomes and scores of the canary arm.
    margin : float
        Non-inferiority margin (default −0.01); the check passes when ``ci_low ≥ margin``.
    confidence_level : float
        Two-sided level of the interval (each one-sided decision has error ≤ α/2).
    sequential : bool
        True (default): confidence sequence valid under repeated looks. False:
        fixed-horizon DeLong interval (only for a check evaluated once).
    planned_se : float
        Standard error of Δ̂ expected at the end of the window; tunes the confidence
        sequence (not its validity). Fix it before seeing data.
    min_class_count : int
        Minimum positives and negatives per arm; fewer gives an inconclusive result.

    Returns
    -------
    AucDeltaResult

    Notes
    -----
    ``Var(Δ̂) = Var_DeLong(AUC_t) + Var_DeLong(AUC_c)`` (independent samples), normal
    approximation (pROC uses a Welch t; see module notes). Sign: positive Δ̂ = candidate better.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> yc, yt = rng.random(3000) < 0.3, rng.random(3000) < 0.3
    >>> r = auc_delta(yc, rng.normal(size=3000) + yc, yt, rng.normal(size=3000) + yt)
    >>> r.paired, r.decide(-0.01, bound="min")
    (False, 'inconclusive')
    """
    yc = _validate_binary("labels_control", labels_control)
    yt = _validate_binary("labels_candidate", labels_candidate)
    sc = _validate_scores("scores_control", scores_control, yc.size)
    st = _validate_scores("scores_candidate", scores_candidate, yt.size)
    auc_c, cov_c = delong_covariance(yc, sc)
    auc_t, cov_t = delong_covariance(yt, st)
    m_c, m_t = int(yc.sum()), int(yt.sum())
    return auc_delta_from_moments(
        auc_control=float(auc_c[0]),
        auc_candidate=float(auc_t[0]),
        variance=float(cov_c[0, 0] + cov_t[0, 0]),
        counts=(m_c, yc.size - m_c, m_t, yt.size - m_t),
        paired=False,
        arm_variances=(float(cov_c[0, 0]), float(cov_t[0, 0])),
        margin=margin,
        confidence_level=confidence_level,
        sequential=sequential,
        planned_se=planned_se,
        min_class_count=min_class_count,
    )


def paired_auc_delta(
    labels: ArrayLike,
    scores_control: ArrayLike,
    scores_candidate: ArrayLike,
    *,
    margin: float = DEFAULT_MARGIN,
    confidence_level: float = 0.95,
    sequential: bool = True,
    planned_se: float = DEFAULT_PLANNED_SE,
    min_class_count: int = DEFAULT_MIN_CLASS_COUNT,
) -> AucDeltaResult:
    """Paired ΔAUC (shadow mode: both models score the same requests).

    Parameters
    ----------
    labels : array_like, shape (N,)
        Outcome per request (joined by ``request_id``).
    scores_control, scores_candidate : array_like, shape (N,)
        Scores of the production and the shadow model on the same requests, same order.
    margin, confidence_level, sequential, planned_se, min_class_count
        As in :func:`auc_delta`.

    Notes
    -----
    ``Var(Δ̂) = S_tt + S_cc − 2 S_ct`` from the joint DeLong covariance (placements of the
    two models on the same positives and negatives).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1] * 20)
    >>> r = paired_auc_delta(y, np.arange(80.0), np.arange(80.0))
    >>> r.estimate, r.decide(-0.01, bound="min")
    (0.0, 'inconclusive')
    """
    y = _validate_binary("labels", labels)
    sc = _validate_scores("scores_control", scores_control, y.size)
    st = _validate_scores("scores_candidate", scores_candidate, y.size)
    aucs, cov = delong_covariance(y, np.vstack([sc, st]))
    m = int(y.sum())
    var = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    return auc_delta_from_moments(
        auc_control=float(aucs[0]),
        auc_candidate=float(aucs[1]),
        variance=var,
        counts=(m, y.size - m, m, y.size - m),
        paired=True,
        arm_variances=(float(cov[0, 0]), float(cov[1, 1])),
        margin=margin,
        confidence_level=confidence_level,
        sequential=sequential,
        planned_se=planned_se,
        min_class_count=min_class_count,
    )
