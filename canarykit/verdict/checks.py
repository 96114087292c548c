"""From sufficient statistics to check results.

Each check calls a primitive of :mod:`canarykit.stats` on the summaries (one function per
kind, :mod:`canarykit.verdict.check_kinds`), applies the single threshold rule (fail takes
precedence over pass, :func:`status_of`), and writes a one-line summary that the decision
rules quote as the reason (:mod:`canarykit.verdict.check_reasons`).

Sign conventions: latency and error ratios are candidate/control (> 1 is worse); ΔAUC is
AUC(candidate) − AUC(control) (< 0 is worse); fairness deltas are gap(candidate) − gap(control)
(> 0 is worse).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from canarykit.stats.result import IntervalResult, Status
from canarykit.traces.summaries import Summaries
from canarykit.verdict.check_kinds import latency_ranks, run_check
from canarykit.verdict.check_reasons import check_summary
from canarykit.verdict.policy import CheckSpec, Policy
from canarykit.verdict.tuning import CheckTuning, StepTuning

__all__ = ["CheckOutcome", "evaluate_checks", "latency_ranks", "restate", "status_of"]


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
    def from_dict(cls, data: dict[str, Any], *, where: str = "check") -> CheckOutcome:
        """Inverse of :meth:`to_dict` (``null`` numbers come back as NaN); every field is
        type-checked (:class:`~canarykit.verdict.contract.Fields`)."""
        from canarykit.verdict.contract import Fields

        f = Fields(data, where)
        return cls(
            name=f.text("name"),
            kind=f.text("kind", ""),
            status=f.choice("status", ("pass", "fail", "inconclusive")),  # type: ignore[arg-type]
            estimate=f.number("estimate", nullable=True),
            ci_low=f.number("ci_low", nullable=True),
            ci_high=f.number("ci_high", nullable=True),
            confidence_level=f.number("confidence_level"),
            pvalue=f.optional_number("pvalue"),
            threshold=f.optional_number("threshold"),
            bound=f.choice("bound", ("max", "min", "none"), "max"),
            n_control=f.integer("n_control"),
            n_candidate=f.integer("n_candidate"),
            method=f.text("method"),
            required=f.boolean("required", True),
            summary=f.text("summary", ""),
            note=f.text("note", ""),
            details=f.mapping("details", {}),
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


# -- evaluation -------------------------------------------------------------------------------
def status_of(
    spec: CheckSpec, ci_low: float, ci_high: float, *, alpha_fail: float, pvalue: float | None
) -> Status:
    """Status from an interval (fail takes precedence over pass), or from the SRM p-value."""
    if spec.kind == "sample_ratio":
        if pvalue is None:
            return "inconclusive"
        return "fail" if pvalue <= alpha_fail else "pass"
    if math.isnan(ci_low) or math.isnan(ci_high):
        return "inconclusive"
    if spec.bound == "max":
        if ci_low > spec.threshold:
            return "fail"
        return "pass" if ci_high <= spec.threshold else "inconclusive"
    if ci_high < spec.threshold:
        return "fail"
    return "pass" if ci_low >= spec.threshold else "inconclusive"


def evaluate_checks(
    policy: Policy,
    s: Summaries,
    *,
    share: float,
    tuning: StepTuning,
    window_minutes: float | None = None,
    has_control: bool = True,
) -> list[CheckOutcome]:
    """Run every check of ``tuning`` (the checks that apply to this window), in policy order.

    ``window_minutes`` is the length of the rollout step's window: a check the policy marks
    ``evaluation: once`` (a fixed-horizon interval) decides only when the data span that long;
    before, it is inconclusive, so repeated looks cannot inflate its error rate.
    ``has_control=False`` (a 100 % step without a recorded control window) drops the control
    arm's ``min_samples`` requirement.
    """
    start, end = s.window
    span = (end - start).total_seconds() / 60.0 if start and end else 0.0
    window_done = window_minutes is None or span >= window_minutes * (1 - 1e-9) - 1 / 60
    too_little = []
    if has_control and s.control.n < policy.min_samples_control:
        too_little.append(f"{s.control.n} control requests < {policy.min_samples_control}")
    if s.candidate.n < policy.min_samples_candidate:
        too_little.append(f"{s.candidate.n} candidate requests < {policy.min_samples_candidate}")
    outcomes = []
    for spec in policy.checks.values():
        ct = tuning.checks.get(spec.name)
        if ct is None:
            continue
        result = run_check(spec, s, ct, share=share)
        pvalue = None if result.pvalue is None else float(result.pvalue)
        status = status_of(
            spec, result.ci_low, result.ci_high, alpha_fail=ct.alpha_fail, pvalue=pvalue
        )
        if spec.kind == "sample_ratio" and getattr(result, "status", "") == "inconclusive":
            status = "inconclusive"
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
        threshold = None if spec.kind == "sample_ratio" else spec.threshold
        details = _details(result)
        details["alpha_pass"] = ct.alpha_pass
        details["alpha_fail"] = ct.alpha_fail
        details["tuning"] = _tuning_details(spec, ct)
        outcomes.append(
            CheckOutcome(
                name=spec.name,
                kind=spec.kind,
                status=status,
                estimate=result.estimate,
                ci_low=result.ci_low,
                ci_high=result.ci_high,
                confidence_level=result.confidence_level,
                pvalue=pvalue,
                threshold=threshold,
                bound=spec.bound if spec.kind != "sample_ratio" else "none",
                n_control=s.control.n,
                n_candidate=s.candidate.n,
                method=result.method,
                required=spec.required,
                summary=check_summary(spec, result, status, threshold, note),
                note=note,
                details=details,
            )
        )
    return outcomes


def _tuning_details(spec: CheckSpec, ct: CheckTuning) -> dict[str, float]:
    if spec.kind in ("latency_quantile_ratio", "error_rate_ratio"):
        keys = ("t_opt_control", "t_opt_candidate") if spec.kind.startswith("latency") else ()
        out = {k: getattr(ct, k) for k in keys}
        if spec.kind == "error_rate_ratio":
            out["k"] = ct.k
        return out
    if spec.kind in ("latency_quantile", "error_rate"):
        return {"t_opt": ct.t_opt_candidate}
    if spec.kind == "auc_delta":
        return {"planned_se": ct.planned_se}
    if spec.kind == "fairness_gap_delta":
        return {"planned_n": ct.planned_n}
    if spec.kind == "sample_ratio":
        return {"k": ct.k}
    return {}


def restate(
    outcome: CheckOutcome,
    spec: CheckSpec,
    *,
    ci_low: float,
    ci_high: float,
    pvalue: float | None,
    status: Status,
    note: str,
) -> CheckOutcome:
    """The same check with other bounds, p-value and status (e.g. carried across looks)."""
    result = IntervalResult(
        method=outcome.method,
        estimate=outcome.estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence_level=outcome.confidence_level,
        pvalue=pvalue,
    )
    planned = tuple(outcome.details.get("planned") or ())
    summary = check_summary(spec, result, status, outcome.threshold, note, planned=planned)
    return replace(
        outcome,
        ci_low=ci_low,
        ci_high=ci_high,
        pvalue=pvalue,
        status=status,
        note=note,
        summary=summary,
    )


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
