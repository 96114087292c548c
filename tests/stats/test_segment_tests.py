"""Fail-side e-values of one segment: closed forms, monotonicity, validity over looks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from canarykit.stats.boundaries import beta_binomial_log_mixture
from canarykit.stats.error_rate import lindon_malek_log_bf, ratio_to_theta
from canarykit.stats.segment_tests import (
    auc_drop_log_e,
    error_ratio_log_e,
    error_ratio_one_sided_log_e,
    exceedance_log_e,
)


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


def _one_sided_by_quadrature(nc: int, nt: int, rho: float, margin: float) -> float:
    """Brute force: the defining integral by adaptive quadrature, the null supremum on a grid."""
    from scipy import integrate, stats

    theta0 = float(ratio_to_theta(margin, rho))
    theta_a = float(ratio_to_theta(max(2.0, margin), rho))
    prior = stats.beta(8.0 * theta_a, 8.0 * (1 - theta_a))
    n = nc + nt
    mode = nt / n if n else 0.5
    grid = np.linspace(0.0, theta0, 200_001)
    log_lik = nt * np.log(np.maximum(grid, 1e-300)) + nc * np.log1p(-grid)
    null = float(log_lik.max())  # sup over θ ≤ θ0 of the likelihood, by search
    scale = nt * math.log(max(mode, 1e-12)) + nc * math.log1p(-min(mode, 1 - 1e-12))

    def f(t: float) -> float:
        return math.exp(nt * math.log(t) + nc * math.log1p(-t) - scale) * prior.pdf(t)

    value, _ = integrate.quad(f, theta0, 1.0, points=[max(theta0, min(mode, 0.999))], limit=200)
    return math.log(value) + scale - math.log(prior.sf(theta0)) - null


@pytest.mark.parametrize(("nc", "nt"), [(0, 0), (34, 34), (40, 60), (30, 12), (3, 9), (120, 50)])
@pytest.mark.parametrize("rho", [0.05, 0.25, 0.5])
def test_one_sided_error_ratio_matches_quadrature(nc, nt, rho):
    got = error_ratio_one_sided_log_e(nc, nt, rho_candidate=rho, margin=1.25)
    want = _one_sided_by_quadrature(nc, nt, rho, 1.25)
    assert got == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("rho", [0.05, 0.25])
@pytest.mark.parametrize("shrink", [1.0, 0.7])
def test_one_sided_error_ratio_expectation_at_most_one_under_the_null(rho, shrink):
    """Exact: Σ_k Binom(N, k; θ) e(N − k, k) ≤ 1 for θ = θ(margin) (boundary) and below."""
    from scipy import stats

    theta = shrink * float(ratio_to_theta(1.25, rho))
    for total in (1, 5, 20, 68, 150):
        k = np.arange(total + 1)
        e = np.array(
            [
                math.exp(error_ratio_one_sided_log_e(total - j, j, rho_candidate=rho, margin=1.25))
                for j in k
            ]
        )
        assert float(np.sum(stats.binom.pmf(k, total, theta) * e)) <= 1.0 + 1e-9


def test_one_sided_error_ratio_is_sharper_than_the_two_sided_prior():
    # one region of eight in a 25 % step at 100 req/s, errors x3: about 34 errors per arm
    one = error_ratio_one_sided_log_e(34, 34, rho_candidate=0.25, margin=1.25)
    two = error_ratio_log_e(34, 34, rho_candidate=0.25, margin=1.25, k=7)
    assert one > two + 1.0
    values = [
        error_ratio_one_sided_log_e(34, t, rho_candidate=0.25, margin=1.25) for t in range(60)
    ]
    assert all(b >= a for a, b in itertools.pairwise(values))


@pytest.mark.simulation
def test_one_sided_error_ratio_valid_over_looks_at_the_margin():
    """Ville: errors split at exactly θ(margin), a look every 5 errors up to 200: P(ever e >= 20)."""
    rng = np.random.default_rng(11)
    theta = float(ratio_to_theta(1.25, 0.25))
    reps, a = 2000, 0.05
    arms = np.cumsum(rng.random((reps, 200)) < theta, axis=1)
    crossed = 0
    for i in range(reps):
        for n in range(5, 201, 5):
            nt = int(arms[i, n - 1])
            if error_ratio_one_sided_log_e(n - nt, nt, rho_candidate=0.25, margin=1.25) >= math.log(
                1 / a
            ):
                crossed += 1
                break
    assert crossed / reps <= a + 3 * math.sqrt(a * (1 - a) / reps)


@pytest.mark.simulation
def test_product_across_steps_valid_at_the_margin():
    """Two rollout steps (5 % then 25 %), each at exactly θ(margin) of its own split, a look every
    5 errors: step 2's e-value times step 1's at its last look crosses 20 in <= 5 % of runs."""
    rng = np.random.default_rng(12)
    reps, a = 2000, 0.05
    steps = [(0.05, 60), (0.25, 120)]  # (planned share, errors in the step)
    crossed = 0
    for _ in range(reps):
        carried, hit = 0.0, False
        for rho, total in steps:
            theta = float(ratio_to_theta(1.25, rho))
            arms = np.cumsum(rng.random(total) < theta)
            value = 0.0
            for n in range(5, total + 1, 5):
                nt = int(arms[n - 1])
                value = error_ratio_one_sided_log_e(n - nt, nt, rho_candidate=rho, margin=1.25)
                if carried + value >= math.log(1 / a):
                    hit = True
                    break
            if hit:
                break
            carried += value
        crossed += hit
    assert crossed / reps <= a + 3 * math.sqrt(a * (1 - a) / reps)
