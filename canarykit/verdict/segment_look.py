"""Looks at a recorded rollout with segments: ``--by`` tables and segment plan steps.

*Segment tables* (``evaluate --by`` during a rollout). Each look of a step computes the segment
table on the step's window (the e-processes start afresh with each step, like the step's own
checks) and applies e-BH at ``segments.alpha / steps``: within a step the first look with a
discovery is a stopping time (the STOP is latched in the step state and, through the look record,
for the rest of the rollout), and the union bound over the plan's steps keeps the probability of
ever STOPping on a segment that does not regress, over the **whole rollout**, at most
``segments.alpha``.

*Segment plan steps* (:mod:`canarykit.verdict.segment_plan`). A step that targets a segment
exposes only that segment to the candidate. Each look also counts the candidate's requests
*outside* the segment in the step's window: segment routing is deterministic (by route, region,
customer group), so any such request means the router does not follow the plan — a quality
gate, like a sample-ratio failure: STOP, latched.

Replaying a look (``canarykit replay``) re-applies both at every earlier look of the step, so a
latched STOP is rebuilt bit for bit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from canarykit.traces.rollouts import RolloutRecord
from canarykit.traces.segment_selection import canary_outside_segment
from canarykit.traces.store import TraceStore
from canarykit.verdict.look import Amend, LookContext, evaluate_look, replay_look
from canarykit.verdict.policy import Policy
from canarykit.verdict.segment_decision import apply_segments, parse_by
from canarykit.verdict.segment_plan import segment_label
from canarykit.verdict.sequential import StepState
from canarykit.verdict.verdict import Verdict

__all__ = ["evaluate_segment_look", "look_amend", "replay_segment_look"]


def _latch(
    before: Verdict, after: Verdict, state: StepState, ctx: LookContext
) -> tuple[Verdict, StepState]:
    """Record in the step state (and the verdict's rollout) a STOP the hook introduced."""
    if after.decision != "STOP" or before.decision == "STOP":
        return after, state
    stop = {"look": state.looks, "reasons": list(after.reasons)}
    state = dataclasses.replace(
        state,
        decisions=(*state.decisions[:-1], "STOP"),
        stop=stop,
        proceeded_look=None if state.proceeded_look == state.looks else state.proceeded_look,
    )
    if after.rollout is not None:
        after = dataclasses.replace(
            after,
            rollout=dataclasses.replace(
                after.rollout,
                stopped={"step": ctx.step, **stop},
                proceeded_look=state.proceeded_look,
                next_action="roll back",
                next_split=None,
            ),
            forecast=(),
        )
    return after, state


def _leak_check(store: TraceStore, verdict: Verdict, ctx: LookContext) -> Verdict:
    segment = ctx.planned.segment
    if not segment or verdict.decision == "STOP":
        return verdict
    sel = verdict.selection
    outside = canary_outside_segment(
        store,
        model=ctx.model,
        candidate=ctx.candidate,
        since=str(sel["since"]),
        until=str(sel["until"]),
        segment=segment,
    )
    if not outside:
        return verdict
    reason = (
        f"segment plan: {outside} candidate requests outside {segment_label(segment)} in step "
        f"{ctx.step}: the router does not follow the segment plan (quality gate)"
    )
    return dataclasses.replace(verdict, decision="STOP", reasons=(reason,))


def look_amend(store: TraceStore, policy: Policy, by: str | Sequence[str] | None) -> Amend:
    """The look hook: the segment plan's leak check, then the ``--by`` segment table."""
    names = parse_by(by) if by is not None else None

    def amend(verdict: Verdict, state: StepState, ctx: LookContext) -> tuple[Verdict, StepState]:
        amended = _leak_check(store, verdict, ctx)
        if names is not None:
            steps = max(1, len(ctx.plan))
            per_step = dataclasses.replace(
                policy,
                segments=dataclasses.replace(policy.segments, alpha=policy.segments.alpha / steps),
            )
            amended = apply_segments(store, per_step, amended, names, segment=ctx.planned.segment)
        return _latch(verdict, amended, state, ctx)

    return amend


def _targets_segment(plan: Sequence[dict[str, object]], step: int | None) -> bool:
    return step is not None and 1 <= step <= len(plan) and bool(plan[step - 1].get("segment"))


def evaluate_segment_look(
    store: TraceStore,
    record: RolloutRecord,
    policy: Policy,
    until: str | None,
    log: bool,
    by: str | Sequence[str] | None,
) -> Verdict:
    """:func:`~canarykit.verdict.look.evaluate_look`, with the hook when it has work to do."""
    if by is None and not _targets_segment(record.plan, record.current_step.step):
        return evaluate_look(store, record, policy, until=until, log=log)
    return evaluate_look(
        store, record, policy, until=until, log=log, amend=look_amend(store, policy, by)
    )


def replay_segment_look(
    store: TraceStore, policy: Policy, verdict: Verdict, by: str | Sequence[str] | None
) -> Verdict:
    """:func:`~canarykit.verdict.look.replay_look`, with the hook when the look had it."""
    r = verdict.rollout
    plan = [dict(p) for p in r.plan] if r is not None else []
    if by is None and not _targets_segment(plan, r.step if r is not None else None):
        return replay_look(store, policy, verdict)
    return replay_look(store, policy, verdict, amend=look_amend(store, policy, by))
