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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from canarykit.stats.auc_histogram import auc_delta_from_histograms, paired_auc_delta_from_table
from canarykit.stats.error_rate import error_rate_bound, error_rate_ratio_test
from canarykit.stats.fairness import ConfusionCounts, fairness_gap_delta
from canarykit.stats.fixed_horizon import quantile_ci, quantile_ci_rank_request
from canarykit.stats.quantile_ratio import quantile_ratio_cs, quantile_ratio_rank_requests
from canarykit.stats.quantiles import OrderStatistics, quantile_cs, quantile_cs_rank_request
from canarykit.stats.result import IntervalResult, Status
from canarykit.stats.shadow import clopper_pearson, shadow_agreement
from canarykit.stats.srm import srm_test
from canarykit.traces.summaries import ArmSummary, Summaries
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


# -- quantile ranks ---------------------------------------------------------------------------
def latency_ranks(
    policy: Policy, mode: str, tuning: StepTuning
) -> Callable[[int, int], tuple[list[int], list[int]]]:
    """The order-statistic ranks every latency check of ``tuning`` needs, per arm.

    Each check's interval is built at its pass level and its fail level (module
    :mod:`canarykit.verdict.tuning`), so the ranks of both are requested.
    """
    specs = [
        policy.checks[name]
        for name in tuning.checks
        if policy.checks[name].kind in ("latency_quantile", "latency_quantile_ratio")
    ]

    def ranks_for(n_control: int, n_candidate: int) -> tuple[list[int], list[int]]:
        control: set[int] = set()
        candidate: set[int] = set()
        for spec in specs:
            ct = tuning.checks[spec.name]
            p = float(spec.quantile or 0.5)
            if spec.kind == "latency_quantile_ratio":
                rc, rt = quantile_ratio_rank_requests(
                    n_control,
                    n_candidate,
                    p,
                    alpha_pass=ct.alpha_pass,
                    alpha_fail=ct.alpha_fail,
                    t_opt_control=ct.t_opt_control,
                    t_opt_candidate=ct.t_opt_candidate,
                )
                control.update(rc.ranks)
                candidate.update(rt.ranks)
                continue
            for alpha in {ct.alpha_pass, ct.alpha_fail}:
                request = (
                    quantile_ci_rank_request(n_candidate, p, confidence_level=1.0 - alpha)
                    if spec.evaluation == "once"
                    else quantile_cs_rank_request(
                        n_candidate, p, confidence_level=1.0 - alpha, t_opt=ct.t_opt_candidate
                    )
                )
                candidate.update(request.ranks)
        return sorted(control), sorted(candidate)

    return ranks_for


def _order_stats(arm: ArmSummary) -> OrderStatistics:
    return OrderStatistics(n=arm.n_latency, ranks=arm.latency_ranks, values=arm.latency_values)


def _at_both_levels(
    spec: CheckSpec, ct: CheckTuning, compute: Callable[[float], IntervalResult]
) -> IntervalResult:
    """One interval from two: the pass-side bound at ``alpha_pass``, the fail side at ``alpha_fail``.

    ``compute(alpha)`` returns a two-sided interval at level ``1 − alpha``; each of its ends is
    then a valid one-sided bound at ``alpha``. For a ``max`` check the upper end decides PASS and
    the lower end decides FAIL (reversed for ``min``), so the combined interval is read by the
    usual :func:`canarykit.stats.result.decide` rule.
    """
    at_pass = compute(ct.alpha_pass)
    at_fail = at_pass if ct.alpha_fail == ct.alpha_pass else compute(ct.alpha_fail)
    if spec.bound == "max":
        low, high = at_fail.ci_low, at_pass.ci_high
    else:
        low, high = at_pass.ci_low, at_fail.ci_high
    return replace(
        at_pass,
        ci_low=low,
        ci_high=high,
        confidence_level=1.0 - ct.alpha_pass - ct.alpha_fail,
    )


# -- one function per kind --------------------------------------------------------------------
def _latency_quantile(spec: CheckSpec, s: Summaries, ct: CheckTuning) -> IntervalResult:
    p = float(spec.quantile or 0.5)
    os = _order_stats(s.candidate)
    if spec.evaluation == "once":
        return _at_both_levels(spec, ct, lambda a: quantile_ci(os, p, confidence_level=1.0 - a))
    return _at_both_levels(
        spec,
        ct,
        lambda a: quantile_cs(os, p, confidence_level=1.0 - a, t_opt=ct.t_opt_candidate),
    )


