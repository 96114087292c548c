"""``plan_rollout``: a policy's rollout planned at a declared rate, step by step and check by check."""

from __future__ import annotations

import math

from canarykit.errors import InvalidInputError
from canarykit.verdict.planning.answers import (
    KIND_UNITS,
    MAX_RATE,
    POWER,
    detectable_regression,
    minimum_rate,
    minutes_to_proceed,
    not_plannable,
)
from canarykit.verdict.planning.baseline import BaselineProfile
from canarykit.verdict.planning.report import CheckPlan, RolloutPlanReport, StepPlan
from canarykit.verdict.planning.synthetic import TunedStep, tune_step
from canarykit.verdict.policy import Policy
from canarykit.verdict.tuning import applicable_checks, stop_alphas

__all__ = ["plan_rollout"]


def plan_rollout(
    policy: Policy,
    *,
    rate: float,
    profile: BaselineProfile | None = None,
    look_every: float | None = None,
) -> RolloutPlanReport:
    """Plan the policy's rollout at ``rate`` requests/s: per step and check, time to PROCEED,
    the regression detected with 90 % power, and the minimum traffic.

    Parameters
    ----------
    policy : Policy
        Its ``rollout.steps`` (shares and windows), checks, ``alpha`` and ``min_samples``.
    rate : float
        Expected requests per second, both arms together (> 0).
    profile : BaselineProfile, optional
        The control's traffic (default: the sample generator's baseline, marked *assumed*;
        :func:`profile_from_store` measures it in a trace store).
    look_every : float, optional
        Minutes between looks (default ``policy.look_every_minutes``).

    Returns
    -------
    RolloutPlanReport

    Raises
    ------
    InvalidInputError
        ``rate`` or ``look_every`` not a positive number, or a step window shorter than one look.

    Notes
    -----
    Every number is the outcome of :func:`canarykit.verdict.checks.evaluate_checks` with the
    step's tuning (:func:`canarykit.verdict.tuning.step_tuning` at ``rate``, so sequences are
    tightest where the step's traffic will be, and each check's fail side gets its share of the
    whole rollout's STOP budget) on synthetic summaries:

    * *Expected path* (minutes to PROCEED, minimum rate): after ``t`` minutes each arm holds
      ``rate·60·t`` × its share requests (rounded); errors are ``round(n·p₀)``; the latency
      order statistic of rank ``k`` is ``Q(k/(n+1))`` — ``F(X_(k))`` follows Beta(k, n−k+1),
      whose mean is ``k/(n+1)`` — with ``Q`` the profile's quantile function; scores are
      placed at the quantiles ``(i − ½)/n`` of a binormal model (negatives' latent score
      ``N(−1.5, 1)``, positives' shifted by ``√2·Φ⁻¹(AUC)``, score = logistic(latent)) and
      binned into the 10,000 bins of the summaries; confusion counts per group follow the
      same model at the policy's decision threshold, with one prevalence for every group.
    * *Power path* (detectable regression), at the step's last look: the data sit at their
      10 % quantile least favourable to detection. Error counts: the candidate's at their
      binomial 10 % quantile (for the ratio, conditionally on the expected total of errors,
      as the Lindon–Malek test conditions on it). Latency: every order statistic at the
      10 % (candidate) or 90 % (control) quantile of its Beta law, i.e. shifted by about
      1.2816 binomial standard deviations in rank; exact for the one-sample p95 check, and
      conservative for the two-sample p99 test, where both arms sit on their unfavourable
      side at once. ΔAUC: the candidate's AUC raised by 1.2816 DeLong standard errors of the
      difference. Fairness: the smallest group's rate moved back by 1.2816 binomial standard
      deviations of its contrast with the largest group in the candidate, and the control's
      moved the other way by 1.2816 of its own (each arm on its unfavourable side, as the
      gap is a maximum over groups whose noise a single contrast understates).
      Sample ratio: the candidate's count at its binomial 90 % quantile. A latency regression
      is a scale factor on every latency, a fairness regression moves the smallest group's
      rate (selection rate and FPR up, TPR down), a sample-ratio fault sends less than the
      planned share.
    * Power is taken at the step's last look only and the sequential state of earlier looks
      is ignored (a fail at an earlier look only adds power), a further small margin on the
      conservative side. Simulated through ``evaluate_checks`` at the end of the 25 % step at
      100 requests/s (default profile), the reported effects were detected with power
      ≈ 0.90 (error-rate SLO, error-rate ratio), 0.92 (p95 at the 5 % step, ΔAUC,
      selection-rate gap) and 0.97 (p99; 0.94 at the 5 % step): read the column as "at least
      90 %", conservative for the two-sample rows.
    * Effects are found by bisection (relative tolerance 0.1 % for ratios, latencies, error
      rates and shares; 1e-4 absolute for ΔAUC and gap growth) within a sane range — latency up to 10× the threshold, error
      rates up to 50 %, error ratios up to 100, ΔAUC down to an AUC of 0.5, gap growth up
      to 0.5, a share down to a tenth of the plan; the minimum rate by bisection on
      ``log(rate)`` from the rate at which the step can collect ``min_samples``, tuning each
      candidate rate anew, up to ``1e6`` requests/s; it is checked at the step's last look,
      since a pass persists once reached (confidence sequences are intersected across the
      looks of a step).

    Examples
    --------
    >>> from canarykit.verdict.policy import load_policy
    >>> r = plan_rollout(load_policy(), rate=100.0)
    >>> [c.check for c in r.step(3).checks]
    ['latency_p95', 'error_rate']
    >>> r.step(1).check("latency_p99").minutes_to_proceed
    15.0
    """
    if not _positive_number(rate):
        raise InvalidInputError(f"rate: must be a number > 0 (requests per second), got {rate!r}")
    every = policy.look_every_minutes if look_every is None else look_every
    if not _positive_number(every):
        raise InvalidInputError(f"look_every: must be a number of minutes > 0, got {every!r}")
    shortest = min(s.window_minutes for s in policy.rollout)
    if every > shortest:
        raise InvalidInputError(
            f"look_every: {every:g} minutes is longer than the shortest step window "
            f"({shortest:g} minutes)"
        )
    profile = profile or BaselineProfile()
    rate, every = float(rate), float(every)
    steps = []
    for number in range(1, len(policy.rollout) + 1):
        st = tune_step(policy, profile, number, rate, every)
        steps.append(_plan_step(policy, profile, st, every))
    return RolloutPlanReport(
        rate=rate,
        look_every_minutes=every,
        alpha=policy.alpha,
        power=POWER,
        policy_digest=policy.digest,
        profile=profile,
        steps=tuple(steps),
        error_control=_error_control(policy),
        notes=_notes(profile),
    )


