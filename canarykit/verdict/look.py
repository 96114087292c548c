"""A look at a recorded rollout: the current step's window, its plan, its carried state.

``evaluate`` on a store whose model has an open rollout is a *look* (DESIGN.md §9):

1. the window is the current step's, ``[step start, until)``, compared against the step's
   **planned** split (the sample-ratio check tests the plan; the error-ratio e-process assumes
   it), never against the split the data happens to show;
2. the step's tuning (:mod:`canarykit.verdict.tuning`) is fixed at its first look from the
   traffic *before* the step started, and recorded;
3. the fresh checks are combined with the step's state (:mod:`canarykit.verdict.sequential`):
   running intersections, running minimum p-values, failed checks stay failed;
4. a STOP is latched for the rest of the rollout; a PROCEED holds for the rest of the step
   unless a check fails; at a 100 % step only the absolute checks run (plus the relative
   latency and error checks against a control window recorded before the step, when the plan
   asks for one) and the sample-ratio check, which counts the control rows of the step's own
   window against the planned 100 % (:func:`canarykit.stats.srm.full_step_srm_test`; they
   never enter the absolute checks);
5. a CONTINUE carries a forecast of the time to decision; the look, its state and its verdict
   are recorded atomically with the decision log.

``replay_look`` rebuilds look ``k`` from looks ``1..k`` (their ``until`` times are in the
verdict) bit for bit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from canarykit import __version__
from canarykit.errors import InvalidInputError
from canarykit.stats.auc_histogram import delong_from_histogram
from canarykit.traces.arrival import as_of
from canarykit.traces.decision_log import insert_decision
from canarykit.traces.look_cache import (
    CachedLook,
    ingest_seq,
    is_fresh,
    load_cached,
    plan_key,
    save_cached,
)
from canarykit.traces.rank_values import StaleCountsError
from canarykit.traces.rollouts import RolloutRecord, StepRecord, last_look, record_look
from canarykit.traces.segment_selection import restrict_to_segment
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import (
    ArmSummary,
    Selection,
    Summaries,
    SummaryPlan,
    summarize_since,
)
from canarykit.traces.traffic import latest_timestamp, traffic_before
from canarykit.traces.window import parse_utc_timestamp
from canarykit.verdict.checks import CheckOutcome, evaluate_checks, latency_ranks
from canarykit.verdict.decide import decide
from canarykit.verdict.forecast import forecast_checks
from canarykit.verdict.full_step import full_step_srm, with_full_step_srm
from canarykit.verdict.policy import Policy, RolloutStep, parse_steps
from canarykit.verdict.sequential import StepState, carry_checks
from canarykit.verdict.tuning import (
    StepTuning,
    TrafficProfile,
    applicable_checks,
    step_tuning,
)
from canarykit.verdict.verdict import Rollout, Verdict, created_now

__all__ = ["LookContext", "compute_look", "evaluate_look", "plan_of", "replay_look", "tune_step"]

Amend = Callable[[Verdict, StepState, "LookContext"], tuple[Verdict, StepState]]
"""A hook that may change a look's verdict and state before they are recorded."""

