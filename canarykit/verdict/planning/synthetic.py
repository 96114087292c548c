"""Synthetic summaries: what a look of a planned step would see, and the checks' outcomes.

:func:`tune_step` fixes a rollout step at one traffic rate (its tuning from
:func:`canarykit.verdict.tuning.step_tuning` and its looks, a :class:`TunedStep`);
:func:`evaluate_synthetic` builds the :class:`~canarykit.traces.summaries.Summaries` of that step
after some minutes from a :class:`~canarykit.verdict.planning.baseline.BaselineProfile` and runs
:func:`canarykit.verdict.checks.evaluate_checks` on them, exactly as a look would. A
:class:`SyntheticPath` says how the candidate differs from control and where the noise sits; its
defaults are the *expected path* (a candidate as good as control, every count at its expected
value). :func:`auc_variance` and :func:`contrast_sd` give the noise of the synthetic AUC and
group contrasts, which the power path of :mod:`canarykit.verdict.planning.answers` needs. The
models are described in :func:`canarykit.verdict.planning.plan_rollout` (Notes).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import logit, ndtr, ndtri

from canarykit.stats.auc_histogram import delong_from_histogram
from canarykit.traces.summaries import ArmSummary, Selection, Summaries, SummaryPlan
from canarykit.verdict.checks import CheckOutcome, evaluate_checks, latency_ranks
from canarykit.verdict.planning.baseline import BaselineProfile
from canarykit.verdict.policy import CheckSpec, Policy, RolloutStep
from canarykit.verdict.tuning import StepTuning, TrafficProfile, step_tuning

__all__ = [
    "SCORE_LOCATION",
    "SyntheticPath",
    "TunedStep",
    "auc_variance",
    "binormal_rates",
    "contrast_sd",
    "evaluate_synthetic",
    "metric_rate",
    "tune_step",
]

SCORE_LOCATION = -1.5
"""Mean of the negatives' latent score (score = logistic(latent)), as the sample generator."""
_T0 = dt.datetime(2000, 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticPath:
    """How the candidate differs from control, and where its noise sits.

    The defaults are the expected path of a candidate as good as control.
    """

    latency_factor: float = 1.0
    candidate_order_quantile: float | None = None
    control_order_quantile: float | None = None
    candidate_errors: int | None = None
    control_errors: int | None = None
    candidate_auc: float | None = None
    group_change: float = 0.0
    control_group_change: float = 0.0
    candidate_n: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TunedStep:
    """One step of the plan at one rate, with its tuning and looks."""

    number: int
    planned: RolloutStep
    rate: float
    tuning: StepTuning
    looks: tuple[float, ...]

    @property
    def recorded_control(self) -> bool:
        return not self.planned.has_control and self.planned.control_window_minutes is not None

    @property
    def has_control(self) -> bool:
        return self.planned.has_control or self.recorded_control

    def counts(self, minutes: float) -> tuple[int, int]:
        """(control, candidate) requests after ``minutes`` of the step."""
        total = round(self.rate * 60.0 * minutes)
        if self.planned.has_control:
            candidate = round(total * self.planned.share)
            return total - candidate, candidate
        if self.recorded_control:
            cw = float(self.planned.control_window_minutes or 0.0)
            return round(self.rate * 60.0 * cw), total
        return 0, total


def _looks(window: float, every: float) -> tuple[float, ...]:
    k = math.floor(window / every + 1e-9)
    return tuple(float(every * i) for i in range(1, k + 1))


def tune_step(
    policy: Policy, profile: BaselineProfile, number: int, rate: float, look_every: float
) -> TunedStep:
    """Step ``number`` (1-based) of the policy's rollout, tuned at ``rate`` requests/s (both
    arms) for the ``profile``'s traffic, with a look every ``look_every`` minutes."""
    planned = policy.rollout[number - 1]
    traffic = TrafficProfile(
        rate=rate,
        source="declared (plan)",
        label_fraction=profile.label_fraction,
        auc=profile.auc,
        prevalence=profile.prevalence,
        groups=len(profile.groups),
    )
    tuning = step_tuning(
        policy,
        "canary",
        share=planned.share,
        window_minutes=planned.window_minutes,
        rate=rate,
        step=number,
        steps=policy.rollout,
        profile=traffic,
    )
    looks = _looks(planned.window_minutes, look_every)
    return TunedStep(number=number, planned=planned, rate=rate, tuning=tuning, looks=looks)


def _split(total: int, shares: Sequence[float]) -> list[int]:
    """Largest-remainder split of ``total`` into integer parts proportional to ``shares``."""
    raw = np.asarray(shares, float) * total
    parts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - parts), kind="stable")
    parts[order[: total - int(parts.sum())]] += 1
    return [int(p) for p in parts]


