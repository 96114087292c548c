"""From sufficient statistics to check results: one function per check kind.

Each check calls a primitive of :mod:`canarykit.stats` on the summaries, applies the single
threshold rule (:func:`canarykit.stats.result.decide`), and writes a one-line summary that the
decision rules quote as the reason.

Sign conventions: latency and error ratios are candidate/control (> 1 is worse); ΔAUC is
AUC(candidate) − AUC(control) (< 0 is worse); fairness deltas are gap(candidate) − gap(control)
(> 0 is worse).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from canarykit.stats.auc_histogram import auc_delta_from_histograms, paired_auc_delta_from_table
from canarykit.stats.error_rate import error_rate_bound, error_rate_ratio_test
from canarykit.stats.fairness import ConfusionCounts, fairness_gap_delta
from canarykit.stats.fixed_horizon import quantile_ci, quantile_ci_rank_request
from canarykit.stats.quantiles import (
    OrderStatistics,
    quantile_cs,
    quantile_cs_rank_request,
    quantile_ratio_rank_requests,
    quantile_ratio_test,
)
from canarykit.stats.result import IntervalResult, Status
from canarykit.stats.shadow import shadow_agreement
from canarykit.stats.srm import srm_test
from canarykit.traces.summaries import ArmSummary, Summaries
from canarykit.verdict.policy import CheckSpec, Policy

__all__ = ["CheckOutcome", "evaluate_checks", "latency_ranks"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """One check of a verdict (the ``checks[]`` entries of the verdict contract)."""

    name: str
    kind: str
    status: Status
    estimate: float
    ci_low: float
    ci_high: float
    confidence_level: float
    pvalue: float | None
    threshold: float | None
    bound: str
    n_control: int
    n_candidate: int
    method: str
    required: bool
    summary: str
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: non-finite numbers become ``null``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "estimate": _num(self.estimate),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "confidence_level": self.confidence_level,
            "pvalue": _num(self.pvalue),
            "threshold": _num(self.threshold),
            "bound": self.bound,
            "n_control": self.n_control,
            "n_candidate": self.n_candidate,
            "method": self.method,
            "required": self.required,
            "summary": self.summary,
            "note": self.note,
            "details": {k: _jsonable(v) for k, v in sorted(self.details.items())},
        }

    def _repr_html_(self) -> str:
        from canarykit.verdict.formatting import check_html

        return check_html(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckOutcome:
        """Inverse of :meth:`to_dict` (``null`` numbers come back as NaN)."""

        def f(key: str) -> float:
            v = data.get(key)
            return math.nan if v is None else float(v)

        return cls(
            name=data["name"],
            kind=data.get("kind", ""),
            status=data["status"],
            estimate=f("estimate"),
            ci_low=f("ci_low"),
            ci_high=f("ci_high"),
            confidence_level=float(data["confidence_level"]),
            pvalue=data.get("pvalue"),
            threshold=data.get("threshold"),
            bound=data.get("bound", "max"),
            n_control=int(data["n_control"]),
            n_candidate=int(data["n_candidate"]),
            method=data["method"],
            required=bool(data.get("required", True)),
            summary=data.get("summary", ""),
            note=data.get("note", ""),
            details=dict(data.get("details", {})),
        )


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return _num(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# -- quantile ranks ---------------------------------------------------------------------------
def latency_ranks(policy: Policy, mode: str) -> Callable[[int, int], tuple[list[int], list[int]]]:
    """The order-statistic ranks every latency check of ``policy`` needs, per arm."""
    specs = [
        c
        for c in policy.checks.values()
        if c.kind in ("latency_quantile", "latency_quantile_ratio") and c.applies_to(mode)
    ]

    def ranks_for(n_control: int, n_candidate: int) -> tuple[list[int], list[int]]:
        control: set[int] = set()
        candidate: set[int] = set()
        level = policy.confidence_level
        for spec in specs:
            p = float(spec.quantile or 0.5)
            if spec.kind == "latency_quantile":
                request = (
                    quantile_ci_rank_request(n_candidate, p, confidence_level=level)
                    if spec.evaluation == "once"
                    else quantile_cs_rank_request(
                        n_candidate, p, confidence_level=level, t_opt=spec.t_opt
                    )
                )
                candidate.update(request.ranks)
            else:
                rc, rt = quantile_ratio_rank_requests(
                    n_control, n_candidate, p, confidence_level=level, t_opt=spec.t_opt
                )
                control.update(rc.ranks)
                candidate.update(rt.ranks)
        return sorted(control), sorted(candidate)

    return ranks_for


def _order_stats(arm: ArmSummary) -> OrderStatistics:
    return OrderStatistics(n=arm.n_latency, ranks=arm.latency_ranks, values=arm.latency_values)


# -- one function per kind --------------------------------------------------------------------
def _latency_quantile(spec: CheckSpec, s: Summaries, policy: Policy) -> IntervalResult:
    p = float(spec.quantile or 0.5)
    os = _order_stats(s.candidate)
    if spec.evaluation == "once":
        return quantile_ci(os, p, confidence_level=policy.confidence_level)
    return quantile_cs(os, p, confidence_level=policy.confidence_level, t_opt=spec.t_opt)


def _latency_ratio(spec: CheckSpec, s: Summaries, policy: Policy) -> IntervalResult:
    return quantile_ratio_test(
        _order_stats(s.control),
        _order_stats(s.candidate),
        float(spec.quantile or 0.5),
        confidence_level=policy.confidence_level,
        t_opt=spec.t_opt,
    )


def _error_rate(spec: CheckSpec, s: Summaries, policy: Policy) -> IntervalResult:
    return error_rate_bound(
        s.candidate.errors,
        s.candidate.n,
        confidence_level=policy.confidence_level,
        t_opt=spec.t_opt,
    )


def _error_ratio(spec: CheckSpec, s: Summaries, policy: Policy, *, share: float) -> IntervalResult:
    rho = 0.5 if s.selection.mode == "shadow" else share
    return error_rate_ratio_test(
        n_control=s.control.n,
        n_control_errors=s.control.errors,
        n_candidate=s.candidate.n,
        n_candidate_errors=s.candidate.errors,
        rho_candidate=rho,
        confidence_level=policy.confidence_level,
    )


def _auc_delta(spec: CheckSpec, s: Summaries, policy: Policy) -> IntervalResult:
    sequential = spec.evaluation == "sequential"
    if s.paired is not None:
        return paired_auc_delta_from_table(
            s.paired.bin_control,
            s.paired.bin_candidate,
            s.paired.label,
            s.paired.count,
            n_bins=s.plan.paired_n_bins,
            margin=spec.threshold,
            confidence_level=policy.confidence_level,
            sequential=sequential,
            min_class_count=spec.min_count,
        )
    return auc_delta_from_histograms(
        s.control.positives,
        s.control.negatives,
        s.candidate.positives,
        s.candidate.negatives,
        margin=spec.threshold,
        confidence_level=policy.confidence_level,
        sequential=sequential,
        min_class_count=spec.min_count,
    )


def _confusion(arm: ArmSummary, features: tuple[str, ...]) -> ConfusionCounts:
    cells = arm.confusion.get(features) or {"groups": [], "label": [], "decision": [], "count": []}
    groups = [g[0] if len(features) == 1 else g for g in cells["groups"]]
    return ConfusionCounts.from_grouped(
        groups=groups, label=cells["label"], decision=cells["decision"], count=cells["count"]
    )


def _fairness(spec: CheckSpec, s: Summaries, policy: Policy) -> IntervalResult:
    control, candidate = (
        _confusion(s.control, spec.features),
        _confusion(s.candidate, spec.features),
    )
    if not control.groups or not candidate.groups:
        return IntervalResult(
            method="fairness gap delta",
            estimate=math.nan,
            ci_low=-math.inf,
            ci_high=math.inf,
            confidence_level=policy.confidence_level,
            n_control=s.control.labelled,
            n_candidate=s.candidate.labelled,
            note="no scored and labelled requests in an arm: gaps not estimable",
        )
    return fairness_gap_delta(
        control,
        candidate,
        metric=spec.metric,  # type: ignore[arg-type]  # validated by the policy schema
        confidence_level=policy.confidence_level,
        sequential=spec.evaluation == "sequential",
        min_count=max(1, spec.min_count),
        paired=s.paired is not None,
    )


def _shadow_agreement(spec: CheckSpec, s: Summaries, policy: Policy) -> IntervalResult:
    table = s.paired.agreement if s.paired is not None else np.zeros((2, 2), np.int64)
    return shadow_agreement(
        table, confidence_level=policy.confidence_level, sequential=spec.evaluation == "sequential"
    )


def _sample_ratio(spec: CheckSpec, s: Summaries, policy: Policy, *, share: float) -> IntervalResult:
    return srm_test([s.control.n, s.candidate.n], [1.0 - share, share], alpha=policy.alpha)


# -- summaries for reasons --------------------------------------------------------------------
def _fmt(kind: str, value: float) -> str:
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


def _summary(
    spec: CheckSpec, r: IntervalResult, status: Status, threshold: float | None, note: str
) -> str:
    q = f"{(spec.quantile or 0) * 100:g}"
    subject = _SUBJECT[spec.kind].format(q=q, metric=(spec.metric or "").replace("_", " "))
    est = _fmt(spec.kind, r.estimate)
    ci = f"(CI {_fmt(spec.kind, r.ci_low)}..{_fmt(spec.kind, r.ci_high)})"
    if spec.kind == "sample_ratio":
        planned = r.planned[-1] if getattr(r, "planned", ()) else math.nan  # type: ignore[attr-defined]
        p = "n/a" if r.pvalue is None else f"{r.pvalue:.3g}"
        verdict = {
            "fail": "mismatches",
            "pass": "matches",
            "inconclusive": "cannot be checked against",
        }
        return f"{subject} {est} {ci} {verdict[status]} the planned {planned:.2%} (p={p})"
    limit = _fmt(spec.kind, threshold if threshold is not None else math.nan)
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


# -- evaluation -------------------------------------------------------------------------------
def evaluate_checks(
    policy: Policy, s: Summaries, *, share: float, window_minutes: float | None = None
) -> list[CheckOutcome]:
    """Run every check of ``policy`` that applies to the summaries' mode, in policy order.

    ``window_minutes`` is the length of the rollout step's window: a check the policy marks
    ``evaluation: once`` (a fixed-horizon interval) decides only when the data span that long;
    before, it is inconclusive, so repeated looks cannot inflate its error rate.
    """
    start, end = s.window
    span = (end - start).total_seconds() / 60.0 if start and end else 0.0
    window_done = window_minutes is None or span >= window_minutes * (1 - 1e-9) - 1 / 60
    mode = s.selection.mode
    too_little = []
    if s.control.n < policy.min_samples_control:
        too_little.append(f"{s.control.n} control requests < {policy.min_samples_control}")
    if s.candidate.n < policy.min_samples_candidate:
        too_little.append(f"{s.candidate.n} candidate requests < {policy.min_samples_candidate}")
    outcomes = []
    for spec in policy.checks.values():
        if not spec.applies_to(mode):
            continue
        result = _run(spec, s, policy, share=share)
        if spec.kind == "sample_ratio":
            status: Status = getattr(result, "status", "inconclusive")
            threshold = None
        else:
            status = result.decide(spec.threshold, bound=spec.bound)
            threshold = spec.threshold
        notes = [result.note] if result.note else []
        if status == "pass" and too_little:
            status = "inconclusive"
            notes.append("too little data: " + ", ".join(too_little) + " (policy min_samples)")
        if spec.evaluation == "once":
            if not window_done:
                status = "inconclusive"
                notes.append(
                    f"fixed-horizon check: decides once the {window_minutes:g}-minute "
                    f"window has run ({span:.1f} minutes so far)"
                )
            else:
                notes.append("fixed-horizon interval: evaluated once at the end of the window")
        note = "; ".join(notes)
        outcomes.append(
            CheckOutcome(
                name=spec.name,
                kind=spec.kind,
                status=status,
                estimate=result.estimate,
                ci_low=result.ci_low,
                ci_high=result.ci_high,
                confidence_level=result.confidence_level,
                pvalue=None if result.pvalue is None else float(result.pvalue),
                threshold=threshold,
                bound=spec.bound if spec.kind != "sample_ratio" else "none",
                n_control=s.control.n,
                n_candidate=s.candidate.n,
                method=result.method,
                required=spec.required,
                summary=_summary(spec, result, status, threshold, note),
                note=note,
                details=_details(result),
            )
        )
    return outcomes


def _run(spec: CheckSpec, s: Summaries, policy: Policy, *, share: float) -> IntervalResult:
    if spec.kind == "latency_quantile":
        return _latency_quantile(spec, s, policy)
    if spec.kind == "latency_quantile_ratio":
        return _latency_ratio(spec, s, policy)
    if spec.kind == "error_rate":
        return _error_rate(spec, s, policy)
    if spec.kind == "error_rate_ratio":
        return _error_ratio(spec, s, policy, share=share)
    if spec.kind == "auc_delta":
        return _auc_delta(spec, s, policy)
    if spec.kind == "fairness_gap_delta":
        return _fairness(spec, s, policy)
    if spec.kind == "shadow_agreement":
        return _shadow_agreement(spec, s, policy)
    return _sample_ratio(spec, s, policy, share=share)


_DETAIL_FIELDS = (
    "auc_control",
    "auc_candidate",
    "se",
    "gap_control",
    "gap_candidate",
    "ratio_control",
    "ratio_candidate",
    "unsupported",
    "control_estimate",
    "candidate_estimate",
    "observed",
    "planned",
    "control_only",
    "shadow_only",
    "log_bayes_factor",
    "log_e_value",
    "rates_control",
    "rates_candidate",
    "groups",
)


def _details(result: IntervalResult) -> dict[str, Any]:
    out = {}
    for name in _DETAIL_FIELDS:
        if hasattr(result, name):
            value = getattr(result, name)
            if name == "groups":
                value = [str(g) for g in value]
            out[name] = value
    return out