MIN_ROWS_FOR_RATE = 100
"""Requests before a step below which its traffic rate is not measured (too few to trust)."""
ONE_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class LookContext:
    """Everything a look needs besides the traces and the carried state."""

    model: str
    baseline: str
    candidate: str
    rollout_id: int
    step: int
    plan: tuple[RolloutStep, ...]
    step_started_at: dt.datetime
    tuning: StepTuning

    @property
    def planned(self) -> RolloutStep:
        """The plan's entry for this step."""
        return self.plan[self.step - 1]


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _utc(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def _parse(value: str, *, name: str) -> dt.datetime:
    return dt.datetime.fromisoformat(parse_utc_timestamp(value, name=name))


def plan_of(record: RolloutRecord) -> tuple[RolloutStep, ...]:
    """The rollout's plan as policy steps (validated again: the record is data)."""
    errors: list[str] = []
    steps = parse_steps(list(record.plan), errors, where=f"rollout {record.rollout_id} plan")
    if errors:
        raise InvalidInputError("; ".join(errors))
    return steps


def tune_step(
    store: TraceStore, policy: Policy, record: RolloutRecord, step: StepRecord
) -> StepTuning:
    """Tune a step from its plan and the traffic *before* it started (or a declared rate)."""
    plan = plan_of(record)
    planned = plan[step.step - 1]
    feature = policy.sensitive_features[0] if policy.sensitive_features else None
    before = traffic_before(
        store, record.model, step.started_at, minutes=planned.window_minutes, feature=feature
    )
    rate, source = step.rate or record.rate, "declared"
    if rate is None and before.rows >= MIN_ROWS_FOR_RATE and before.span_seconds >= 60.0:
        rate, source = before.rate_per_second, "traffic measured before the step"
    if rate is None and policy.expected_rate is not None:
        rate, source = policy.expected_rate, "policy expected_rate"
    auc = None
    if before.control_positives.sum() >= 30 and before.control_negatives.sum() >= 30:
        auc = float(delong_from_histogram(before.control_positives, before.control_negatives)[0])
    profile = TrafficProfile(
        rate=rate,
        source=source,
        label_fraction=before.labelled / before.rows if before.rows else None,
        auc=auc,
        prevalence=before.positives / before.labelled if before.labelled else None,
        groups=before.groups,
    )
    tuning = step_tuning(
        policy,
        "canary",
        share=planned.share,
        window_minutes=planned.window_minutes,
        rate=None if rate is None else round(rate, 6),
        step=step.step,
        steps=plan,
        profile=profile,
    )
    return with_full_step_srm(policy, plan, planned, tuning)


def _next(ctx: LookContext, decision: str) -> tuple[str, float | None]:
    if decision == "STOP":
        return "roll back", None
    if decision != "PROCEED":
        return "hold", None
    if ctx.step < len(ctx.plan):
        return "advance", ctx.plan[ctx.step].share
    return "complete", None


def compute_look(
    store: TraceStore,
    policy: Policy,
    ctx: LookContext,
    state: StepState,
    until: dt.datetime,
    previous: CachedLook | None = None,
) -> tuple[Verdict, StepState, CachedLook]:
    """The verdict of one look, the state after it and its figures (no side effects).

    ``previous`` — the figures an earlier look of the step left — is used when still fresh
    (:func:`canarykit.traces.look_cache.is_fresh`): then only rows after its ``until`` are
    summarised. The verdict is the same either way.
    """
    planned = ctx.planned
    since = ctx.step_started_at
    control_window = None
    if not planned.has_control and planned.control_window_minutes is not None:
        begin = since - dt.timedelta(minutes=planned.control_window_minutes)
        control_window = (_iso(begin), _iso(since))
    selection = Selection(
        model=ctx.model,
        baseline=ctx.baseline,
        candidate=ctx.candidate,
        mode="canary",
        since=_iso(since),
        until=_iso(until),
        control_window=control_window,
    )
    selection = restrict_to_segment(selection, planned.segment)  # a step may target a segment
    names = set(ctx.tuning.checks)
    feature_sets = tuple(
        sorted(
            {
                c.features
                for c in policy.checks.values()
                if c.kind == "fairness_gap_delta" and c.name in names
            }
        )
    )
    plan = SummaryPlan(
        decision_threshold=policy.decision_threshold,
        feature_sets=feature_sets,
        ranks_for=latency_ranks(policy, "canary", ctx.tuning),
    )
    summaries, figures = _summaries(store, selection, plan, until, previous)
    has_control = planned.has_control or control_window is not None
    tuning, checked = ctx.tuning, summaries
    full_step: list[CheckOutcome] = []
    in_window_control = summaries.control.n
    if not planned.has_control:
        full_step, in_window_control = full_step_srm(
            store, policy, selection, summaries, tuning, planned.window_minutes
        )
        # a step tuned before the 100 % step had its sample-ratio check (an older record)
        # keeps its old reading, so that its looks replay as they were recorded
        if full_step:
            skip = {c.name for c in full_step}
            tuning = replace(
                tuning, checks={n: c for n, c in tuning.checks.items() if n not in skip}
            )
            if control_window is None:  # the window's control rows are the check's alone
                checked = replace(summaries, control=ArmSummary(arm="control"))
    fresh = evaluate_checks(
        policy,
        checked,
        share=planned.share,
        tuning=tuning,
        window_minutes=planned.window_minutes,
        has_control=has_control,
    )
    if full_step:
        order = {name: i for i, name in enumerate(policy.checks)}
        fresh = sorted([*fresh, *full_step], key=lambda c: order[c.name])
    carried, check_states = carry_checks(state, fresh, policy)
    decision, reasons = decide(
        [c.to_dict() for c in carried],
        policy=policy,
        context={
            "model": ctx.model,
            "baseline": ctx.baseline,
            "candidate": ctx.candidate,
            "mode": "canary",
            "rollout": {"step": ctx.step, "steps": len(ctx.plan), "share": planned.share},
        },
    )
    if state.stop is not None:
        decision, reasons = "STOP", tuple(state.stop["reasons"])
    elif decision == "CONTINUE" and state.proceeded_look is not None:
        decision = "PROCEED"
        reasons = (
            f"step {ctx.step} PROCEEDed at look {state.proceeded_look} (until "
            f"{state.untils[state.proceeded_look - 1]}Z); a PROCEED holds for the rest of the "
            "step unless a check fails",
        )
    new_state = state.after(
        until=_iso(until),
        decision=decision,
        checks=check_states,
        stop_reasons=reasons if decision == "STOP" else None,
        ingest=figures.seq,
    )
    minutes_in = (until - since).total_seconds() / 60.0
    minutes_left = planned.window_minutes - minutes_in
    total = in_window_control + summaries.candidate.n
    observed = (
        summaries.candidate.n / total if total and (planned.has_control or full_step) else None
    )
    action, next_split = _next(ctx, decision)
    forecast: tuple[dict[str, Any], ...] = ()
    if decision == "CONTINUE":
        per_minute = summaries.candidate.n / minutes_in if minutes_in > 0 else None
        forecast = forecast_checks(
            carried, ctx.tuning, per_minute=per_minute, minutes_left=minutes_left
        )
    skipped = tuple(
        c.name for c in applicable_checks(policy, "canary", None) if c.name not in names
    )
    if planned.has_control:
        control = "concurrent control traffic"
    elif control_window is not None:
        control = (
            f"control recorded {planned.control_window_minutes:g} minutes before the step "
            f"({control_window[0]}Z .. {control_window[1]}Z); beware daily seasonality"
        )
    else:
        control = "none (100 % step): absolute checks only"
    if not planned.has_control and full_step:
        control += (
            f"; {in_window_control:,} control requests in the step's window, counted by the "
            "sample-ratio check only"
        )
    start, end = summaries.window
    rollout = Rollout(
        observed_split=observed,
        planned_split=planned.share,
        step=ctx.step,
        steps=len(ctx.plan),
        next_action=action,
        next_split=next_split,
        rollout_id=ctx.rollout_id,
        look=new_state.looks,
        step_started_at=_utc(since),
        window_minutes=planned.window_minutes,
        minutes_in_step=round(minutes_in, 4),
        minutes_left=round(minutes_left, 4),
        control=control,
        not_applicable=skipped,
        plan=tuple(s.to_dict() for s in ctx.plan),
        look_untils=new_state.untils,
        look_ingests=new_state.ingests,
        tuning=ctx.tuning.to_dict(),
        proceeded_look=new_state.proceeded_look,
        stopped=({"step": ctx.step, **new_state.stop} if new_state.stop is not None else None),
    )
    verdict = Verdict(
        decision=decision,
        reasons=tuple(reasons),
        model=ctx.model,
        baseline=ctx.baseline,
        candidate=ctx.candidate,
        mode="canary",
        window={"start": _utc(start), "end": _utc(end)},
        checks=tuple(carried),
        policy_digest=policy.digest,
        data_digest=summaries.data_digest,
        canarykit_version=__version__,
        created_at=created_now(),
        rollout=rollout,
        selection={
            "model": ctx.model,
            "baseline": ctx.baseline,
            "candidate": ctx.candidate,
            "since": _iso(since),
            "until": _iso(until),
            "split": planned.share,
            "control_window": list(control_window) if control_window else None,
            "rollout_id": ctx.rollout_id,
            "step": ctx.step,
            "look": new_state.looks,
        },
        forecast=forecast,
    )
    return verdict, new_state, figures


def _summaries(
    store: TraceStore,
    selection: Selection,
    plan: SummaryPlan,
    until: dt.datetime,
    previous: CachedLook | None,
) -> tuple[Summaries, CachedLook]:
    """The look's summaries, merged with ``previous`` when it is still fresh."""
    con = store.connection
    seq = ingest_seq(con)
    usable = previous is not None and previous.until <= until
    if previous is not None and usable and is_fresh(con, previous, selection, plan):
        try:
            summaries, figures = summarize_since(
                store, selection, plan, previous.figures, _iso(previous.until)
            )
            return summaries, CachedLook(until, seq, plan_key(plan), figures)
        except StaleCountsError:
            pass  # rows changed outside canarykit: read the whole window
    summaries, figures = summarize_since(store, selection, plan, None, None)
    return summaries, CachedLook(until, seq, plan_key(plan), figures)


LOOK_AHEAD_GRACE = dt.timedelta(hours=1)
"""How far a look's ``--until`` may lie beyond both the clock and the model's latest trace."""


def _check_not_ahead(store: TraceStore, record: RolloutRecord, moment: dt.datetime) -> None:
    """Refuse a look whose ``--until`` lies ahead of the clock and of every stored trace.

    A look is recorded and every later look of the step must move forward from it: a typo'd
    year (``--until 2036-…``) would latch the step to 2036 until someone aborts the rollout.
    The clock alone is not the rule (replayed or synthetic traffic may be dated later than
    today); the bar is the later of the clock and the model's latest trace, plus an hour.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if moment <= now + LOOK_AHEAD_GRACE:
        return
    latest = latest_timestamp(store, record.model)
    if latest is not None and moment <= latest + LOOK_AHEAD_GRACE:
        return
    newest = "no traces" if latest is None else f"its latest trace is at {latest.isoformat()}Z"
    raise InvalidInputError(
        f"--until {_utc(moment)}: ahead of the clock ({now:%Y-%m-%dT%H:%M}Z) and of the "
        f"traces of {record.model} ({newest}); a look is recorded and later looks must move "
        "forward from it, so it cannot be taken ahead of its data"
    )


def evaluate_look(
    store: TraceStore,
    record: RolloutRecord,
    policy: Policy,
    *,
    until: str | None,
    log: bool,
    amend: Amend | None = None,
) -> Verdict:
    """Evaluate the current step of an open rollout (module docstring) and record the look.

    ``amend(verdict, state, ctx)``, when given, may change the look's verdict and state before
    they are recorded (segment verdicts, :mod:`canarykit.verdict.segment_look`).
    """
    step = record.current_step
    recorded = last_look(store, record.rollout_id, step=step.step)
    state = StepState.from_dict(recorded.state) if recorded is not None else StepState.empty()
    last = _parse(state.untils[-1], name="previous look") if state.untils else None
    if until is None:
        latest = latest_timestamp(store, record.model, since=step.started_at)
        moment = latest + ONE_MICROSECOND if latest is not None else step.started_at
        if last is not None:
            moment = max(moment, last)
    else:
        moment = _parse(until, name="--until")
        if moment < step.started_at:
            raise InvalidInputError(
                f"--until {_utc(moment)}: before step {step.step} of rollout "
                f"{record.rollout_id} started ({_utc(step.started_at)})"
            )
        if last is not None and moment < last:
            raise InvalidInputError(
                f"--until {_utc(moment)}: older than the previous look of step {step.step} "
                f"(until {_utc(last)}); looks of a step must move forward in time"
            )
        _check_not_ahead(store, record, moment)
    fixed = step.tuning is not None
    tuning = (
        StepTuning.from_dict(step.tuning) if step.tuning else tune_step(store, policy, record, step)
    )
    ctx = LookContext(
        model=record.model,
        baseline=record.baseline,
        candidate=record.candidate,
        rollout_id=record.rollout_id,
        step=step.step,
        plan=plan_of(record),
        step_started_at=step.started_at,
        tuning=tuning,
    )
    previous = load_cached(store.connection, record.rollout_id, step.step)
    verdict, new_state, figures = compute_look(store, policy, ctx, state, moment, previous)
    if amend is not None:
        verdict, new_state = amend(verdict, new_state, ctx)
    if log and not store.read_only:
        verdict_json = verdict.to_json()

        def write_with_look(con: Any) -> None:  # the store's connection, in the look's transaction
            insert_decision(con, verdict.to_dict(), verdict_json, policy.files)
            save_cached(con, record.rollout_id, step.step, figures)

        record_look(
            store,
            rollout_id=record.rollout_id,
            step=step.step,
            until=moment,
            decision=verdict.decision,
            state=new_state.to_dict(),
            verdict_json=verdict_json,
            tuning=None if fixed else tuning.to_dict(),
            stop_reasons=verdict.reasons if verdict.decision == "STOP" else None,
            complete=verdict.decision == "PROCEED" and step.step == len(ctx.plan),
            also=write_with_look,
        )
    return verdict


def replay_look(
    store: TraceStore, policy: Policy, verdict: Verdict, amend: Amend | None = None
) -> Verdict:
    """Recompute a look from looks ``1..k`` of its step (their ``until`` times are recorded)."""
    r = verdict.rollout
    if r is None or r.rollout_id is None or r.step is None or not r.look_untils:
        raise InvalidInputError("verdict: not a look at a recorded rollout")
    if r.tuning is None or r.step_started_at is None:
        raise InvalidInputError("verdict: rollout look without its tuning or step start")
    errors: list[str] = []
    plan = parse_steps([dict(p) for p in r.plan], errors, where="verdict rollout.plan")
    if errors:
        raise InvalidInputError("; ".join(errors))
    ctx = LookContext(
        model=verdict.model,
        baseline=verdict.baseline,
        candidate=verdict.candidate,
        rollout_id=r.rollout_id,
        step=r.step,
        plan=plan,
        step_started_at=_parse(r.step_started_at, name="rollout.step_started_at"),
        tuning=StepTuning.from_dict(r.tuning),
    )
    state = StepState.empty()
    replayed = verdict
    figures: CachedLook | None = None  # each look reads only the rows after the one before
    # each look read as of the last ingest it saw (late batches and labels came after it);
    # a look recorded before looks kept their ingests reads the store as it is
    complete = len(r.look_ingests) == len(r.look_untils)
    ingests: tuple[int | None, ...] = r.look_ingests if complete else (None,) * len(r.look_untils)
    for until, ingest in zip(r.look_untils, ingests, strict=True):
        moment = _parse(until, name="look")
        with as_of(store.connection, ingest):
            replayed, state, figures = compute_look(store, policy, ctx, state, moment, figures)
            if amend is not None:
                replayed, state = amend(replayed, state, ctx)
    if not complete and replayed.rollout is not None:
        # the record's partial list: not a figure of the look, nothing to recompute
        replayed = replace(replayed, rollout=replace(replayed.rollout, look_ingests=r.look_ingests))
    return replayed
