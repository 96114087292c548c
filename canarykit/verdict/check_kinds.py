"""One function per check kind: from sufficient statistics to an interval.

Each function calls a primitive of :mod:`canarykit.stats` on the summaries at the levels the
step's tuning fixed (:class:`~canarykit.verdict.tuning.CheckTuning`);
:func:`run_check` picks the function of a check's kind, and
:func:`canarykit.verdict.checks.evaluate_checks` turns its interval into a status.
:func:`latency_ranks` says which latency order statistics the quantile checks will ask for,
so that the summaries read exactly those.

Sign conventions: latency and error ratios are candidate/control (> 1 is worse); ΔAUC is
AUC(candidate) − AUC(control) (< 0 is worse); fairness deltas are gap(candidate) − gap(control)
(> 0 is worse).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from canarykit.stats.auc_histogram import auc_delta_from_histograms, paired_auc_delta_from_table
from canarykit.stats.error_rate import error_rate_bound, error_rate_ratio_test
from canarykit.stats.fairness import ConfusionCounts, fairness_gap_delta
from canarykit.stats.fixed_horizon import quantile_ci, quantile_ci_rank_request
from canarykit.stats.quantile_ratio import quantile_ratio_cs, quantile_ratio_rank_requests
from canarykit.stats.quantiles import OrderStatistics, quantile_cs, quantile_cs_rank_request
from canarykit.stats.result import IntervalResult
from canarykit.stats.shadow import clopper_pearson, shadow_agreement
from canarykit.stats.srm import full_step_srm_test, srm_test
from canarykit.traces.summaries import ArmSummary, Summaries
from canarykit.verdict.policy import CheckSpec, Policy
from canarykit.verdict.tuning import CheckTuning, StepTuning

__all__ = ["clopper_pearson_interval", "latency_ranks", "run_check"]


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
    if share >= 1.0:  # a 100 % step: no control traffic planned (one-sided, with a tolerance)
        return full_step_srm_test(s.control.n, s.candidate.n, alpha=ct.alpha_fail, k=ct.k)
    return srm_test([s.control.n, s.candidate.n], [1.0 - share, share], alpha=ct.alpha_fail, k=ct.k)


def run_check(spec: CheckSpec, s: Summaries, ct: CheckTuning, *, share: float) -> IntervalResult:
    """The interval (or SRM test) of one check of kind ``spec.kind`` on the summaries."""
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
