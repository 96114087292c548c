"""The sample-ratio check of a 100 % rollout step (used by :mod:`canarykit.verdict.look`).

A 100 % step plans no control traffic: control rows in its window mean the router has not
moved (DESIGN.md §9), a sample-ratio failure like any other split mismatch. The gate is the
one-sided test :func:`canarykit.stats.srm.full_step_srm_test` (a control share above 1 %); it
counts only the control rows of the step's own window, which never enter the absolute checks.
"""

from __future__ import annotations

from dataclasses import replace

from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import ArmSummary, Selection, Summaries
from canarykit.traces.summary_passes import execute
from canarykit.verdict.checks import CheckOutcome, evaluate_checks
from canarykit.verdict.policy import Policy, RolloutStep
from canarykit.verdict.tuning import (
    SRM_CONCENTRATION,
    CheckTuning,
    StepTuning,
    applicable_checks,
    stop_alphas,
)

__all__ = ["full_step_srm", "with_full_step_srm"]


def with_full_step_srm(
    policy: Policy, plan: tuple[RolloutStep, ...], planned: RolloutStep, tuning: StepTuning
) -> StepTuning:
    """``tuning`` plus the sample-ratio check at a 100 % step (unchanged at other steps).

    A 100 % step plans no control traffic; control rows in its window mean the router has not
    moved (DESIGN.md §9: a split other than the planned one is a sample-ratio failure). The
    gate is :func:`canarykit.stats.srm.full_step_srm_test`, at the fail level the check has at
    the plan's other steps. It spends nothing of the rollout's false-STOP budget
    (:func:`canarykit.verdict.tuning.stop_alphas`): a router that follows the plan sends no
    control row, and without one the test's e-value stays below 1 at every look.
    """
    if planned.has_control:
        return tuning
    budget = stop_alphas(policy, "canary", plan)
    checks = dict(tuning.checks)
    for spec in applicable_checks(policy, "canary", None):
        if spec.kind != "sample_ratio":
            continue
        levels = [a for (name, _), a in budget.items() if name == spec.name]
        runs = {name for name, _ in budget} | {spec.name}
        checks[spec.name] = CheckTuning(
            alpha_pass=policy.alpha,
            alpha_fail=min(levels) if levels else policy.alpha / len(runs),
            t_opt_control=spec.t_opt,
            t_opt_candidate=spec.t_opt,
            k=SRM_CONCENTRATION,
        )
    return replace(tuning, checks=checks)


def full_step_srm(
    store: TraceStore,
    policy: Policy,
    selection: Selection,
    summaries: Summaries,
    tuning: StepTuning,
    window_minutes: float,
) -> tuple[list[CheckOutcome], int]:
    """The sample-ratio outcomes of a 100 % step and the control rows of its window.

    The control rows are the step's own ``[since, until)`` rows of the baseline (the
    summaries' control arm, or a count when the control is read from a recorded window); the
    check sees only those counts, the other checks never see them.
    """
    if selection.control_window is None:
        n_control = summaries.control.n
    else:
        sql, params = replace(selection, control_window=None).arm_where("control")
        row = execute(store.connection, f"SELECT count(*) FROM traces WHERE {sql}", params)
        n_control = int(row.fetchone()[0])
    srm = {n: c for n, c in tuning.checks.items() if policy.checks[n].kind == "sample_ratio"}
    if not srm:
        return [], n_control
    counted = replace(summaries, control=ArmSummary(arm="control", n=n_control))
    outcomes = evaluate_checks(
        policy,
        counted,
        share=1.0,
        tuning=replace(tuning, checks=srm),
        window_minutes=window_minutes,
        has_control=False,
    )
    return outcomes, n_control
