"""Fail-side e-values of one segment: closed forms, monotonicity, validity over looks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from canarykit.stats.boundaries import beta_binomial_log_mixture
from canarykit.stats.error_rate import lindon_malek_log_bf, ratio_to_theta
from canarykit.stats.segment_tests import auc_drop_log_e, error_ratio_log_e, exceedance_log_e


def test_exceedance_is_the_one_sided_beta_binomial_mixture():
    # Howard et al. (2021) Prop. 7 with g = p0, h = 1 - p0 (canarykit.stats.boundaries)
    k, n, p0 = 80, 4000, 0.01
    want = beta_binomial_log_mixture(
        k - n * p0, n * p0 * (1 - p0), 2000 * p0 * (1 - p0), p0, 1 - p0, 0.05, one_sided=True
    )
    assert exceedance_log_e(k, n, p0, t_opt=2000) == pytest.approx(float(want), rel=1e-9)


def test_exceedance_grows_with_the_count():
    values = [exceedance_log_e(k, 5000, 0.01, t_opt=5000) for k in range(0, 200, 10)]
    assert all(b >= a for a, b in itertools.pairwise(values))
    assert values[0] < 0 < values[-1]


def test_error_ratio_is_lindon_malek_at_the_margin():
    theta = float(ratio_to_theta(1.25, 0.25))
    want = lindon_malek_log_bf(40, 60, 0.25, k=7, alternative="greater", theta_null=theta)
    got = error_ratio_log_e(40, 60, rho_candidate=0.25, margin=1.25, k=7)
    assert got == pytest.approx(float(want), rel=1e-12)
    # fewer candidate errors than the margin allows: no evidence
    assert error_ratio_log_e(60, 10, rho_candidate=0.25, margin=1.25, k=7) <= 0.0


def test_auc_drop_sign():
    assert auc_drop_log_e(-0.06, 0.01, margin=-0.01, planned_se=0.01) > math.log(1000)
    assert auc_drop_log_e(0.02, 0.01, margin=-0.01, planned_se=0.01) < 0
    assert auc_drop_log_e(float("nan"), 0.01, margin=-0.01, planned_se=0.01) == 0.0


@pytest.mark.simulation
def test_exceedance_e_process_rarely_crosses_at_the_null_boundary():
    """Ville: P(any look with e >= 1/a) <= a at rate = p0 (the least favourable null)."""
    rng = np.random.default_rng(3)
    reps, n, p0, a = 1500, 4000, 0.01, 0.05
    looks = np.arange(200, n + 1, 200)
    hits = rng.random((reps, n)) < p0
    counts = np.cumsum(hits, axis=1)[:, looks - 1]
    crossed = np.zeros(reps, bool)
    for j, t in enumerate(looks):
        for i in range(reps):
            if not crossed[i] and exceedance_log_e(
                int(counts[i, j]), int(t), p0, t_opt=2000
            ) >= math.log(1 / a):
                crossed[i] = True
    rate = crossed.mean()
    assert rate <= a + 3 * math.sqrt(a * (1 - a) / reps)
    # and it detects a doubled rate (the test can fail)
    alt = np.cumsum(rng.random((200, n)) < 2 * p0, axis=1)[:, -1]
    power = np.mean([exceedance_log_e(int(c), n, p0, t_opt=2000) >= math.log(20) for c in alt])
    assert power > 0.8


@pytest.mark.simulation
def test_error_ratio_e_value_valid_at_the_margin():
    """Errors split at exactly the margin's θ: e >= 20 at the last look in <= 5 % of runs."""
    rng = np.random.default_rng(4)
    theta = float(ratio_to_theta(1.25, 0.25))
    total = rng.poisson(120, 4000)
    cand = rng.binomial(total, theta)
    e = np.array(
        [
            error_ratio_log_e(int(t - c), int(c), rho_candidate=0.25, margin=1.25, k=7)
            for t, c in zip(total, cand, strict=True)
        ]
    )
    assert np.mean(e >= math.log(20)) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 4000)