def _plan_step(policy: Policy, profile: BaselineProfile, st: TunedStep, every: float) -> StepPlan:
    minutes = minutes_to_proceed(policy, profile, st)
    rows = []
    for spec in applicable_checks(policy, "canary", st.planned):
        ct = st.tuning.checks[spec.name]
        notes = []
        detectable: float | None = None
        minimum: float | None = None
        why_not = not_plannable(spec, profile)
        if why_not:
            notes.append(why_not)
        else:
            detectable, why = detectable_regression(policy, profile, st, spec)
            if why:
                notes.append(why)
            minimum = minimum_rate(policy, profile, st.number, spec.name, every)
            if minimum is None:
                notes.append(f"cannot pass within the step below {MAX_RATE:g} requests/s")
        rows.append(
            CheckPlan(
                check=spec.name,
                kind=spec.kind,
                required=spec.required,
                bound="none" if spec.kind == "sample_ratio" else spec.bound,
                threshold=st.planned.share if spec.kind == "sample_ratio" else spec.threshold,
                unit=KIND_UNITS.get(spec.kind, ""),
                minutes_to_proceed=minutes.get(spec.name),
                detectable=detectable,
                minimum_rate=minimum,
                alpha_pass=ct.alpha_pass,
                alpha_fail=ct.alpha_fail,
                quantile=spec.quantile,
                note="; ".join(notes),
            )
        )
    required = [r.minutes_to_proceed for r in rows if r.required]
    proceed = (
        max((m for m in required if m is not None), default=st.looks[0])
        if all(m is not None for m in required)
        else None
    )
    if st.planned.has_control:
        control = "concurrent control traffic"
    elif st.recorded_control:
        control = f"control recorded {st.planned.control_window_minutes:g} minutes before the step"
    else:
        control = "none (100 % step): absolute checks only"
    return StepPlan(
        step=st.number,
        share=st.planned.share,
        window_minutes=st.planned.window_minutes,
        control=control,
        expected_control=float(st.tuning.expected_control or 0.0),
        expected_candidate=float(st.tuning.expected_candidate or 0.0),
        looks=st.looks,
        minutes_to_proceed=proceed,
        checks=tuple(rows),
        tuning=st.tuning.to_dict(),
    )


def _error_control(policy: Policy) -> str:
    budget = stop_alphas(policy, "canary", policy.rollout)
    k = len({name for name, _ in budget})
    return (
        f"False STOP over the whole rollout (all {len(policy.rollout)} steps, every look, every "
        f"check) ≤ α = {policy.alpha:g}: the fail side of each of the {k} checks that can fail "
        f"gets α/{k}, split evenly over the steps in which it runs (Bonferroni; every sequence "
        "is anytime-valid, so looking often costs nothing). PROCEED at a step needs every "
        f"required check to pass, each at level α = {policy.alpha:g} "
        "(intersection–union test, no correction)."
    )


def _notes(profile: BaselineProfile) -> tuple[str, ...]:
    notes = [
        "Computed with the product's checks on synthetic summaries: expected values for "
        "'minutes to PROCEED' and 'minimum rate' (a candidate as good as control), the 10 % "
        "quantile least favourable to detection for 'detectable' (90 % power at the step's "
        "last look); see canarykit.verdict.planning.plan_rollout (Notes).",
        "A latency regression scales every latency; a fairness regression moves the smallest "
        "group's rate; a sample-ratio fault sends less than the planned share.",
    ]
    if profile.assumed:
        notes.append(
            "Assumed (not measured): "
            + ", ".join(profile.assumed)
            + " — plan from a trace store (--from DB) to measure them."
        )
    return tuple(notes)


def _positive_number(value: object) -> bool:
    """A finite int or float > 0 (``True`` and ``False`` are not numbers here)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    )
