"""Whole rollouts, simulated through the product: traces → store → rollout → a look every 5 min.

Each simulated rollout generates the traffic of a real one (``canarykit.traces.generate``):
control-only traffic before it starts, then each step of the plan at its share for its window,
requests arriving at ``rate`` per second. The traces go into an in-memory trace store; the
rollout is started and stepped with :mod:`canarykit.rollout` on the plan's schedule (traffic
moves when the window ends, whatever the verdict, as an operator following the plan would) and
``evaluate`` is called every ``look_every`` minutes — exactly the batch job of DESIGN.md §9.
Scenarios change the candidate from a given step on (errors ×3, p99 +30 %) or break the router
(25 % of traffic while the plan says 5 %).

A rollout that STOPs keeps being looked at until its step ends (every later look must repeat
the STOP) and then ends; a rollout never STOPped runs through every step.

``validation_sections(scale, seed)`` feeds ``make validate`` (``docs/validation.md``).

Examples
--------
>>> out = simulate_rollout(SCENARIOS["errors_x3_at_25"], rate=50.0, seed=3)
>>> out.first_stop[0], "error_rate_delta" in out.stop_checks
(2, True)
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyarrow as pa

from canarykit.rollout import start_rollout, step_rollout
from canarykit.traces.generate import SCENARIOS as TRACE_SCENARIOS
from canarykit.traces.generate import TraceScenario, generate_traces
from canarykit.traces.store import TraceStore
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.policy import Policy, RolloutStep, load_policy

__all__ = [
    "SCENARIOS",
    "RolloutOutcome",
    "RolloutScenario",
    "RolloutSummary",
    "simulate_rollout",
    "simulate_rollouts",
    "validation_sections",
]

START = dt.datetime(2026, 3, 2, 9, 0)
BASELINE_MINUTES = 30.0
MODEL = "risk-default"


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutScenario:
    """What the candidate (or the router) does from step ``from_step`` on."""

    name: str
    label: str
    from_step: int = 1
    error_factor: float = 1.0
    latency_factor: float = 1.0
    actual_share: float | None = None  # the router's share (None: as planned)


SCENARIOS: dict[str, RolloutScenario] = {
    s.name: s
    for s in (
        RolloutScenario(name="aa", label="A/A: candidate identical to control"),
        RolloutScenario(
            name="errors_x3_at_25",
            label="errors ×3 from the 25 % step",
            from_step=2,
            error_factor=3.0,
        ),
        RolloutScenario(
            name="p99_plus30_at_25",
            label="latency ×1.3 (p99 +30 %) from the 25 % step",
            from_step=2,
            latency_factor=1.3,
        ),
        RolloutScenario(
            name="router_25_at_5",
            label="router sends 25 % while the plan says 5 %",
            actual_share=0.25,
        ),
    )
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutOutcome:
    """Decisions of one simulated rollout: ``decisions[step - 1][look - 1]``."""

    scenario: str
    decisions: tuple[tuple[str, ...], ...]
    first_stop: tuple[int, int] | None
    stop_checks: tuple[str, ...] = ()

    def first(self, decision: str, step: int) -> int | None:
        """First look of ``step`` with ``decision`` (``None`` if none)."""
        looks = self.decisions[step - 1] if step <= len(self.decisions) else ()
        return next((i + 1 for i, d in enumerate(looks) if d == decision), None)

    @property
    def monotone(self) -> bool:
        """No PROCEED → CONTINUE within a step; nothing after a STOP but STOP."""
        stopped = False
        for looks in self.decisions:
            proceeded = False
            for d in looks:
                if stopped and d != "STOP":
                    return False
                if proceeded and d == "CONTINUE":
                    return False
                stopped |= d == "STOP"
                proceeded |= d == "PROCEED"
        return True


def rollout_traffic(
    scenario: RolloutScenario,
    plan: Sequence[RolloutStep],
    *,
    rate: float,
    seed: int,
) -> pa.Table:
    rng = np.random.default_rng(seed)
    tables = []
    base = TRACE_SCENARIOS["identical"]
    moments = [(0, START - dt.timedelta(minutes=BASELINE_MINUTES), BASELINE_MINUTES, 0.0)]
    at = START
    for i, step in enumerate(plan, start=1):
        moments.append((i, at, step.window_minutes, step.share))
        at += dt.timedelta(minutes=step.window_minutes)
    for i, begin, minutes, share in moments:
        affected = i >= scenario.from_step and i > 0
        spec = TraceScenario(
            name=f"{scenario.name}{i}",
            error_factor=scenario.error_factor if affected else 1.0,
            latency_factor=scenario.latency_factor if affected else 1.0,
            auc=base.auc,
        )
        actual = share
        if scenario.actual_share is not None and i == scenario.from_step and share < 1.0:
            actual = scenario.actual_share
        n = int(rng.poisson(rate * 60.0 * minutes))
        if n == 0:
            continue
        tables.append(
            generate_traces(
                spec,
                n_requests=n,
                canary_share=actual,
                seed=int(rng.integers(2**31)),
                start=begin.isoformat(),
                duration_minutes=minutes,
                model=MODEL,
            )
        )
    return pa.concat_tables(tables)


def simulate_rollout(
    scenario: RolloutScenario,
    *,
    rate: float = 100.0,
    look_every: float = 5.0,
    seed: int = 0,
    policy: Policy | None = None,
) -> RolloutOutcome:
    """Run one rollout of ``scenario`` through the product (module docstring)."""
    policy = policy or load_policy()
    plan = policy.rollout
    table = rollout_traffic(scenario, plan, rate=rate, seed=seed)
    decisions: list[tuple[str, ...]] = []
    first_stop: tuple[int, int] | None = None
    stop_checks: tuple[str, ...] = ()
    with TraceStore() as store:
        store.ingest(table)
        start_rollout(store, model=MODEL, policy=policy, at=START, candidate="v2.3.0")
        begin = START
        for i, step in enumerate(plan, start=1):
            if i > 1:
                step_rollout(store, model=MODEL, to=i, at=begin)
            looks = []
            n_looks = max(1, math.floor(step.window_minutes / look_every + 1e-9))
            for k in range(1, n_looks + 1):
                until = begin + dt.timedelta(minutes=look_every * k)
                verdict = evaluate(store, until=until.isoformat(), log=True)
                looks.append(verdict.decision)
                if verdict.decision == "STOP" and first_stop is None:
                    first_stop = (i, k)
                    stop_checks = tuple(c.name for c in verdict.checks if c.status == "fail")
            decisions.append(tuple(looks))
            begin += dt.timedelta(minutes=step.window_minutes)
            if first_stop is not None:
                break
    return RolloutOutcome(
        scenario=scenario.name,
        decisions=tuple(decisions),
        first_stop=first_stop,
        stop_checks=stop_checks,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutSummary:
    """Rates over simulated rollouts of one scenario (binomial standard errors)."""

    scenario: str
    rollouts: int
    ever_stop: float
    stop_by_step: dict[int, float]
    proceed_by_end: dict[int, float]
    stop_within_two_looks: float
    non_monotone: int
    stop_checks: dict[str, int] = field(default_factory=dict)

    def se(self, rate: float) -> float:
        """Binomial standard error of a rate over the rollouts (floored at one event)."""
        p = min(max(rate, 1.0 / self.rollouts), 1.0 - 1.0 / self.rollouts)
        return math.sqrt(p * (1.0 - p) / self.rollouts)


def simulate_rollouts(
    scenario: RolloutScenario,
    *,
    rollouts: int,
    rate: float = 100.0,
    seed: int = 0,
    policy: Policy | None = None,
    workers: int = 1,
) -> RolloutSummary:
    """Simulate ``rollouts`` independent rollouts of ``scenario`` and summarise them.

    ``workers > 1`` runs them in that many processes (each rollout has its own seed, so the
    result does not depend on ``workers``).
    """
    policy = policy or load_policy()
    seeds = [seed * 1_000_003 + r for r in range(rollouts)]
    run = partial(simulate_rollout, scenario, rate=rate, policy=policy)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(_run_seeded, [(run, s) for s in seeds], chunksize=1))
    else:
        outcomes = [run(seed=s) for s in seeds]
    steps = len(policy.rollout)
    stops: dict[str, int] = {}
    for o in outcomes:
        for name in o.stop_checks:
            stops[name] = stops.get(name, 0) + 1
    return RolloutSummary(
        scenario=scenario.name,
        rollouts=rollouts,
        ever_stop=sum(o.first_stop is not None for o in outcomes) / rollouts,
        stop_by_step={
            s: sum(o.first_stop is not None and o.first_stop[0] == s for o in outcomes) / rollouts
            for s in range(1, steps + 1)
        },
        proceed_by_end={
            s: sum(o.first("PROCEED", s) is not None for o in outcomes) / rollouts
            for s in range(1, steps + 1)
        },
        stop_within_two_looks=sum(
            o.first_stop is not None and o.first_stop[1] <= 2 and o.first_stop[0] == 1
            for o in outcomes
        )
        / rollouts,
        non_monotone=sum(not o.monotone for o in outcomes),
        stop_checks=dict(sorted(stops.items())),
    )


def _run_seeded(job: tuple[Callable[..., RolloutOutcome], int]) -> RolloutOutcome:
    fn, seed = job
    return fn(seed=seed)


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """The rollout section of ``docs/validation.md``: 500 A/A rollouts at scale 1."""
    policy = load_policy()
    counts = {"aa": 500, "errors_x3_at_25": 200, "p99_plus30_at_25": 200, "router_25_at_5": 200}
    rows = [
        "| scenario | rollouts | ever STOP (se) | STOP in step 1 / 2 / 3 | PROCEED by end of step "
        "1 / 2 / 3 | STOP within 2 looks of step 1 | non-monotone | checks that stopped it |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, n in counts.items():
        s = simulate_rollouts(
            SCENARIOS[name],
            rollouts=max(10, round(n * scale)),
            seed=seed,
            policy=policy,
            workers=os.cpu_count() or 1,
        )
        by_step = " / ".join(f"{s.stop_by_step[i]:.3f}" for i in sorted(s.stop_by_step))
        proceed = " / ".join(f"{s.proceed_by_end[i]:.3f}" for i in sorted(s.proceed_by_end))
        checks = ", ".join(f"{k} ({v})" for k, v in s.stop_checks.items()) or "–"
        rows.append(
            f"| {SCENARIOS[name].label} | {s.rollouts} | {s.ever_stop:.3f} "
            f"({s.se(s.ever_stop):.3f}) | {by_step} | {proceed} | "
            f"{s.stop_within_two_looks:.3f} | {s.non_monotone} | {checks} |"
        )
    text = (
        "Whole rollouts through the product: 30 minutes of control-only traffic, then the "
        "default plan 5 % → 25 % → 100 % (30 minutes each) at 100 requests/s, a look every 5 "
        "minutes (18 looks), the default policy (`policies/`), each rollout recorded in an "
        "in-memory trace store with `canarykit.rollout` and looked at with `evaluate`. "
        "'ever STOP' for the A/A rows is the family-wise false-STOP rate of the whole rollout "
        "(all steps, looks and checks); the stated guarantee is ≤ 0.05. 'non-monotone' counts "
        "rollouts where a decision went from PROCEED back to CONTINUE within a step, or from "
        "STOP to anything else.\n\n" + "\n".join(rows)
    )
    return [("Rollouts: a look every 5 minutes through 5 % → 25 % → 100 %", text)]
