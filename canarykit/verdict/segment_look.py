"""Segment verdicts at the looks of a recorded rollout (``evaluate --by`` during a rollout).

Each look of a step computes the segment table on the step's window (the e-processes start
afresh with each step, like the step's own checks) and applies e-BH at
``segments.alpha / steps``: within a step the first look with a discovery is a stopping time
(the STOP is latched in the step state and, through the look record, for the rest of the
rollout), and the union bound over the plan's steps keeps the probability of ever STOPping on a
segment that does not regress, over the **whole rollout**, at most ``segments.alpha``.

Replaying a look (``canarykit replay``) re-applies the segments at every earlier look of the
step, so a STOP latched by a segment is rebuilt bit for bit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from canarykit.traces.rollouts import RolloutRecord
from canarykit.traces.store import TraceStore
from canarykit.verdict.look import Amend, LookContext, evaluate_look, replay_look
from canarykit.verdict.policy import Policy
from canarykit.verdict.segment_decision import apply_segments, parse_by
from canarykit.verdict.sequential import StepState
from canarykit.verdict.verdict import Verdict

__all__ = ["evaluate_segment_look", "replay_segment_look", "segment_amend"]


def segment_amend(store: TraceStore, policy: Policy, by: str | Sequence[str]) -> Amend:
    """The look hook that adds segments and latches a segment STOP in the step state."""
    names = parse_by(by)

    def amend(verdict: Verdict, state: StepState, ctx: LookContext) -> tuple[Verdict, StepState]:
        steps = max(1, len(ctx.plan))
        per_step = dataclasses.replace(
            policy,
            segments=dataclasses.replace(policy.segments, alpha=policy.segments.alpha / steps),
        )
        amended = apply_segments(store, per_step, verdict, names)
        if amended.decision == "STOP" and verdict.decision != "STOP":
            stop = {"look": state.looks, "reasons": list(amended.reasons)}
            state = dataclasses.replace(
                state,
                decisions=(*state.decisions[:-1], "STOP"),
                stop=stop,
                proceeded_look=(
                    None if state.proceeded_look == state.looks else state.proceeded_look
                ),
            )
            if amended.rollout is not None:
                amended = dataclasses.replace(
                    amended,
                    rollout=dataclasses.replace(
                        amended.rollout,
                        stopped={"step": ctx.step, **stop},
                        proceeded_look=state.proceeded_look,
                    ),
                )
        return amended, state

    return amend


def evaluate_segment_look(
    store: TraceStore,
    record: RolloutRecord,
    policy: Policy,
    until: str | None,
    log: bool,
    by: str | Sequence[str],
) -> Verdict:
    """:func:`~canarykit.verdict.look.evaluate_look` with the segment hook."""
    return evaluate_look(
        store, record, policy, until=until, log=log, amend=segment_amend(store, policy, by)
    )


def replay_segment_look(
    store: TraceStore, policy: Policy, verdict: Verdict, by: str | Sequence[str]
) -> Verdict:
    """:func:`~canarykit.verdict.look.replay_look` with the segment hook at every look."""
    return replay_look(store, policy, verdict, amend=segment_amend(store, policy, by))
