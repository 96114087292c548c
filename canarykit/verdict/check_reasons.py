"""The one-line summary of a check that the decision rules quote as a reason.

Examples
--------
>>> fmt_value("latency_quantile_ratio", 1.034)
'+3.4%'
>>> fmt_value("error_rate", float("nan"))
'n/a'
"""

from __future__ import annotations

import math

from canarykit.stats.result import IntervalResult, Status
from canarykit.verdict.policy import CheckSpec

__all__ = ["check_summary", "fmt_value"]


def fmt_value(kind: str, value: float) -> str:
    """``value`` in the units of a check of ``kind`` (ms, a signed percentage, a rate…)."""
    if value is None or not math.isfinite(value):
        return "∞" if value == math.inf else "-∞" if value == -math.inf else "n/a"
    if kind == "latency_quantile":
        return f"{value:.1f} ms"
    if kind in ("latency_quantile_ratio", "error_rate_ratio"):
        return f"{value - 1.0:+.1%}"
    if kind in ("error_rate", "shadow_agreement", "sample_ratio"):
        return f"{value:.2%}"
    return f"{value:+.4f}"


_SUBJECT = {
    "latency_quantile": "candidate p{q}",
    "latency_quantile_ratio": "candidate p{q} vs control",
    "error_rate": "candidate error rate",
    "error_rate_ratio": "candidate error rate vs control",
    "auc_delta": "ΔAUC (candidate − control)",
    "fairness_gap_delta": "growth of the {metric} gap between groups",
    "shadow_agreement": "decision agreement with control",
    "sample_ratio": "observed candidate share",
}


def check_summary(
    spec: CheckSpec,
    r: IntervalResult,
    status: Status,
    threshold: float | None,
    note: str,
    *,
    planned: tuple[float, ...] = (),
) -> str:
    """ "<subject> <estimate> (CI <low>..<high>) <is within / exceeds / …> <threshold>"."""
    q = f"{(spec.quantile or 0) * 100:g}"
    subject = _SUBJECT[spec.kind].format(q=q, metric=(spec.metric or "").replace("_", " "))
    est = fmt_value(spec.kind, r.estimate)
    ci = f"(CI {fmt_value(spec.kind, r.ci_low)}..{fmt_value(spec.kind, r.ci_high)})"
    if spec.kind == "sample_ratio":
        shares = planned or tuple(getattr(r, "planned", ()))
        planned_share = shares[-1] if shares else math.nan
        p = "n/a" if r.pvalue is None else f"{r.pvalue:.3g}"
        verdict = {
            "fail": "mismatches",
            "pass": "matches",
            "inconclusive": "cannot be checked against",
        }
        return f"{subject} {est} {ci} {verdict[status]} the planned {planned_share:.2%} (p={p})"
    limit = fmt_value(spec.kind, threshold if threshold is not None else math.nan)
    if spec.bound == "max":
        words = {
            "pass": f"is within {limit}",
            "fail": f"exceeds {limit}",
            "inconclusive": f"is not yet shown within {limit}",
        }
    else:
        words = {
            "pass": f"is at least {limit}",
            "fail": f"is below {limit}",
            "inconclusive": f"is not yet shown at least {limit}",
        }
    text = f"{subject} {est} {ci} {words[status]}"
    return f"{text} ({note})" if note and status == "inconclusive" else text