def _separation(auc: float) -> float:
    return float(math.sqrt(2.0) * ndtri(min(max(auc, 0.5), 1.0 - 1e-12)))


@lru_cache(maxsize=256)
def _score_cdf(location: float, n_bins: int) -> npt.NDArray[np.float64]:
    """CDF of score = logistic(N(location, 1)) at the edges of ``n_bins`` equal bins."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    with np.errstate(divide="ignore"):
        return np.asarray(ndtr(logit(edges) - location))


def _histogram(n: int, location: float, n_bins: int) -> npt.NDArray[np.int64]:
    """Bin counts of ``n`` scores placed at the quantiles ``(i − ½)/n`` of the score law."""
    cum = np.floor(n * _score_cdf(location, n_bins) + 0.5)
    return np.diff(cum).astype(np.int64)


def binormal_rates(profile: BaselineProfile, threshold: float) -> tuple[float, float]:
    """(TPR, FPR) of the binormal score model at the decision threshold."""
    with np.errstate(divide="ignore"):
        cut = float(logit(threshold))
    d = _separation(profile.auc)
    return float(ndtr(SCORE_LOCATION + d - cut)), float(ndtr(SCORE_LOCATION - cut))


def metric_rate(metric: str, profile: BaselineProfile, tpr: float, fpr: float) -> float:
    """The rate a fairness ``metric`` compares across groups: TPR, FPR or selection rate."""
    if metric in ("tpr", "equalized_odds"):
        return tpr
    if metric == "fpr":
        return fpr
    return profile.prevalence * tpr + (1.0 - profile.prevalence) * fpr


def _shifted_group(profile: BaselineProfile) -> int:
    """The group a fairness regression hits: the smallest (its rates are the noisiest)."""
    return int(np.argmin([s for _, s in profile.groups]))


def _reference_group(profile: BaselineProfile) -> int:
    return int(np.argmax([s for _, s in profile.groups]))


def _confusion(
    profile: BaselineProfile,
    labelled: int,
    *,
    n_features: int,
    threshold: float,
    metric: str,
    change: float,
) -> dict[str, Any]:
    tpr, fpr = binormal_rates(profile, threshold)
    shifted = _shifted_group(profile)
    members = _split(labelled, [s for _, s in profile.groups])
    cells: dict[str, Any] = {"groups": [], "label": [], "decision": [], "count": []}
    for i, ((name, _), m) in enumerate(zip(profile.groups, members, strict=True)):
        pos = round(m * profile.prevalence)
        neg = m - pos
        tp, fp = pos * tpr, neg * fpr
        if i == shifted and change:
            if metric in ("tpr", "equalized_odds"):
                tp = min(max(tp - change * pos, 0.0), pos)
            elif metric == "fpr":
                fp = min(max(fp + change * neg, 0.0), neg)
            else:
                extra = change * m
                room = neg - fp
                fp = min(max(fp + extra, 0.0), neg)
                tp = min(max(tp + max(extra - room, 0.0), 0.0), pos)
        tp_i, fp_i = round(tp), round(fp)
        key = (name,) + ("*",) * (n_features - 1)
        for label, decision, count in (
            (True, True, tp_i),
            (True, False, pos - tp_i),
            (False, True, fp_i),
            (False, False, neg - fp_i),
        ):
            cells["groups"].append(key)
            cells["label"].append(label)
            cells["decision"].append(decision)
            cells["count"].append(int(count))
    return cells


def _order_levels(n: int, ranks: Sequence[int], quantile: float | None) -> npt.NDArray[np.float64]:
    """Level ``F(X_(k))`` of each order statistic: the mean ``k/(n+1)`` of its Beta(k, n−k+1)
    law, or that law's ``quantile``."""
    k = np.asarray(ranks, float)
    if quantile is None or k.size == 0:
        return k / (n + 1)
    return np.asarray(stats.beta.ppf(quantile, k, n - k + 1.0))


