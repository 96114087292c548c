"""Shadow mode: decision agreement with production and paired score shift.

In shadow mode the candidate scores mirrored requests; pairing by ``request_id`` gives, per
request, the control decision and the shadow decision (``score ≥ threshold``). Summaries:

* a 2×2 table ``table[control_decision, shadow_decision]`` (0 = negative, 1 = positive) —
  ``GROUP BY control_decision, shadow_decision``;
* proportions (agreement; also the per-group rates of :mod:`canarykit.stats.fairness`) get
  an anytime-valid conjugate beta-mixture confidence sequence
  (:func:`proportion_confidence_sequence`) or a Clopper–Pearson interval;
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
from numpy.typing import ArrayLike, NDArray

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats.result import IntervalResult

__all__ = [
    "ShadowAgreementResult",
    "clopper_pearson",
    "ks_distance",
    "paired_score_shift",
    "proportion_confidence_sequence",
    "shadow_agreement",
]


# --------------------------------------------------------------------------- proportions


def proportion_confidence_sequence(
    successes: ArrayLike,
    trials: ArrayLike,
    alpha: float | ArrayLike,
    *,
    prior: tuple[float, float] = (0.5, 0.5),
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Anytime-valid confidence sequence for Bernoulli means (conjugate beta mixture).

    Parameters
    ----------
    successes, trials : array_like
        Cumulative successes ``s`` and trials ``t`` (broadcast together).
    alpha : float or array_like
        Error level of each sequence (two-sided).
    prior : (a, b)
        Beta mixing distribution (default Jeffreys ½, ½).

    Returns
    -------
    lower, upper : ndarray
        ``[0, 1]`` where ``t = 0``.

    Notes
    -----
    ``M_t(p) = B(a+s, b+t−s) / B(a, b) / (p^s (1−p)^(t−s))`` is a nonnegative martingale
    under p with initial value 1, so by Ville's inequality
    ``{p : M_t(p) < 1/α}`` covers p at all t simultaneously with probability ≥ 1 − α.
    The set is an interval (``ln M_t`` is convex in p); its ends are found by bisection.

    References
    ----------
    Robbins (1970), "Statistical methods related to the law of the iterated logarithm",
    Ann. Math. Statist. 41(5). Howard, Ramdas, McAuliffe & Sekhon (2021), Ann. Statist. 49(2).

    Examples
    --------
    >>> lo, hi = proportion_confidence_sequence(700, 1000, 0.05)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.645, 0.751)
    """
    s, t, a_lvl = np.broadcast_arrays(
        np.asarray(successes, dtype=np.float64),
        np.asarray(trials, dtype=np.float64),
        np.asarray(alpha, dtype=np.float64),
    )
    if (s < 0).any() or (s > t).any() or not np.isfinite(t).all():
        raise InvalidInputError("successes: must satisfy 0 <= successes <= trials (finite)")
    if ((a_lvl <= 0) | (a_lvl >= 1)).any():
        raise InvalidInputError(f"alpha: must be in (0, 1), got {np.unique(a_lvl).tolist()!r}")
    pa, pb = prior
    if not (pa > 0 and pb > 0):
        raise InvalidInputError(f"prior: Beta parameters must be > 0, got {prior!r}")
    const = special.betaln(pa + s, pb + t - s) - special.betaln(pa, pb)
    target = np.log(1.0 / a_lvl)
    tiny = 1e-300
    with np.errstate(divide="ignore", invalid="ignore"):
        p_hat = np.where(t > 0, s / np.where(t > 0, t, 1.0), 0.5)

    def log_m(p: NDArray[np.float64]) -> NDArray[np.float64]:
        pc = np.clip(p, tiny, 1.0 - 1e-16)
        return np.asarray(const - s * np.log(pc) - (t - s) * np.log1p(-pc))

    # lower end: search [0, p_hat]; upper end: [p_hat, 1]
    lo_out, lo_in = np.zeros_like(p_hat), p_hat.copy()
    hi_in, hi_out = p_hat.copy(), np.ones_like(p_hat)
    for _ in range(64):
        mid = 0.5 * (lo_out + lo_in)
        inside = log_m(mid) < target
        lo_in = np.where(inside, mid, lo_in)
        lo_out = np.where(inside, lo_out, mid)
        mid = 0.5 * (hi_in + hi_out)
        inside = log_m(mid) < target
        hi_in = np.where(inside, mid, hi_in)
        hi_out = np.where(inside, hi_out, mid)
    lower = np.where(log_m(np.zeros_like(p_hat)) < target, 0.0, lo_out)
    upper = np.where(log_m(np.ones_like(p_hat)) < target, 1.0, hi_out)
    lower = np.where(t > 0, lower, 0.0)
    upper = np.where(t > 0, upper, 1.0)
    return lower, upper


def clopper_pearson(
    successes: ArrayLike, trials: ArrayLike, alpha: float | ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact (Clopper–Pearson) two-sided interval at level 1 − α — fixed horizon only.

    Examples
    --------
    >>> lo, hi = clopper_pearson(7, 10, 0.05)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.3475, 0.9333)
    """
    s, t, a = np.broadcast_arrays(
        np.asarray(successes, dtype=np.float64),
        np.asarray(trials, dtype=np.float64),
        np.asarray(alpha, dtype=np.float64),
    )
    if (s < 0).any() or (s > t).any():
        raise InvalidInputError("successes: must satisfy 0 <= successes <= trials")
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(s > 0, special.betaincinv(np.maximum(s, 1e-300), t - s + 1, a / 2), 0.0)
        hi = np.where(s < t, special.betaincinv(s + 1, np.maximum(t - s, 1e-300), 1 - a / 2), 1.0)
    lo = np.where(t > 0, lo, 0.0)
    hi = np.where(t > 0, hi, 1.0)
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


# --------------------------------------------------------------------------- agreement


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
    binomial proportion; see :func:`proportion_confidence_sequence`.

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
    half = float(special.ndtri(1 - (1 - confidence_level) / 2)) * math.sqrt(var / n)
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
