"""From summaries to a verdict, whoever computed them (:mod:`canarykit.summaries`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from canarykit.errors import InvalidInputError
from canarykit.traces.summaries import Summaries, SummaryPlan
from canarykit.verdict.from_summaries import summary_plan, verdict_from_summaries
from canarykit.verdict.policy import Policy, load_policy
from canarykit.verdict.verdict import Verdict

__all__ = ["evaluate_summaries", "requested_ranks", "summary_plan"]


def requested_ranks(
    plan: SummaryPlan, n_latency_control: int, n_latency_candidate: int
) -> tuple[list[int], list[int]]:
    """The 1-based latency ranks a producer must return per arm (sorted, distinct).

    Examples
    --------
    >>> from canarykit.verdict.policy import load_policy
    >>> control, candidate = requested_ranks(summary_plan(load_policy(), "canary"), 5000, 500)
    >>> 1 <= min(candidate) and max(candidate) <= 500
    True
    """
    if plan.ranks_for is None:
        return [], []
    control, candidate = plan.ranks_for(n_latency_control, n_latency_candidate)
    return sorted({int(r) for r in control}), sorted({int(r) for r in candidate})


def evaluate_summaries(
    summaries: Summaries,
    policy: Policy | str | Path | None = None,
    *,
    split: float | None = None,
    engine: dict[str, str] | None = None,
) -> Verdict:
    """The verdict of ``policy`` on ``summaries`` (no data is read).

    Parameters
    ----------
    summaries : Summaries
        From any engine (:func:`canarykit.summaries.from_dict` for a document).
    policy : Policy or path, optional
        Default: the shipped policy.
    split : float, optional
        Planned canary share; default: the rollout step closest to the observed one.
    engine : dict, optional
        What computed the summaries (recorded in the verdict), e.g. ``{"name": "spark"}``.

    Raises
    ------
    InvalidInputError
        The summaries lack a latency rank or a feature set the policy needs (named).
    """
    chosen = policy if isinstance(policy, Policy) else load_policy(policy)
    plan = summary_plan(chosen, summaries.selection.mode, split)
    for arm, want in zip(
        (summaries.control, summaries.candidate),
        requested_ranks(plan, summaries.control.n_latency, summaries.candidate.n_latency),
        strict=True,
    ):
        missing = sorted(set(want) - {int(r) for r in arm.latency_ranks})
        if missing:
            raise InvalidInputError(
                f"summaries.arms.{'control' if arm is summaries.control else 'candidate'}"
                f".latency_order_statistics: missing rank(s) {missing[:5]} the policy asks for "
                "(canarykit.summaries.requested_ranks)"
            )
    absent = set(plan.feature_sets) - set(summaries.plan.feature_sets)
    absent -= {fs for fs in absent if set(fs) & set(summaries.missing_columns)}
    if absent:
        raise InvalidInputError(
            f"summaries.plan.feature_sets: lacks {sorted(absent)[0]} (the policy's fairness "
            "checks need its confusion counts)"
        )
    if summaries.plan.ranks_for is None:
        summaries = replace(summaries, plan=replace(summaries.plan, ranks_for=plan.ranks_for))
    return verdict_from_summaries(
        summaries,
        chosen,
        split=split,
        until=summaries.selection.until,
        since=summaries.selection.since,
        engine=engine,
    )
