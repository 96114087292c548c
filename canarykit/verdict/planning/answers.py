"""The three answers of a plan for one check at one step, each a search over synthetic looks.

* :func:`minutes_to_proceed`: the first look at which a candidate as good as control passes
  (expected path);
* :func:`minimum_rate`: the traffic below which the check cannot pass within the step
  (bisection on ``log(rate)``, tuning the step anew at each rate);
* :func:`detectable_regression`: the regression the check fails with power :data:`POWER` at
  the step's last look (bisection over the effects of the check's kind, on the power path).

:data:`KIND_UNITS` names the unit of each kind's effects and :func:`format_effect` writes one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scipy import stats
from scipy.special import ndtri

from canarykit.verdict.planning.baseline import BaselineProfile
from canarykit.verdict.planning.synthetic import (
    SyntheticPath,
    TunedStep,
    auc_variance,
    binormal_rates,
    contrast_sd,
    evaluate_synthetic,
    metric_rate,
    tune_step,
)
from canarykit.verdict.policy import CheckSpec, Policy, RolloutStep

__all__ = [
    "KIND_UNITS",
    "MAX_RATE",
    "POWER",
    "RATE_TOLERANCE",
    "Z_POWER",
    "detectable_regression",
    "format_effect",
    "minimum_rate",
    "minutes_to_proceed",
    "not_plannable",
]

POWER = 0.9
"""Power at which a regression counts as detectable."""
Z_POWER = float(ndtri(POWER))
"""1.2816: the data of the power path sit this many standard deviations on the safe side."""
MAX_RATE = 1e6
"""Requests/s above which the minimum rate is reported as not reachable."""
RATE_TOLERANCE = 1e-3
"""Relative width at which the rate and ratio bisections stop."""
KIND_UNITS = {
    "latency_quantile": "ms",
    "latency_quantile_ratio": "ratio",
    "error_rate": "rate",
    "error_rate_ratio": "ratio",
    "auc_delta": "delta_auc",
    "fairness_gap_delta": "gap_growth",
    "sample_ratio": "share",
    "shadow_agreement": "agreement",
}


def minutes_to_proceed(
    policy: Policy, profile: BaselineProfile, st: TunedStep
) -> dict[str, float | None]:
    """The first look of ``st`` at which each check passes on the expected path.

    ``None`` when a check does not pass within the step or cannot be planned
    (:func:`not_plannable`).
    """
    out: dict[str, float | None] = dict.fromkeys(st.tuning.checks)
    pending = [n for n in st.tuning.checks if not not_plannable(policy.checks[n], profile)]
    for minutes in st.looks:
        if not pending:
            break
        outcomes = evaluate_synthetic(policy, profile, st, pending, minutes, SyntheticPath())
        for name in list(pending):
            if outcomes[name].status == "pass":
                out[name] = minutes
                pending.remove(name)
    return out


def not_plannable(spec: CheckSpec, profile: BaselineProfile) -> str:
    """Why ``spec`` cannot be planned with ``profile`` ("" when it can)."""
    if spec.kind in ("auc_delta", "fairness_gap_delta") and profile.label_fraction <= 0:
        return "no labelled traffic: the check stays inconclusive"
    if spec.kind == "fairness_gap_delta" and len(profile.groups) < 2:
        return "fewer than two groups: the check stays inconclusive"
    if spec.kind == "shadow_agreement":
        return "shadow mode only"
    return ""


def _rate_floor(policy: Policy, planned: RolloutStep) -> float:
    """Below this rate a step cannot collect the policy's ``min_samples`` in its window."""
    seconds = 60.0 * planned.window_minutes
    floor = policy.min_samples_candidate / (planned.share * seconds)
    if planned.has_control:
        floor = max(floor, policy.min_samples_control / ((1.0 - planned.share) * seconds))
    return max(floor, 1e-6)


