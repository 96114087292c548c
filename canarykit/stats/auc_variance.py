"""How precise a ΔAUC can be: planned standard errors, the variance floor, interval widths.

Hanley & McNeil's variance of an AUC from its value and class counts plans a step's
information (:func:`planned_auc_delta_se`) and, shrunk toward ½, gives the per-arm
*variance floor* that keeps DeLong's interval honest near AUC 0 or 1
(:func:`auc_variance_floor`); :func:`auc_delta_half_width` compares the sequential and
fixed-horizon widths. The module docstring of :mod:`canarykit.stats.auc` explains why.

References
----------
.. [1] J. A. Hanley, B. J. McNeil, Radiology 143(1), 1982.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats._checks import alpha_from_level
from canarykit.stats.boundaries import normal_mixture_bound

__all__ = [
    "DEFAULT_PLANNED_SE",
    "VARIANCE_FLOOR_FRACTION",
    "auc_delta_half_width",
    "auc_variance_floor",
    "floored_auc_delta_variance",
    "hanley_mcneil_variance",
    "planned_auc_delta_se",
]

DEFAULT_PLANNED_SE = 0.004
"""Planned final standard error of Δ̂ used to tune the confidence sequence (ρ).

A default for callers without a plan; a rollout step should pass
:func:`planned_auc_delta_se` at its expected labelled counts instead."""


VARIANCE_FLOOR_FRACTION = 0.25
"""κ of the per-arm variance floor ``κ·Var_HM(Ã)`` (see :func:`auc_variance_floor`)."""


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
    alpha = alpha_from_level(confidence_level)
    var = np.asarray(variance, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if not sequential:
            return np.asarray(float(special.ndtri(1 - alpha / 2)) * np.sqrt(var))
        info = 1.0 / var
        u = normal_mixture_bound(info, alpha, 1.0 / planned_se**2, alpha, one_sided=False)
        return np.asarray(u / info)
