"""Lindon–Malek error-rate e-process, rate-ratio CS, absolute SLO bound and mSPRT helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from canarykit.errors import InvalidInputError
from canarykit.stats.error_rate import (
    ErrorRateEProcess,
    error_rate_bound,
    error_rate_ratio_test,
    lindon_malek_log_bf,
    ratio_to_theta,
    theta_to_ratio,
)
from canarykit.stats.msprt import msprt_bernoulli, msprt_normal

# stats_reference_values.json "lindon_malek_two_arm_closed_form_k100" (closed form, savvi
# Multinomial gives identical p; stats_methods.md §1.2)
LM_CASES = [
    (0.5, 100, 150, 2.9658388777, 0.05151723445),
    (0.5, 100, 130, 0.7709750884, 0.4625618097),
    (0.2, 400, 150, 6.1505272610, 0.002132357165),
    (0.5, 1000, 1100, 0.7266374314, 0.4835321696),
]


@pytest.mark.parametrize(("rho_t", "nc", "nt", "log_bf", "p"), LM_CASES)
def test_lindon_malek_reference(rho_t: float, nc: int, nt: int, log_bf: float, p: float) -> None:
    got = lindon_malek_log_bf(nc, nt, rho_t)
    assert got == pytest.approx(log_bf, rel=1e-9)
    assert math.exp(-got) == pytest.approx(p, rel=1e-9)


def test_one_sided_reference() -> None:
    # stats_methods.md §1.2 table, one-sided column: savvi 0.3.1 InhomogeneousBernoulliProcess
    # (cvxpy/CLARABEL, agrees with the closed form to ~1e-8 relative)
    p = math.exp(-lindon_malek_log_bf(100, 150, 0.5, alternative="greater"))
    assert p == pytest.approx(0.05151723697, rel=1e-6)
    p = math.exp(-lindon_malek_log_bf(400, 150, 0.2, alternative="greater"))
    assert p == pytest.approx(0.002132357255, rel=1e-6)
    p = math.exp(-lindon_malek_log_bf(90, 10, 0.05, alternative="greater"))
    assert p == pytest.approx(0.5481102562, rel=1e-6)
    # canary better -> p = 1
    assert min(1.0, math.exp(-lindon_malek_log_bf(150, 100, 0.5, alternative="greater"))) == 1.0


def test_log_bf_brute_force_marginal_likelihood() -> None:
    # brute force: integrate the Bernoulli(θ) likelihood against the Beta(kρ_t, kρ_c) prior
    nc, nt, rho_t, k = 37, 12, 0.2, 100.0
    theta = np.linspace(1e-7, 1 - 1e-7, 400_001)
    log_prior = (
        (k * rho_t - 1) * np.log(theta)
        + (k * (1 - rho_t) - 1) * np.log1p(-theta)
        - special.betaln(k * rho_t, k * (1 - rho_t))
    )
    integrand = np.exp(log_prior + nt * np.log(theta) + nc * np.log1p(-theta))
    marginal = np.trapezoid(integrand, theta)
    expected = math.log(marginal) - nt * math.log(rho_t) - nc * math.log(1 - rho_t)
    assert lindon_malek_log_bf(nc, nt, rho_t) == pytest.approx(expected, rel=1e-6)


def test_savvi_inhomogeneous_poisson_process_example() -> None:
    # savvi 0.3.1 examples (stats_reference_values.json "InhomogeneousPoissonProcess"):
    # rho=[0.8,0.2], delta=[1.5,2], np.random.seed(1), multinomial(1, theta, 1500), alpha=0.05:
    # first n with p <= alpha is 210, counts [148, 62], p=0.045579631759249686,
    # CI for delta1-delta0 (log rate ratio) [0.00464625, 0.75493987] (running intersection).
    rho = np.array([0.8, 0.2])
    theta = rho * np.exp([1.5, 2.0])
    theta /= theta.sum()
    np.random.seed(1)  # noqa: NPY002 - the legacy stream is what savvi's example uses
    xs = np.random.multinomial(1, theta, size=1500)  # noqa: NPY002
    ep = ErrorRateEProcess(rho_candidate=0.2, alternative="two-sided")
    first = None
    for i, x in enumerate(xs[:400]):
        ep = ep.update(int(x[0]), int(x[1]))
        if ep.pvalue <= 0.05:
            first = i + 1
            break
    assert first == 210
    assert (ep.n_control_errors, ep.n_candidate_errors) == (148, 62)
    assert ep.pvalue == pytest.approx(0.045579631759249686, rel=1e-9)
    assert math.log(ep.ratio_low) == pytest.approx(0.00464625, abs=1e-6)
    assert math.log(ep.ratio_high) == pytest.approx(0.75493987, abs=1e-6)


def test_batch_equals_event_by_event() -> None:
    rng = np.random.default_rng(3)
    labels = rng.random(300) < 0.3
    step = ErrorRateEProcess(rho_candidate=0.25)
    for is_t in labels:
        step = step.update(int(not is_t), int(is_t))
    batch = ErrorRateEProcess(rho_candidate=0.25).update(int((~labels).sum()), int(labels.sum()))
    assert batch.log_e_value == step.log_e_value
    # a coarser look schedule can only give a larger running-min p-value and wider intervals
    assert batch.pvalue >= step.pvalue
    assert batch.ratio_low <= step.ratio_low
    assert batch.ratio_high >= step.ratio_high


def test_ratio_cs_inverts_the_e_process() -> None:
    res = error_rate_ratio_test(
        n_control=95_000,
        n_control_errors=950,
        n_candidate=5_000,
        n_candidate_errors=75,
        rho_candidate=0.05,
    )
    thr = math.log(20)
    for r in (res.ci_low, res.ci_high):
        got = lindon_malek_log_bf(950, 75, 0.05, theta_null=ratio_to_theta(r, 0.05))
        assert got == pytest.approx(thr, abs=1e-8)
    # inside the CS the e-value is below 1/alpha; outside above
    assert lindon_malek_log_bf(950, 75, 0.05, theta_null=ratio_to_theta(res.estimate, 0.05)) < thr
    assert lindon_malek_log_bf(950, 75, 0.05, theta_null=ratio_to_theta(0.9, 0.05)) > thr
    assert res.ci_low < res.estimate < res.ci_high
    assert res.estimate == pytest.approx(1.5)


def test_ratio_decisions() -> None:
    common = {"n_control": 50_000, "n_candidate": 50_000, "rho_candidate": 0.5}
    worse = error_rate_ratio_test(n_control_errors=500, n_candidate_errors=800, **common)
    assert worse.decide(1.25, bound="max") == "fail"
    assert worse.pvalue < 0.001
    same = error_rate_ratio_test(n_control_errors=2000, n_candidate_errors=2000, **common)
    assert same.decide(1.25, bound="max") == "pass"
    few = error_rate_ratio_test(n_control_errors=5, n_candidate_errors=6, **common)
    assert few.decide(1.25, bound="max") == "inconclusive"


def test_swapping_arms_inverts_ratio() -> None:
    a = error_rate_ratio_test(
        n_control=1000,
        n_control_errors=30,
        n_candidate=1000,
        n_candidate_errors=55,
        rho_candidate=0.5,
    )
    b = error_rate_ratio_test(
        n_control=1000,
        n_control_errors=55,
        n_candidate=1000,
        n_candidate_errors=30,
        rho_candidate=0.5,
    )
    assert a.estimate == pytest.approx(1 / b.estimate)
    assert a.ci_low == pytest.approx(1 / b.ci_high, rel=1e-9)
    assert a.ci_high == pytest.approx(1 / b.ci_low, rel=1e-9)


def test_degenerate_counts_never_pass() -> None:
    res = error_rate_ratio_test(
        n_control=0, n_control_errors=0, n_candidate=0, n_candidate_errors=0, rho_candidate=0.05
    )
    assert math.isnan(res.estimate)
    assert (res.ci_low, res.ci_high) == (0.0, math.inf)
    assert res.decide(1.25, bound="max") == "inconclusive"
    assert "no errors" in res.note
    res = error_rate_ratio_test(
        n_control=1000,
        n_control_errors=0,
        n_candidate=1000,
        n_candidate_errors=3,
        rho_candidate=0.5,
    )
    assert math.isinf(res.ci_high)
    assert res.decide(1.25, bound="max") != "pass"


def test_sample_ratio_note() -> None:
    res = error_rate_ratio_test(
        n_control=90_000,
        n_control_errors=900,
        n_candidate=10_000,
        n_candidate_errors=100,
        rho_candidate=0.05,
    )
    assert "sample ratio" in res.note


def test_theta_ratio_roundtrip() -> None:
    r = np.array([0.1, 1.0, 1.25, 7.0])
    np.testing.assert_allclose(theta_to_ratio(ratio_to_theta(r, 0.05), 0.05), r)


def test_error_rate_bound() -> None:
    res = error_rate_bound(10, 10_000)
    assert res.decide(0.005, bound="max") == "pass"
    # equals the confseq Bernoulli CS at the same tuning
    from canarykit.stats.bernoulli import bernoulli_confidence_interval

    lo, hi = bernoulli_confidence_interval(10, 10_000, 0.05, 10_000)
    assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    bad = error_rate_bound(150, 10_000)
    assert bad.decide(0.005, bound="max") == "fail"
    empty = error_rate_bound(0, 0)
    assert math.isnan(empty.estimate)
    assert empty.decide(0.005, bound="max") == "inconclusive"
    assert empty.note


def test_error_rate_bound_covers_small_rates() -> None:
    # time-uniform coverage at a 0.5% rate (validity check for very small rates):
    # 400 seeded paths, 50 looks of 400 requests; the CS must exclude 0.005 in <= 5% + 3 se
    from canarykit.stats.bernoulli import bernoulli_log_mixture

    rng = np.random.default_rng(11)
    errors = rng.binomial(400, 0.005, size=(400, 50)).cumsum(axis=1)
    n = 400 * np.arange(1, 51)
    log_m = np.asarray(bernoulli_log_mixture(0.005, errors, n, 10_000))
    miss = (log_m >= math.log(20)).any(axis=1).mean()
    assert miss <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400)


def test_msprt_reference_values() -> None:
    # stats_reference_values.json "msprt" (Johari et al. closed forms, stats_methods.md §2.1)
    lam = msprt_normal(1000, 0.1, 1.0, 0.1, two_sample=True)
    assert lam == pytest.approx(3.278721628, rel=1e-9)
    assert 1 / lam == pytest.approx(0.3049969206, rel=1e-9)
    lam = msprt_bernoulli(10_000, 0.010, 0.013, 0.005)
    assert lam == pytest.approx(1.772337724, rel=1e-9)
    assert 1 / lam == pytest.approx(0.5642265502, rel=1e-9)
    lam = msprt_bernoulli(20_000, 0.010, 0.013, 0.005)
    assert lam == pytest.approx(9.202813948, rel=1e-9)
    assert msprt_bernoulli(100, 0.0, 0.0, 0.005) == 1.0


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="rho_candidate"):
        ErrorRateEProcess(rho_candidate=1.2)
    with pytest.raises(InvalidInputError, match="alternative"):
        lindon_malek_log_bf(1, 1, 0.5, alternative="less")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="n_candidate_events"):
        ErrorRateEProcess(rho_candidate=0.5).update(1, -1)
    with pytest.raises(InvalidInputError, match="error counts"):
        error_rate_ratio_test(
            n_control=10,
            n_control_errors=11,
            n_candidate=10,
            n_candidate_errors=1,
            rho_candidate=0.5,
        )
