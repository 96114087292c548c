"""End-to-end validation: the whole default verdict, re-evaluated as a batch job would.

Each simulated rollout is a generated canary (``canarykit.traces.generate``) ingested into an
in-memory store and evaluated with the default policy at ``looks`` equally spaced window ends,
exactly as a job running every few minutes would. The rows report how often a rollout is ever
STOPped or PROCEEDed across its looks and when, for an A/A canary (false STOP), injected
regressions (power, time to STOP) and too little data (never PROCEED).

``validation_sections(scale, seed)`` feeds ``make validate`` (``docs/validation.md``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from canarykit.traces.generate import generate_traces
from canarykit.traces.store import TraceStore
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.policy import Policy, load_policy

__all__ = ["VerdictSimulation", "simulate_verdicts", "validation_sections"]

START = dt.datetime(2026, 1, 1)
DURATION_MINUTES = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictSimulation:
    """Outcome of repeated evaluations over simulated rollouts of one scenario."""

    scenario: str
    rollouts: int
    looks: int
    ever_stop: float
    ever_proceed: float
    final: dict[str, float]
    median_stop_look: float
    stopping_checks: dict[str, int]

    @property
    def se_stop(self) -> float:
        """Binomial standard error of ``ever_stop`` (floored at one event)."""
        p = max(self.ever_stop, 1.0 / self.rollouts)
        return math.sqrt(p * (1 - p) / self.rollouts)


def simulate_verdicts(
    scenario: str,
    *,
    rollouts: int,
    looks: int = 10,
    n_requests: int = 40_000,
    canary_share: float = 0.25,
    seed: int = 0,
    policy: Policy | None = None,
) -> VerdictSimulation:
    """Evaluate ``rollouts`` generated canaries at ``looks`` window ends each.

    Examples
    --------
    >>> s = simulate_verdicts("error_regression", rollouts=2, looks=3, n_requests=60_000, seed=1)
    >>> s.ever_stop
    1.0
    """
    policy = policy or load_policy()
    stop_looks: list[int] = []
    ever_proceed = 0
    final = {"PROCEED": 0, "STOP": 0, "CONTINUE": 0}
    stopping: dict[str, int] = {}
    for r in range(rollouts):
        table = generate_traces(
            scenario,
            n_requests=n_requests,
            canary_share=canary_share,
            seed=seed * 100_003 + r,
            duration_minutes=DURATION_MINUTES,
        )
        with TraceStore() as store:
            store.ingest(table)
            first_stop, proceeded, decision = 0, False, "CONTINUE"
            for look in range(1, looks + 1):
                until = START + dt.timedelta(minutes=DURATION_MINUTES * look / looks)
                verdict = evaluate(store, policy=policy, until=until.isoformat(), log=False)
                decision = verdict.decision
                proceeded |= decision == "PROCEED"
                if decision == "STOP" and not first_stop:
                    first_stop = look
                    for check in verdict.checks:
                        if check.status == "fail":
                            stopping[check.name] = stopping.get(check.name, 0) + 1
        final[decision] += 1
        ever_proceed += proceeded
        if first_stop:
            stop_looks.append(first_stop)
    return VerdictSimulation(
        scenario=scenario,
        rollouts=rollouts,
        looks=looks,
        ever_stop=len(stop_looks) / rollouts,
        ever_proceed=ever_proceed / rollouts,
        final={k: v / rollouts for k, v in final.items()},
        median_stop_look=float(np.median(stop_looks)) if stop_looks else math.nan,
        stopping_checks=dict(sorted(stopping.items())),
    )


SCENARIOS = (
    ("identical", "A/A: identical arms", 40_000),
    ("error_regression", "errors ×3 (0.2 % → 0.6 %)", 40_000),
    ("latency_tail", "1 % of requests ×8 slower (p99 +40 %)", 40_000),
    ("auc_drop", "AUC 0.80 → 0.75", 40_000),
    ("too_little_data", "300 requests in all", 300),
)


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """The end-to-end section of ``docs/validation.md``."""
    rollouts = max(4, round(100 * scale))
    looks = 10
    policy = load_policy()
    rows = [
        "| scenario | rollouts × looks | ever STOP (se) | ever PROCEED | final look: PROCEED / "
        "STOP / CONTINUE | median first-STOP look | checks that stopped it |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label, n in SCENARIOS:
        s = simulate_verdicts(
            name, rollouts=rollouts, looks=looks, n_requests=n, seed=seed, policy=policy
        )
        final = " / ".join(f"{s.final[k]:.2f}" for k in ("PROCEED", "STOP", "CONTINUE"))
        median = "–" if math.isnan(s.median_stop_look) else f"{s.median_stop_look:g}"
        checks = ", ".join(f"{k} ({v})" for k, v in s.stopping_checks.items()) or "–"
        rows.append(
            f"| {label} | {rollouts} × {looks} | {s.ever_stop:.3f} ({s.se_stop:.3f}) | "
            f"{s.ever_proceed:.2f} | {final} | {median} | {checks} |"
        )
    text = (
        "The whole default verdict (`policies/`), evaluated at 10 equally spaced window ends of "
        "a 30-minute canary (25 % canary share; 40,000 requests per rollout unless stated), as a "
        "batch job would. A/A 'ever STOP' is the family-wise false-STOP rate over all checks and "
        "looks: each check is an anytime-valid test at α = 0.05, so it is at most k·α for k "
        "checks, and in practice far lower. 'Too little data' must never PROCEED.\n\n"
        + "\n".join(rows)
    )
    return [("End to end: the default verdict under repeated evaluation", text)]
