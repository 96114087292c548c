"""DDSketch-style latency sketch: reference values, merge law, bounds and CS from a sketch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.stats.quantiles import OrderStatistics, quantile_cs, quantile_ratio_test
from canarykit.stats.sketch import (
    LatencySketch,
    quantile_cs_from_sketch,
    quantile_ratio_test_from_sketches,
    sketch_key_sql,
)

X = np.arange(1.0, 1001.0)


@pytest.mark.parametrize(
    ("alpha", "expected"),
    [
        # PyPI ddsketch 3.0.1 DDSketch(relative_accuracy=0.01), x = 1..1000
        # (stats_reference_values.json "ddsketch_3.0.1_rel0.01_x=1..1000": 200 bins)
        (0.01, (497.779401, 944.049258, 982.577949)),
        # same with relative_accuracy=0.02 ("ddsketch_3.0.1_rel0.02_x=1..1000")
        (0.02, (503.019780, 954.048822, 992.989590)),
    ],
)
def test_ddsketch_reference(alpha: float, expected: tuple[float, float, float]) -> None:
    s = LatencySketch.from_values(X, alpha)
    got = [s.quantile(q) for q in (0.5, 0.95, 0.99)]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    if alpha == 0.01:
        assert s.keys.size == 200
        assert s.gamma == pytest.approx(1.02020202020202)
    halves = LatencySketch.from_values(X[:500], alpha).merge(
        LatencySketch.from_values(X[500:], alpha)
    )
    assert halves == s


def test_relative_error_guarantee() -> None:
    # stats_methods.md §5.3: lognormal(3,1), n=200k, worst relative error over 200 quantiles <= 0.01
    y = np.random.default_rng(0).lognormal(3, 1, 200_000)
    s = LatencySketch.from_values(y)
    ys = np.sort(y)
    for q in np.linspace(0, 1, 200):
        exact = ys[math.floor(q * (y.size - 1))]
        assert abs(s.quantile(q) - exact) <= 0.01 * exact * (1 + 1e-12)
        lo, hi = s.quantile_bounds(q)
        assert lo < exact <= hi


def test_from_key_counts_equals_from_values() -> None:
    y = np.random.default_rng(1).lognormal(2, 1, 5000)
    s = LatencySketch.from_values(np.concatenate((y, np.zeros(7))))
    keys = LatencySketch.keys_of(y)
    rebuilt = LatencySketch.from_key_counts(keys, np.ones_like(keys), zero_count=7)
    assert rebuilt == s
    assert s.count == 5007
    assert s.zero_count == 7
    assert s.quantile(0.0) == 0.0


def test_sql_keys_match_numpy() -> None:
    duckdb = pytest.importorskip("duckdb")
    y = np.random.default_rng(2).lognormal(3, 1.5, 20_000)
    con = duckdb.connect()
    con.execute("create table t as select unnest(?::double[]) as latency_ms", [y.tolist()])
    rows = con.execute(
        f"select {sketch_key_sql('latency_ms')} as k, count(*) from t group by k order by k"
    ).fetchall()
    from_sql = LatencySketch.from_key_counts([r[0] for r in rows], [r[1] for r in rows])
    assert from_sql == LatencySketch.from_values(y)


def test_empty_sketch() -> None:
    s = LatencySketch()
    assert s.count == 0
    assert math.isnan(s.quantile(0.5))
    res = quantile_cs_from_sketch(s, 0.95)
    assert math.isnan(res.estimate)
    assert res.decide(120.0, bound="max") == "inconclusive"


def test_cs_from_sketch_contains_exact_cs() -> None:
    y = np.random.default_rng(3).lognormal(4, 0.5, 30_000)
    exact = quantile_cs(OrderStatistics.from_sample(y), 0.95)
    sk = quantile_cs_from_sketch(LatencySketch.from_values(y), 0.95)
    assert sk.ci_low <= exact.ci_low
    assert sk.ci_high >= exact.ci_high
    assert sk.ci_high <= exact.ci_high * 1.0203
    assert "bucket" in sk.note


def test_ratio_from_sketches_is_conservative() -> None:
    rng = np.random.default_rng(4)
    c = rng.lognormal(4, 0.5, 30_000)
    t = 1.04 * rng.lognormal(4, 0.5, 20_000)
    exact = quantile_ratio_test(
        OrderStatistics.from_sample(c), OrderStatistics.from_sample(t), 0.99
    )
    sk = quantile_ratio_test_from_sketches(
        LatencySketch.from_values(c), LatencySketch.from_values(t), 0.99
    )
    assert sk.ci_low <= exact.ci_low
    assert sk.ci_high >= exact.ci_high
    assert sk.pvalue is not None
    assert exact.pvalue is not None
    assert sk.pvalue >= exact.pvalue - 1e-15
    assert "bucket" in sk.note


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="relative_accuracy"):
        LatencySketch.from_values(X, 1.5)
    with pytest.raises(InvalidInputError, match=">= 0"):
        LatencySketch.from_values([-1.0])
    with pytest.raises(InvalidInputError, match="relative_accuracy"):
        LatencySketch.from_values(X).merge(LatencySketch.from_values(X, 0.02))
    with pytest.raises(InvalidInputError, match="q must"):
        LatencySketch.from_values(X).quantile(2.0)