def _latency_ratio(spec: CheckSpec, s: Summaries, ct: CheckTuning) -> IntervalResult:
    return quantile_ratio_cs(
        _order_stats(s.control),
        _order_stats(s.candidate),
        float(spec.quantile or 0.5),
        alpha_pass=ct.alpha_pass,
        alpha_fail=ct.alpha_fail,
        t_opt_control=ct.t_opt_control,
        t_opt_candidate=ct.t_opt_candidate,
        threshold=spec.threshold,
    )


def _error_rate(spec: CheckSpec, s: Summaries, ct: CheckTuning) -> IntervalResult:
    return _at_both_levels(
        spec,
        ct,
        lambda a: error_rate_bound(
            s.candidate.errors,
            s.candidate.n,
            confidence_level=1.0 - a,
            t_opt=ct.t_opt_candidate,
        ),
    )


def _error_ratio(spec: CheckSpec, s: Summaries, ct: CheckTuning, *, share: float) -> IntervalResult:
    if s.selection.control_window is not None:
        return _recorded_error_ratio(spec, s, ct)
    rho = 0.5 if s.selection.mode == "shadow" else share
    return _at_both_levels(
        spec,
        ct,
        lambda a: error_rate_ratio_test(
            n_control=s.control.n,
            n_control_errors=s.control.errors,
            n_candidate=s.candidate.n,
            n_candidate_errors=s.candidate.errors,
            rho_candidate=rho,
            k=ct.k,
            confidence_level=1.0 - a,
        ),
    )


def clopper_pearson_interval(errors: int, n: int, alpha: float) -> tuple[float, float]:
    """Two-sided Clopper–Pearson interval of a fixed sample's rate (``[0, 1]`` without data)."""
    lo, hi = clopper_pearson(errors, n, alpha)
    return float(lo), float(hi)


def _recorded_error_ratio(spec: CheckSpec, s: Summaries, ct: CheckTuning) -> IntervalResult:
    """Error-rate ratio against a control window recorded before a 100 % step.

    The control's rate comes from a fixed, already complete sample (a Clopper–Pearson interval),
    the candidate's from its confidence sequence; each gets half of a side's error budget, so
    ``[L_t/U_c, U_t/L_c]`` holds at every look with the stated probability (union bound).
    """

    def compute(alpha: float) -> IntervalResult:
        half = alpha / 2.0
        cand = error_rate_bound(
            s.candidate.errors,
            s.candidate.n,
            confidence_level=1.0 - half,
            t_opt=ct.t_opt_candidate,
        )
        c_lo, c_hi = clopper_pearson_interval(s.control.errors, s.control.n, half)
        low = cand.ci_low / c_hi if c_hi > 0 else math.nan
        high = cand.ci_high / c_lo if c_lo > 0 else math.inf
        rate_c = s.control.errors / s.control.n if s.control.n else math.nan
        est = cand.estimate / rate_c if rate_c and rate_c > 0 else math.nan
        return IntervalResult(
            method=(
                "candidate error-rate CS / Clopper-Pearson interval of a control window "
                "recorded before the step (union bound)"
            ),
            estimate=est,
            ci_low=low,
            ci_high=high,
            confidence_level=1.0 - alpha,
            n_control=s.control.n,
            n_candidate=s.candidate.n,
        )

    return _at_both_levels(spec, ct, compute)


def _auc_delta(spec: CheckSpec, s: Summaries, ct: CheckTuning) -> IntervalResult:
    sequential = spec.evaluation == "sequential"
    if s.paired is not None:
        paired = s.paired
        return _at_both_levels(
            spec,
            ct,
            lambda a: paired_auc_delta_from_table(
                paired.bin_control,
                paired.bin_candidate,
                paired.label,
                paired.count,
                n_bins=s.plan.paired_n_bins,
                margin=spec.threshold,
                confidence_level=1.0 - a,
                sequential=sequential,
                planned_se=ct.planned_se,
                min_class_count=spec.min_count,
            ),
        )
    return _at_both_levels(
        spec,
        ct,
        lambda a: auc_delta_from_histograms(
            s.control.positives,
            s.control.negatives,
            s.candidate.positives,
            s.candidate.negatives,
            margin=spec.threshold,
            confidence_level=1.0 - a,
            sequential=sequential,
            planned_se=ct.planned_se,
            min_class_count=spec.min_count,
        ),
    )


