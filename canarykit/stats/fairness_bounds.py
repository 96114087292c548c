"""Simultaneous bounds of the change of a between-group gap (the vectorised core of
:func:`canarykit.stats.fairness.fairness_gap_delta`).

:func:`gap_delta_bounds` bounds ``gap(candidate) − gap(control)`` from successes and trials per
arm, rate and group, by either construction of :mod:`canarykit.stats.fairness` (``"contrasts"``
or ``"union"``); the simulations of :mod:`canarykit.stats.simulation_quality` call it on whole
batches of rollouts. Part of :mod:`canarykit.stats.fairness`, which re-exports it.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats.boundaries import normal_mixture_bound
from canarykit.stats.shadow import clopper_pearson, proportion_confidence_sequence

__all__ = ["Interval", "gap_delta_bounds", "union_gap_bounds"]

Interval = Literal["union", "contrasts"]


def union_gap_bounds(s: Any, t: Any, alpha: float, sequential: bool) -> tuple[Any, Any, Any, Any]:
    """Per-arm gap bounds from simultaneous per-rate intervals; returns (gap_lo, gap_hi) × arm."""
    interval = proportion_confidence_sequence if sequential else clopper_pearson
    lo, hi = interval(s, t, alpha / (s.shape[-3] * s.shape[-2] * s.shape[-1]))
    g_lo = np.maximum(0.0, lo.max(axis=-1) - hi.min(axis=-1)).max(axis=-1)  # (..., arm)
    g_hi = (hi.max(axis=-1) - lo.min(axis=-1)).max(axis=-1)
    return g_lo[..., 0], g_hi[..., 0], g_lo[..., 1], g_hi[..., 1]


def gap_delta_bounds(
    successes: ArrayLike,
    trials: ArrayLike,
    *,
    confidence_level: float = 0.95,
    sequential: bool = True,
    interval: Interval = "contrasts",
    planned_n: float = 10_000,
    paired: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Simultaneous bounds of ``gap(candidate) − gap(control)`` (vectorised core).

    Parameters
    ----------
    successes, trials : array_like, shape (..., 2, R, G)
        Counts per arm (control, candidate), rate (R = 1, or 2 = TPR and FPR for equalized
        odds; the gap is the max over rates) and group. Leading axes are batch axes.
    confidence_level, sequential, paired, interval, planned_n
        As in :func:`fairness_gap_delta`.

    Returns
    -------
    lower, upper : ndarray, shape (...)

    Notes
    -----
    Contrasts use the plug-in variance ``p̃(1−p̃)/n``, ``p̃ = (s+1)/(n+2)``, per rate.

    Examples
    --------
    >>> lo, hi = gap_delta_bounds([[[800, 760]], [[800, 700]]], [[[1000] * 2], [[1000] * 2]],
    ...                           interval="contrasts", sequential=False)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.0, 0.12)
    """
    s = np.asarray(successes, dtype=np.float64)
    t = np.asarray(trials, dtype=np.float64)
    if s.shape != t.shape or s.ndim < 3 or s.shape[-3] != 2:
        raise InvalidInputError(
            f"successes, trials: need equal shapes (..., 2, R, G), got {s.shape}"
        )
    if interval not in ("union", "contrasts"):
        raise InvalidInputError(f"interval: must be 'union' or 'contrasts', got {interval!r}")
    if not (math.isfinite(planned_n) and planned_n > 0):
        raise InvalidInputError(f"planned_n: must be a positive number, got {planned_n!r}")
    alpha = 1.0 - confidence_level
    if s.shape[-1] < 2:
        return np.full(s.shape[:-3], np.nan), np.full(s.shape[:-3], np.nan)
    if interval == "union":
        c_lo, c_hi, t_lo, t_hi = union_gap_bounds(s, t, alpha, sequential)
        return np.asarray(t_lo - c_hi), np.asarray(t_hi - c_lo)
    g = s.shape[-1]
    ii, jj = np.nonzero(~np.eye(g, dtype=bool))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = s / t
        pt = (s + 1.0) / (t + 2.0)
        v = pt * (1.0 - pt) / np.maximum(t, 1.0)
    flat = (*s.shape[:-2], -1)
    d = (r[..., ii] - r[..., jj]).reshape(flat)  # (..., arm, R·P)
    vd = (v[..., ii] + v[..., jj]).reshape(flat)
    a = alpha / (d.shape[-1] ** 2 / 2.0)  # union bound over ALL distinct contrasts
    z = float(special.ndtri(1.0 - a / 2.0))

    def half(v1: Any, v2: Any) -> Any:  # symmetric, increasing in both variances
        var = (np.sqrt(v1) + np.sqrt(v2)) ** 2 if paired else v1 + v2
        if not sequential:
            return z * np.sqrt(var)
        return normal_mixture_bound(1.0 / var, a, planned_n, a, one_sided=False) * var

    def top(x: Any, k: int) -> Any:
        return np.argsort(-np.nan_to_num(x, nan=-np.inf), axis=-1)[..., :k]

    def max_plus_half(d_all: Any, v_all: Any, v_sel: Any) -> Any:
        """max over ALL pairs p of one arm of ``d_p + half``, for each selected pair of the
        other arm: exact over the 64 largest d_p, bounded above for the rest."""
        idx = top(d_all, min(d_all.shape[-1], 64))
        d_t, v_t = np.take_along_axis(d_all, idx, -1), np.take_along_axis(v_all, idx, -1)
        out = (d_t[..., :, None] + half(v_t[..., :, None], v_sel[..., None, :])).max(axis=-2)
        if d_all.shape[-1] > idx.shape[-1]:
            rest_d, rest_v = d_all.copy(), v_all.copy()
            np.put_along_axis(rest_d, idx, -np.inf, -1)
            np.put_along_axis(rest_v, idx, 0.0, -1)
            r_d, r_v = rest_d.max(axis=-1)[..., None], rest_v.max(axis=-1)[..., None]
            out = np.maximum(out, r_d + half(r_v, v_sel))
        return out

    # Any selection of pairs gives valid bounds (coverage is simultaneous over all contrasts);
    # use the 32 largest observed differences of each arm.
    sel = top(d, min(d.shape[-1], 32))
    d_sel, v_sel = np.take_along_axis(d, sel, -1), np.take_along_axis(vd, sel, -1)
    # Δgap ≤ min_kl [max_ij (d_t,ij + half) − d_c,kl];  Δgap ≥ max_ij [d_t,ij − max_kl (d_c,kl + half)]
    upper = max_plus_half(d[..., 1, :], vd[..., 1, :], v_sel[..., 0, :]) - d_sel[..., 0, :]
    lower = d_sel[..., 1, :] - max_plus_half(d[..., 0, :], vd[..., 0, :], v_sel[..., 1, :])
    upper, lower = upper.min(axis=-1), lower.max(axis=-1)
    return np.asarray(lower), np.asarray(upper)
