"""DeLong ΔAUC from score histograms: exact on discretised scores, computed from a GROUP BY.

Within one score bin every positive has the same placement (the share of negatives below
it, ties ½) and every negative the same placement, so the AUC *and* its DeLong variance are
exact functions of per-bin class counts. The trace store can therefore compute ΔAUC from

* unpaired (canary split), per arm: ``pos[b]``, ``neg[b]`` — counts of positives and negatives
  in bin ``b = 0 … n_bins−1`` (arrays of length ``n_bins``);
* paired (shadow), one joint table: ``count`` per ``(bin_control, bin_candidate, label)``,
  passed as four equal-length arrays (sparse, as returned by the GROUP BY) or as a dense
  array of shape ``(n_bins, n_bins, 2)`` indexed ``[bin_control, bin_candidate, label]``
  (``label`` 0 = negative, 1 = positive).

Bin rule (mirror it exactly in SQL)::

    bin = min(floor(score * n_bins), n_bins - 1)          # score in [0, 1]
    SQL: LEAST(CAST(floor(score * n_bins) AS INTEGER), n_bins - 1)

Both sides multiply the same IEEE doubles, so Python and DuckDB agree bit for bit.

Effect of the bin width on continuous scores: discretising turns near-ties into ties, which
count ½, so each AUC is biased by ``−½·P(positive and negative fall in the same bin)`` ≈
``−½·h·∫f₁f₀`` for bin width ``h``. Measured on binormal scores (μ = 1.2, σ = 1, mapped to
[0, 1] by Φ, AUC ≈ 0.80, 200k units, prevalence 0.3): ``n_bins = 100`` (h = 1e-2) → AUC
bias −7.5e-5; ``n_bins = 1000`` (h = 1e-3) → −2.1e-6; ``n_bins = 10000`` (h = 1e-4) →
|bias| ≤ 2.5e-7 (at the Monte-Carlo noise floor). The ΔAUC bias between a control and a
noisier candidate was 5.2e-5, 1.4e-6 and 2.7e-7 respectively — far below the 0.01 margin.
Near-ties ordered either way both become ½, so the bias partly cancels; it grows where the
score density is concentrated (e.g. scores piled near 0). Default: ``n_bins = 10000``.

The paired joint table has one row per non-empty ``(bin_control, bin_candidate, label)``
cell, so fine bins make it nearly as long as the data (1M correlated pairs: 15k cells at
100 bins, 557k at 1,000, 992k at 10,000). For shadow traffic use 100–1,000 bins: at 100
bins ΔAUC moved by 6e-6 and its standard error by 0.02 % against the raw-score DeLong.

Examples
--------
>>> import numpy as np
>>> from canarykit.stats.auc import delong_covariance
>>> rng = np.random.default_rng(3)
>>> y = rng.random(500) < 0.4
>>> s = rng.random(500)
>>> pos, neg = score_histogram(y, s, n_bins=20)
>>> auc, var = delong_from_histogram(pos, neg)
>>> aucs, cov = delong_covariance(y, bin_scores(s, 20))
>>> bool(abs(auc - aucs[0]) < 1e-12 and abs(var - cov[0, 0]) < 1e-12)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarykit.errors import InvalidInputError
from canarykit.stats.auc import (
    DEFAULT_MARGIN,
    DEFAULT_MIN_CLASS_COUNT,
    DEFAULT_PLANNED_SE,
    AucDeltaResult,
    auc_delta_from_moments,
)

__all__ = [
    "DEFAULT_N_BINS",
    "auc_delta_from_histograms",
    "bin_scores",
    "delong_from_histogram",
    "paired_auc_delta_from_table",
    "paired_delong_from_joint",
    "paired_score_table",
    "score_histogram",
]

DEFAULT_N_BINS = 10_000
"""Default number of equal-width score bins on [0, 1] (bin width 1e-4)."""


def _check_n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
        raise InvalidInputError(f"n_bins: must be an integer >= 2, got {n_bins!r}")
    return int(n_bins)


def _counts(name: str, values: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise InvalidInputError(f"{name}: counts must be finite and >= 0")
    return arr


def bin_scores(scores: ArrayLike, n_bins: int = DEFAULT_N_BINS) -> NDArray[np.int64]:
    """Bin index of each score: ``min(floor(score * n_bins), n_bins − 1)``.

    Parameters
    ----------
    scores : array_like
        Scores in [0, 1].
    n_bins : int
        Number of equal-width bins.

    Returns
    -------
    ndarray of int64
        SQL mirror: ``LEAST(CAST(floor(score * n_bins) AS INTEGER), n_bins - 1)``.

    Examples
    --------
    >>> bin_scores([0.0, 0.09999, 0.1, 0.5, 1.0], n_bins=10).tolist()
    [0, 0, 1, 5, 9]
    """
    k = _check_n_bins(n_bins)
    s = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(s).all() or (s < 0).any() or (s > 1).any():
        raise InvalidInputError("scores: must be finite and within [0, 1]")
    return np.minimum(np.floor(s * k).astype(np.int64), k - 1)


def score_histogram(
    labels: ArrayLike, scores: ArrayLike, n_bins: int = DEFAULT_N_BINS
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per-bin counts of positives and negatives (what ``GROUP BY bin, label`` returns).

    Examples
    --------
    >>> pos, neg = score_histogram([1, 0, 1], [0.9, 0.1, 0.95], n_bins=4)
    >>> pos.tolist(), neg.tolist()
    ([0, 0, 0, 2], [1, 0, 0, 0])
    """
    y = np.asarray(labels).astype(bool)
    b = bin_scores(scores, n_bins)
    if y.shape != b.shape:
        raise InvalidInputError(f"labels: shape {y.shape} differs from scores {b.shape}")
    k = int(n_bins)
    return np.bincount(b[y], minlength=k), np.bincount(b[~y], minlength=k)