def _confusion(arm: ArmSummary, features: tuple[str, ...]) -> ConfusionCounts:
    cells = arm.confusion.get(features) or {"groups": [], "label": [], "decision": [], "count": []}
    groups = [g[0] if len(features) == 1 else g for g in cells["groups"]]
    return ConfusionCounts.from_grouped(
        groups=groups, label=cells["label"], decision=cells["decision"], count=cells["count"]
    )


def _fairness(spec: CheckSpec, s: Summaries, ct: CheckTuning) -> IntervalResult:
    absent = [f for f in spec.features if f in s.missing_columns]
    if absent:
        return IntervalResult(
            method="fairness gap delta",
            estimate=math.nan,
            ci_low=math.nan,
            ci_high=math.nan,
            confidence_level=1.0 - ct.alpha_pass - ct.alpha_fail,
            n_control=s.control.labelled,
            n_candidate=s.candidate.labelled,
            note=(
                f"column {', '.join(absent)} is not in the traces: fairness by "
                f"{', '.join(spec.features)} not evaluated"
            ),
        )
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
            confidence_level=1.0 - ct.alpha_pass - ct.alpha_fail,
            n_control=s.control.labelled,
            n_candidate=s.candidate.labelled,
            note="no scored and labelled requests in an arm: gaps not estimable",
        )
    return _at_both_levels(
        spec,
        ct,
        lambda a: fairness_gap_delta(
            control,
            candidate,
            metric=spec.metric,  # type: ignore[arg-type]  # validated by the policy schema
            confidence_level=1.0 - a,
            sequential=spec.evaluation == "sequential",
            min_count=max(1, spec.min_count),
            paired=s.paired is not None,
            planned_n=ct.planned_n,
        ),
    )


def _shadow_agreement(spec: CheckSpec, s: Summaries, ct: CheckTuning) -> IntervalResult:
    table = s.paired.agreement if s.paired is not None else np.zeros((2, 2), np.int64)
    return _at_both_levels(
        spec,
        ct,
        lambda a: shadow_agreement(
            table, confidence_level=1.0 - a, sequential=spec.evaluation == "sequential"
        ),
    )


def _sample_ratio(
    spec: CheckSpec, s: Summaries, ct: CheckTuning, *, share: float
) -> IntervalResult:
    return srm_test([s.control.n, s.candidate.n], [1.0 - share, share], alpha=ct.alpha_fail, k=ct.k)


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
    spec: CheckSpec,
    r: IntervalResult,
    status: Status,
    threshold: float | None,
    note: str,
    *,
    planned: tuple[float, ...] = (),
) -> str:
    q = f"{(spec.quantile or 0) * 100:g}"
    subject = _SUBJECT[spec.kind].format(q=q, metric=(spec.metric or "").replace("_", " "))
    est = _fmt(spec.kind, r.estimate)
    ci = f"(CI {_fmt(spec.kind, r.ci_low)}..{_fmt(spec.kind, r.ci_high)})"
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
        result = _run(spec, s, ct, share=share)
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
                summary=_summary(spec, result, status, threshold, note),
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
    summary = _summary(spec, result, status, outcome.threshold, note, planned=planned)
    return replace(
        outcome,
        ci_low=ci_low,
        ci_high=ci_high,
        pvalue=pvalue,
        status=status,
        note=note,
        summary=summary,
    )


def _run(spec: CheckSpec, s: Summaries, ct: CheckTuning, *, share: float) -> IntervalResult:
    if spec.kind == "latency_quantile":
        return _latency_quantile(spec, s, ct)
    if spec.kind == "latency_quantile_ratio":
        return _latency_ratio(spec, s, ct)
    if spec.kind == "error_rate":
        return _error_rate(spec, s, ct)
    if spec.kind == "error_rate_ratio":
        return _error_ratio(spec, s, ct, share=share)
    if spec.kind == "auc_delta":
        return _auc_delta(spec, s, ct)
    if spec.kind == "fairness_gap_delta":
        return _fairness(spec, s, ct)
    if spec.kind == "shadow_agreement":
        return _shadow_agreement(spec, s, ct)
    return _sample_ratio(spec, s, ct, share=share)


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
