"""Reduced-size, seeded Monte-Carlo validity checks of the model-quality checks."""

from __future__ import annotations

import math

import pytest

from canarykit.stats.simulation_quality import (
    simulate_auc_delta,
    simulate_fairness_gap,
    simulate_srm,
    validation_sections,
)

pytestmark = pytest.mark.simulation
ALPHA = 0.05


def _rate(rows, scenario, method_prefix, event):
    (row,) = [
        r
        for r in rows
        if r.scenario == scenario and r.method.startswith(method_prefix) and r.event == event
    ]
    return row.rate, row.n_rollouts


def _bound(level, n):
    return level + 3 * math.sqrt(level * (1 - level) / n)


@pytest.mark.parametrize(("paired", "n_rollouts"), [(False, 400), (True, 150)])
def test_auc_delta_sequential_is_valid_and_naive_is_not(paired, n_rollouts):
    rows = simulate_auc_delta(paired=paired, n_rollouts=n_rollouts, n_looks=100, seed=11)
    cs = "canarykit CS"
    for event in ("PROCEED", "STOP"):
        rate, n = _rate(rows, "boundary", cs, event)
        assert rate <= _bound(ALPHA / 2, n), (event, rate)
    for scenario in ("A/A", "boundary", "regression"):
        rate, n = _rate(rows, scenario, cs, "non-coverage")
        assert rate <= _bound(ALPHA, n), (scenario, rate)
    assert _rate(rows, "A/A", cs, "STOP")[0] <= _bound(ALPHA / 2, n_rollouts)
    # power: a 3-point AUC regression is stopped
    assert _rate(rows, "regression", cs, "STOP")[0] >= 0.9
    # the naive repeated fixed-horizon DeLong interval is inflated
    naive = "DeLong fixed-horizon, every look"
    assert _rate(rows, "boundary", naive, "PROCEED")[0] > 3 * ALPHA / 2
    assert _rate(rows, "A/A", naive, "non-coverage")[0] > 3 * ALPHA


def test_fairness_gap_check_is_valid_and_has_power():
    rows = simulate_fairness_gap(n_rollouts=200, n_looks=100, seed=12)
    for cs in ("canarykit union-bound CS", "canarykit contrasts CS"):
        for event in ("STOP", "PROCEED"):
            rate, n = _rate(rows, "boundary", cs, event)
            assert rate <= _bound(ALPHA, n), (cs, event, rate)
        for scenario in ("A/A", "boundary", "regression"):
            assert _rate(rows, scenario, cs, "non-coverage")[0] <= _bound(ALPHA, n)
        assert _rate(rows, "regression", cs, "STOP")[0] >= 0.9
    # contrasts can PROCEED at this sample size, the union bound cannot
    assert _rate(rows, "A/A", "canarykit contrasts CS", "PROCEED")[0] >= 0.5
    assert _rate(rows, "boundary", "plug-in Wald", "STOP")[0] > 2 * ALPHA


def test_srm_e_test_is_valid_and_has_power():
    rows = simulate_srm(n_rollouts=500, n_looks=100, seed=13)
    rate, n = _rate(rows, "A/A", "canarykit", "STOP")
    assert rate <= _bound(ALPHA, n)
    assert _rate(rows, "A/A", "chi-square, every look", "STOP")[0] > 0.2
    assert _rate(rows, "mismatch", "canarykit", "STOP")[0] >= 0.9


def test_validation_sections_are_deterministic_markdown():
    a = validation_sections(scale=0.02, seed=5)
    b = validation_sections(scale=0.02, seed=5)
    assert a == b
    assert [t for t, _ in a] == [
        "ΔAUC, unpaired (DeLong)",
        "ΔAUC, paired (DeLong)",
        "Fairness gap delta (TPR gap)",
        "Sample-ratio mismatch (SRM e-test)",
    ]
    for _, text in a:
        assert "| scenario | method |" in text
