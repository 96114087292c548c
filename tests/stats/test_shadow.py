"""Tests of canarykit.stats.shadow."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, ks_2samp

from canarykit.errors import InvalidInputError
from canarykit.stats.auc_histogram import bin_scores
from canarykit.stats.shadow import ks_distance, paired_score_shift, shadow_agreement


def test_agreement_estimate_and_discordance():
    r = shadow_agreement([[900, 30], [10, 60]])
    assert r.estimate == pytest.approx(0.96)
    assert r.control_only == 10
    assert r.shadow_only == 30
    assert r.positive_rate_shift == pytest.approx(0.02)
    assert r.ci_low < 0.96 < r.ci_high
    assert r.decide(0.98, bound="min") == "fail"


def test_fixed_horizon_matches_exact_binomial_interval():
    r = shadow_agreement([[4800, 40], [35, 5125]], sequential=False)
    ci = binomtest(9925, 10000).proportion_ci(0.95, method="exact")
    assert r.ci_low == pytest.approx(ci.low, abs=1e-12)
    assert r.ci_high == pytest.approx(ci.high, abs=1e-12)
    seq = shadow_agreement([[4800, 40], [35, 5125]])
    assert seq.ci_low < r.ci_low
    assert seq.decide(0.98, bound="min") == "pass"


def test_small_samples_are_inconclusive():
    assert shadow_agreement([[10, 0], [0, 10]]).decide(0.98, bound="min") == "inconclusive"
    empty = shadow_agreement(np.zeros((2, 2), dtype=int))
    assert empty.note == "no paired requests"


def test_paired_score_shift_from_sums():
    rng = np.random.default_rng(0)
    sc = rng.random(5000)
    ss = np.clip(sc + rng.normal(0.01, 0.05, size=5000), 0, 1)
    d = ss - sc
    r = paired_score_shift(d.size, d.sum(), (d * d).sum())
    assert r.estimate == pytest.approx(d.mean(), abs=1e-15)
    se = d.std(ddof=1) / math.sqrt(d.size)
    assert r.ci_high - r.estimate == pytest.approx(1.959963984540054 * se, rel=1e-9)
    assert paired_score_shift(1, 0.5, 0.25).note


def test_ks_distance_equals_scipy_on_discretised_scores():
    rng = np.random.default_rng(1)
    a = rng.beta(2, 5, size=3000)
    b = rng.beta(2.3, 5, size=2000)
    k = 200
    ba, bb = bin_scores(a, k), bin_scores(b, k)
    d = ks_distance(np.bincount(ba, minlength=k), np.bincount(bb, minlength=k))
    assert d == pytest.approx(ks_2samp(ba, bb).statistic, abs=1e-12)
    assert d <= ks_2samp(a, b).statistic + 1e-12
    assert math.isnan(ks_distance([0, 0], [1, 2]))


def test_bad_arguments():
    with pytest.raises(InvalidInputError, match="table"):
        shadow_agreement([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(InvalidInputError, match="table"):
        shadow_agreement([[1, -2], [3, 4]])
    with pytest.raises(InvalidInputError, match="confidence_level"):
        shadow_agreement([[1, 2], [3, 4]], confidence_level=0)
    with pytest.raises(InvalidInputError, match="n"):
        paired_score_shift(-1, 0.0, 0.0)
    with pytest.raises(InvalidInputError, match="hist_control"):
        ks_distance([1, 2], [1, 2, 3])
