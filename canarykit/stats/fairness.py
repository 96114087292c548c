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

The summaries and the gating check are here; the confusion counts per group
(:mod:`canarykit.stats.confusion_counts`) and the vectorised gap-delta bounds
(:mod:`canarykit.stats.fairness_bounds`) have their own modules, and every name is importable
from this one.

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
from numpy.typing import NDArray

from canarykit.errors import InvalidInputError
from canarykit.stats.confusion_counts import RATES, ConfusionCounts, intersection_groups
from canarykit.stats.fairness_bounds import Interval, gap_delta_bounds, union_gap_bounds
from canarykit.stats.result import IntervalResult

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
METRICS: tuple[str, ...] = ("selection_rate", "tpr", "fpr", "equalized_odds")
DEFAULT_MIN_COUNT = 30
"""Policy minimum of members / positives / negatives per group."""


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
    for rate in RATES:
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
        unsupported=tuple(_support_notes(counts, RATES, min_count, "arm")) if min_count else (),
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
        arm_ci = [float(x) for x in union_gap_bounds(num, den, 1 - confidence_level, sequential)]
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
