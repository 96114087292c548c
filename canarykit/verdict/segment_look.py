"""Looks at a recorded rollout with segments: ``--by`` tables and segment plan steps.

*Segment tables* (``evaluate --by`` during a rollout). Each look of a step computes the segment
table on the step's window and multiplies, per (segment, check), this step's e-value by the one
the hypothesis **carried** out of the earlier steps (the value at the last look of the most
recent earlier step with a ``--by`` table on the same columns, :meth:`SegmentVerdict.carry`);
e-BH then runs at ``segments.alpha`` on the products.

Why the product is an e-process over the whole rollout: let ``E_s(t)`` be step ``s``'s
e-value at time ``t`` — a statistic dominated by a nonnegative supermartingale that starts at 1
when the step starts, on the step's own (new) requests, with tuning fixed at the step start;
under the null ("this check does not fail in this segment", in every step) it is a test
supermartingale *conditionally on everything before the step*. The end of a step is a stopping
time, so ``C_s = ∏_{s' < s} E_{s'}(end of s')`` is known when step ``s`` starts, and
``C_s·E_s(t)`` is a nonnegative supermartingale that continues ``C_{s}`` — one test
supermartingale over all steps and looks. Optional stopping makes its value at the first look
(of any step) with an e-BH discovery an e-value, so e-BH's FDR bound holds at the latched STOP
and, when no segment regresses, the probability of ever STOPping on a segment over the **whole
rollout** is at most ``segments.alpha`` — without the ``alpha / steps`` split a union bound
over steps would need (a bar ``steps`` times higher). A discovery says that the check failed in
that segment in at least one step (each step's population: a step that targets a segment sees
only that segment's requests). A step without a ``--by`` table contributes ``e = 1``.

Replay: the carried values are recorded in the look's verdict (``segments.carried``, with the
step they come from) and are an input of the replay, like the step's tuning; the earlier step's
own last look replays them (its rows' log e-values are the values carried).

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
import json
from collections.abc import Sequence

from canarykit.traces.rollouts import RolloutRecord, list_looks
from canarykit.traces.segment_selection import canary_outside_segment
from canarykit.traces.store import TraceStore
from canarykit.verdict.look import Amend, LookContext, evaluate_look, replay_look
from canarykit.verdict.policy import Policy
from canarykit.verdict.segment_decision import apply_segments, parse_by
from canarykit.verdict.segment_plan import segment_label
from canarykit.verdict.segment_rows import Carried, SegmentVerdict
from canarykit.verdict.sequential import StepState
from canarykit.verdict.verdict import Verdict

__all__ = ["carried_into", "evaluate_segment_look", "look_amend", "replay_segment_look"]


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


def carried_into(
    store: TraceStore, rollout_id: int, step: int, by: Sequence[str]
) -> tuple[Carried, int | None]:
    """The log e-values step ``step`` carries in, and the step they come from.

    The last look of the most recent earlier step whose verdict has a segment table on the
    same columns ``by``; ``((), None)`` when there is none (the first step, or no ``--by``).
    """
    last: dict[int, str] = {}
    for look in list_looks(store, rollout_id):
        if look.step < step and look.verdict_json:
            last[look.step] = look.verdict_json
    for earlier in sorted(last, reverse=True):
        raw = json.loads(last[earlier]).get("segments")
        if raw is None:
            continue
        table = SegmentVerdict.from_dict(raw)
        if table.by == tuple(by):
            return table.carry(), earlier
    return (), None


def look_amend(
    store: TraceStore,
    policy: Policy,
    by: str | Sequence[str] | None,
    carried: tuple[Carried, int | None] = ((), None),
) -> Amend:
    """The look hook: the segment plan's leak check, then the ``--by`` segment table.

    ``carried``: the earlier steps' log e-values and the step they come from
    (:func:`carried_into`), multiplied into every look's e-values; e-BH at ``segments.alpha``.
    """
    names = parse_by(by) if by is not None else None
    values, from_step = carried

    def amend(verdict: Verdict, state: StepState, ctx: LookContext) -> tuple[Verdict, StepState]:
        amended = _leak_check(store, verdict, ctx)
        if names is not None:
            amended = apply_segments(
                store,
                policy,
                amended,
                names,
                segment=ctx.planned.segment,
                carried=values,
                carried_from_step=from_step,
            )
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
    step = record.current_step.step
    if by is None and not _targets_segment(record.plan, step):
        return evaluate_look(store, record, policy, until=until, log=log)
    carried: tuple[Carried, int | None] = ((), None)
    if by is not None:
        carried = carried_into(store, record.rollout_id, step, parse_by(by))
    return evaluate_look(
        store, record, policy, until=until, log=log, amend=look_amend(store, policy, by, carried)
    )


def replay_segment_look(
    store: TraceStore, policy: Policy, verdict: Verdict, by: str | Sequence[str] | None
) -> Verdict:
    """:func:`~canarykit.verdict.look.replay_look`, with the hook when the look had it."""
    r = verdict.rollout
    plan = [dict(p) for p in r.plan] if r is not None else []
    if by is None and not _targets_segment(plan, r.step if r is not None else None):
        return replay_look(store, policy, verdict)
    seg = verdict.segments
    carried = (seg.carried, seg.carried_from_step) if seg is not None else ((), None)
    return replay_look(store, policy, verdict, amend=look_amend(store, policy, by, carried))
