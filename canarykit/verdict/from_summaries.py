"""From summaries to a :class:`Verdict`: the plan of what to summarise, and the assembly.

Whoever computed the summaries — DuckDB (:func:`canarykit.verdict.evaluate.evaluate`), Spark
(:mod:`canarykit.engines.spark`) or another engine through the public contract
(:func:`canarykit.summaries.evaluate_summaries`) — the verdict is made here, the same way:
checks → Rego decision → rollout step → forecast.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from canarykit import __version__
from canarykit.traces.summaries import Summaries, SummaryPlan
from canarykit.verdict.checks import evaluate_checks, latency_ranks
from canarykit.verdict.decide import decide
from canarykit.verdict.forecast import forecast_checks
from canarykit.verdict.policy import Policy
from canarykit.verdict.tuning import default_tuning
from canarykit.verdict.verdict import Rollout, Verdict, created_now, default_engine

__all__ = ["summary_plan", "verdict_from_summaries"]


def _utc(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def _rollout(
    policy: Policy, mode: str, observed: float | None, split: float | None, decision: str
) -> Rollout:
    steps = [s.share for s in policy.rollout]
    comparable = [s for s in steps if s < 1.0] or steps
    if split is not None:
        planned = split
        step = steps.index(split) + 1 if split in steps else None
    elif mode == "shadow" or observed is None:
        planned, step = 0.5, None  # shadow mode: both arms score every request
    else:
        planned = min(comparable, key=lambda s: (abs(s - observed), s))
        step = steps.index(planned) + 1
    next_split = None
    if decision == "PROCEED" and mode == "shadow":
        action, next_split = "start canary", steps[0]
    elif decision == "PROCEED":
        if step is not None and step < len(steps):
            action, next_split = "advance", steps[step]
        else:
            action = "complete" if step is not None else "advance"
    elif decision == "STOP":
        action = "roll back"
    else:
        action = "hold"
    return Rollout(
        observed_split=observed,
        planned_split=planned,
        step=step,
        steps=len(steps),
        next_action=action,
        next_split=next_split,
    )


def summary_plan(policy: Policy, mode: str, split: float | None = None) -> SummaryPlan:
    """What a verdict under ``policy`` needs summarised: score bins, decision threshold, the
    fairness feature sets and the latency ranks (:mod:`canarykit.summaries` documents them).

    The ranks are those of the sequences tuned for the planned ``split`` (0.5 when unknown),
    a provisional share: the verdict re-tunes for the step the observed split corresponds to.
    """
    feature_sets = tuple(
        sorted(
            {
                c.features
                for c in policy.checks.values()
                if c.kind == "fairness_gap_delta" and c.applies_to(mode)
            }
        )
    )
    # the split is planned, not observed: a provisional share for tuning, refined below
    provisional_share = split if split is not None else 0.5
    tuning = default_tuning(policy, mode, share=provisional_share)
    return SummaryPlan(
        decision_threshold=policy.decision_threshold,
        feature_sets=feature_sets,
        ranks_for=latency_ranks(policy, mode, tuning),
    )


def verdict_from_summaries(
    summaries: Summaries,
    policy: Policy,
    *,
    split: float | None = None,
    until: str | None = None,
    since: str | None = None,
    engine: dict[str, str] | None = None,
) -> Verdict:
    """Checks → decision → :class:`Verdict` from computed summaries (no data is read).

    ``until``/``since`` are the window bounds the user gave (recorded in the verdict's
    selection); ``engine`` what computed the summaries (default: DuckDB in this process).
    """
    selection = summaries.selection
    total = summaries.control.n + summaries.candidate.n
    observed = summaries.candidate.n / total if total and selection.mode == "canary" else None
    provisional = _rollout(policy, selection.mode, observed, split, "CONTINUE")
    step_window = (
        policy.rollout[provisional.step - 1].window_minutes
        if provisional.step is not None
        else policy.rollout[0].window_minutes
    )
    tuning = default_tuning(policy, selection.mode, share=provisional.planned_split)
    checks = evaluate_checks(
        policy,
        summaries,
        share=provisional.planned_split,
        tuning=tuning,
        window_minutes=step_window,
    )
    decision, reasons = decide(
        [c.to_dict() for c in checks],
        policy=policy,
        context={
            "model": selection.model,
            "baseline": selection.baseline,
            "candidate": selection.candidate,
            "mode": selection.mode,
        },
    )
    # window: the time range of the rows used; selection.until: the exclusive bound that selects
    # exactly those rows again on replay (the user's --until, else just after the last row)
    start, end = summaries.window
    effective_until = until or ((end + dt.timedelta(microseconds=1)).isoformat() if end else None)
    forecast: tuple[dict[str, Any], ...] = ()
    if decision == "CONTINUE" and start is not None and end is not None:
        minutes = (end - start).total_seconds() / 60.0
        forecast = forecast_checks(
            checks,
            tuning,
            per_minute=summaries.candidate.n / minutes if minutes > 0 else None,
            minutes_left=None,
        )
    return Verdict(
        decision=decision,
        reasons=tuple(reasons),
        model=selection.model,
        baseline=selection.baseline,
        candidate=selection.candidate,
        mode=selection.mode,
        window={"start": _utc(start), "end": _utc(end)},
        checks=tuple(checks),
        policy_digest=policy.digest,
        data_digest=summaries.data_digest,
        canarykit_version=__version__,
        created_at=created_now(),
        rollout=_rollout(policy, selection.mode, observed, split, decision),
        selection={
            "model": selection.model,
            "baseline": selection.baseline,
            "candidate": selection.candidate,
            "until": effective_until,
            "split": split,
            **({"since": since} if since is not None else {}),
        },
        forecast=forecast,
        engine=engine or default_engine(),
    )
