"""Looks at a recorded rollout with segments: ``--by`` tables and segment plan steps.

*Segment tables* (``evaluate --by`` during a rollout). Each look of a step computes the segment
table on the step's window and multiplies, per (segment, check), this step's e-value by the one
the hypothesis **carried** out of the earlier steps: each earlier step's segment e-values on its
*whole* window — from its start to the start of the next step, i.e. the e-process at the moment
the rollout advanced, whatever looks were or were not taken with ``--by`` during it — chained
step by step (:func:`carried_into`, :meth:`SegmentVerdict.carry`); e-BH then runs at
``segments.alpha`` on the products.

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
only that segment's requests). Taking the earlier steps' values at their ends (a stopping time),
not at the last look that happened to ask for ``--by``, matters: a value chosen after seeing it
(e.g. dropping a step whose e-value fell) would not be an e-value.

Replay: the carried values and the earlier steps' windows are recorded in the look's verdict
(``segments.carried``); replay recomputes the values from the stored traces over those windows
and compares them, like every other field.

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
import datetime as dt
import itertools
from collections.abc import Sequence

from canarykit.traces.rollouts import RolloutRecord
from canarykit.traces.segment_figures import Keep
from canarykit.traces.segment_selection import canary_outside_segment, restrict_to_segment
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import Selection
from canarykit.verdict.look import Amend, LookContext, evaluate_look, replay_look
from canarykit.verdict.policy import Policy, RolloutStep
from canarykit.verdict.segment_decision import apply_segments, parse_by
from canarykit.verdict.segment_plan import segment_label
from canarykit.verdict.segment_rows import Carried
from canarykit.verdict.segments import evaluate_segments
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


Window = tuple[int, str, str]
"""An earlier step's whole window: ``(step, start, end)`` (ISO, naive UTC), ``end`` the start of
the step that followed it."""
CarryIn = tuple[Carried, int | None, tuple[Window, ...]]
"""(carried log e-values, the step they come from, the earlier steps' windows)."""


def carried_into(
    store: TraceStore,
    policy: Policy,
    verdict: Verdict,
    plan: Sequence[RolloutStep],
    windows: Sequence[Window],
    by: Sequence[str],
    *,
    keep: Keep | None = None,
) -> CarryIn:
    """The log e-values a step carries in from the steps before it.

    Parameters
    ----------
    store, policy : the look's
    verdict : Verdict
        The look's verdict (model, versions).
    plan : sequence of RolloutStep
        The rollout's plan.
    windows : sequence of (int, str, str)
        ``(step, start, end)`` of every step entered before this one, in order: the step's
        whole window ``[start, end)`` (ISO, naive UTC), ``end`` the start of the next step.
    by : sequence of str
        Segment columns.
    keep : Keep, optional
        The look's rollout (its ``step`` is ignored): each earlier step's segment summaries
        are kept under that step, so its whole window is read once, not at every look.

    Returns
    -------
    CarryIn
        ``((), None, ())`` at the first step. Otherwise step 1's segment table on its whole
        window, step 2's on its window with step 1's values carried in, … — the last one's
        :meth:`SegmentVerdict.carry`.
    """
    carried: Carried = ()
    from_step: int | None = None
    for step, since, until in windows:
        planned = plan[step - 1]
        control_window = None
        if not planned.has_control and planned.control_window_minutes is not None:
            start = dt.datetime.fromisoformat(since)
            begin = start - dt.timedelta(minutes=planned.control_window_minutes)
            control_window = (begin.isoformat(), since)
        selection = restrict_to_segment(
            Selection(
                model=verdict.model,
                baseline=verdict.baseline,
                candidate=verdict.candidate,
                mode="canary",
                since=since,
                until=until,
                control_window=control_window,
            ),
            planned.segment,
        )
        table = evaluate_segments(
            store,
            policy,
            selection,
            by=by,
            share=planned.share,
            has_control=planned.has_control or control_window is not None,
            carried=carried,
            carried_from_step=from_step,
            keep=None if keep is None else dataclasses.replace(keep, step=step),
        )
        carried, from_step = table.carry(), step
    return carried, from_step, tuple((int(k), str(a), str(b)) for k, a, b in windows)


def look_amend(
    store: TraceStore,
    policy: Policy,
    by: str | Sequence[str] | None,
    windows: Sequence[Window] = (),
    *,
    kept: bool = False,
    write: bool = False,
) -> Amend:
    """The look hook: the segment plan's leak check, then the ``--by`` segment table.

    ``windows``: the earlier steps' whole windows; their segment e-values are carried into
    every look's (:func:`carried_into`, computed once); e-BH at ``segments.alpha``.
    ``kept``: segment summaries are kept from look to look in the store (read, and written
    when ``write``: a recorded look); a replay passes neither and reads every window.
    """
    names = parse_by(by) if by is not None else None
    memo: dict[str, CarryIn] = {}

    def amend(verdict: Verdict, state: StepState, ctx: LookContext) -> tuple[Verdict, StepState]:
        amended = _leak_check(store, verdict, ctx)
        if names is not None:
            keep = Keep(rollout_id=ctx.rollout_id, step=ctx.step, write=write) if kept else None
            if "in" not in memo:
                memo["in"] = carried_into(
                    store, policy, verdict, ctx.plan, windows, names, keep=keep
                )
            values, from_step, spans = memo["in"]
            amended = apply_segments(
                store,
                policy,
                amended,
                names,
                segment=ctx.planned.segment,
                carried=values,
                carried_from_step=from_step,
                carried_windows=spans,
                keep=keep,
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
    entered = sorted((s.step, s.started_at.isoformat()) for s in record.steps if s.step <= step)
    windows = tuple((a[0], a[1], b[1]) for a, b in itertools.pairwise(entered))
    write = log and not store.read_only
    amend = look_amend(store, policy, by, windows, kept=True, write=write)
    return evaluate_look(store, record, policy, until=until, log=log, amend=amend)


def replay_segment_look(
    store: TraceStore, policy: Policy, verdict: Verdict, by: str | Sequence[str] | None
) -> Verdict:
    """:func:`~canarykit.verdict.look.replay_look`, with the hook when the look had it."""
    r = verdict.rollout
    plan = [dict(p) for p in r.plan] if r is not None else []
    if by is None and not _targets_segment(plan, r.step if r is not None else None):
        return replay_look(store, policy, verdict)
    windows = verdict.segments.carried_windows if verdict.segments is not None else ()
    return replay_look(store, policy, verdict, amend=look_amend(store, policy, by, windows))
