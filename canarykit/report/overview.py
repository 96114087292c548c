"""The overview figure of a verdict (``verdict.plot()``): the checks and, with the traces, why.

Without a source the figure is the forest plot of the checks under the decision. Given the
traces (``verdict.plot(source)``), the summaries are recomputed with the verdict's selection
(:func:`.data.load_report_data`) and four panels join the forest plot: latency quantiles with
their confidence-sequence bands, the error rate as looks accumulate, the ROC curves with ΔAUC,
and fairness metrics per group and arm. Thresholds come from the verdict's policy.

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict.evaluate import evaluate
>>> traces = generate_traces("identical", n_requests=4000, canary_share=0.25, seed=5)
>>> verdict = evaluate(traces, log=False)
>>> fig = plot_overview(verdict, traces)
>>> sorted(ax.get_title() for ax in fig.axes if ax.get_title())
['Error rate as looks accumulate', 'Fairness metrics by group and arm', 'Latency quantiles by arm', 'ROC curves by arm']
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarykit.report.data import ReportData, load_report_data
from canarykit.report.forest import forest_plot
from canarykit.report.plots import (
    error_rate_over_looks,
    fairness_by_group,
    latency_quantiles,
    roc_curves,
)
from canarykit.report.style import STATUS_COLOURS
from canarykit.verdict.policy import Policy
from canarykit.verdict.verdict import Verdict

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw_panels", "overview_title", "plot_overview"]


def overview_title(verdict: Verdict) -> str:
    """``"STOP — risk-default v2.2.4 → v2.3.0 (canary)"``."""
    return (
        f"{verdict.decision} — {verdict.model} {verdict.baseline} → {verdict.candidate} "
        f"({verdict.mode})"
    )


def _short_reasons(verdict: Verdict, *, width: int = 140, most: int = 3) -> list[str]:
    lines = [textwrap.shorten(r, width=width, placeholder=" …") for r in verdict.reasons[:most]]
    if len(verdict.reasons) > most:
        lines.append(f"(and {len(verdict.reasons) - most} more)")
    return lines


def _spec(policy: Policy, kind: str) -> Any:
    return next((c for c in policy.checks.values() if c.kind == kind), None)


def _levels(verdict: Verdict, spec: Any, level: float) -> tuple[float, float | None, float]:
    """(pass-side level, fail-side level, t_opt) of the verdict's check for ``spec``."""
    check = next((c for c in verdict.checks if spec is not None and c.name == spec.name), None)
    t_opt = spec.t_opt if spec is not None else 10_000.0
    if check is None or "alpha_pass" not in check.details:
        return level, None, t_opt
    tuning = check.details.get("tuning") or {}
    return (
        1.0 - float(check.details["alpha_pass"]),
        1.0 - float(check.details["alpha_fail"]),
        float(tuning.get("t_opt", t_opt)),
    )


def draw_panels(data: ReportData, axes: dict[str, Axes]) -> dict[str, Axes]:
    """Draw the distribution panels named in ``axes`` (``latency``, ``errors``, ``roc``,
    ``fairness``) with the thresholds of ``data.policy``; returns ``axes``.

    Confidence bands use the levels and tuning of the verdict's own checks (its upper edge at
    the check's pass level, its lower edge at the fail level), so they match the checks."""
    policy, verdict, summaries = data.policy, data.verdict, data.summaries
    level = policy.confidence_level
    if "latency" in axes:
        slo = _spec(policy, "latency_quantile")
        ratio = _spec(policy, "latency_quantile_ratio")
        upper, lower, t_opt = _levels(verdict, slo, level)
        latency_quantiles(
            summaries,
            slo=None if slo is None else (float(slo.quantile or 0.5), slo.threshold),
            ratio_limit=None if ratio is None else (float(ratio.quantile or 0.5), ratio.threshold),
            confidence_level=upper,
            fail_level=lower,
            t_opt=t_opt,
            ax=axes["latency"],
        )
    if "errors" in axes:
        spec = _spec(policy, "error_rate")
        upper, lower, t_opt = _levels(verdict, spec, level)
        error_rate_over_looks(
            data.timeline,
            threshold=None if spec is None else spec.threshold,
            confidence_level=upper,
            fail_level=lower,
            t_opt=t_opt,
            candidate_arm=summaries.selection.candidate_arm,
            ax=axes["errors"],
        )
    if "roc" in axes:
        auc = next((c for c in verdict.checks if c.kind == "auc_delta"), None)
        delta = None
        if auc is not None and math.isfinite(auc.estimate):
            delta = (auc.estimate, auc.ci_low, auc.ci_high)
        roc_curves(
            summaries,
            delta=delta,
            margin=None if auc is None else auc.threshold,
            confidence_level=level,
            ax=axes["roc"],
        )
    if "fairness" in axes:
        specs = [
            c
            for c in policy.checks.values()
            if c.kind == "fairness_gap_delta" and c.applies_to(summaries.selection.mode)
        ]
        metrics = tuple(dict.fromkeys(str(c.metric) for c in specs)) or ("selection_rate",)
        fairness_by_group(
            summaries,
            metrics=metrics,
            features=specs[0].features if specs else None,
            confidence_level=level,
            sequential=all(c.evaluation == "sequential" for c in specs),
            ax=axes["fairness"],
        )
    return axes


def plot_overview(
    verdict: Verdict,
    source: Any = None,
    *,
    data: ReportData | None = None,
    policy: Policy | str | Path | None = None,
) -> Figure:
    """The overview figure of ``verdict`` (see the module docstring).

    Parameters
    ----------
    verdict : Verdict
    source : optional
        The traces of the verdict (store, files or table); adds the distribution panels.
    data : ReportData, optional
        Already loaded summaries (instead of ``source``).
    policy : Policy or path, optional
        Passed to :func:`.data.load_report_data`.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot: save it with ``fig.savefig(...)``, or let Jupyter show it.
    """
    from matplotlib.figure import Figure

    if data is None and source is not None:
        data = load_report_data(verdict, source, policy=policy)
    colour = STATUS_COLOURS.get(verdict.decision, "black")
    if data is None:
        figure = Figure(
            figsize=(7.5, 0.62 * max(len(verdict.checks), 1) + 1.4), layout="constrained"
        )
        forest_plot(verdict, figure=figure)
        figure.suptitle(overview_title(verdict), color=colour, fontweight="bold")
        return figure
    figure = Figure(figsize=(17, 9.5), layout="constrained")
    panels = figure.subfigures(1, 2, width_ratios=(1.0, 1.9), squeeze=False)
    left, right = panels[0, 0], panels[0, 1]
    forest_plot(verdict, figure=left)
    grid = right.subplots(2, 2)
    draw_panels(
        data,
        {"latency": grid[0, 0], "errors": grid[0, 1], "roc": grid[1, 0], "fairness": grid[1, 1]},
    )
    figure.suptitle(
        "\n".join([overview_title(verdict), *_short_reasons(verdict)]),
        color=colour,
        fontweight="bold",
    )
    return figure
