"""Shadow mode: decision agreement with production and paired score shift.

In shadow mode the candidate scores mirrored requests; pairing by ``request_id`` gives, per
request, the control decision and the shadow decision (``score ≥ threshold``). Summaries:

* a 2×2 table ``table[control_decision, shadow_decision]`` (0 = negative, 1 = positive) —
  ``GROUP BY control_decision, shadow_decision``;
* for the score shift, ``n``, ``Σd`` and ``Σd²`` of ``d = score_shadow − score_control``, and
  the two score histograms on common bins (``auc_histogram.bin_scores``).

The gating check is the agreement rate ``(n₀₀ + n₁₁)/n`` with ``decide(0.98, bound="min")``.

Examples
--------
>>> r = shadow_agreement([[1200, 6], [9, 8785]])
>>> round(r.estimate, 4), r.decide(0.98, bound="min")
(0.9985, 'pass')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri

from canarykit.errors import InvalidInputError
from canarykit.stats.fairness import clopper_pearson, proportion_confidence_sequence
from canarykit.stats.result import IntervalResult

__all__ = [
    "ShadowAgreementResult",
    "ks_distance",
    "paired_score_shift",
    "shadow_agreement",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowAgreementResult(IntervalResult):
    """Agreement rate of shadow and control decisions on the same requests.

    Extra attributes
    ----------------
    control_only, shadow_only : int
        Discordant pairs: only control positive / only shadow positive.
    positive_rate_shift : float
        Shadow positive rate − control positive rate ``(shadow_only − control_only)/n``.
    sequential : bool
        Whether the interval is an anytime-valid confidence sequence.
    """

    control_only: int = 0
    shadow_only: int = 0
    positive_rate_shift: float = math.nan
    sequential: bool = True


def shadow_agreement(
    table: ArrayLike, *, confidence_level: float = 0.95, sequential: bool = True
) -> ShadowAgreementResult:
    """Decision agreement rate with an (anytime-valid) interval.

    Parameters
    ----------
    table : array_like of int, shape (2, 2)
        ``table[i, j]`` = requests with control decision ``i`` and shadow decision ``j``
        (0 = negative, 1 = positive).
    confidence_level : float
        Two-sided level.
    sequential : bool
        True (default): beta-mixture confidence sequence (Robbins; valid at every look).
        False: Clopper–Pearson (single look).

    Returns
    -------
    ShadowAgreementResult
        ``estimate = (n₀₀ + n₁₁)/n``; check with ``decide(0.98, bound="min")``.

    Notes
    -----
    Each request contributes one Bernoulli "agree" outcome, so the agreement rate is a
    binomial proportion; see :func:`canarykit.stats.fairness.proportion_confidence_sequence`.

    Examples
    --------
    >>> shadow_agreement([[0, 0], [0, 0]]).decide(0.98, bound="min")
    'inconclusive'
    """
    if not 0.0 < confidence_level < 1.0:
        raise InvalidInputError(f"confidence_level: must be in (0, 1), got {confidence_level!r}")
    t = np.asarray(table)
    if t.shape != (2, 2):
        raise InvalidInputError(f"table: must have shape (2, 2), got {t.shape}")
    tf = t.astype(np.float64)
    if not np.isfinite(tf).all() or (tf < 0).any() or (tf != np.round(tf)).any():
        raise InvalidInputError("table: must hold non-negative integer counts")
    n = int(tf.sum())
    agree = int(tf[0, 0] + tf[1, 1])
    control_only, shadow_only = int(tf[1, 0]), int(tf[0, 1])
    alpha = 1.0 - confidence_level
    method = "shadow decision agreement, " + (
        "beta-mixture CS (anytime-valid)" if sequential else "Clopper-Pearson (fixed-horizon)"
    )
    if n == 0:
        return ShadowAgreementResult(
            method=method,
            estimate=math.nan,
            ci_low=math.nan,
            ci_high=math.nan,
            confidence_level=confidence_level,
            note="no paired requests",
            sequential=sequential,
        )
    interval = proportion_confidence_sequence if sequential else clopper_pearson
    lo, hi = interval(agree, n, alpha)
    return ShadowAgreementResult(
        method=method,
        estimate=agree / n,
        ci_low=float(lo),
        ci_high=float(hi),
        confidence_level=confidence_level,
        n_control=n,
        n_candidate=n,
        control_only=control_only,
        shadow_only=shadow_only,
        positive_rate_shift=(shadow_only - control_only) / n,
        sequential=sequential,
    )


def paired_score_shift(
    n: int, sum_diff: float, sum_sq_diff: float, *, confidence_level: float = 0.95
) -> IntervalResult:
    """Mean paired score difference (shadow − control) with a normal interval, for reports.

    Parameters
    ----------
    n : int
        Number of paired requests.
    sum_diff, sum_sq_diff : float
        ``Σd`` and ``Σd²`` with ``d = score_shadow − score_control``.
    confidence_level : float
        Two-sided level (fixed-horizon; not a gate).

    Notes
    -----
    ``d̄ = Σd/n``, ``s² = (Σd² − n·d̄²)/(n − 1)``, interval ``d̄ ± z·s/√n``. Sums of squares
    lose precision when ``|d̄| ≫ s``; score differences in [−1, 1] keep that benign.

    Examples
    --------
    >>> r = paired_score_shift(100, 2.0, 1.04)
    >>> round(r.estimate, 3), round(r.ci_low, 4)
    (0.02, 0.0002)
    """
    if not 0.0 < confidence_level < 1.0:
        raise InvalidInputError(f"confidence_level: must be in (0, 1), got {confidence_level!r}")
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise InvalidInputError(f"n: must be a non-negative integer, got {n!r}")
    if not (math.isfinite(sum_diff) and math.isfinite(sum_sq_diff)) or sum_sq_diff < 0:
        raise InvalidInputError("sum_diff, sum_sq_diff: must be finite, sum_sq_diff >= 0")
    n = int(n)
    method = "paired score shift (shadow − control), normal, fixed-horizon"
    if n < 2:
        return IntervalResult(
            method=method,
            estimate=sum_diff / n if n else math.nan,
            ci_low=math.nan,
            ci_high=math.nan,
            confidence_level=confidence_level,
            n_control=n,
            n_candidate=n,
            note="fewer than two paired requests",
        )
    mean = sum_diff / n
    var = max(0.0, (sum_sq_diff - n * mean * mean) / (n - 1))
    half = float(ndtri(1 - (1 - confidence_level) / 2)) * math.sqrt(var / n)
    return IntervalResult(
        method=method,
        estimate=mean,
        ci_low=mean - half,
        ci_high=mean + half,
        confidence_level=confidence_level,
        n_control=n,
        n_candidate=n,
    )


def ks_distance(hist_control: ArrayLike, hist_shadow: ArrayLike) -> float:
    """Kolmogorov–Smirnov distance between two score histograms on common bins.

    Parameters
    ----------
    hist_control, hist_shadow : array_like, shape (n_bins,)
        Counts per bin (same bin edges, increasing score).

    Returns
    -------
    float
        ``max_b |F_control(b) − F_shadow(b)|`` over bin upper edges — the KS statistic of
        the discretised scores (≤ the KS statistic of the raw scores, by at most the mass
        that moves within one bin).

    Examples
    --------
    >>> ks_distance([5, 5, 0], [0, 5, 5])
    0.5
    """
    a = np.asarray(hist_control, dtype=np.float64)
    b = np.asarray(hist_shadow, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise InvalidInputError(
            f"hist_control, hist_shadow: must be 1-d with equal length, got {a.shape}, {b.shape}"
        )
    if (a < 0).any() or (b < 0).any() or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise InvalidInputError("hist_control, hist_shadow: counts must be finite and >= 0")
    if a.sum() == 0 or b.sum() == 0:
        return math.nan
    return float(np.abs(np.cumsum(a) / a.sum() - np.cumsum(b) / b.sum()).max())
