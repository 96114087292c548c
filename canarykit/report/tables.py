"""Summaries as pandas DataFrames, for exploring a canary in a notebook.

(The checks of a verdict are a DataFrame through ``verdict.to_frame()``.)

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.traces.summaries import Selection, SummaryPlan, summarize
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=3000, canary_share=0.25, seed=4))
>>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")
>>> s = summarize(store, sel, SummaryPlan(feature_sets=(("group",),)))
>>> arm_frame(s)[["arm", "version", "n"]].to_dict("records")
[{'arm': 'control', 'version': 'v2.2.4', 'n': 2204}, {'arm': 'canary', 'version': 'v2.3.0', 'n': 796}]
>>> sorted(set(group_frame(s)["group"]))
['A', 'B', 'C']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from canarykit.report.plots import arm_sketch
from canarykit.stats.fairness import ConfusionCounts
from canarykit.traces.summaries import Summaries

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["arm_frame", "group_frame"]

_LATENCY_LEVELS = (0.5, 0.95, 0.99)


def arm_frame(summaries: Summaries) -> pd.DataFrame:
    """One row per arm: requests, errors, latency quantiles (sketch, ±1 %), label coverage."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    sel = summaries.selection
    for arm in (summaries.control, summaries.candidate):
        sketch = arm_sketch(arm)
        row: dict[str, Any] = {
            "arm": arm.arm,
            "version": sel.baseline if arm.arm == "control" else sel.candidate,
            "n": arm.n,
            "errors": arm.errors,
            "error_rate": arm.errors / arm.n if arm.n else math.nan,
        }
        for p in _LATENCY_LEVELS:
            row[f"latency_p{p * 100:g}_ms"] = sketch.quantile(p)
        row.update(
            {"scored": arm.scored, "labelled": arm.labelled, "start": arm.start, "end": arm.end}
        )
        rows.append(row)
    return pd.DataFrame(rows)


def group_frame(summaries: Summaries, features: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per (arm, group): confusion counts, selection rate, TPR and FPR.

    ``features`` picks a feature set of the summaries' plan (default: the first).
    """
    import pandas as pd

    if features is None:
        features = next(iter(summaries.plan.feature_sets), ())
    rows: list[dict[str, Any]] = []
    for arm in (summaries.control, summaries.candidate):
        cells = arm.confusion.get(features)
        if not cells or not cells["groups"]:
            continue
        groups = [g[0] if len(features) == 1 else " & ".join(map(str, g)) for g in cells["groups"]]
        counts = ConfusionCounts.from_grouped(
            groups=groups, label=cells["label"], decision=cells["decision"], count=cells["count"]
        )
        rates = {r: counts.rates(r) for r in ("selection_rate", "tpr", "fpr")}
        for i, group in enumerate(counts.groups):
            rows.append(
                {
                    "arm": arm.arm,
                    "group": group,
                    "tp": int(counts.tp[i]),
                    "fp": int(counts.fp[i]),
                    "fn": int(counts.fn[i]),
                    "tn": int(counts.tn[i]),
                    **{r: float(v[i]) for r, v in rates.items()},
                }
            )
    columns = ["arm", "group", "tp", "fp", "fn", "tn", "selection_rate", "tpr", "fpr"]
    return pd.DataFrame(rows, columns=columns)
