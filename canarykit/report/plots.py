"""Plots of a canary's distributions: latency quantiles, error rate over looks, ROC, fairness.

Every function draws on ``ax`` (or on a new pyplot-free figure, see :mod:`.style`) and returns
the :class:`~matplotlib.axes.Axes`; ``ax.figure`` is the figure to save or display. The inputs
are the small summaries of :mod:`canarykit.traces` (see :func:`.data.load_report_data`), and
the intervals come from the same primitives of :mod:`canarykit.stats` that the checks use.

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict.evaluate import evaluate
>>> from canarykit.report.data import load_report_data
>>> traces = generate_traces("latency_tail", n_requests=6000, canary_share=0.25, seed=2)
>>> data = load_report_data(evaluate(traces, log=False), traces)
>>> ax = latency_quantiles(data.summaries, slo=(0.95, 120.0))
>>> ax.get_title(), [t.get_text() for t in ax.get_legend().get_texts()][:4:2]
('Latency quantiles by arm', ['control v2.2.4', 'canary v2.3.0'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from canarykit.report.style import THRESHOLD_COLOUR, arm_colour, new_axes
from canarykit.stats.error_rate import error_rate_bound
from canarykit.stats.fairness import ConfusionCounts
from canarykit.stats.shadow import clopper_pearson, proportion_confidence_sequence
from canarykit.stats.sketch import LatencySketch, quantile_cs_from_sketch
from canarykit.traces.summaries import ZERO_KEY, ArmSummary, Summaries
from canarykit.traces.timeline import ErrorTimeline

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.ticker import Formatter

__all__ = [
    "DEFAULT_LEVELS",
    "arm_sketch",
    "error_rate_over_looks",
    "fairness_by_group",
    "latency_quantiles",
    "roc_curve_points",
    "roc_curves",
]

DEFAULT_LEVELS = tuple(float(p) for p in 1.0 - np.geomspace(0.5, 0.001, 36))
"""Quantile levels of the latency plot: p50 … p99.9, denser towards the tail."""
_TICKS = (0.5, 0.9, 0.95, 0.99, 0.999)


def _arm_label(summaries: Summaries, arm: ArmSummary) -> str:
    sel = summaries.selection
    return f"{arm.arm} {sel.baseline if arm.arm == 'control' else sel.candidate}"


def arm_sketch(arm: ArmSummary) -> LatencySketch:
    """The latency sketch (relative accuracy 1 %) of an arm's bucket counts.

    Examples
    --------
    >>> arm_sketch(ArmSummary(arm="control", latency_buckets={ZERO_KEY: 2, 10: 3})).count
    5
    """
    buckets = {k: c for k, c in arm.latency_buckets.items() if k != ZERO_KEY}
    return LatencySketch.from_key_counts(
        np.fromiter(buckets.keys(), np.int64, len(buckets)),
        np.fromiter(buckets.values(), np.int64, len(buckets)),
        zero_count=int(arm.latency_buckets.get(ZERO_KEY, 0)),
    )


def _tail_position(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """x position of quantile level p: −log10(1 − p), so p50, p90, p99, p99.9 are evenly spaced."""
    return np.asarray(-np.log10(1.0 - np.asarray(p, dtype=float)), dtype=float)


def latency_quantiles(
    summaries: Summaries,
    *,
    slo: tuple[float, float] | None = None,
    ratio_limit: tuple[float, float] | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    confidence_level: float = 0.95,
    t_opt: float = 10_000.0,
    fail_level: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Quantile function of each arm's latency with its confidence-sequence band.

    Parameters
    ----------
    summaries : Summaries
        Per-arm latency bucket counts (DDSketch keys, relative accuracy 1 %).
    slo : (level, ms), optional
        An absolute SLO such as ``(0.95, 120.0)``: drawn as a threshold line and marker.
    ratio_limit : (level, ratio), optional
        A relative limit such as ``(0.99, 1.10)``: the candidate's quantile at ``level`` may
        be at most ``ratio`` × control's; drawn as a marker at that value.
    levels : sequence of float
        Quantile levels on the x axis (spaced as −log10(1 − p)).
    confidence_level, t_opt : float
        Of the Howard–Ramdas quantile confidence sequences (as in the policy's checks).
    fail_level : float, optional
        Level of the band's lower edge when it differs from its upper edge's: a check's fail
        side is built at its share of the rollout's STOP budget (``details["alpha_fail"]``).
    ax : Axes, optional

    Returns
    -------
    Axes
        One line and one band per arm; the band is the sequence at each level, widened to the
        sketch's bucket edges, so it contains the exact-data interval the check reports.
    """
    ax = new_axes(ax)
    levels_arr = np.asarray(levels, dtype=float)
    x = _tail_position(levels_arr)
    for arm in (summaries.control, summaries.candidate):
        sketch = arm_sketch(arm)
        colour = arm_colour(arm.arm)
        if sketch.count == 0:
            continue
        results = [
            quantile_cs_from_sketch(
                sketch, float(p), confidence_level=confidence_level, t_opt=t_opt
            )
            for p in levels_arr
        ]
        lower = results
        if fail_level is not None and fail_level != confidence_level:
            lower = [
                quantile_cs_from_sketch(sketch, float(p), confidence_level=fail_level, t_opt=t_opt)
                for p in levels_arr
            ]
        estimate = np.array([r.estimate for r in results])
        low = np.array([r.ci_low if math.isfinite(r.ci_low) else np.nan for r in lower])
        high = np.array([r.ci_high if math.isfinite(r.ci_high) else np.nan for r in results])
        ax.plot(x, estimate, color=colour, lw=2, label=_arm_label(summaries, arm))
        ax.fill_between(
            x,
            low,
            high,
            color=colour,
            alpha=0.2,
            lw=0,
            label=f"{arm.arm} {confidence_level:.0%} confidence sequence",
        )
    if slo is not None:
        level, limit = slo
        ax.axhline(
            limit,
            color=THRESHOLD_COLOUR,
            ls="--",
            lw=1.2,
            label=f"p{level * 100:g} SLO ({limit:g} ms)",
        )
        ax.axvline(float(_tail_position(level)), color="#999999", ls=":", lw=1)
    if ratio_limit is not None and summaries.control.n_latency:
        level, ratio = ratio_limit
        limit = arm_sketch(summaries.control).quantile(level) * ratio
        ax.plot(
            [_tail_position(level)],
            [limit],
            marker="v",
            ms=9,
            ls="none",
            color=THRESHOLD_COLOUR,
            label=f"p{level * 100:g} limit (control × {ratio:g})",
        )
    ax.set_xticks(_tail_position(_TICKS), [f"p{p * 100:g}" for p in _TICKS])
    ax.set_xlim(x.min(), x.max())
    _log_ms_axis(ax)
    ax.set_xlabel("quantile level")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Latency quantiles by arm")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def _log_ms_axis(ax: Axes) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def error_rate_over_looks(
    timeline: ErrorTimeline,
    *,
    threshold: float | None = None,
    confidence_level: float = 0.95,
    t_opt: float = 10_000.0,
    fixed_horizon: bool = False,
    candidate_arm: str = "canary",
    fail_level: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Candidate error rate at each look, with the running confidence sequence.

    Each bucket end of ``timeline`` is a look: the cumulative counts go through
    :func:`~canarykit.stats.error_rate.error_rate_bound`, and the band is the running
    intersection of its intervals (the bound a job that looked every bucket would hold).

    Parameters
    ----------
    timeline : ErrorTimeline
    threshold : float, optional
        The absolute SLO on the candidate's error rate (e.g. 0.005): a dashed line.
    confidence_level, t_opt : float
        Of the confidence sequence (as in the policy's ``error_rate`` check).
    fixed_horizon : bool, default False
        Also draw the fixed-horizon (Clopper–Pearson) interval of each look: valid for one
        look only, so a job that re-tests every look with it raises false alarms.
    candidate_arm : str
        ``canary`` or ``shadow`` (legend and colour).
    fail_level : float, optional
        Level of the band's lower edge (the check's fail side) when it differs.
    ax : Axes, optional
    """
    ax = new_axes(ax)
    minutes = timeline.minutes
    n = np.cumsum(timeline.candidate_requests)
    k = np.cumsum(timeline.candidate_errors)
    seen = n > 0
    minutes, n, k = minutes[seen], n[seen], k[seen]
    colour = arm_colour(candidate_arm)
    if n.size:
        bounds = [
            error_rate_bound(int(e), int(m), confidence_level=confidence_level, t_opt=t_opt)
            for e, m in zip(k, n, strict=True)
        ]
        if fail_level is not None and fail_level != confidence_level:
            bounds_low = [
                error_rate_bound(int(e), int(m), confidence_level=fail_level, t_opt=t_opt)
                for e, m in zip(k, n, strict=True)
            ]
        else:
            bounds_low = bounds
        low = np.maximum.accumulate([b.ci_low for b in bounds_low])
        high = np.minimum.accumulate([b.ci_high for b in bounds])
        ax.plot(minutes, k / n, color=colour, lw=2, marker="o", ms=3, label=f"{candidate_arm}")
        ax.fill_between(
            minutes,
            low,
            high,
            color=colour,
            alpha=0.2,
            lw=0,
            label=f"running {confidence_level:.0%} confidence sequence",
        )
        if fixed_horizon:
            cp_low, cp_high = clopper_pearson(k, n, 1.0 - confidence_level)
            ax.plot(minutes, cp_low, color=colour, ls=":", lw=1, label="fixed-horizon interval")
            ax.plot(minutes, cp_high, color=colour, ls=":", lw=1)
    n_c = np.cumsum(timeline.control_requests)
    k_c = np.cumsum(timeline.control_errors)
    shown = n_c > 0
    if shown.any():
        ax.plot(
            timeline.minutes[shown],
            k_c[shown] / n_c[shown],
            color=arm_colour("control"),
            lw=1.2,
            ls="-.",
            label="control",
        )
    if threshold is not None:
        ax.axhline(
            threshold,
            color=THRESHOLD_COLOUR,
            ls="--",
            lw=1.2,
            label=f"error-rate SLO ({threshold:.2%})",
        )
    top = max(float(threshold or 0.0) * 2.5, float(np.nanmax(k / n)) * 2 if n.size else 0.01)
    ax.set_ylim(0.0, top)
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set_xlabel("minutes since window start (one look per bucket)")
    ax.set_ylabel("error rate (cumulative)")
    ax.set_title("Error rate as looks accumulate")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    return ax


def _percent_formatter() -> Formatter:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=1)


def roc_curve_points(
    positives: npt.ArrayLike, negatives: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """False- and true-positive rates at every bin edge of a score histogram.

    Thresholds run from above the top bin down to the bottom one, so the curve starts at
    (0, 0) and ends at (1, 1). Ties within a bin are joined by a straight segment, whose area
    is the ½-credit DeLong gives them: the trapezoid area equals the histogram AUC.

    Examples
    --------
    >>> fpr, tpr = roc_curve_points([0, 1, 3], [2, 2, 0])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 1.0], [0.0, 0.75, 1.0, 1.0])
    """
    pos = np.asarray(positives, dtype=float)[::-1]
    neg = np.asarray(negatives, dtype=float)[::-1]
    keep = (pos + neg) > 0
    tp = np.concatenate(([0.0], np.cumsum(pos[keep])))
    fp = np.concatenate(([0.0], np.cumsum(neg[keep])))
    return fp / max(fp[-1], 1.0), tp / max(tp[-1], 1.0)


def _auc(fpr: npt.NDArray[np.float64], tpr: npt.NDArray[np.float64]) -> float:
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def roc_curves(
    summaries: Summaries,
    *,
    delta: tuple[float, float, float] | None = None,
    margin: float | None = None,
    confidence_level: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """ROC curve of each arm from its score histograms, with ΔAUC and its interval.

    Parameters
    ----------
    summaries : Summaries
        Per-arm histograms of positives and negatives (labelled, scored requests).
    delta : (estimate, ci_low, ci_high), optional
        ΔAUC = AUC(candidate) − AUC(control) and its interval, e.g. from the verdict's
        ``auc_delta`` check; written in the corner with the ``margin``.
    margin : float, optional
        The non-inferiority margin of the check (e.g. −0.01).
    confidence_level : float
        Level of ``delta``'s interval (for the annotation).
    ax : Axes, optional
    """
    ax = new_axes(ax, figsize=(5.2, 4.8))
    drawn = 0
    for arm in (summaries.control, summaries.candidate):
        if arm.positives.sum() == 0 or arm.negatives.sum() == 0:
            continue
        fpr, tpr = roc_curve_points(arm.positives, arm.negatives)
        ax.plot(
            fpr,
            tpr,
            color=arm_colour(arm.arm),
            lw=2,
            label=f"{_arm_label(summaries, arm)} (AUC {_auc(fpr, tpr):.3f})",
        )
        drawn += 1
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="chance")
    if drawn == 0:
        ax.text(0.5, 0.55, "no labelled, scored requests yet", ha="center", transform=ax.transAxes)
    if delta is not None and all(math.isfinite(v) for v in delta):
        est, low, high = delta
        text = f"ΔAUC {est:+.4f}\n{confidence_level:.0%} CI [{low:+.4f}, {high:+.4f}]"
        if margin is not None:
            text += f"\nmargin ≥ {margin:+.3f}"
        ax.text(
            0.97,
            0.05,
            text,
            ha="right",
            va="bottom",
            transform=ax.transAxes,
            fontsize="small",
            bbox={"boxstyle": "round", "fc": "white", "ec": "#cccccc"},
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curves by arm")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def _confusion(arm: ArmSummary, features: tuple[str, ...]) -> ConfusionCounts | None:
    cells = arm.confusion.get(features)
    if not cells or not cells["groups"]:
        return None
    groups = [g[0] if len(features) == 1 else " & ".join(map(str, g)) for g in cells["groups"]]
    return ConfusionCounts.from_grouped(
        groups=groups, label=cells["label"], decision=cells["decision"], count=cells["count"]
    )


_METRIC_NAMES = {"selection_rate": "selection rate", "tpr": "TPR", "fpr": "FPR"}


def fairness_by_group(
    summaries: Summaries,
    *,
    metrics: Sequence[str] = ("selection_rate", "tpr"),
    features: tuple[str, ...] | None = None,
    confidence_level: float = 0.95,
    sequential: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Per-group rates of each arm with intervals, grouped by metric.

    Parameters
    ----------
    summaries : Summaries
        Confusion counts per (arm, group) for the feature set ``features``.
    metrics : sequence of {"selection_rate", "tpr", "fpr"}
    features : tuple of str, optional
        Which feature set of the summaries (default: the first one).
    confidence_level : float
    sequential : bool, default True
        Anytime-valid intervals (beta-mixture confidence sequences, as the sequential
        fairness checks use); ``False`` gives fixed-horizon Clopper–Pearson intervals.
        Either way they are pointwise per group; the check's interval is on the gap delta.
    ax : Axes, optional
    """
    ax = new_axes(ax, figsize=(7.0, 4.2))
    if features is None:
        features = next(iter(summaries.plan.feature_sets), ())
    counts = {
        arm.arm: _confusion(arm, features) for arm in (summaries.control, summaries.candidate)
    }
    alpha = 1.0 - confidence_level
    interval = proportion_confidence_sequence if sequential else clopper_pearson
    ticks: list[float] = []
    tick_labels: list[str] = []
    groups: tuple[object, ...] = ()
    for c in counts.values():
        if c is not None:
            groups = tuple(sorted(set(groups) | set(c.groups), key=str))
    width = 0.32
    top = 0.0
    for m_index, metric in enumerate(metrics):
        base = m_index * (len(groups) + 1)
        for g_index, group in enumerate(groups):
            ticks.append(base + g_index)
            tick_labels.append(str(group))
        if groups:
            ax.text(
                base + (len(groups) - 1) / 2,
                1.01,
                _METRIC_NAMES.get(metric, metric),
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize="small",
                fontweight="bold",
            )
        for a_index, (arm, c) in enumerate(counts.items()):
            if c is None:
                continue
            num, den = c.numerators_denominators(metric)
            low, high = interval(num, den, alpha)
            top = max(top, float(np.max(high, initial=0.0)))
            rate = c.rates(metric)
            index = {g: i for i, g in enumerate(c.groups)}
            xs = [base + groups.index(g) + (a_index - 0.5) * width for g in c.groups]
            order = [index[g] for g in c.groups]
            ax.errorbar(
                xs,
                rate[order],
                yerr=np.vstack([rate[order] - low[order], high[order] - rate[order]]),
                fmt="o",
                color=arm_colour(arm),
                capsize=3,
                label=f"{arm} {summaries.selection.baseline if arm == 'control' else summaries.selection.candidate}"
                if m_index == 0
                else None,
            )
    if not groups:
        ax.text(
            0.5, 0.5, "no labelled, scored requests per group", ha="center", transform=ax.transAxes
        )
    ax.set_xticks(ticks, tick_labels)
    ax.set_ylim(0.0, min(1.0, top * 1.15) if top > 0 else 1.0)
    ax.set_xlabel(" & ".join(features) if features else "group")
    ax.set_ylabel(f"rate ({confidence_level:.0%} interval per group)")
    ax.set_title("Fairness metrics by group and arm", pad=18)
    ax.grid(True, axis="y", alpha=0.3)
    if groups:
        ax.legend(fontsize="small", loc="upper left")
    return ax
