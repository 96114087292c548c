"""Howard & Ramdas quantile confidence sequences, rank requests and the two-sample test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.stats.boundaries import beta_binomial_log_mixture, beta_binomial_mixture_bound
from canarykit.stats.quantiles import (
    OrderStatistics,
    RankRequest,
    quantile_ab_p_value,
    quantile_cs,
    quantile_cs_rank_request,
    quantile_cs_ranks,
    quantile_ratio_rank_requests,
    quantile_ratio_test,
)

A = np.arange(1.0, 1001.0)


# confseq quantile A/B test values (stats_reference_values.json,
# "quantile_ab_p_value(a=1..1000, b=a+offset, p, t_opt=100)", alpha_opt = 0.05;
# reproduced by the confseq port to <= 4e-7)
@pytest.mark.parametrize(
    ("offset", "p", "expected"),
    [(70, 0.5, 0.814704), (85, 0.5, 0.0838055), (100, 0.5, 0.0054947), (55, 0.9, 0.0340463)],
)
def test_quantile_ab_reference(offset: int, p: float, expected: float) -> None:
    got = quantile_ab_p_value(A, A + offset, p, t_opt=100)
    assert got == pytest.approx(expected, abs=1e-6)
    # the statistic is symmetric in the arms
    assert quantile_ab_p_value(A + offset, A, p, t_opt=100) == pytest.approx(got, rel=1e-12)


def _brute_force_ab(a: np.ndarray, b: np.ndarray, p: float, t_opt: float) -> float:
    """Direct port of confseq QuantileABTest semantics, evaluated at every data value."""
    from scipy import optimize

    def arm_log_m(prop: float, n: int) -> float:
        return float(
            beta_binomial_log_mixture(
                (prop - p) * n, p * (1 - p) * n, t_opt * p * (1 - p), p, 1 - p, one_sided=False
            )
        )

    def g_fn(x: float, data: np.ndarray) -> float:
        n = data.size
        m = optimize.minimize_scalar(
            lambda q: arm_log_m(q, n), bounds=(0, 1), method="bounded", options={"xatol": 1e-12}
        ).x
        s = np.sort(data)
        x_lower = s[math.ceil(m * n) - 1]
        x_upper = s[math.floor(m * n)]
        if x < x_lower:
            prop = np.sum(data <= x) / n
        elif x > x_upper:
            prop = np.sum(data < x) / n
        else:
            prop = m
        return arm_log_m(prop, n)

    xs = np.union1d(a, b)
    best = min(g_fn(x, a) + g_fn(x, b) for x in xs)
    return min(1.0, math.exp(-best))


def test_ab_matches_brute_force_with_ties() -> None:
    rng = np.random.default_rng(5)
    a = np.round(rng.lognormal(0, 0.5, 150), 1)  # ties within and across arms
    b = np.round(1.4 * rng.lognormal(0, 0.5, 120), 1)
    got = quantile_ab_p_value(a, b, 0.5, t_opt=100)
    assert got == pytest.approx(_brute_force_ab(a, b, 0.5, 100), rel=1e-6)
    assert got < 1.0


def test_ab_rank_grid_is_conservative_and_close() -> None:
    rng = np.random.default_rng(7)
    for shift in (1.0, 1.02, 1.04, 1.06):
        c = np.sort(rng.lognormal(0, 0.5, 60_000))
        t = np.sort(shift * rng.lognormal(0, 0.5, 50_000))
        exact = quantile_ab_p_value(c, t, 0.9, t_opt=10_000)
        rc, rt = quantile_ratio_rank_requests(c.size, t.size, 0.9, t_opt=10_000, grid_size=256)
        assert len(rc.ranks) < 400
        oc = OrderStatistics.from_request(rc, c[np.asarray(rc.ranks) - 1])
        ot = OrderStatistics.from_request(rt, t[np.asarray(rt.ranks) - 1])
        grid = quantile_ab_p_value(oc, ot, 0.9, t_opt=10_000)
        assert grid >= exact - 1e-15
        if exact > 1e-4:
            assert grid <= 1.5 * exact


def test_quantile_cs_ranks_brute_force() -> None:
    # the ranks are the integer roundings of n·p ∓ boundary (Howard & Ramdas 2022, §3;
    # confseq demo/quantiles.py::fixed_quantile_confidence_bounds)
    n, p = 5000, 0.95
    lo, hi = quantile_cs_ranks(n, p, t_opt=1000)
    v, v_opt = p * (1 - p) * n, p * (1 - p) * 1000
    b_lo = beta_binomial_mixture_bound(v, 0.05, v_opt, 1 - p, p, one_sided=False)
    b_hi = beta_binomial_mixture_bound(v, 0.05, v_opt, p, 1 - p, one_sided=False)
    assert lo - 1 <= n * p - b_lo < lo
    assert hi - 1 < n * p + b_hi <= hi


def test_quantile_cs_against_demo_formula_on_data() -> None:
    x = np.random.default_rng(1).exponential(size=3000)
    res = quantile_cs(OrderStatistics.from_sample(x), 0.5, t_opt=100)
    s = np.sort(x)
    lo, hi = quantile_cs_ranks(3000, 0.5, t_opt=100)
    assert (res.ci_low, res.ci_high) == (s[lo - 1], s[hi - 1])
    assert res.ci_low < math.log(2) < res.ci_high


def test_rank_request_flow_equals_full_sample() -> None:
    x = np.random.default_rng(2).lognormal(4, 0.6, 25_000)
    full = quantile_cs(OrderStatistics.from_sample(x), 0.95)
    req = quantile_cs_rank_request(x.size, 0.95)
    assert len(req.ranks) == 3
    s = np.sort(x)
    os = OrderStatistics.from_request(req, s[np.asarray(req.ranks) - 1])
    assert quantile_cs(os, 0.95) == full


def test_levels_hit_ranks_with_inverted_cdf() -> None:
    # DuckDB quantile_disc returns the value of rank ceil(n*q) (checked against duckdb 2.0.1)
    req = RankRequest(n=1000, ranks=(1, 2, 500, 999, 1000))
    x = np.arange(1.0, 1001.0)
    got = np.quantile(x, req.levels, method="inverted_cdf")
    np.testing.assert_array_equal(got, [1.0, 2.0, 500.0, 999.0, 1000.0])


def test_levels_with_duckdb() -> None:
    duckdb = pytest.importorskip("duckdb")
    req = quantile_cs_rank_request(9_973, 0.99, t_opt=1000)
    x = np.random.default_rng(3).lognormal(size=9_973)
    con = duckdb.connect()
    con.execute("create table t as select unnest(?::double[]) as x", [x.tolist()])
    levels = list(req.levels)
    got = con.execute(f"select quantile_disc(x, {levels}) from t").fetchall()[0][0]
    np.testing.assert_array_equal(got, np.sort(x)[np.asarray(req.ranks) - 1])


def test_degenerate_small_samples() -> None:
    res = quantile_cs(OrderStatistics.from_sample([]), 0.95)
    assert math.isnan(res.estimate)
    assert res.decide(120.0, bound="max") == "inconclusive"
    assert res.note
    res = quantile_cs(OrderStatistics.from_sample(np.ones(20)), 0.99)
    assert math.isinf(res.ci_high)
    assert res.decide(120.0, bound="max") == "inconclusive"
    assert "too few" in res.note


def test_missing_rank_raises() -> None:
    x = np.arange(1.0, 2001.0)
    os = OrderStatistics.from_sample(x).select((10, 20))
    with pytest.raises(InvalidInputError, match="rank"):
        quantile_cs(os, 0.95)


def test_ratio_union_bound_and_swap() -> None:
    rng = np.random.default_rng(4)
    c = OrderStatistics.from_sample(rng.lognormal(4, 0.5, 30_000))
    t = OrderStatistics.from_sample(1.05 * rng.lognormal(4, 0.5, 20_000))
    res = quantile_ratio_test(c, t, 0.99)
    cc = quantile_cs(c, 0.99, confidence_level=0.975)
    tt = quantile_cs(t, 0.99, confidence_level=0.975)
    assert res.ci_low == pytest.approx(tt.ci_low / cc.ci_high)
    assert res.ci_high == pytest.approx(tt.ci_high / cc.ci_low)
    swapped = quantile_ratio_test(t, c, 0.99)
    assert swapped.ci_low == pytest.approx(1 / res.ci_high)
    assert swapped.ci_high == pytest.approx(1 / res.ci_low)
    assert swapped.pvalue == pytest.approx(res.pvalue)


def test_ratio_decisions() -> None:
    rng = np.random.default_rng(8)
    c = OrderStatistics.from_sample(rng.lognormal(4, 0.5, 40_000))
    same = OrderStatistics.from_sample(rng.lognormal(4, 0.5, 40_000))
    slow = OrderStatistics.from_sample(1.4 * rng.lognormal(4, 0.5, 40_000))
    assert quantile_ratio_test(c, same, 0.95).decide(1.10, bound="max") == "pass"
    assert quantile_ratio_test(c, slow, 0.95).decide(1.10, bound="max") == "fail"
    tiny = OrderStatistics.from_sample(rng.lognormal(4, 0.5, 30))
    res = quantile_ratio_test(c, tiny, 0.99)
    assert res.decide(1.10, bound="max") == "inconclusive"
    assert res.note


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="p must be"):
        quantile_cs_ranks(100, 1.5)
    with pytest.raises(InvalidInputError, match="confidence_level"):
        quantile_cs_ranks(100, 0.5, confidence_level=95)
    with pytest.raises(InvalidInputError, match="non-decreasing"):
        OrderStatistics(n=3, ranks=np.array([1, 2]), values=np.array([2.0, 1.0]))
    with pytest.raises(InvalidInputError, match="grid_size"):
        quantile_ratio_rank_requests(10, 10, 0.5, grid_size=1)


def test_ratio_with_zero_latencies_is_inconclusive_not_a_crash() -> None:
    zeros = OrderStatistics.from_sample(np.zeros(5000))
    t = OrderStatistics.from_sample(np.random.default_rng(10).lognormal(size=5000))
    res = quantile_ratio_test(zeros, t, 0.5, t_opt=1000)
    assert math.isinf(res.ci_high)
    assert math.isnan(res.estimate)
    assert res.decide(1.10, bound="max") != "pass"
    with pytest.raises(InvalidInputError, match=">= 0"):
        quantile_ratio_test(OrderStatistics.from_sample(-np.ones(10)), t, 0.5)
