"""Whole rollouts through the product, reduced size (full size: ``make validate``).

Acceptance of DESIGN.md §9 at 100 requests/s, 5 % → 25 % → 100 %, a look every 5 minutes.
Rates are checked with a tolerance of three Monte-Carlo standard errors; ``make validate``
runs ≥ 500 A/A rollouts and writes the numbers to ``docs/validation.md``.
"""

from __future__ import annotations

import math

import pytest

from canarykit.simulate.rollout import SCENARIOS, simulate_rollouts

pytestmark = pytest.mark.simulation


def se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def aa():
    return simulate_rollouts(SCENARIOS["aa"], rollouts=24, seed=11, workers=2)


def test_aa_rollouts_rarely_stop_and_proceed_step_by_step(aa):
    n = aa.rollouts
    assert aa.ever_stop <= 0.05 + 3 * se(0.05, n)
    assert aa.proceed_by_end[1] >= 0.80 - 3 * se(0.80, n)
    assert aa.proceed_by_end[2] >= 0.95 - 3 * se(0.95, n)
    assert aa.non_monotone == 0


def test_errors_x3_at_the_25_percent_step_stop_within_it():
    s = simulate_rollouts(SCENARIOS["errors_x3_at_25"], rollouts=12, seed=12, workers=2)
    assert s.stop_by_step[2] >= 0.90 - 3 * se(0.90, s.rollouts)
    assert s.stop_by_step[1] <= 0.05 + 3 * se(0.05, s.rollouts)
    assert s.non_monotone == 0


def test_a_router_at_25_percent_during_the_5_percent_step_stops_on_sample_ratio():
    s = simulate_rollouts(SCENARIOS["router_25_at_5"], rollouts=12, seed=13, workers=2)
    assert s.stop_within_two_looks >= 0.95 - 3 * se(0.95, s.rollouts)
    assert (
        s.stop_checks.get("sample_ratio", 0)
        >= 0.95 * s.rollouts - 3 * se(0.95, s.rollouts) * s.rollouts
    )


def test_p99_plus_30_percent_at_the_25_percent_step_stops_within_it():
    s = simulate_rollouts(SCENARIOS["p99_plus30_at_25"], rollouts=12, seed=14, workers=2)
    assert s.stop_by_step[2] >= 0.80 - 3 * se(0.80, s.rollouts)
    assert s.non_monotone == 0
