"""Forest plot of a verdict: every check's estimate and interval against its threshold.

The checks measure different things (milliseconds, ratios, rates, AUC differences), so each
check gets its own row with its own x axis — small multiples rather than one shared scale. A
row shows the interval as a bar (an arrow where it is unbounded), the estimate as a dot coloured
by the check's status, and the policy threshold as a dashed red line; ``sample_ratio`` shows the
planned split as a grey reference line instead (it is a quality gate, not a threshold).

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict.evaluate import evaluate
>>> verdict = evaluate(generate_traces("identical", n_requests=4000, seed=1), log=False)
>>> fig = forest_plot(verdict)
>>> len(fig.axes) == len(verdict.checks)
True
>>> fig.axes[0].get_ylabel()
'latency_p95'
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from canarykit.report.style import STATUS_COLOURS, THRESHOLD_COLOUR
from canarykit.verdict.checks import CheckOutcome
from canarykit.verdict.verdict import Verdict

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["check_row", "forest_plot", "reference_value"]

_UNITS = {
    "latency_quantile": "ms",
    "latency_quantile_ratio": "× control",
    "error_rate": "rate",
    "error_rate_ratio": "× control",
    "auc_delta": "Δ AUC",
    "fairness_gap_delta": "Δ gap",
    "shadow_agreement": "agreement",
    "sample_ratio": "candidate share",
}


def reference_value(check: CheckOutcome) -> tuple[float | None, str]:
    """The value a check's interval is compared with, and what it is.

    Returns ``(threshold, "threshold")`` for gating checks and ``(planned split, "planned")``
    for the sample-ratio quality gate; ``(None, "")`` when there is neither.

    Examples
    --------
    >>> c = CheckOutcome(name="x", kind="sample_ratio", status="pass", estimate=0.25,
    ...     ci_low=0.24, ci_high=0.26, confidence_level=0.95, pvalue=1.0, threshold=None,
    ...     bound="none", n_control=3, n_candidate=1, method="m", required=True, summary="",
    ...     details={"planned": (0.75, 0.25)})
    >>> reference_value(c)
    (0.25, 'planned')
    """
    if check.threshold is not None:
        return float(check.threshold), "threshold"
    planned = check.details.get("planned")
    if check.kind == "sample_ratio" and planned:
        return float(planned[-1]), "planned"
    return None, ""


def _limits(check: CheckOutcome, reference: float | None) -> tuple[float, float]:
    values = [v for v in (check.estimate, check.ci_low, check.ci_high, reference) if v is not None]
    finite = [float(v) for v in values if math.isfinite(v)]
    if not finite:
        return -1.0, 1.0
    lo, hi = min(finite), max(finite)
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - 0.25 * span, hi + 0.25 * span


def check_row(check: CheckOutcome, ax: Axes) -> Axes:
    """Draw one check (interval, estimate, threshold) on ``ax``; see the module docstring."""
    reference, what = reference_value(check)
    lo_lim, hi_lim = _limits(check, reference)
    colour = STATUS_COLOURS.get(check.status, "#555555")
    if not (math.isnan(check.ci_low) or math.isnan(check.ci_high)):
        lo = check.ci_low if math.isfinite(check.ci_low) else lo_lim
        hi = check.ci_high if math.isfinite(check.ci_high) else hi_lim
        ax.plot([lo, hi], [0, 0], color=colour, lw=3, solid_capstyle="butt", label="interval")
        for value, end, marker in ((check.ci_low, lo, "<"), (check.ci_high, hi, ">")):
            if math.isinf(value):
                ax.plot([end], [0], marker=marker, color=colour, ms=8, ls="none")
    if math.isfinite(check.estimate):
        ax.plot(
            [check.estimate],
            [0],
            marker="o",
            ms=8,
            color=colour,
            mec="white",
            ls="none",
            label="estimate",
        )
    else:
        ax.text(
            0.5,
            0.5,
            "not estimable yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize="small",
            color="#555555",
            bbox={"fc": "white", "ec": "none", "pad": 1},
        )
    if reference is not None:
        is_threshold = what == "threshold"
        ax.axvline(
            reference,
            color=THRESHOLD_COLOUR if is_threshold else "#777777",
            ls="--",
            lw=1.4,
            label=what,
        )
    ax.set_xlim(lo_lim, hi_lim)
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    ax.set_ylabel(check.name, rotation=0, ha="right", va="center", fontsize="small")
    ax.tick_params(axis="x", labelsize="x-small")
    ax.set_xlabel(_UNITS.get(check.kind, ""), fontsize="x-small", labelpad=1)
    label = check.status + ("" if check.required else " (optional)")
    ax.text(
        1.02,
        0.5,
        label,
        transform=ax.transAxes,
        va="center",
        ha="left",
        color=colour,
        fontsize="small",
        fontweight="bold",
    )
    for side in ("top", "left", "right"):
        ax.spines[side].set_visible(False)
    return ax


def forest_plot(
    verdict: Verdict, *, figure: Figure | SubFigure | None = None
) -> Figure | SubFigure:
    """One row per check: estimate, interval and threshold (see the module docstring).

    Parameters
    ----------
    verdict : Verdict
    figure : Figure or SubFigure, optional
        Where to draw (e.g. a panel of the overview); default a new figure.

    Returns
    -------
    Figure or SubFigure
        With one axes per check, in the verdict's order; each axes' y label is the check name.
    """
    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(
            figsize=(6.4, 0.62 * max(len(verdict.checks), 1) + 0.9), layout="constrained"
        )
    if not verdict.checks:
        figure.suptitle("No checks")
        return figure
    axes = figure.subplots(len(verdict.checks), 1, squeeze=False)[:, 0]
    for check, ax in zip(verdict.checks, axes, strict=True):
        check_row(check, ax)
    level = verdict.checks[0].confidence_level
    figure.suptitle(f"Checks: estimate, {level:.0%} interval and threshold", fontsize="medium")
    return figure