def _kinds(policy: Policy, tuning: StepTuning) -> dict[str, CheckSpec]:
    return {name: policy.checks[name] for name in tuning.checks}


def _arm(
    name: str,
    *,
    n: int,
    errors: int,
    minutes: float | None,
    ranks: Sequence[int],
    values: npt.NDArray[np.float64],
    profile: BaselineProfile,
    auc: float | None,
    confusion: dict[tuple[str, ...], dict[str, Any]],
    n_bins: int,
) -> ArmSummary:
    labelled = round(n * profile.label_fraction)
    pos_n = round(labelled * profile.prevalence)
    empty = np.zeros(0, np.int64)
    pos = neg = empty
    if auc is not None:
        pos = _histogram(pos_n, SCORE_LOCATION + _separation(auc), n_bins)
        neg = _histogram(labelled - pos_n, SCORE_LOCATION, n_bins)
    return ArmSummary(
        arm=name,
        n=n,
        errors=errors,
        n_latency=n,
        scored=n,
        labelled=labelled,
        start=None if minutes is None else _T0,
        end=None if minutes is None else _T0 + dt.timedelta(minutes=minutes),
        latency_ranks=np.asarray(ranks, np.int64),
        latency_values=values,
        positives=pos,
        negatives=neg,
        scores=pos + neg if auc is not None else empty,
        confusion=confusion,
    )


def _summaries(
    policy: Policy,
    profile: BaselineProfile,
    st: TunedStep,
    tuning: StepTuning,
    minutes: float,
    path: SyntheticPath,
) -> Summaries:
    specs = _kinds(policy, tuning)
    kinds = {s.kind for s in specs.values()}
    n_c, n_t = st.counts(minutes)
    if path.candidate_n is not None:
        n_c, n_t = n_c + n_t - path.candidate_n, path.candidate_n
    p0 = profile.error_rate
    err_c = path.control_errors if path.control_errors is not None else round(n_c * p0)
    err_t = path.candidate_errors if path.candidate_errors is not None else round(n_t * p0)
    ranks_c: Sequence[int] = ()
    ranks_t: Sequence[int] = ()
    if kinds & {"latency_quantile", "latency_quantile_ratio"}:
        ranks_c, ranks_t = latency_ranks(policy, "canary", tuning)(n_c, n_t)
    q = profile.latency.quantile
    values_c = q(_order_levels(n_c, ranks_c, path.control_order_quantile))
    values_t = path.latency_factor * q(_order_levels(n_t, ranks_t, path.candidate_order_quantile))
    auc_c = auc_t = None
    if "auc_delta" in kinds and profile.label_fraction > 0:
        auc_c = profile.auc
        auc_t = profile.auc if path.candidate_auc is None else path.candidate_auc
    plan = SummaryPlan(
        decision_threshold=policy.decision_threshold,
        feature_sets=tuple(
            sorted({s.features for s in specs.values() if s.kind == "fairness_gap_delta"})
        ),
    )
    conf_c: dict[tuple[str, ...], dict[str, Any]] = {}
    conf_t: dict[tuple[str, ...], dict[str, Any]] = {}
    for spec in specs.values():
        if spec.kind != "fairness_gap_delta" or profile.label_fraction <= 0:
            continue
        for conf, n, change in (
            (conf_c, n_c, path.control_group_change),
            (conf_t, n_t, path.group_change),
        ):
            conf[spec.features] = _confusion(
                profile,
                round(n * profile.label_fraction),
                n_features=len(spec.features),
                threshold=policy.decision_threshold,
                metric=spec.metric or "selection_rate",
                change=change,
            )
    control_window = None
    if st.recorded_control:
        control_window = ("1999-12-31T00:00:00", _T0.isoformat())
    return Summaries(
        selection=Selection(
            model="plan",
            baseline="control",
            candidate="candidate",
            mode="canary",
            control_window=control_window,
        ),
        plan=plan,
        control=_arm(
            "control",
            n=n_c,
            errors=err_c,
            minutes=minutes if st.planned.has_control else None,
            ranks=ranks_c,
            values=values_c,
            auc=auc_c,
            confusion=conf_c,
            profile=profile,
            n_bins=plan.n_bins,
        ),
        candidate=_arm(
            "canary",
            n=n_t,
            errors=err_t,
            minutes=minutes,
            ranks=ranks_t,
            values=values_t,
            auc=auc_t,
            confusion=conf_t,
            profile=profile,
            n_bins=plan.n_bins,
        ),
        data_digest="sha256:plan",
    )