def minimum_rate(
    policy: Policy, profile: BaselineProfile, number: int, name: str, look_every: float
) -> float | None:
    """The lowest rate (requests/s, both arms) at which check ``name`` passes at step
    ``number``'s last look on the expected path (``None``: not below :data:`MAX_RATE`)."""

    def passes(rate: float) -> bool:
        st = tune_step(policy, profile, number, rate, look_every)
        outcomes = evaluate_synthetic(policy, profile, st, [name], st.looks[-1], SyntheticPath())
        return outcomes[name].status == "pass"

    floor = _rate_floor(policy, policy.rollout[number - 1])
    lo = floor
    if passes(lo):
        return lo
    hi = lo * 2.0
    while not passes(hi):
        lo, hi = hi, hi * 2.0
        if hi > MAX_RATE:
            return None
    while hi > lo * (1.0 + RATE_TOLERANCE):
        mid = math.sqrt(lo * hi)
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True, slots=True, kw_only=True)
class _Search:
    """The range of effects a check's detectable-regression search covers."""

    start: float
    end: float
    geometric: bool
    path: Callable[[float], SyntheticPath]


def _search(
    policy: Policy, profile: BaselineProfile, st: TunedStep, spec: CheckSpec
) -> _Search | str:
    """The effects to search for ``spec`` at the end of step ``st`` (or why there are none)."""
    minutes = st.looks[-1]
    n_c, n_t = st.counts(minutes)
    thr = spec.threshold
    kind = spec.kind
    z = Z_POWER
    if kind in ("latency_quantile", "latency_quantile_ratio"):
        low, high = 1.0 - POWER, POWER
        if kind == "latency_quantile_ratio":
            return _Search(
                start=thr,
                end=max(10.0, 2.0 * thr),
                geometric=True,
                path=lambda e: SyntheticPath(
                    latency_factor=e, candidate_order_quantile=low, control_order_quantile=high
                ),
            )
        base = float(profile.latency.quantile([float(spec.quantile or 0.5)])[0])
        if base <= 0:
            return "control quantile is 0 ms: no multiplicative regression to search"
        return _Search(
            start=thr,
            end=10.0 * thr,
            geometric=True,
            path=lambda e: SyntheticPath(latency_factor=e / base, candidate_order_quantile=low),
        )
    if kind == "error_rate":
        if thr >= 0.5:
            return "the SLO leaves no room for an error rate beyond it up to 50 %"
        return _Search(
            start=thr,
            end=0.5,
            geometric=True,
            path=lambda e: SyntheticPath(
                candidate_errors=int(stats.binom.ppf(1.0 - POWER, n_t, e))
            ),
        )
    if kind == "error_rate_ratio":
        p0 = profile.error_rate
        if p0 <= 0:
            return "control error rate is 0: no ratio to detect"
        if 1.0 / p0 <= thr:
            return "no error-rate ratio beyond the threshold is possible at this control rate"

        def ratio_path(e: float) -> SyntheticPath:
            expected_c = n_c * p0
            expected_t = n_t * min(e * p0, 1.0)
            if st.recorded_control:
                errors = int(stats.binom.ppf(1.0 - POWER, n_t, min(e * p0, 1.0)))
                return SyntheticPath(candidate_errors=errors, control_errors=round(expected_c))
            total = round(expected_c + expected_t)
            theta = expected_t / (expected_c + expected_t)
            errors = int(stats.binom.ppf(1.0 - POWER, total, theta))
            return SyntheticPath(candidate_errors=errors, control_errors=total - errors)

        return _Search(start=thr, end=min(100.0, 1.0 / p0), geometric=True, path=ratio_path)
    if kind == "auc_delta":
        end = max(0.5 - profile.auc, -0.5)
        if end >= thr:
            return "the control AUC leaves no room for a drop beyond the margin"
        labelled = [round(n * profile.label_fraction) for n in (n_c, n_t)]
        positives = [round(m * profile.prevalence) for m in labelled]
        var_c = auc_variance(profile.auc, positives[0], labelled[0] - positives[0])

        def auc_path(e: float) -> SyntheticPath:
            auc_t = profile.auc + e
            var_t = auc_variance(auc_t, positives[1], labelled[1] - positives[1])
            se = math.sqrt(var_c + var_t) if math.isfinite(var_c + var_t) else 0.0
            return SyntheticPath(candidate_auc=min(auc_t + z * se, 1.0 - 1e-9))

        return _Search(start=thr, end=end, geometric=False, path=auc_path)
    if kind == "fairness_gap_delta":
        tpr, fpr = binormal_rates(profile, policy.decision_threshold)
        metric = spec.metric or "selection_rate"
        rate = metric_rate(metric, profile, tpr, fpr)
        room = rate if metric in ("tpr", "equalized_odds") else 1.0 - rate
        end = min(0.5, room)
        if end <= thr:
            return "the group rates leave no room for a gap growth beyond the margin"
        sd_c, sd_t = (
            contrast_sd(profile, round(n * profile.label_fraction), metric, rate)
            for n in (n_c, n_t)
        )
        return _Search(
            start=thr,
            end=end,
            geometric=False,
            path=lambda e: SyntheticPath(
                group_change=max(e - z * sd_t, 0.0), control_group_change=z * sd_c
            ),
        )
    if kind == "sample_ratio":
        share = st.planned.share
        total = n_c + n_t

        def srm_path(e: float) -> SyntheticPath:
            return SyntheticPath(candidate_n=int(stats.binom.ppf(POWER, total, e)))

        return _Search(start=share, end=share * 0.1, geometric=True, path=srm_path)
    return f"kind {kind} is not planned in canary mode"


