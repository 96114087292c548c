"""Laws of the anytime-valid statistics (hypothesis): batch = streaming, symmetry, merge, nesting."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from canarykit.stats.error_rate import ErrorRateEProcess, error_rate_ratio_test
from canarykit.stats.fixed_horizon import quantile_difference_ci, rate_difference_ci
from canarykit.stats.quantile_ab import quantile_ab_p_value
from canarykit.stats.sketch import LatencySketch

SETTINGS = settings(max_examples=60, deadline=None)
batches = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=12)
rhos = st.floats(0.02, 0.98)
latencies = st.lists(st.floats(0.0, 1e5, allow_nan=False), min_size=0, max_size=200)


@SETTINGS
@given(batches, rhos)
def test_batch_updates_equal_event_by_event(steps: list[tuple[int, int]], rho: float) -> None:
    batched = ErrorRateEProcess(rho_candidate=rho)
    single = ErrorRateEProcess(rho_candidate=rho)
    for dc, dt in steps:
        batched = batched.update(dc, dt)
        for _ in range(dc):
            single = single.update(1, 0)
        for _ in range(dt):
            single = single.update(0, 1)
    assert batched.log_e_value == single.log_e_value
    if single.intersection_empty or batched.intersection_empty:
        return
    # finer looks can only lower the running-min p-value and narrow the intersected interval
    assert single.pvalue <= batched.pvalue
    assert single.ratio_low >= batched.ratio_low
    assert single.ratio_high <= batched.ratio_high


@SETTINGS
@given(batches, rhos)
def test_pvalues_non_increasing_and_intervals_nest(
    steps: list[tuple[int, int]], rho: float
) -> None:
    state = ErrorRateEProcess(rho_candidate=rho, alternative="two-sided")
    for dc, dt in steps:
        new = state.update(dc, dt)
        assert new.pvalue <= state.pvalue
        assert new.ratio_low <= new.ratio_high
        if not new.intersection_empty:
            assert state.ratio_low <= new.ratio_low
            assert new.ratio_high <= state.ratio_high
        state = new


@SETTINGS
@given(
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(0, 20_000),
    st.integers(0, 20_000),
    rhos,
)
def test_swapping_arms_inverts_the_ratio(kc: int, kt: int, nc: int, nt: int, rho: float) -> None:
    nc, nt = max(nc, kc), max(nt, kt)
    a = error_rate_ratio_test(
        n_control=nc,
        n_control_errors=kc,
        n_candidate=nt,
        n_candidate_errors=kt,
        rho_candidate=rho,
        alternative="two-sided",
    )
    b = error_rate_ratio_test(
        n_control=nt,
        n_control_errors=kt,
        n_candidate=nc,
        n_candidate_errors=kc,
        rho_candidate=1 - rho,
        alternative="two-sided",
    )
    assert math.isclose(a.pvalue or 0.0, b.pvalue or 0.0, rel_tol=1e-9)
    for x, y in ((a.ci_low, b.ci_high), (a.ci_high, b.ci_low)):
        inv = math.inf if y == 0 else 1.0 / y
        assert (math.isinf(x) and math.isinf(inv)) or math.isclose(
            x, inv, rel_tol=1e-6, abs_tol=1e-12
        )


@SETTINGS
@given(st.integers(1, 5000), st.integers(0, 200), st.integers(1, 5000), st.integers(0, 200))
def test_swapping_arms_flips_rate_difference(nc: int, kc: int, nt: int, kt: int) -> None:
    kc, kt = min(kc, nc), min(kt, nt)
    a = rate_difference_ci(n_control=nc, n_control_errors=kc, n_candidate=nt, n_candidate_errors=kt)
    b = rate_difference_ci(n_control=nt, n_control_errors=kt, n_candidate=nc, n_candidate_errors=kc)
    assert math.isclose(a.estimate, -b.estimate, abs_tol=1e-15)
    assert math.isclose(a.ci_low, -b.ci_high, abs_tol=1e-12)
    assert math.isclose(a.ci_high, -b.ci_low, abs_tol=1e-12)


@SETTINGS
@given(
    st.lists(st.floats(1.0, 1e4), min_size=50, max_size=300),
    st.lists(st.floats(1.0, 1e4), min_size=50, max_size=300),
    st.sampled_from([0.5, 0.9, 0.95]),
)
def test_quantile_difference_and_ab_are_symmetric(a: list[float], b: list[float], p: float) -> None:
    d1 = quantile_difference_ci(a, b, p)
    d2 = quantile_difference_ci(b, a, p)
    assert d1.estimate == -d2.estimate
    assert (d1.ci_low, d1.ci_high) == (-d2.ci_high, -d2.ci_low)
    assert quantile_ab_p_value(a, b, p, t_opt=100) == quantile_ab_p_value(b, a, p, t_opt=100)


@SETTINGS
@given(latencies, latencies, st.sampled_from([0.01, 0.02, 0.05]))
def test_merged_sketches_equal_one_sketch(a: list[float], b: list[float], acc: float) -> None:
    merged = LatencySketch.from_values(a, acc).merge(LatencySketch.from_values(b, acc))
    assert merged == LatencySketch.from_values(np.asarray(a + b, dtype=float), acc)
    assert merged == LatencySketch.from_values(b, acc).merge(LatencySketch.from_values(a, acc))


@SETTINGS
@given(st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=300))
def test_sketch_quantiles_within_relative_accuracy(x: list[float]) -> None:
    s = LatencySketch.from_values(x)
    xs = np.sort(np.asarray(x))
    for q in (0.0, 0.25, 0.5, 0.95, 0.99, 1.0):
        exact = xs[math.floor(q * (xs.size - 1))]
        assert abs(s.quantile(q) - exact) <= 0.01 * exact * (1 + 1e-9)
        lo, hi = s.quantile_bounds(q)
        assert lo < exact * (1 + 1e-12)
        assert exact <= hi * (1 + 1e-12)