def evaluate_synthetic(
    policy: Policy,
    profile: BaselineProfile,
    st: TunedStep,
    names: Sequence[str],
    minutes: float,
    path: SyntheticPath,
) -> dict[str, CheckOutcome]:
    """The outcomes of checks ``names`` at ``minutes`` into step ``st`` on synthetic summaries.

    The summaries hold what the step's traffic would show after ``minutes`` along ``path``;
    they are checked by :func:`canarykit.verdict.checks.evaluate_checks` with the step's tuning,
    as a look of the rollout would be.

    Examples
    --------
    >>> from canarykit.verdict.policy import parse_policy
    >>> policy = parse_policy({"schema": "canarykit.policy/1",
    ...     "rollout": {"steps": [{"share": 0.25, "window_minutes": 20}]},
    ...     "checks": {"error_rate": {"kind": "error_rate", "max": 0.005}}})
    >>> profile = BaselineProfile()
    >>> st = tune_step(policy, profile, 1, rate=50.0, look_every=10.0)
    >>> st.looks, st.counts(10.0)
    ((10.0, 20.0), (22500, 7500))
    >>> expected = evaluate_synthetic(policy, profile, st, ["error_rate"], 10.0, SyntheticPath())
    >>> regressed = SyntheticPath(candidate_errors=150)
    >>> expected["error_rate"].status, evaluate_synthetic(
    ...     policy, profile, st, ["error_rate"], 10.0, regressed)["error_rate"].status
    ('pass', 'fail')
    """
    tuning = replace(st.tuning, checks={n: st.tuning.checks[n] for n in names})
    s = _summaries(policy, profile, st, tuning, minutes, path)
    outcomes = evaluate_checks(
        policy,
        s,
        share=st.planned.share,
        tuning=tuning,
        window_minutes=st.planned.window_minutes,
        has_control=st.has_control,
    )
    return {o.name: o for o in outcomes}


def contrast_sd(profile: BaselineProfile, labelled: int, metric: str, rate: float) -> float:
    """Binomial sd of the difference of a metric between the smallest and largest group."""
    members = _split(labelled, [s for _, s in profile.groups])
    var = 0.0
    for g in (_shifted_group(profile), _reference_group(profile)):
        trials = members[g]
        if metric in ("tpr", "equalized_odds"):
            trials = round(trials * profile.prevalence)
        elif metric == "fpr":
            trials -= round(trials * profile.prevalence)
        var += rate * (1.0 - rate) / max(trials, 1)
    return math.sqrt(var)


def auc_variance(auc: float, positives: int, negatives: int) -> float:
    """Variance of the AUC estimate of the synthetic histogram (DeLong, exact for the bins)."""
    if positives < 2 or negatives < 2:
        return math.inf
    pos = _histogram(positives, SCORE_LOCATION + _separation(auc), SummaryPlan().n_bins)
    neg = _histogram(negatives, SCORE_LOCATION, SummaryPlan().n_bins)
    return float(delong_from_histogram(pos, neg)[1])
