"""Tuning and error budget of every check's sequence, fixed before the data it covers is seen.

Two things are decided per check before a window's data is read (DESIGN.md §9):

* **Tuning** — where each confidence sequence is tightest (``t_opt``: the arm's expected sample
  size), the Dirichlet concentration ``k`` of the error-ratio and sample-ratio e-processes, the
  planned standard error of ΔAUC and the planned information of the fairness contrasts. In a
  rollout step they come from the plan and the traffic: the rate of requests just *before* the
  step starts (or a declared rate) times the step's window and split. Tuning changes power,
  never validity; it is recorded with the step and reused by every look and by replay.
* **Error budget** — PROCEED needs every required check to pass; that is an intersection–union
  test, valid at ``alpha`` without correction, so every check's *pass* bound is built at
  ``alpha``. STOP follows from *any* failing check at *any* look of *any* step, so the *fail*
  bounds share ``alpha`` between them (Bonferroni): each check family member gets
  ``alpha / k`` (k = the checks that can fail in this mode), split evenly over the steps in
  which it runs. The probability that a candidate no worse than control on every check is ever
  STOPped — over the whole rollout, all steps, all looks, all checks — is then at most
  ``alpha``. A single window evaluated without a rollout is one step.

Examples
--------
>>> from canarykit.verdict.policy import load_policy
>>> policy = load_policy()
>>> budget = stop_alphas(policy, "canary", policy.rollout)
>>> round(budget[("error_rate", 1)], 6), round(budget[("latency_p99", 1)], 6)
(0.002083, 0.003125)
>>> ("latency_p99", 3) in budget          # no concurrent control at 100 %
False
>>> t = step_tuning(policy, "canary", share=0.05, window_minutes=30, rate=100.0)
>>> t.checks["latency_p95"].t_opt_candidate, t.checks["error_rate_delta"].k
(4500.0, 22.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from canarykit.stats.auc import planned_auc_delta_se
from canarykit.verdict.policy import CheckSpec, Policy, RolloutStep

__all__ = [
    "ABSOLUTE_KINDS",
    "RECORDED_CONTROL_KINDS",
    "CheckTuning",
    "StepTuning",
    "TrafficProfile",
    "applicable_checks",
    "default_tuning",
    "error_ratio_concentration",
    "step_tuning",
    "stop_alphas",
]

ABSOLUTE_KINDS = ("latency_quantile", "error_rate")
"""Checks of the candidate alone: they run at every step, including 100 %."""
RECORDED_CONTROL_KINDS = ("latency_quantile_ratio", "error_rate_ratio")
"""Relative checks that may use a control window recorded before a 100 % step."""
TUNING_FRACTION = 0.5
"""Sequences are tightest at this fraction of the step's expected sample size: early enough
to STOP a regression within the step, late enough to PROCEED by its end."""
ERROR_RATIO_ALTERNATIVE = 2.0
"""Rate ratio the error-ratio prior is centred to detect (a doubled error rate)."""
MIN_CONCENTRATION, MAX_CONCENTRATION = 2.0, 100.0
SRM_CONCENTRATION = 100.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckTuning:
    """Tuning and error budget of one check for one window (see the module docstring)."""

    alpha_pass: float
    alpha_fail: float
    t_opt_control: float
    t_opt_candidate: float
    k: float = 100.0
    planned_se: float = 0.004
    planned_n: float = 10_000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficProfile:
    """What the traffic before a step looked like (measured in the store, or declared)."""

    rate: float | None
    source: str
    label_fraction: float | None = None
    auc: float | None = None
    prevalence: float | None = None
    groups: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StepTuning:
    """Tuning of every check of one window, fixed before its data is read.

    ``expected_control`` / ``expected_candidate`` are the requests per arm the step is
    expected to see in its window (``None`` when the traffic rate is unknown and the policy's
    ``t_opt`` values are used).
    """

    source: str
    rate: float | None
    share: float
    window_minutes: float | None
    expected_control: float | None
    expected_candidate: float | None
    checks: dict[str, CheckTuning] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the form recorded with a rollout step and in verdicts)."""
        return {
            "source": self.source,
            "rate": self.rate,
            "share": self.share,
            "window_minutes": self.window_minutes,
            "expected_control": self.expected_control,
            "expected_candidate": self.expected_candidate,
            "checks": {name: asdict(c) for name, c in sorted(self.checks.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepTuning:
        """Inverse of :meth:`to_dict`."""
        return cls(
            source=str(data["source"]),
            rate=data.get("rate"),
            share=float(data["share"]),
            window_minutes=data.get("window_minutes"),
            expected_control=data.get("expected_control"),
            expected_candidate=data.get("expected_candidate"),
            checks={
                str(name): CheckTuning(**{k: float(v) for k, v in c.items()})
                for name, c in dict(data.get("checks", {})).items()
            },
        )


def applicable_checks(policy: Policy, mode: str, step: RolloutStep | None) -> list[CheckSpec]:
    """The checks that run in ``mode`` at ``step`` (``None``: a window without a rollout).

    At a 100 % step there is no concurrent control: only the absolute checks run, plus the
    relative latency and error-rate checks when the step records a control window.
    """
    specs = [c for c in policy.checks.values() if c.applies_to(mode)]
    if step is None or step.has_control:
        return specs
    allowed = ABSOLUTE_KINDS + (
        RECORDED_CONTROL_KINDS if step.control_window_minutes is not None else ()
    )
    return [c for c in specs if c.kind in allowed]


def stop_alphas(
    policy: Policy, mode: str, steps: Sequence[RolloutStep] | None
) -> dict[tuple[str, int], float]:
    """Fail-side level of each (check, step) so that the whole rollout's false STOP ≤ α.

    ``steps=None`` is a single window without a rollout (reported as step 1).
    """
    plan: Sequence[RolloutStep | None] = list(steps) if steps else [None]
    runs: dict[str, list[int]] = {}
    for i, step in enumerate(plan, start=1):
        for spec in applicable_checks(policy, mode, step):
            runs.setdefault(spec.name, []).append(i)
    if not runs:
        return {}
    per_check = policy.alpha / len(runs)
    return {(name, i): per_check / len(where) for name, where in runs.items() for i in where}


def error_ratio_concentration(share: float, ratio: float = ERROR_RATIO_ALTERNATIVE) -> float:
    """Dirichlet concentration ``k`` of the error-ratio e-process for a planned split.

    The prior of the share θ of errors coming from the candidate is Beta(k·ρ, k·(1−ρ)) around
    the null ``ρ`` (the planned split). Its standard deviation ``sqrt(ρ(1−ρ)/(k+1))`` is set to
    the distance between the null and the share an error-rate ratio of ``ratio`` would give,
    ``θ(r) = ρr/(1−ρ+ρr)``, so the mixture puts its weight where regressions worth stopping
    lie; clipped to [2, 100]. A fixed k = 100 (savvi's default) centres the prior on shifts
    too small for a canary's error counts (power 0.55 vs 0.92 for errors ×3 at a 25 % split
    by 10 k candidate requests; see stats_methods.md §7.3).

    Examples
    --------
    >>> error_ratio_concentration(0.05), error_ratio_concentration(0.25)
    (22.0, 7.0)
    """
    theta = share * ratio / (1.0 - share + share * ratio)
    k = share * (1.0 - share) / (theta - share) ** 2 - 1.0
    return float(min(MAX_CONCENTRATION, max(MIN_CONCENTRATION, round(k))))


def _planned_auc_se(
    n_control: float, n_candidate: float, profile: TrafficProfile, default: float
) -> float:
    """ΔAUC standard error expected at the tuning point (Hanley–McNeil, uneven arms)."""
    labelled = profile.label_fraction
    if not labelled:
        return default
    auc = min(max(profile.auc or 0.8, 0.55), 0.995)
    prevalence = min(max(profile.prevalence or 0.2, 0.01), 0.99)

    def counts(n: float) -> tuple[float, float]:
        return max(n * labelled * prevalence, 10.0), max(n * labelled * (1 - prevalence), 10.0)

    (m_t, k_t), (m_c, k_c) = counts(n_candidate), counts(n_control)
    return planned_auc_delta_se(m_t, k_t, auc=auc, n_positives_control=m_c, n_negatives_control=k_c)


def _planned_fairness_n(n_control: float, n_candidate: float, profile: TrafficProfile) -> float:
    labelled = profile.label_fraction or 0.0
    groups = max(profile.groups or 3, 2)
    per_group = [max(n * labelled / groups, 10.0) for n in (n_control, n_candidate)]
    # information of a difference of two group rates per arm, both arms (p ≈ ½: conservative)
    return 1.0 / sum(0.5 / n for n in per_group)


def step_tuning(
    policy: Policy,
    mode: str,
    *,
    share: float,
    window_minutes: float,
    rate: float | None,
    step: int = 1,
    steps: Sequence[RolloutStep] | None = None,
    profile: TrafficProfile | None = None,
) -> StepTuning:
    """Tune every check of a rollout step from its plan and the traffic rate (requests/s).

    Without a rate the policy's ``t_opt`` values are used (``source = "policy t_opt"``).
    """
    profile = profile or TrafficProfile(rate=rate, source="declared" if rate else "policy t_opt")
    plan = list(steps) if steps else [RolloutStep(share=share, window_minutes=window_minutes)]
    budget = stop_alphas(policy, mode, plan)
    current = plan[step - 1]
    expected_c = expected_t = None
    if rate is not None:
        total = rate * 60.0 * window_minutes
        expected_t = total * share
        expected_c = total * (1.0 - share)
        if not current.has_control and current.control_window_minutes is not None:
            # a control recorded before the step: the control share of the previous step over
            # the recorded window, all of it seen at once (its sequence is read at its end)
            before = plan[step - 2].share if step > 1 else 0.0
            expected_c = rate * 60.0 * current.control_window_minutes * (1.0 - before)
    checks = {}
    for spec in applicable_checks(policy, mode, current):
        checks[spec.name] = _check_tuning(
            spec,
            policy,
            share=share,
            alpha_fail=budget[(spec.name, step)],
            expected_control=expected_c,
            expected_candidate=expected_t,
            profile=profile,
        )
    return StepTuning(
        source=profile.source if rate is not None else "policy t_opt",
        rate=rate,
        share=share,
        window_minutes=window_minutes,
        expected_control=expected_c,
        expected_candidate=expected_t,
        checks=checks,
    )


def _check_tuning(
    spec: CheckSpec,
    policy: Policy,
    *,
    share: float,
    alpha_fail: float,
    expected_control: float | None,
    expected_candidate: float | None,
    profile: TrafficProfile,
) -> CheckTuning:
    k = error_ratio_concentration(share) if 0.0 < share < 1.0 else 100.0
    if spec.kind == "sample_ratio":
        k = SRM_CONCENTRATION
    if expected_candidate is None or expected_control is None:
        return CheckTuning(
            alpha_pass=policy.alpha,
            alpha_fail=alpha_fail,
            t_opt_control=spec.t_opt,
            t_opt_candidate=spec.t_opt,
            k=k,
        )
    recorded = not 0.0 < share < 1.0
    tc = max(expected_control * (1.0 if recorded else TUNING_FRACTION), 100.0)
    tt = max(expected_candidate * TUNING_FRACTION, 100.0)
    return CheckTuning(
        alpha_pass=policy.alpha,
        alpha_fail=alpha_fail,
        t_opt_control=round(tc, 1),
        t_opt_candidate=round(tt, 1),
        k=k,
        planned_se=_planned_auc_se(tc, tt, profile, 0.004),
        planned_n=_planned_fairness_n(tc, tt, profile),
    )


def default_tuning(policy: Policy, mode: str, *, share: float) -> StepTuning:
    """Tuning of a single window evaluated without a rollout: the policy's ``t_opt`` values,
    the error budget split over the checks only."""
    budget = stop_alphas(policy, mode, None)
    # ΔAUC: tuned for 1,000 labelled requests (the sequence stays within 2× the fixed-horizon
    # width from ~100 to ~10⁵ labelled; see canarykit.simulate.auc)
    planned_se = planned_auc_delta_se(
        200, 800, paired=mode == "shadow", correlation=0.5 if mode == "shadow" else 0.0
    )
    checks = {
        spec.name: CheckTuning(
            alpha_pass=policy.alpha,
            alpha_fail=budget[(spec.name, 1)],
            t_opt_control=spec.t_opt,
            t_opt_candidate=spec.t_opt,
            k=(
                error_ratio_concentration(share)
                if spec.kind == "error_rate_ratio" and 0.0 < share < 1.0
                else 100.0
            ),
            planned_se=planned_se,
        )
        for spec in applicable_checks(policy, mode, None)
    }
    return StepTuning(
        source="policy t_opt",
        rate=None,
        share=share,
        window_minutes=None,
        expected_control=None,
        expected_candidate=None,
        checks=checks,
    )