def detectable_regression(
    policy: Policy, profile: BaselineProfile, st: TunedStep, spec: CheckSpec
) -> tuple[float | None, str]:
    """The regression ``spec`` fails with power :data:`POWER` at the last look of ``st``, in
    the check's units, or ``None`` and why not."""
    search = _search(policy, profile, st, spec)
    if isinstance(search, str):
        return None, search
    minutes = st.looks[-1]

    def fails(x: float) -> bool:
        e = _effect(search, x)
        outcomes = evaluate_synthetic(policy, profile, st, [spec.name], minutes, search.path(e))
        return outcomes[spec.name].status == "fail"

    if not fails(1.0):
        end = format_effect(spec.kind, spec.quantile, _effect(search, 1.0))
        return None, f"no regression up to {end} is detected"
    lo, hi = 0.0, 1.0
    span = abs(math.log(search.end / search.start)) if search.geometric else 1.0
    tolerance = RATE_TOLERANCE / span if search.geometric else 1e-4 / abs(search.end - search.start)
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if fails(mid):
            hi = mid
        else:
            lo = mid
    return _effect(search, hi), ""


def _effect(search: _Search, x: float) -> float:
    if search.geometric:
        return float(search.start * (search.end / search.start) ** x)
    return float(search.start + x * (search.end - search.start))


def format_effect(kind: str, quantile: float | None, e: float) -> str:
    """Effect ``e`` of a check of ``kind`` in its units, as the report writes it.

    Examples
    --------
    >>> format_effect("latency_quantile", 0.95, 125.83), format_effect("error_rate_ratio", None, 2.5)
    ('p95 125.8 ms', '×2.50')
    """
    q = f"p{(quantile or 0.0) * 100:g}"
    if kind == "latency_quantile":
        return f"{q} {e:.1f} ms"
    if kind == "latency_quantile_ratio":
        return f"{q} {e - 1.0:+.1%}"
    if kind == "error_rate_ratio":
        return f"×{e:.2f}"
    if kind == "error_rate":
        return f"{e:.2%}"
    if kind == "auc_delta":
        return f"ΔAUC {e:+.4f}"
    if kind == "fairness_gap_delta":
        return f"gap +{e:.3f}"
    if kind == "sample_ratio":
        return f"share {e:.2%}"
    return f"{e:.4g}"
