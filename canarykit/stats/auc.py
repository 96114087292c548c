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

The DeLong estimator itself is in :mod:`canarykit.stats.delong`, the variance planning and
floor in :mod:`canarykit.stats.auc_variance` (both re-exported here).

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
from numpy.typing import ArrayLike

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import alpha_from_level
from canarykit.stats.auc_variance import (
    DEFAULT_PLANNED_SE,
    VARIANCE_FLOOR_FRACTION,
    auc_delta_half_width,
    auc_variance_floor,
    floored_auc_delta_variance,
    hanley_mcneil_variance,
    planned_auc_delta_se,
)
from canarykit.stats.boundaries import normal_log_mixture
from canarykit.stats.delong import (
    delong_auc,
    delong_covariance,
    validate_binary,
    validate_scores,
)
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

MIN_ESTIMABLE_VARIANCE = 1e-24
"""A DeLong variance of ΔAUC at or below this is zero up to rounding (not estimable)."""
DEFAULT_MARGIN = -0.01
"""Policy margin for ``AUC(candidate) − AUC(control)`` (non-inferiority, ``bound="min"``)."""
DEFAULT_MIN_CLASS_COUNT = 30
"""Minimum number of positives and of negatives per arm below which ΔAUC is inconclusive."""


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


# --------------------------------------------------------------------------- DeLong core


# --------------------------------------------------------------------------- design and floor


# --------------------------------------------------------------------------- decision layer


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
    alpha = alpha_from_level(confidence_level)
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
    # a variance below 1e-24 (a standard error below 1e-12, which would take some 1e23 labelled
    # units) is zero up to rounding: the arms' scores rank every pair alike, and whether the
    # sum of placements lands on +1e-32 or −1e-32 depends on the order of summation alone
    estimable = math.isfinite(variance) and variance > MIN_ESTIMABLE_VARIANCE
    if not estimable:
        reasons.append(f"DeLong variance of ΔAUC is {variance:g}: not estimable")
    se_delong = math.sqrt(variance) if estimable else math.nan
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
    yc = validate_binary("labels_control", labels_control)
    yt = validate_binary("labels_candidate", labels_candidate)
    sc = validate_scores("scores_control", scores_control, yc.size)
    st = validate_scores("scores_candidate", scores_candidate, yt.size)
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
    y = validate_binary("labels", labels)
    sc = validate_scores("scores_control", scores_control, y.size)
    st = validate_scores("scores_candidate", scores_candidate, y.size)
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
