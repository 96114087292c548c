"""Segment verdicts over repeated looks, reduced size (full size: ``make validate``).

A/A with 8 regions × 2 routes: ever-STOP (= FDR, every discovery is false) within 0.05; a
regression confined to one of 8 regions: the STOP names that region; a 5 % then 25 % sequence
with e-values carried across the steps. Rates are checked with a
tolerance of three Monte-Carlo standard errors.
"""

from __future__ import annotations

import math

import pytest

from canarykit.simulate.segments import simulate_segments

pytestmark = pytest.mark.simulation


def se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def test_aa_16_segments_rarely_stop_over_looks():
    r = simulate_segments("aa", replications=12, looks=4, by_route=True, seed=5, workers=2)
    assert r.segments == 16
    assert r.hypotheses == 80
    assert r.ever_stop <= 0.05 + 3 * se(0.05, r.replications)
    assert r.fdr <= r.ever_stop


@pytest.mark.parametrize("scenario", ["errors", "latency"])
def test_regression_in_one_region_is_found_and_attributed(scenario):
    r = simulate_segments(scenario, replications=6, looks=3, rate=300.0, seed=6, workers=2)
    assert r.power >= 0.8 - 3 * se(0.8, r.replications)
    assert r.attributed >= 0.8 - 3 * se(0.8, r.replications)
    assert r.fdr <= 0.05 + 3 * se(0.05, r.replications)


def test_a_step_sequence_carries_e_values_and_keeps_the_level():
    """5 % then 25 %: A/A never-STOP within 0.05 over both steps; a loud regression is found."""
    steps = ((0.05, 30.0), (0.25, 30.0))
    aa = simulate_segments("aa", replications=8, looks=3, steps=steps, seed=7, workers=1)
    assert aa.steps == steps
    assert aa.ever_stop <= 0.05 + 3 * se(0.05, aa.replications)
    r = simulate_segments("errors", replications=6, looks=3, rate=300.0, steps=steps, seed=8)
    assert r.power >= 0.8 - 3 * se(0.8, r.replications)
    assert sum(r.found_by_step) == pytest.approx(r.ever_stop)
    assert r.fdr <= 0.05 + 3 * se(0.05, r.replications)
