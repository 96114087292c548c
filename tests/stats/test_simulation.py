"""Reduced-size, seeded versions of the ``make validate`` simulations (validity must hold)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from canarykit.stats.order_statistics import OrderStatistics
from canarykit.stats.quantile_ab import quantile_ab_p_value
from canarykit.stats.quantiles import quantile_ratio_rank_requests
from canarykit.stats.simulation import (
    coverage_rows,
    error_rate_false_stops,
    error_rate_power,
    error_slo_false_stops,
    gaussian_peeking_fpr,
    validation_sections,
)
from canarykit.stats.simulation_latency import (
    FalseStopRow,
    ab_log_min,
    latency_false_stops,
    latency_power,
    p95_slo_false_stops,
)

pytestmark = pytest.mark.simulation
ALPHA = 0.05


def _valid(row: FalseStopRow) -> None:
    se = math.sqrt(ALPHA * (1 - ALPHA) / row.n_rollouts)
    assert row.anytime <= ALPHA + 3 * se, row
    assert row.valid


@pytest.mark.parametrize("rho", [0.05, 0.5])
def test_error_rate_aa(rho: float) -> None:
    for row in error_rate_false_stops(n_rollouts=1000, rho_candidate=rho, seed=11):
        _valid(row)
        assert row.naive_every_look > 0.15  # naive peeking inflates far above alpha
        assert row.inflated


def test_error_slo_and_p95_slo_at_the_threshold() -> None:
    for row in (
        error_slo_false_stops(n_rollouts=1000, seed=12),
        p95_slo_false_stops(n_rollouts=1000, seed=13),
    ):
        _valid(row)
        assert row.naive_every_look > 0.1
        assert row.inflated


def test_latency_aa_and_margin() -> None:
    rows = latency_false_stops(n_rollouts=120, seed=14)
    for row in rows:
        _valid(row)
    for ab in rows[1:]:
        assert ab.naive_every_look > 0.15


def test_gaussian_calibration_matches_armitage() -> None:
    # Armitage, McPherson & Rowe (1969): 100 looks -> 0.374 (stats_methods.md §6.1: MC 0.3751)
    fpr = gaussian_peeking_fpr(n_rollouts=4000, seed=15)
    assert abs(fpr - 0.375) < 3 * math.sqrt(0.375 * 0.625 / 4000)


def test_error_rate_power() -> None:
    rows = error_rate_power(n_rollouts=500, rho_candidate=0.05, seed=16)
    stop, any_increase, _ = rows
    assert any_increase.power >= 0.9
    assert stop.power >= 0.9
    assert any_increase.median_detect < 100_000


def test_latency_power_and_specificity() -> None:
    rows = {(r.scenario, r.test): r for r in latency_power(n_rollouts=60, seed=17)}
    shift = "latency +10 % (all quantiles)"
    tail = "p99 +30 %"
    assert rows[(shift, "quantile A/B test p95, p ≤ α")].power >= 0.8
    assert rows[(shift, "p95 CS L > 120 ms (STOP)")].power >= 0.7
    # the ratio sits exactly at the 1.10 margin: it must not stop
    assert rows[(shift, "p99 ratio CS L > 1.10 (STOP)")].power <= 0.1
    assert rows[(tail, "p99 ratio CS L > 1.10 (STOP)")].power >= 0.8
    assert rows[(tail, "p95 CS L > 120 ms (STOP)")].power <= 0.1


def test_fixed_horizon_coverage() -> None:
    for row in coverage_rows(n_reps=1000, seed=18):
        assert row.coverage >= 0.93, row


def test_vectorised_ab_equals_primitive() -> None:
    rng = np.random.default_rng(19)
    n = 3000
    c = np.sort(rng.lognormal(0, 0.5, (4, n)), axis=1)
    t = np.sort(1.03 * rng.lognormal(0, 0.5, (4, n)), axis=1)
    rq_c, rq_t = quantile_ratio_rank_requests(n, n, 0.95, t_opt=1000, grid_size=64)
    ra = np.asarray(rq_c.ranks)
    rb = np.asarray(rq_t.ranks)
    got = ab_log_min(c[:, ra - 1], ra, n, t[:, rb - 1], rb, n, 0.95, 1000)
    for i in range(4):
        oc = OrderStatistics.from_request(rq_c, c[i, ra - 1])
        ot = OrderStatistics.from_request(rq_t, t[i, rb - 1])
        p = quantile_ab_p_value(oc, ot, 0.95, t_opt=1000)
        assert min(1.0, math.exp(-got[i])) == pytest.approx(p, rel=1e-9)


def test_validation_sections_small() -> None:
    sections = validation_sections(scale=0.03, seed=20)
    titles = [t for t, _ in sections]
    assert titles[0].startswith("A/A false-STOP")
    assert all("|---|" in text for _, text in sections)
    rows = [
        line.split("|")
        for line in sections[0][1].splitlines()
        if line.startswith("| ") and "calibration" not in line and "gating test" not in line
    ]
    assert len(rows) == 9
    assert all(cells[4].strip() == "yes" for cells in rows)  # anytime-valid: <= alpha + 3 se
