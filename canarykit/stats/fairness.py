"""Fairness deltas from confusion counts per (arm, group).

Input per arm: ``tp, fp, fn, tn`` per group at the policy's decision threshold (one
``GROUP BY arm, group…, label, decision``). Per group: selection rate ``(tp+fp)/n``, TPR
``tp/(tp+fn)``, FPR ``fp/(fp+tn)``. Between-group gap = max − min over groups, ratio =
min/max — the numbers of fairlearn's ``MetricFrame.difference()`` / ``.ratio()``,
``demographic_parity_difference`` (selection-rate gap) and ``equalized_odds_difference``
(max of the TPR and FPR gaps).

The gating estimand is the *change* of a gap from control to candidate,
``gap(candidate) − gap(control)``; the policy rule is "grows by ≤ 0.02", i.e.
``decide(0.02, bound="max")``.

Interval (valid even when the groups achieving max and min differ between arms, or switch
over time): simultaneous intervals for every group rate entering the gap, in both arms, by a
union bound (each at level ``α/J`` for ``J`` rates); then

    gap ∈ [max(0, max_g L_g − min_g U_g),  max_g U_g − min_g L_g]
    Δgap ∈ [gap_lo(candidate) − gap_hi(control),  gap_hi(candidate) − gap_lo(control)]

Per-rate intervals are, with ``sequential=True`` (gating default), confidence *sequences*
from the conjugate beta-binomial mixture martingale (Robbins 1970; Howard et al. 2021):
``{p : B(a+s, b+t−s)/B(a, b) / (p^s (1−p)^(t−s)) < J/α}`` with Jeffreys prior
``a = b = ½`` — non-asymptotic and valid at every look. With ``sequential=False``:
Clopper–Pearson intervals at ``α/J`` (one look only).

Paired (shadow) data: the union bound needs no independence between arms or groups, so the
same construction is valid for shadow traffic; it is conservative there because it ignores
the positive correlation of the two models' decisions on the same requests.

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
from canarykit.stats.result import IntervalResult
from canarykit.stats.shadow import clopper_pearson, proportion_confidence_sequence

__all__ = [
    "DEFAULT_MIN_COUNT",
    "METRICS",
    "ConfusionCounts",
    "FairnessDeltaResult",
    "FairnessSummary",
    "Metric",
    "fairness_gap_delta",
    "fairness_summary",
    "intersection_groups",
]

Metric = Literal["selection_rate", "tpr", "fpr", "equalized_odds"]
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

    Parameters
    ----------
    *features : array_like, each shape (N,)
        Sensitive feature columns.

    Returns
    -------
    keys : tuple
        Group keys; ``codes`` index into it.
    codes : ndarray of int64, shape (N,)

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
        g = len(distinct)

        def cell(mask: NDArray[np.bool_]) -> NDArray[Any]:
            return np.bincount(code[mask], weights=cnt[mask].astype(np.float64), minlength=g)

        return cls.from_arrays(
            groups=distinct,
            tp=cell(lab & dec),
            fp=cell(~lab & dec),
            fn=cell(lab & ~dec),
            tn=cell(~lab & ~dec),
        )

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
        yb, db = y.astype(bool), d.astype(bool)
        g = len(keys)
        return cls.from_arrays(
            groups=keys,
            tp=np.bincount(codes[yb & db], minlength=g),
            fp=np.bincount(codes[~yb & db], minlength=g),
            fn=np.bincount(codes[yb & ~db], minlength=g),
            tn=np.bincount(codes[~yb & ~db], minlength=g),
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

    Extra attributes
    ----------------
    metric : str
        ``"selection_rate"`` (demographic parity), ``"tpr"`` (equal opportunity), ``"fpr"``
        or ``"equalized_odds"`` (max of the TPR and FPR gaps).
    gap_control, gap_candidate : float
        Gaps (max − min over groups).
    gap_control_ci, gap_candidate_ci : (float, float)
        Simultaneous bounds of each gap.
    ratio_control, ratio_candidate : float
        min / max of the metric's rate (TPR for ``equalized_odds``).
    groups : tuple
        Group keys.
    rates_control, rates_candidate : dict[str, tuple[float, ...]]
        Per-group rates entering the gap.
    unsupported : tuple of str
        Groups below the minimum support (non-empty → inconclusive).
    sequential, paired : bool
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


def _gap_bounds(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> tuple[Any, Any]:
    """Bounds of max − min over the last axis given simultaneous per-group bounds."""
    upper = hi.max(axis=-1) - lo.min(axis=-1)
    lower = np.maximum(0.0, lo.max(axis=-1) - hi.min(axis=-1))
    return lower, upper


def fairness_gap_delta(
    control: ConfusionCounts,
    candidate: ConfusionCounts,
    *,
    metric: Metric = "selection_rate",
    confidence_level: float = 0.95,
    sequential: bool = True,
    min_count: int = DEFAULT_MIN_COUNT,
    paired: bool = False,
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
        Simultaneous level over all group rates of both arms.
    sequential : bool
        True (default): beta-mixture confidence sequences, valid under repeated looks.
        False: Clopper–Pearson (single look).
    min_count : int
        Minimum members / positives / negatives per group and arm (policy).
    paired : bool
        Shadow data (same requests in both arms). The interval is the same (the union bound
        needs no independence); only ``method`` records the design.

    Returns
    -------
    FairnessDeltaResult
        Check with ``decide(max_growth, bound="max")`` (policy: 0.02).

    Notes
    -----
    Sign: positive = the candidate's gap is larger (worse). See the module docstring for
    the interval construction. For ``equalized_odds`` the gap is ``max(TPR gap, FPR gap)``
    and its bounds the element-wise max of the two gaps' bounds.

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
    alpha = 1.0 - confidence_level
    g = len(control.groups)
    # successes / trials, shape (arm, rate, group)
    num = np.array([[c.numerators_denominators(r)[0] for r in rates] for c in (control, candidate)])
    den = np.array([[c.numerators_denominators(r)[1] for r in rates] for c in (control, candidate)])
    n_rates = num.size
    if sequential:
        lo, hi = proportion_confidence_sequence(num, den, alpha / n_rates)
        kind = "beta-mixture CS (anytime-valid)"
    else:
        lo, hi = clopper_pearson(num, den, alpha / n_rates)
        kind = "Clopper-Pearson (fixed-horizon)"
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    point_gap = est.max(axis=-1) - est.min(axis=-1)  # (arm, rate); NaN propagates
    gap_lo, gap_hi = _gap_bounds(lo, hi)
    # combine rates (equalized odds = max over rates)
    gap_point = point_gap.max(axis=-1)
    gap_l, gap_u = gap_lo.max(axis=-1), gap_hi.max(axis=-1)
    notes = _support_notes(control, rates, min_count, "control") + _support_notes(
        candidate, rates, min_count, "candidate"
    )
    if g < 2:
        notes.append(f"need at least two groups, got {g}")
    estimate = float(gap_point[1] - gap_point[0])
    if notes:
        ci_low = ci_high = math.nan
    else:
        ci_low = float(gap_l[1] - gap_u[0])
        ci_high = float(gap_u[1] - gap_l[0])
    ratios = [_gap_ratio(est[arm, 0])[1] for arm in range(2)]
    design = "paired (union bound, conservative)" if paired else "unpaired"
    note = "; ".join(notes[:5]) + (f"; … {len(notes) - 5} more" if len(notes) > 5 else "")
    return FairnessDeltaResult(
        method=f"fairness gap delta ({metric}), union bound over {n_rates} group rates, "
        f"{kind}, {design}",
        estimate=estimate,
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
        gap_control_ci=(float(gap_l[0]), float(gap_u[0])),
        gap_candidate_ci=(float(gap_l[1]), float(gap_u[1])),
        ratio_control=ratios[0],
        ratio_candidate=ratios[1],
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
        idx = np.array([pos.get(k, -1) for k in keys])
        out = {}
        for name in ("tp", "fp", "fn", "tn"):
            arr = np.append(getattr(c, name), 0)
            out[name] = arr[idx]
        return ConfusionCounts.from_arrays(groups=keys, **out)

    return expand(a), expand(b)