def paired_score_table(
    labels: ArrayLike,
    scores_control: ArrayLike,
    scores_candidate: ArrayLike,
    n_bins: int = DEFAULT_N_BINS,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Sparse joint table ``(bin_control, bin_candidate, label, count)`` of paired scores.

    Rows are the non-empty cells, sorted by ``(bin_control, bin_candidate, label)`` — the
    result of ``GROUP BY bin_control, bin_candidate, label``.

    Examples
    --------
    >>> bc, bt, lab, cnt = paired_score_table([1, 1, 0], [0.9, 0.9, 0.2], [0.8, 0.8, 0.1], 10)
    >>> bc.tolist(), bt.tolist(), lab.tolist(), cnt.tolist()
    ([2, 9], [1, 8], [0, 1], [1, 2])
    """
    k = _check_n_bins(n_bins)
    y = np.asarray(labels).astype(np.int64)
    bc = bin_scores(scores_control, k)
    bt = bin_scores(scores_candidate, k)
    if not (y.shape == bc.shape == bt.shape):
        raise InvalidInputError("labels, scores_control, scores_candidate: shapes differ")
    key = (bc * k + bt) * 2 + y
    cells, count = np.unique(key, return_counts=True)
    return cells // (2 * k), (cells // 2) % k, cells % 2, count.astype(np.int64)


def _placements(
    pos: NDArray[Any], neg: NDArray[Any]
) -> tuple[Any, Any, NDArray[np.float64], NDArray[np.float64], Any]:
    """Per-bin placements along the last axis: (m, n, v10, v01, auc)."""
    m = pos.sum(axis=-1)
    n = neg.sum(axis=-1)
    cneg = np.cumsum(neg, axis=-1)
    cpos = np.cumsum(pos, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = (cneg - 0.5 * neg) / n[..., None]  # negatives below + ½ tied, per positive
        v01 = (m[..., None] - cpos + 0.5 * pos) / m[..., None]  # positives above + ½ tied
        auc = (pos * v10).sum(axis=-1) / m
    return m, n, v10, v01, auc


def delong_from_histogram(pos: ArrayLike, neg: ArrayLike) -> tuple[Any, Any]:
    """AUC and DeLong variance from per-bin class counts (last axis = bins).

    Parameters
    ----------
    pos, neg : array_like, shape (..., n_bins)
        Counts of positives and negatives per bin, bins in increasing score order.
        Leading axes are batch axes (vectorised simulations).

    Returns
    -------
    auc, variance : float or ndarray
        NaN where a class has fewer than two members.

    Notes
    -----
    ``V10_b = (N⁻_{<b} + ½N⁻_b)/n``, ``V01_b = (N⁺_{>b} + ½N⁺_b)/m``,
    ``AUC = Σ N⁺_b V10_b / m``, ``Var = Σ N⁺_b (V10_b − AUC)²/(m(m−1)) +
    Σ N⁻_b (V01_b − AUC)²/(n(n−1))`` — identical to the sort-based DeLong variance on
    scores discretised to the bins.

    Examples
    --------
    >>> auc, var = delong_from_histogram([0, 1, 3], [2, 1, 0])
    >>> round(float(auc), 4)
    0.9583
    """
    p = _counts("pos", pos)
    q = _counts("neg", neg)
    if p.shape != q.shape:
        raise InvalidInputError(f"pos, neg: shapes differ ({p.shape} vs {q.shape})")
    m, n, v10, v01, auc = _placements(p, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        d10 = v10 - auc[..., None]
        d01 = v01 - auc[..., None]
        var = (p * d10 * d10).sum(axis=-1) / (m * (m - 1)) + (q * d01 * d01).sum(axis=-1) / (
            n * (n - 1)
        )
    var = np.where((m >= 2) & (n >= 2), var, np.nan)
    auc = np.where((m >= 1) & (n >= 1), auc, np.nan)
    if np.ndim(var) == 0:
        return float(auc), float(var)
    return auc, var


def paired_delong_from_joint(table: ArrayLike) -> tuple[Any, Any, Any]:
    """Paired AUCs and the DeLong variance of their difference from a dense joint table.

    Parameters
    ----------
    table : array_like, shape (..., n_bins, n_bins, 2)
        Counts indexed ``[bin_control, bin_candidate, label]`` (label 0 = negative,
        1 = positive); leading axes are batch axes.

    Returns
    -------
    auc_control, auc_candidate, variance
        ``variance`` is ``Var(AUC_candidate − AUC_control)``.

    Notes
    -----
    ``Var(Δ̂) = Var(V10_t − V10_c)/m + Var(V01_t − V01_c)/n`` over the m positives and n
    negatives (sample variances, divisors m−1 and n−1); placements per cell come from the
    two marginal histograms.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.zeros((2, 2, 2)); t[0, 0, 0] = 3; t[1, 1, 1] = 2; t[0, 1, 1] = 1; t[1, 0, 0] = 1
    >>> ac, at, v = paired_delong_from_joint(t)
    >>> round(float(ac), 4), round(float(at), 4)
    (0.7083, 1.0)
    """
    t = _counts("table", table)
    if t.ndim < 3 or t.shape[-1] != 2 or t.shape[-2] != t.shape[-3]:
        raise InvalidInputError(f"table: must have shape (..., n_bins, n_bins, 2), got {t.shape}")
    pos, neg = t[..., 1], t[..., 0]
    m, n, v10c, v01c, auc_c = _placements(pos.sum(axis=-1), neg.sum(axis=-1))
    _, _, v10t, v01t, auc_t = _placements(pos.sum(axis=-2), neg.sum(axis=-2))
    delta = auc_t - auc_c
    with np.errstate(divide="ignore", invalid="ignore"):
        d10 = v10t[..., None, :] - v10c[..., :, None] - delta[..., None, None]
        d01 = v01t[..., None, :] - v01c[..., :, None] - delta[..., None, None]
        var = (pos * d10 * d10).sum(axis=(-1, -2)) / (m * (m - 1)) + (neg * d01 * d01).sum(
            axis=(-1, -2)
        ) / (n * (n - 1))
    var = np.where((m >= 2) & (n >= 2), var, np.nan)
    if np.ndim(var) == 0:
        return float(auc_c), float(auc_t), float(var)
    return auc_c, auc_t, var


def auc_delta_from_histograms(
    pos_control: ArrayLike,
    neg_control: ArrayLike,
    pos_candidate: ArrayLike,
    neg_candidate: ArrayLike,
    *,
    margin: float = DEFAULT_MARGIN,
    confidence_level: float = 0.95,
    sequential: bool = True,
    planned_se: float = DEFAULT_PLANNED_SE,
    min_class_count: int = DEFAULT_MIN_CLASS_COUNT,
) -> AucDeltaResult:
    """Unpaired ΔAUC from the two arms' score histograms (same bins in both arms).

    Parameters
    ----------
    pos_control, neg_control, pos_candidate, neg_candidate : array_like, shape (n_bins,)
        Per-bin counts of positives / negatives (see :func:`score_histogram`).
    margin, confidence_level, sequential, planned_se, min_class_count
        As in :func:`canarykit.stats.auc.auc_delta`.

    Examples
    --------
    >>> r = auc_delta_from_histograms([0, 40, 60], [50, 40, 10], [0, 45, 55], [55, 40, 5],
    ...                               sequential=False, min_class_count=10)
    >>> round(r.estimate, 4)
    0.03
    """
    shapes = {np.shape(a) for a in (pos_control, neg_control, pos_candidate, neg_candidate)}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise InvalidInputError(
            f"pos_control, neg_control, pos_candidate, neg_candidate: must be 1-d arrays of "
            f"one common length (n_bins), got shapes {sorted(shapes)}"
        )
    auc_c, var_c = delong_from_histogram(pos_control, neg_control)
    auc_t, var_t = delong_from_histogram(pos_candidate, neg_candidate)
    counts = (
        int(np.sum(pos_control)),
        int(np.sum(neg_control)),
        int(np.sum(pos_candidate)),
        int(np.sum(neg_candidate)),
    )
    return auc_delta_from_moments(
        auc_control=float(auc_c),
        auc_candidate=float(auc_t),
        variance=float(var_c + var_t),
        counts=counts,
        paired=False,
        arm_variances=(float(var_c), float(var_t)),
        margin=margin,
        confidence_level=confidence_level,
        sequential=sequential,
        planned_se=planned_se,
        min_class_count=min_class_count,
        method_suffix=", histogram",
    )


def paired_auc_delta_from_table(
    bin_control: ArrayLike,
    bin_candidate: ArrayLike,
    label: ArrayLike,
    count: ArrayLike,
    *,
    n_bins: int = DEFAULT_N_BINS,
    margin: float = DEFAULT_MARGIN,
    confidence_level: float = 0.95,
    sequential: bool = True,
    planned_se: float = DEFAULT_PLANNED_SE,
    min_class_count: int = DEFAULT_MIN_CLASS_COUNT,
) -> AucDeltaResult:
    """Paired ΔAUC from the sparse joint table ``(bin_control, bin_candidate, label, count)``.

    Parameters
    ----------
    bin_control, bin_candidate : array_like of int, shape (R,)
        Bin of the control and of the shadow score (rule of :func:`bin_scores`).
    label : array_like of bool/0-1, shape (R,)
        Outcome of the cell.
    count : array_like of int, shape (R,)
        Number of requests in the cell. Duplicate cells are summed.
    n_bins : int
        Number of bins used to build the table.
    margin, confidence_level, sequential, planned_se, min_class_count
        As in :func:`canarykit.stats.auc.paired_auc_delta`.

    Notes
    -----
    Works on the non-empty cells only (O(R + n_bins)), never on a dense n_bins² table. The
    two models' own DeLong variances (from the same cells) feed the edge variance floor of
    :func:`canarykit.stats.auc.auc_delta_from_moments`.

    Examples
    --------
    >>> r = paired_auc_delta_from_table([0, 1, 1, 2, 2], [0, 2, 1, 1, 2], [0, 0, 1, 1, 1],
    ...                                 [50, 30, 20, 10, 30], n_bins=3, min_class_count=10)
    >>> round(r.auc_control, 4), round(r.auc_candidate, 4)
    (0.9375, 0.7188)
    """
    k = _check_n_bins(n_bins)
    bc = np.asarray(bin_control)
    bt = np.asarray(bin_candidate)
    lab = np.asarray(label).astype(bool)
    cnt = _counts("count", count)
    if not (bc.shape == bt.shape == lab.shape == cnt.shape) or bc.ndim != 1:
        raise InvalidInputError(
            "bin_control, bin_candidate, label, count: must be 1-d arrays of equal length"
        )
    for name, b in (("bin_control", bc), ("bin_candidate", bt)):
        if b.size and (not np.issubdtype(b.dtype, np.integer) or b.min() < 0 or b.max() >= k):
            raise InvalidInputError(f"{name}: must be integers in [0, {k - 1}] (n_bins={k})")
    pos_c = np.bincount(bc[lab], weights=cnt[lab], minlength=k)
    neg_c = np.bincount(bc[~lab], weights=cnt[~lab], minlength=k)
    pos_t = np.bincount(bt[lab], weights=cnt[lab], minlength=k)
    neg_t = np.bincount(bt[~lab], weights=cnt[~lab], minlength=k)
    m, n, v10c, v01c, auc_c = _placements(pos_c, neg_c)
    _, _, v10t, v01t, auc_t = _placements(pos_t, neg_t)
    delta = auc_t - auc_c
    with np.errstate(divide="ignore", invalid="ignore"):
        p10c, p01c = v10c[bc[lab]], v01c[bc[~lab]]
        p10t, p01t = v10t[bt[lab]], v01t[bt[~lab]]
        d10 = p10t - p10c - delta
        d01 = p01t - p01c - delta
        var = float(
            (cnt[lab] * d10 * d10).sum() / (m * (m - 1))
            + (cnt[~lab] * d01 * d01).sum() / (n * (n - 1))
        )
        # per-arm DeLong variances, for the edge variance floor
        var_c, var_t = (
            float(
                (cnt[lab] * (p10 - auc) ** 2).sum() / (m * (m - 1))
                + (cnt[~lab] * (p01 - auc) ** 2).sum() / (n * (n - 1))
            )
            for p10, p01, auc in ((p10c, p01c, auc_c), (p10t, p01t, auc_t))
        )
    if m < 2 or n < 2:
        var = var_c = var_t = float("nan")
    return auc_delta_from_moments(
        auc_control=float(auc_c),
        auc_candidate=float(auc_t),
        variance=var,
        counts=(int(m), int(n), int(m), int(n)),
        paired=True,
        arm_variances=(var_c, var_t),
        margin=margin,
        confidence_level=confidence_level,
        sequential=sequential,
        planned_se=planned_se,
        min_class_count=min_class_count,
        method_suffix=", histogram",
    )
