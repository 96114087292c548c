"""DeLong moments of simulated ΔAUC rollouts at each look, vectorised over rollouts.

:func:`look_moments` gives, for row-wise prefixes of binned scores (one row per rollout), the
numbers :func:`~canarykit.stats.auc_histogram.auc_delta_from_histograms` (unpaired) or
:func:`~canarykit.stats.auc_histogram.paired_auc_delta_from_table` (paired) computes from the
same prefix: each arm's AUC and variance from
:func:`~canarykit.stats.auc_histogram.delong_from_histogram` on histograms over per-row dense
ranks of the bins, and for paired units the DeLong variance of the contrast. Used by
:func:`canarykit.simulate.auc_model.simulate_auc_looks`; part of :mod:`canarykit.simulate.auc`,
which re-exports :func:`look_moments`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from canarykit.stats.auc_histogram import delong_from_histogram

__all__ = ["look_moments"]


def _dense_ranks(bins: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per-row dense ranks of bin indices: same order and ties, at most ``row length`` values.

    DeLong depends on the scores only through their order and ties, so histograms over the
    dense ranks give the same moments as over all ``n_bins`` bins, at a fraction of the size.
    """
    order = np.argsort(bins, axis=1, kind="stable")
    ranked = np.take_along_axis(bins, order, 1)
    dense = np.zeros_like(ranked)
    dense[:, 1:] = np.cumsum(np.diff(ranked, axis=1) != 0, axis=1)
    out = np.empty_like(bins)
    np.put_along_axis(out, order, dense, 1)
    return out


def _hist(bins: NDArray[np.int64], mask: NDArray[np.bool_], k: int) -> NDArray[np.float64]:
    """Per-row bin counts of the units where ``mask`` holds, shape (rows, k)."""
    rows = bins.shape[0]
    flat = (bins + (np.arange(rows) * k)[:, None])[mask]
    return np.bincount(flat, minlength=rows * k).reshape(rows, k).astype(np.float64)


def _bin_placements(
    pos: NDArray[np.float64], neg: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-bin placements of a positive (V10) and of a negative (V01), ties ½."""
    m = pos.sum(axis=1, keepdims=True)
    n = neg.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = (np.cumsum(neg, axis=1) - 0.5 * neg) / n
        v01 = (m - np.cumsum(pos, axis=1) + 0.5 * pos) / m
    return v10, v01


def _paired_contrast_variance(
    bc: NDArray[np.int64],
    bt: NDArray[np.int64],
    y: NDArray[np.bool_],
    hists: tuple[NDArray[np.float64], ...],
    delta: NDArray[np.float64],
) -> NDArray[np.float64]:
    """DeLong Var(AUC_t − AUC_c) of paired units (rows of ``bc``, ``bt``, ``y``)."""
    pos_c, neg_c, pos_t, neg_t = hists
    v10c, v01c = _bin_placements(pos_c, neg_c)
    v10t, v01t = _bin_placements(pos_t, neg_t)
    d10 = np.take_along_axis(v10t, bt, 1) - np.take_along_axis(v10c, bc, 1) - delta[:, None]
    d01 = np.take_along_axis(v01t, bt, 1) - np.take_along_axis(v01c, bc, 1) - delta[:, None]
    m = y.sum(axis=1)
    n = (~y).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(
            np.where(y, d10 * d10, 0.0).sum(axis=1) / (m * (m - 1.0))
            + np.where(y, 0.0, d01 * d01).sum(axis=1) / (n * (n - 1.0))
        )


def look_moments(
    bins_control: NDArray[np.int64],
    labels_control: NDArray[np.bool_],
    bins_candidate: NDArray[np.int64],
    labels_candidate: NDArray[np.bool_],
    *,
    paired: bool,
    ends: NDArray[np.int64],
) -> dict[str, NDArray[np.float64]]:
    """DeLong moments of row-wise prefixes ``[:, :e]`` for each ``e`` in ``ends`` (vectorised).

    Parameters
    ----------
    bins_control, labels_control, bins_candidate, labels_candidate : ndarray, shape (R, N)
        Score bins (:func:`~canarykit.stats.auc_histogram.bin_scores`) and outcomes per
        rollout (row); paired: the labels are the same array.
    paired : bool
        Whether column ``i`` is the same request in both arms.
    ends : ndarray of int
        Increasing prefix lengths (the looks).

    Returns
    -------
    dict of ndarray, shape (R, len(ends))
        ``auc_control``, ``auc_candidate``, ``variance`` (of Δ̂), ``variance_control``,
        ``variance_candidate``, ``m_control``, ``n_control``, ``m_candidate``,
        ``n_candidate`` — the numbers ``auc_delta_from_histograms`` (unpaired) or
        ``paired_auc_delta_from_table`` (paired) computes from the same prefix. Each arm's AUC
        and variance come from :func:`~canarykit.stats.auc_histogram.delong_from_histogram`
        on histograms over per-row dense ranks of the bins (DeLong depends on the order and
        ties only).
    """
    b_c, b_t = _dense_ranks(bins_control), _dense_ranks(bins_candidate)
    y_c, y_t = labels_control, labels_candidate
    rows, width = b_c.shape
    hists = [np.zeros((rows, width)) for _ in range(4)]
    looks: dict[str, list[NDArray[np.float64]]] = {
        key: []
        for key in (
            "auc_control",
            "auc_candidate",
            "variance",
            "variance_control",
            "variance_candidate",
            "m_control",
            "n_control",
            "m_candidate",
            "n_candidate",
        )
    }
    start = 0
    for end in (int(e) for e in ends):
        sl = slice(start, end)
        for h, b, lab in zip(hists, (b_c, b_c, b_t, b_t), (y_c, ~y_c, y_t, ~y_t), strict=True):
            h += _hist(b[:, sl], lab[:, sl], width)
        start = end
        ac, vc = delong_from_histogram(hists[0], hists[1])
        at, vt = delong_from_histogram(hists[2], hists[3])
        if paired:
            upto = slice(0, end)
            var = _paired_contrast_variance(
                b_c[:, upto], b_t[:, upto], y_c[:, upto], tuple(hists), at - ac
            )
        else:
            var = vc + vt
        for key, value in zip(
            looks,
            (ac, at, var, vc, vt, *(h.sum(axis=1) for h in hists)),
            strict=True,
        ):
            looks[key].append(np.asarray(value, dtype=np.float64))
    return {key: np.stack(v, axis=1) for key, v in looks.items()}
