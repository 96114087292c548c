"""Fixed-horizon companions: order-statistic quantile CI, MOVER, Newcombe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from canarykit.errors import InvalidInputError
from canarykit.stats.fixed_horizon import (
    quantile_ci,
    quantile_ci_rank_request,
    quantile_difference_ci,
    rate_difference_ci,
)
from canarykit.stats.quantiles import OrderStatistics


@pytest.mark.parametrize(("p", "expected"), [(0.95, (936.0, 964.0)), (0.99, (983.0, 997.0))])
def test_quantile_ci_reference(p: float, expected: tuple[float, float]) -> None:
    # scipy.stats.quantile_test(x, q, p).confidence_interval(0.95), x = 1..1000
    # (stats_reference_values.json "scipy_quantile_test_CI95_x=1..1000_p...")
    res = quantile_ci(np.arange(1.0, 1001.0), p)
    assert (res.ci_low, res.ci_high) == expected
    assert "fixed-horizon" in res.method


@pytest.mark.parametrize("seed", range(5))
def test_quantile_ci_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(size=int(rng.integers(200, 3000)))
    p = float(rng.choice([0.5, 0.9, 0.95, 0.99]))
    level = float(rng.choice([0.9, 0.95, 0.99]))
    ci = stats.quantile_test(x, q=1.0, p=p).confidence_interval(level)
    res = quantile_ci(x, p, confidence_level=level)
    assert (res.ci_low, res.ci_high) == (ci.low, ci.high)
    # the rank request flow gives the same interval
    req = quantile_ci_rank_request(x.size, p, confidence_level=level)
    os = OrderStatistics.from_request(req, np.sort(x)[np.asarray(req.ranks) - 1])
    assert quantile_ci(os, p, confidence_level=level) == res


def test_small_sample_unbounded() -> None:
    res = quantile_ci(np.arange(10.0), 0.99)
    assert math.isinf(res.ci_high)
    assert res.note
    assert res.decide(120.0, bound="max") == "inconclusive"


def test_mover_formula_and_swap() -> None:
    rng = np.random.default_rng(1)
    c = rng.lognormal(0, 0.5, 4000)
    t = 1.05 * rng.lognormal(0, 0.5, 3000)
    res = quantile_difference_ci(c, t, 0.9)
    ec, et = quantile_ci(c, 0.9), quantile_ci(t, 0.9)
    d = et.estimate - ec.estimate
    assert res.estimate == pytest.approx(d)
    lo = d - math.hypot(et.estimate - et.ci_low, ec.ci_high - ec.estimate)
    hi = d + math.hypot(et.ci_high - et.estimate, ec.estimate - ec.ci_low)
    assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi))
    sw = quantile_difference_ci(t, c, 0.9)
    assert (sw.ci_low, sw.estimate, sw.ci_high) == pytest.approx((-hi, -d, -lo))


def test_newcombe_reference() -> None:
    # Newcombe (1998), Stat. Med. 17:873-890, Table II example (a): 56/70 vs 48/80,
    # method 10 (hybrid score) interval 0.0524 to 0.3339
    res = rate_difference_ci(
        n_control=80, n_control_errors=48, n_candidate=70, n_candidate_errors=56
    )
    assert res.estimate == pytest.approx(0.2)
    assert res.ci_low == pytest.approx(0.0524, abs=5e-5)
    assert res.ci_high == pytest.approx(0.3339, abs=5e-5)


def test_wald_and_pvalue() -> None:
    res = rate_difference_ci(
        n_control=10_000,
        n_control_errors=100,
        n_candidate=10_000,
        n_candidate_errors=150,
        method="wald",
    )
    se = math.sqrt(0.01 * 0.99 / 1e4 + 0.015 * 0.985 / 1e4)
    assert res.ci_low == pytest.approx(0.005 - stats.norm.isf(0.025) * se)
    # pooled two-proportion z-test
    pooled = 250 / 20_000
    z = 0.005 / math.sqrt(pooled * (1 - pooled) * 2 / 1e4)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(z))


def test_swap_flips_rate_difference() -> None:
    a = rate_difference_ci(n_control=500, n_control_errors=5, n_candidate=400, n_candidate_errors=9)
    b = rate_difference_ci(n_control=400, n_control_errors=9, n_candidate=500, n_candidate_errors=5)
    assert (a.ci_low, a.estimate, a.ci_high) == pytest.approx((-b.ci_high, -b.estimate, -b.ci_low))


def test_degenerate_and_bad_input() -> None:
    res = rate_difference_ci(n_control=0, n_control_errors=0, n_candidate=10, n_candidate_errors=1)
    assert math.isnan(res.estimate)
    assert res.decide(0.01, bound="max") == "inconclusive"
    with pytest.raises(InvalidInputError, match="method"):
        rate_difference_ci(
            n_control=1,
            n_control_errors=0,
            n_candidate=1,
            n_candidate_errors=0,
            method="exact",  # type: ignore[arg-type]
        )
    with pytest.raises(InvalidInputError, match="error counts"):
        rate_difference_ci(n_control=1, n_control_errors=2, n_candidate=1, n_candidate_errors=0)
