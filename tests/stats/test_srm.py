"""Tests of canarykit.stats.srm against the reference values in ../shared/reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.stats.srm import (
    SrmState,
    srm_log_bayes_factor,
    srm_pvalue_path,
    srm_test,
)

# stats_reference_values.json -> lindon_malek_two_arm_closed_form_k100 (two-sided rows;
# closed form, savvi `Multinomial` gives identical p; tolerance 1e-9 relative).
LINDON_MALEK_ROWS = [
    ((0.5, 0.5), (100, 150), 2.9658388777, 0.05151723445),
    ((0.5, 0.5), (100, 130), 0.7709750884, 0.4625618097),
    ((0.8, 0.2), (400, 150), 6.150527261, 0.002132357165),
    ((0.5, 0.5), (1000, 1100), 0.7266374314, 0.4835321696),
]


@pytest.mark.parametrize(("rho", "counts", "log_bf", "p"), LINDON_MALEK_ROWS)
def test_lindon_malek_two_arm_reference(rho, counts, log_bf, p):
    assert srm_log_bayes_factor(counts, rho) == pytest.approx(log_bf, rel=1e-9)
    r = srm_test(counts, rho)
    assert r.pvalue == pytest.approx(p, rel=1e-9)


def test_savvi_multinomial_srm_reference():
    # stats_reference_values.json -> savvi_0.3.1_docs_examples.Multinomial_SRM
    # (savvi examples, reproduced): np.random.seed(1); theta=[0.1,0.3,0.6];
    # xs=multinomial(1, theta, 1000); theta_0=[0.1,0.4,0.5] -> first n with p <= 0.05 is 402,
    # p = 0.04845591105969517.
    legacy = np.random.RandomState(1)  # same stream as np.random.seed(1)
    xs = legacy.multinomial(1, [0.1, 0.3, 0.6], 1000)
    p = srm_pvalue_path(xs, [0.1, 0.4, 0.5])
    first = int(np.argmax(p <= 0.05))
    assert first + 1 == 402
    assert p[first] == pytest.approx(0.04845591105969517, rel=1e-12)
    # the same via the batch API with the earlier looks
    cum = np.cumsum(xs, axis=0)
    r = srm_test(cum[first], [0.1, 0.4, 0.5], earlier_counts=cum[:first])
    assert r.pvalue == pytest.approx(0.04845591105969517, rel=1e-12)
    assert r.status == "fail"
    r_prev = srm_test(cum[first - 1], [0.1, 0.4, 0.5], earlier_counts=cum[: first - 1])
    assert r_prev.status == "pass"


def test_batch_equals_streaming():
    rng = np.random.default_rng(3)
    inc = rng.multinomial(1, [0.93, 0.07], size=2000)
    state = SrmState.start([0.95, 0.05])
    for row in inc:
        state = state.update(row)
    batched = SrmState.start([0.95, 0.05]).update(inc.sum(axis=0))
    assert batched.counts == state.counts
    last = srm_log_bayes_factor(np.array(state.counts), [0.95, 0.05])
    assert batched.pvalue == pytest.approx(min(1.0, math.exp(-last)), rel=1e-12)
    path = srm_pvalue_path(inc, [0.95, 0.05])
    assert state.pvalue == pytest.approx(path[-1], rel=1e-12)
    assert (np.diff(path) <= 0).all()


def test_matching_split_passes_and_mismatch_fails():
    assert srm_test([95_000, 5_000], [0.95, 0.05]).status == "pass"
    r = srm_test([94_000, 6_000], [0.95, 0.05])
    assert r.status == "fail"
    assert r.pvalue is not None
    assert r.pvalue <= 0.05
    assert r.ci_high < 0.07
    assert r.ci_low > 0.05


def test_confidence_set_is_dual_to_test():
    for counts in ([100, 150], [100, 130], [480, 520], [30, 70]):
        r = srm_test(counts, [0.5, 0.5])
        assert (r.ci_low <= 0.5 <= r.ci_high) == (r.status == "pass")


def test_empty_is_inconclusive():
    r = srm_test([0, 0], [0.5, 0.5])
    assert r.status == "inconclusive"
    assert r.pvalue == 1.0


def test_bad_arguments():
    with pytest.raises(InvalidInputError, match="planned"):
        srm_test([1, 2], [0.5, 0.6])
    with pytest.raises(InvalidInputError, match="counts"):
        srm_test([1, 2, 3], [0.5, 0.5])
    with pytest.raises(InvalidInputError, match="counts"):
        srm_test([1, -2], [0.5, 0.5])
    with pytest.raises(InvalidInputError, match="alpha"):
        srm_test([1, 2], [0.5, 0.5], alpha=0)
    with pytest.raises(InvalidInputError, match="k"):
        srm_test([1, 2], [0.5, 0.5], k=-1)
    with pytest.raises(InvalidInputError, match="earlier_counts"):
        srm_test([1, 2], [0.5, 0.5], earlier_counts=[[5, 5]])


def test_decide_is_the_quality_gate():
    r = srm_test([100, 150], [0.5, 0.5])  # p = 0.0515
    assert r.decide(0.05) == r.status == "pass"
    assert r.decide(0.06, bound="min") == "fail"
    assert srm_test([0, 0], [0.5, 0.5]).decide(0.05) == "inconclusive"
    with pytest.raises(InvalidInputError, match="bound"):
        r.decide(0.05, bound="max")
    with pytest.raises(InvalidInputError, match="threshold"):
        r.decide(5.0)


@pytest.mark.parametrize(("n_control", "n_candidate"), [(0, 50), (1, 200), (3, 100), (40, 900)])
def test_the_full_step_e_value_equals_its_mixture_integral(n_control, n_candidate):
    """Brute force: the closed form of ``full_step_log_e_value`` against numerical integration
    of L(θ)/L(ε) over θ in (ε, 1) under the prior Beta(kε, k(1−ε)) truncated to θ > ε."""
    import math

    from scipy import integrate, stats

    from canarykit.stats.srm import DEFAULT_K, FULL_STEP_TOLERANCE, full_step_log_e_value

    eps, k = FULL_STEP_TOLERANCE, DEFAULT_K
    prior = stats.beta(k * eps, k * (1 - eps))

    def ratio(theta: float) -> float:
        log_ratio = n_control * math.log(theta / eps) + n_candidate * math.log(
            (1 - theta) / (1 - eps)
        )
        return math.exp(log_ratio) * prior.pdf(theta)

    mass, _ = integrate.quad(ratio, eps, 1.0, limit=400, points=[2 * eps, 0.1])
    expected = math.log(mass / prior.sf(eps))
    assert full_step_log_e_value(n_control, n_candidate) == pytest.approx(expected, abs=1e-6)
