"""The whole verdict under repeated evaluation (reduced size of the `make validate` section)."""

from __future__ import annotations

import pytest

from canarykit.verdict.policy import load_policy
from canarykit.verdict.simulation import simulate_verdicts, validation_sections

pytestmark = pytest.mark.simulation
POLICY = load_policy()


def test_aa_canaries_are_rarely_stopped_however_often_evaluated():
    s = simulate_verdicts("identical", rollouts=8, looks=6, seed=11, policy=POLICY)
    # each check is anytime-valid at 5 %; a naive re-test of 8 checks at 6 looks would STOP
    # most rollouts
    assert s.ever_stop <= 0.25
    assert s.ever_proceed > 0


def test_regressions_are_stopped():
    s = simulate_verdicts(
        "error_regression", rollouts=4, looks=4, n_requests=120_000, seed=12, policy=POLICY
    )
    assert s.ever_stop >= 0.75
    assert "error_rate_delta" in s.stopping_checks


def test_too_little_data_never_proceeds():
    s = simulate_verdicts(
        "too_little_data", rollouts=6, looks=5, n_requests=300, seed=13, policy=POLICY
    )
    assert s.ever_proceed == 0.0


def test_validation_section_renders_a_table():
    ((title, text),) = validation_sections(scale=0.04, seed=5)
    assert title.startswith("End to end")
    assert text.count("\n| ") >= 6
