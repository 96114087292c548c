"""Fairness deltas from confusion counts per (arm, group).

Input per arm: ``tp, fp, fn, tn`` per group at the policy's decision threshold (one
``GROUP BY arm, group…, label, decision``). Per group: selection rate ``(tp+fp)/n``, TPR
``tp/(tp+fn)``, FPR ``fp/(fp+tn)``. Between-group gap = max − min over groups, ratio =
min/max — the numbers of fairlearn's ``MetricFrame.difference()`` / ``.ratio()``,
``demographic_parity_difference`` (selection-rate gap) and ``equalized_odds_difference``
(max of the TPR and FPR gaps).

The gating estimand is ``Δgap = gap(candidate) − gap(control)``; the policy rule "grows by
≤ 0.02" is ``decide(0.02, bound="max")``. Both interval constructions stay valid when the
groups achieving max and min differ between arms or switch over time:

* ``interval="contrasts"`` (default): simultaneous intervals for every contrast
  ``C = (r_t,i − r_t,j) − (r_c,k − r_c,l)`` (union bound over the ``(G(G−1))²/2`` distinct
  two-sided contrasts; asymptotic normal-mixture confidence sequences in information time,
  as for ΔAUC), then ``Δgap ≤ min_kl max_ij U(C)`` and ``Δgap ≥ max_ij min_kl L(C)``, because
  ``gap_c ≥ r_c,k − r_c,l`` and ``gap_t ≥ r_t,i − r_t,j`` for every pair.
* ``interval="union"``: exact simultaneous intervals for the 2G group rates (conjugate
  beta-mixture confidence sequences, Robbins 1970, at ``α/2G`` each), then interval
  arithmetic: ``gap ∈ [max(0, max L − min U), max U − min L]`` per arm and
  ``Δgap ∈ [gap_lo,t − gap_hi,c, gap_hi,t − gap_lo,c]``. Non-asymptotic, about twice as wide.

Simulated (:mod:`canarykit.stats.simulation_quality`): neither exceeded α; at 40k positives
per group and arm "contrasts" reached PROCEED in 84 % of A/A rollouts, "union" in none.
``sequential=False``: single-look versions (z, resp. Clopper–Pearson). Paired (shadow) data:
"union" needs no independence; "contrasts" bounds the variance by ``(√V_t + √V_c)²``.

Min support: a group with fewer members (selection rate), positives (TPR) or negatives
(FPR) than ``min_count`` in either arm makes the check inconclusive, with a note — never a
rate of 0 (fairlearn silently reports TPR 0 for a group without positives).

Examples
--------
>>> ctrl = ConfusionCounts.from_arrays(groups=["a", "b"], tp=[4000, 3800], fp=[1000, 1200],
...                                    fn=[1000, 1200], tn=[4000, 3800])
>>> cand = ConfusionCounts.from_arrays(groups=["a", "b"], tp=[4000, 3000], fp=[1000, 1200],
...                                    fn=[1000, 2000], tn=[4000, 3800])
>>> r = fairness_gap_delta(ctrl, cand, metric="tpr")
>>> round(r.estimate, 2), r.decide(0.02, bound="max")
(0.16, 'fail')
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats.boundaries import normal_mixture_bound
from canarykit.stats.result import IntervalResult
from canarykit.stats.shadow import clopper_pearson, proportion_confidence_sequence

__all__ = [
    "DEFAULT_MIN_COUNT",
    "METRICS",
    "ConfusionCounts",
    "FairnessDeltaResult",
    "FairnessSummary",
    "Interval",
    "Metric",
    "fairness_gap_delta",
    "fairness_summary",
    "gap_delta_bounds",
    "intersection_groups",
]

Metric = Literal["selection_rate", "tpr", "fpr", "equalized_odds"]
Interval = Literal["union", "contrasts"]
METRICS: tuple[str, ...] = ("selection_rate", "tpr", "fpr", "equalized_odds")
DEFAULT_MIN_COUNT = 30
"""Policy minimum of members / positives / negatives per group."""
_RATES = ("selection_rate", "tpr", "fpr")


# --------------------------------------------------------------------------- groups


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def intersection_groups(*features: ArrayLike) -> tuple[tuple[Hashable, ...], NDArray[np.int64]]:
    """Group keys and per-row group codes for one or several sensitive features.

    Keys follow fairlearn's ``MetricFrame(sensitive_features=...)``: one feature → its
    sorted distinct values; several → tuples ``(value_1, value_2, …)`` of the combinations
    present in the data, in lexicographic order (the ``by_group`` MultiIndex).

    Returns ``(keys, codes)``: the group keys and, per row, the index of its key.

    Examples
    --------
    >>> keys, codes = intersection_groups(["f", "m", "f"], ["old", "young", "young"])
    >>> keys, codes.tolist()
    ((('f', 'old'), ('f', 'young'), ('m', 'young')), [0, 2, 1])
    """
    if not features:
        raise InvalidInputError("features: at least one sensitive feature is required")
    arrays = [np.asarray(f) for f in features]
    n = arrays[0].shape
    if any(a.ndim != 1 or a.shape != n for a in arrays):
        raise InvalidInputError("features: must be 1-d arrays of equal length")
    uniques, codes = zip(*(np.unique(a, return_inverse=True) for a in arrays), strict=True)
    dims = tuple(len(u) for u in uniques)
    flat = np.ravel_multi_index(tuple(np.asarray(c).ravel() for c in codes), dims)
    present, inverse = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(present, dims)
    if len(arrays) == 1:
        keys: tuple[Hashable, ...] = tuple(_python(v) for v in uniques[0][parts[0]])
    else:
        keys = tuple(
            zip(
                *(tuple(_python(v) for v in u[p]) for u, p in zip(uniques, parts, strict=True)),
                strict=True,
            )
        )
    return keys, inverse.astype(np.int64).ravel()


def _cells(label: NDArray[np.bool_], decision: NDArray[np.bool_]) -> dict[str, Any]:
    return {
        "tp": label & decision,
        "fp": ~label & decision,
        "fn": label & ~decision,
        "tn": ~label & ~decision,
    }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ConfusionCounts:
    """Confusion counts per group for one arm (at the policy's decision threshold).

    Attributes
    ----------
    groups : tuple
        Group keys (strings, or tuples for intersections), in a fixed order.
    tp, fp, fn, tn : ndarray of int64, shape (G,)
        True/false positives/negatives per group (positive decision = ``score ≥ threshold``).
    """

    groups: tuple[Hashable, ...]
    tp: NDArray[np.int64]
    fp: NDArray[np.int64]
    fn: NDArray[np.int64]
    tn: NDArray[np.int64]

    @classmethod
    def from_arrays(
        cls,
        *,
        groups: Sequence[Hashable],
        tp: ArrayLike,
        fp: ArrayLike,
        fn: ArrayLike,
        tn: ArrayLike,
    ) -> ConfusionCounts:
        """Validate and build from per-group arrays (all of length G)."""
        keys = tuple(_python(g) for g in groups)
        if len(set(keys)) != len(keys):
            raise InvalidInputError("groups: keys must be distinct")
        arrays = {}
        for name, arr in (("tp", tp), ("fp", fp), ("fn", fn), ("tn", tn)):
            a = np.asarray(arr)
            if a.shape != (len(keys),):
                raise InvalidInputError(f"{name}: must have shape ({len(keys)},), got {a.shape}")
            if (
                not np.isfinite(a.astype(np.float64)).all()
                or (a < 0).any()
                or (a != np.round(a)).any()
            ):
                raise InvalidInputError(f"{name}: must be non-negative integer counts")
            arrays[name] = a.astype(np.int64)
        return cls(groups=keys, **arrays)

    @classmethod
    def from_grouped(
        cls,
        *,
        groups: Sequence[Hashable],
        label: ArrayLike,
        decision: ArrayLike,
        count: ArrayLike,
    ) -> ConfusionCounts:
        """Build from ``GROUP BY group, label, decision`` rows (one row per cell).

        ``groups`` holds each row's group key (tuples for intersections). Groups are
        ordered as :func:`intersection_groups` orders them.

        Examples
        --------
        >>> c = ConfusionCounts.from_grouped(groups=["b", "a", "a"], label=[1, 1, 0],
        ...                                  decision=[1, 0, 0], count=[5, 2, 7])
        >>> c.groups, c.tp.tolist(), c.fn.tolist(), c.tn.tolist()
        (('a', 'b'), [0, 5], [2, 0], [7, 0])
        """
        keys = [_python(g) for g in groups]
        lab = np.asarray(label).astype(bool)
        dec = np.asarray(decision).astype(bool)
        cnt = np.asarray(count)
        if not (len(keys) == lab.size == dec.size == cnt.size):
            raise InvalidInputError("groups, label, decision, count: must have equal length")
        try:
            distinct = sorted(set(keys))
        except TypeError as err:
            raise InvalidInputError(f"groups: keys must be mutually comparable ({err})") from err
        index = {g: i for i, g in enumerate(distinct)}
        code = np.fromiter((index[g] for g in keys), dtype=np.int64, count=len(keys))
        w = cnt.astype(np.float64)
        cells = {
            k: np.bincount(code[m], weights=w[m], minlength=len(distinct))
            for k, m in _cells(lab, dec).items()
        }
        return cls.from_arrays(groups=distinct, **cells)

    @classmethod
    def from_predictions(
        cls, y_true: ArrayLike, y_pred: ArrayLike, *sensitive_features: ArrayLike
    ) -> ConfusionCounts:
        """Build from row-level labels, decisions and sensitive features (vectorised).

        Examples
        --------
        >>> c = ConfusionCounts.from_predictions([1, 0, 1, 1], [1, 1, 0, 1], ["a", "a", "b", "b"])
        >>> c.tp.tolist(), c.fp.tolist(), c.fn.tolist()
        ([1, 1], [1, 0], [0, 1])
        """
        keys, codes = intersection_groups(*sensitive_features)
        y = np.asarray(y_true)
        d = np.asarray(y_pred)
        if y.shape != codes.shape or d.shape != codes.shape:
            raise InvalidInputError("y_true, y_pred: must match the sensitive features' length")
        cells = _cells(y.astype(bool), d.astype(bool))
        return cls.from_arrays(
            groups=keys, **{k: np.bincount(codes[m], minlength=len(keys)) for k, m in cells.items()}
        )

    def numerators_denominators(self, rate: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(successes, trials)`` per group of ``"selection_rate"``, ``"tpr"`` or ``"fpr"``."""
        if rate == "selection_rate":
            return self.tp + self.fp, self.tp + self.fp + self.fn + self.tn
        if rate == "tpr":
            return self.tp, self.tp + self.fn
        if rate == "fpr":
            return self.fp, self.fp + self.tn
        raise InvalidInputError(f"rate: must be one of {_RATES}, got {rate!r}")

    def rates(self, rate: str) -> NDArray[np.float64]:
        """Per-group rate (NaN where the denominator is 0 — never 0)."""
        num, den = self.numerators_denominators(rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessSummary:
    """Per-group rates, gaps (max − min) and ratios (min / max) for one arm.

    Equal to fairlearn's ``MetricFrame.by_group``, ``difference()`` and ``ratio()`` for
    ``selection_rate``, ``true_positive_rate`` and ``false_positive_rate``;
    ``demographic_parity_difference`` and ``equalized_odds_difference`` likewise.
    """

    groups: tuple[Hashable, ...]
    by_group: dict[str, tuple[float, ...]]
    difference: dict[str, float]
    ratio: dict[str, float]
    demographic_parity_difference: float
    equalized_odds_difference: float
    unsupported: tuple[str, ...] = field(default=())


def _gap_ratio(r: NDArray[np.float64]) -> tuple[float, float]:
    if r.size == 0 or np.isnan(r).any():
        return math.nan, math.nan
    hi, lo = float(r.max()), float(r.min())
    return hi - lo, (lo / hi if hi > 0 else math.nan)


def _support_notes(
    counts: ConfusionCounts, rates: Sequence[str], min_count: int, arm: str
) -> list[str]:
    words = {"selection_rate": "members", "tpr": "positives", "fpr": "negatives"}
    notes = []
    for rate in rates:
        _, den = counts.numerators_denominators(rate)
        for g, d in zip(counts.groups, den, strict=True):
            if d < min_count:
                notes.append(f"{arm} group {g!r}: {int(d)} {words[rate]} < {min_count} ({rate})")
    return notes


def fairness_summary(counts: ConfusionCounts, *, min_count: int = 0) -> FairnessSummary:
    """Per-group rates, gaps and ratios of one arm (for reports and fairlearn parity).

    Examples
    --------
    >>> c = ConfusionCounts.from_arrays(groups=["a", "b"], tp=[8, 6], fp=[2, 1], fn=[2, 4],
    ...                                 tn=[8, 9])
    >>> s = fairness_summary(c)
    >>> round(s.difference["tpr"], 3), round(s.equalized_odds_difference, 3)
    (0.2, 0.2)
    """
    by_group: dict[str, tuple[float, ...]] = {}
    diff: dict[str, float] = {}
    ratio: dict[str, float] = {}
    for rate in _RATES:
        r = counts.rates(rate)
        by_group[rate] = tuple(float(x) for x in r)
        diff[rate], ratio[rate] = _gap_ratio(r)
    return FairnessSummary(
        groups=counts.groups,
        by_group=by_group,
        difference=diff,
        ratio=ratio,
        demographic_parity_difference=diff["selection_rate"],
        equalized_odds_difference=max(diff["tpr"], diff["fpr"]),
        unsupported=tuple(_support_notes(counts, _RATES, min_count, "arm")) if min_count else (),
    )


# --------------------------------------------------------------------------- gating


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessDeltaResult(IntervalResult):
    """Change of a between-group gap, ``gap(candidate) − gap(control)``.

    Extras: ``metric``; ``gap_control``/``gap_candidate`` (max − min over groups) with
    per-arm simultaneous bounds ``gap_*_ci`` (union method); ``ratio_*`` (min/max of the
    first rate); ``groups``; ``rates_*`` (per-group rates by rate name); ``unsupported``
    (groups below min support: non-empty → inconclusive); ``sequential``; ``paired``.
    """

    metric: str = "selection_rate"
    gap_control: float = math.nan
    gap_candidate: float = math.nan
    gap_control_ci: tuple[float, float] = (math.nan, math.nan)
    gap_candidate_ci: tuple[float, float] = (math.nan, math.nan)
    ratio_control: float = math.nan
    ratio_candidate: float = math.nan
    groups: tuple[Hashable, ...] = ()
    rates_control: dict[str, tuple[float, ...]] = field(default_factory=dict)
    rates_candidate: dict[str, tuple[float, ...]] = field(default_factory=dict)
    unsupported: tuple[str, ...] = ()
    sequential: bool = True
    paired: bool = False


def _union_bounds(s: Any, t: Any, alpha: float, sequential: bool) -> tuple[Any, Any, Any, Any]:
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
        c_lo, c_hi, t_lo, t_hi = _union_bounds(s, t, alpha, sequential)
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


def fairness_gap_delta(
    control: ConfusionCounts,
    candidate: ConfusionCounts,
    *,
    metric: Metric = "selection_rate",
    confidence_level: float = 0.95,
    sequential: bool = True,
    min_count: int = DEFAULT_MIN_COUNT,
    paired: bool = False,
    interval: Interval = "contrasts",
    planned_n: float = 10_000,
) -> FairnessDeltaResult:
    """Interval for the change of a between-group gap from control to candidate.

    Parameters
    ----------
    control, candidate : ConfusionCounts
        Confusion counts per group of each arm (same group keys; a group missing in one arm
        counts as empty there).
    metric : {"selection_rate", "tpr", "fpr", "equalized_odds"}
        Which gap.
    confidence_level : float
        Simultaneous level over all group rates (or contrasts) of both arms.
    sequential : bool
        True (default): confidence sequences, valid under repeated looks. False: one look
        (Clopper–Pearson, or z for contrasts).
    min_count : int
        Minimum members / positives / negatives per group and arm (policy).
    paired : bool
        Shadow data (same requests in both arms). ``"union"`` needs no independence (only
        ``method`` records it); ``"contrasts"`` then bounds the cross-arm covariance.
    interval : {"contrasts", "union"}
        Interval construction (module docstring): ``"contrasts"`` (default, asymptotic) or
        ``"union"`` (exact, about twice as wide).
    planned_n : float
        ``"contrasts"`` + sequential: trials per group and arm the sequence is tuned for.

    Returns
    -------
    FairnessDeltaResult
        Check with ``decide(max_growth, bound="max")`` (policy: 0.02).

    Notes
    -----
    Sign: positive = the candidate's gap is larger (worse). For ``equalized_odds`` the gap
    is ``max(TPR gap, FPR gap)``. ``gap_*_ci`` are the per-arm gap bounds of the union method.

    Examples
    --------
    >>> a = ConfusionCounts.from_arrays(groups=["x", "y"], tp=[5, 5], fp=[5, 5], fn=[5, 5],
    ...                                 tn=[5, 5])
    >>> r = fairness_gap_delta(a, a, metric="tpr")
    >>> r.decide(0.02, bound="max"), r.unsupported[0]
    ('inconclusive', "control group 'x': 10 positives < 30 (tpr)")
    """
    if not 0.0 < confidence_level < 1.0:
        raise InvalidInputError(f"confidence_level: must be in (0, 1), got {confidence_level!r}")
    if metric not in METRICS:
        raise InvalidInputError(f"metric: must be one of {METRICS}, got {metric!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise InvalidInputError(f"min_count: must be an integer >= 1, got {min_count!r}")
    control, candidate = _align(control, candidate)
    rates = ("tpr", "fpr") if metric == "equalized_odds" else (metric,)
    g = len(control.groups)
    # successes / trials, shape (arm, rate, group)
    num = np.array([[c.numerators_denominators(r)[0] for r in rates] for c in (control, candidate)])
    den = np.array([[c.numerators_denominators(r)[1] for r in rates] for c in (control, candidate)])
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    gap_point = (est.max(axis=-1) - est.min(axis=-1)).max(axis=-1)  # (arm,); NaN propagates
    notes = _support_notes(control, rates, min_count, "control") + _support_notes(
        candidate, rates, min_count, "candidate"
    )
    if g < 2:
        notes.append(f"need at least two groups, got {g}")
    arm_ci = [math.nan] * 4
    if g >= 2:
        arm_ci = [float(x) for x in _union_bounds(num, den, 1 - confidence_level, sequential)]
    kw: dict[str, Any] = dict(interval=interval, planned_n=planned_n, paired=paired)
    lo, hi = gap_delta_bounds(
        num, den, confidence_level=confidence_level, **kw, sequential=sequential
    )
    ci_low, ci_high = (math.nan, math.nan) if notes else (float(lo), float(hi))
    kind = "CS (anytime-valid)" if sequential else "fixed-horizon"
    what = f"union bound over {num.size} rates" if interval == "union" else "rate contrasts"
    design = "paired (conservative)" if paired else "unpaired"
    note = "; ".join(notes[:5]) + (f"; … {len(notes) - 5} more" if len(notes) > 5 else "")
    return FairnessDeltaResult(
        method=f"fairness gap delta ({metric}), {what}, {kind}, {design}",
        estimate=float(gap_point[1] - gap_point[0]),
        ci_low=ci_low,
        ci_high=ci_high,
        confidence_level=confidence_level,
        pvalue=None,
        n_control=int((control.tp + control.fp + control.fn + control.tn).sum()),
        n_candidate=int((candidate.tp + candidate.fp + candidate.fn + candidate.tn).sum()),
        note=note,
        metric=metric,
        gap_control=float(gap_point[0]),
        gap_candidate=float(gap_point[1]),
        gap_control_ci=(arm_ci[0], arm_ci[1]),
        gap_candidate_ci=(arm_ci[2], arm_ci[3]),
        ratio_control=_gap_ratio(est[0, 0])[1],
        ratio_candidate=_gap_ratio(est[1, 0])[1],
        groups=control.groups,
        rates_control={r: tuple(float(x) for x in est[0, i]) for i, r in enumerate(rates)},
        rates_candidate={r: tuple(float(x) for x in est[1, i]) for i, r in enumerate(rates)},
        unsupported=tuple(notes),
        sequential=sequential,
        paired=paired,
    )


def _align(a: ConfusionCounts, b: ConfusionCounts) -> tuple[ConfusionCounts, ConfusionCounts]:
    """Put both arms on the union of their groups (missing group = zero counts)."""
    if not isinstance(a, ConfusionCounts) or not isinstance(b, ConfusionCounts):
        raise InvalidInputError("control, candidate: must be ConfusionCounts")
    if a.groups == b.groups:
        return a, b
    try:
        keys = sorted(set(a.groups) | set(b.groups))  # type: ignore[type-var]
    except TypeError as err:
        raise InvalidInputError(f"groups: keys of the two arms are not comparable ({err})") from err

    def expand(c: ConfusionCounts) -> ConfusionCounts:
        pos = {k: i for i, k in enumerate(c.groups)}
        idx = np.array([pos.get(k, -1) for k in keys])  # -1 → the appended zero
        cols = ("tp", "fp", "fn", "tn")
        return ConfusionCounts.from_arrays(
            groups=keys, **{n: np.append(getattr(c, n), 0)[idx] for n in cols}
        )

    return expand(a), expand(b)
