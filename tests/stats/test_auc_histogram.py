"""Tests of canarykit.stats.auc_histogram (DeLong from score histograms)."""

from __future__ import annotations

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.stats.auc import auc_delta, delong_covariance, paired_auc_delta
from canarykit.stats.auc_histogram import (
    auc_delta_from_histograms,
    bin_scores,
    delong_from_histogram,
    paired_auc_delta_from_table,
    paired_delong_from_joint,
    paired_score_table,
    score_histogram,
)


def _paired(seed, n=3000, n_bins=50):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    lat = rng.normal(size=n) + 1.1 * y
    sc = 1 / (1 + np.exp(-lat))
    st = 1 / (1 + np.exp(-(lat + rng.normal(scale=0.5, size=n))))
    return y, sc, st


def test_bin_rule_edges():
    s = np.array([0.0, 1e-12, 0.1, 0.3, 0.7, 0.999999, 1.0])
    assert bin_scores(s, 10).tolist() == [0, 0, 1, 3, 7, 9, 9]
    # mirrors LEAST(CAST(floor(score * n_bins) AS INTEGER), n_bins - 1)
    assert bin_scores(s, 10).tolist() == [min(int(np.floor(x * 10)), 9) for x in s]


@pytest.mark.parametrize(("seed", "n_bins"), [(0, 7), (1, 50), (2, 1000), (3, 10_000)])
def test_histogram_delong_equals_sort_delong(seed, n_bins):
    y, sc, _ = _paired(seed)
    pos, neg = score_histogram(y, sc, n_bins)
    auc, var = delong_from_histogram(pos, neg)
    aucs, cov = delong_covariance(y, bin_scores(sc, n_bins))
    assert abs(auc - aucs[0]) < 1e-12
    assert abs(var - cov[0, 0]) < 1e-12


@pytest.mark.parametrize(("seed", "n_bins"), [(4, 5), (5, 40), (6, 2000)])
def test_paired_table_equals_sort_delong(seed, n_bins):
    y, sc, st = _paired(seed)
    bc, bt = bin_scores(sc, n_bins), bin_scores(st, n_bins)
    aucs, cov = delong_covariance(y, np.vstack([bc, bt]))
    var_ref = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    r = paired_auc_delta_from_table(*paired_score_table(y, sc, st, n_bins), n_bins=n_bins)
    assert abs(r.auc_control - aucs[0]) < 1e-12
    assert abs(r.auc_candidate - aucs[1]) < 1e-12
    assert abs(r.se**2 - var_ref) < 1e-12
    ref = paired_auc_delta(y, bc, bt)
    assert r.ci_low == pytest.approx(ref.ci_low, abs=1e-12)
    assert r.ci_high == pytest.approx(ref.ci_high, abs=1e-12)
    if n_bins <= 40:
        dense = np.zeros((n_bins, n_bins, 2))
        np.add.at(dense, (bc, bt, y.astype(int)), 1)
        ac, at, var = paired_delong_from_joint(dense)
        assert abs(ac - aucs[0]) < 1e-12
        assert abs(at - aucs[1]) < 1e-12
        assert abs(var - var_ref) < 1e-12


def test_unpaired_histograms_equal_sort_result():
    y1, s1, _ = _paired(7)
    y2, _, s2 = _paired(8, n=2500)
    k = 100
    r = auc_delta_from_histograms(*score_histogram(y1, s1, k), *score_histogram(y2, s2, k))
    ref = auc_delta(y1, bin_scores(s1, k), y2, bin_scores(s2, k))
    assert r.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert r.se == pytest.approx(ref.se, abs=1e-12)
    assert r.ci_low == pytest.approx(ref.ci_low, abs=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert "histogram" in r.method


def test_batched_histograms():
    rng = np.random.default_rng(11)
    pos = rng.integers(0, 20, size=(4, 3, 12))
    neg = rng.integers(0, 20, size=(4, 3, 12))
    auc, var = delong_from_histogram(pos, neg)
    assert auc.shape == (4, 3)
    a, v = delong_from_histogram(pos[2, 1], neg[2, 1])
    assert auc[2, 1] == pytest.approx(a, abs=1e-15)
    assert var[2, 1] == pytest.approx(v, abs=1e-15)


def test_duplicate_cells_are_summed():
    r1 = paired_auc_delta_from_table(
        [0, 1, 1, 2], [0, 1, 2, 2], [0, 0, 1, 1], [50, 30, 20, 40], n_bins=3, min_class_count=10
    )
    r2 = paired_auc_delta_from_table(
        [0, 0, 1, 1, 2],
        [0, 0, 1, 2, 2],
        [0, 0, 0, 1, 1],
        [25, 25, 30, 20, 40],
        n_bins=3,
        min_class_count=10,
    )
    assert r1.estimate == r2.estimate
    assert r1.se == r2.se


def test_empty_classes_are_inconclusive():
    auc, var = delong_from_histogram([0, 0, 0], [1, 2, 3])
    assert np.isnan(auc)
    assert np.isnan(var)
    r = auc_delta_from_histograms([0, 0], [3, 4], [1, 1], [3, 4])
    assert r.decide(-0.01, bound="min") == "inconclusive"


def test_bad_inputs():
    with pytest.raises(InvalidInputError, match="scores"):
        bin_scores([0.5, 1.2], 10)
    with pytest.raises(InvalidInputError, match="n_bins"):
        bin_scores([0.5], 1)
    with pytest.raises(InvalidInputError, match="pos"):
        delong_from_histogram([-1, 2], [1, 1])
    with pytest.raises(InvalidInputError, match="n_bins"):
        auc_delta_from_histograms([1, 2], [1, 2], [1, 2, 3], [1, 2, 3])
    with pytest.raises(InvalidInputError, match="bin_candidate"):
        paired_auc_delta_from_table([0, 1], [0, 5], [0, 1], [3, 3], n_bins=3)
    with pytest.raises(InvalidInputError, match="table"):
        paired_delong_from_joint(np.zeros((3, 4, 2)))
