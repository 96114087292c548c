"""Evaluate a list of looks and draw the decision timeline (a notebook helper).

:func:`evaluate_looks` calls :func:`~canarykit.verdict.evaluate` at each ``until`` in order —
what a batch job looking every few minutes does — and returns a :class:`LookSeries`: a table
(``to_frame``), an HTML rendering, and :meth:`LookSeries.plot`, the decisions over the looks
above each check's estimate and interval against its threshold. On a store with an open
rollout each call is a recorded look (pass ``log=False`` to preview without recording).

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> traces = generate_traces("latency_tail", n_requests=60_000, canary_share=0.25, seed=3)
>>> series = evaluate_looks(traces, [f"2026-01-01T00:{m:02d}:00" for m in (2, 4, 10)])
>>> [v.decision for v in series.verdicts]
['CONTINUE', 'CONTINUE', 'STOP']
>>> series.to_frame()[["until", "decision"]].shape
(3, 2)
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from canarykit.report.style import STATUS_COLOURS, THRESHOLD_COLOUR
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.verdict import Verdict

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["LookSeries", "evaluate_looks"]

_LEVELS = {"PROCEED": 2, "CONTINUE": 1, "STOP": 0}


@dataclass(frozen=True, slots=True)
class LookSeries:
    """Verdicts of successive looks (``untils[i]`` is the window end of ``verdicts[i]``)."""

    untils: tuple[str, ...]
    verdicts: tuple[Verdict, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per look: until, decision, and each check's status, estimate and bounds."""
        import pandas as pd

        rows = []
        for until, v in zip(self.untils, self.verdicts, strict=True):
            row: dict[str, Any] = {"until": until, "decision": v.decision}
            if v.rollout is not None and v.rollout.look is not None:
                row["step"], row["look"] = v.rollout.step, v.rollout.look
            for c in v.checks:
                row[f"{c.name}.status"] = c.status
                row[f"{c.name}.estimate"] = c.estimate
                row[f"{c.name}.low"] = c.ci_low
                row[f"{c.name}.high"] = c.ci_high
            rows.append(row)
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(u)}</td><td>{html.escape(v.decision)}</td>"
            f"<td>{html.escape(v.reasons[0] if v.reasons else '')}</td></tr>"
            for u, v in zip(self.untils, self.verdicts, strict=True)
        )
        return (
            '<div style="overflow-x:auto"><table><thead><tr><th>until</th><th>decision</th>'
            f"<th>first reason</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )

    def plot(self, checks: Sequence[str] | None = None) -> Figure:
        """Decisions over the looks, and below each check's estimate and interval.

        ``checks``: the checks to draw (default: the required ones of the last verdict).
        """
        from matplotlib.figure import Figure

        last = self.verdicts[-1] if self.verdicts else None
        names = (
            list(checks)
            if checks is not None
            else [c.name for c in (last.checks if last else ()) if c.required]
        )
        figure = Figure(figsize=(8.0, 1.8 + 1.7 * len(names)), layout="constrained")
        axes = figure.subplots(1 + len(names), 1, sharex=True, squeeze=False)[:, 0]
        x = list(range(1, len(self.verdicts) + 1))
        top = axes[0]
        top.scatter(
            x,
            [_LEVELS[v.decision] for v in self.verdicts],
            c=[STATUS_COLOURS[v.decision] for v in self.verdicts],
            s=36,
            zorder=3,
        )
        top.set_yticks(list(_LEVELS.values()), list(_LEVELS))
        top.set_ylim(-0.5, 2.5)
        top.set_title("Decision at each look")
        for ax, name in zip(axes[1:], names, strict=True):
            points = [
                (i, c)
                for i, v in zip(x, self.verdicts, strict=True)
                for c in v.checks
                if c.name == name
            ]
            xs = [i for i, _ in points]
            ax.plot(
                xs, [c.estimate for _, c in points], "o-", color="#0969da", ms=3, label="estimate"
            )
            lows = [c.ci_low if math.isfinite(c.ci_low) else math.nan for _, c in points]
            highs = [c.ci_high if math.isfinite(c.ci_high) else math.nan for _, c in points]
            ax.fill_between(xs, lows, highs, color="#0969da", alpha=0.2, lw=0, label="interval")
            thresholds = [c.threshold for _, c in points if c.threshold is not None]
            if thresholds:
                ax.axhline(thresholds[-1], color=THRESHOLD_COLOUR, ls="--", lw=1, label="threshold")
            ax.set_title(name)
            ax.legend(fontsize=7, loc="best")
        axes[-1].set_xlabel("look")
        return figure


def evaluate_looks(source: Any, untils: Sequence[str], **kwargs: Any) -> LookSeries:
    """Evaluate ``source`` at each of ``untils`` in order (``kwargs`` go to ``evaluate``).

    Plain sources default to ``log=False``; a store with an open rollout records each look
    unless ``log=False`` is passed.
    """
    if not hasattr(source, "connection"):  # files and tables: nothing to record in
        kwargs.setdefault("log", False)
    verdicts = tuple(evaluate(source, until=u, **kwargs) for u in untils)
    return LookSeries(untils=tuple(untils), verdicts=verdicts)
