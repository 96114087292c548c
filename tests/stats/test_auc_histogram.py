"""Tests of canarykit.stats.auc_histogram (DeLong from score histograms)."""

from __future__ import annotations

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.simulate.auc import (
    auc_intervals,
    coverage_table,
    look_moments,
    simulate_auc_looks,
    validation_sections,
    width_table,
)
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


# --------------------------------------------------------------------------- canary scale
# Seeded Monte-Carlo checks of the ΔAUC intervals at ~1,000 labelled requests per arm
# (canarykit.simulate.auc; docs/validation.md runs the same at full size).

N_ROLLOUTS = 1000
DESIGNS = [(False, 0.8), (False, 0.99), (True, 0.8), (True, 0.99)]


def _min_coverage(n, level=0.95):
    """Nominal level minus three binomial Monte-Carlo standard errors."""
    return level - 3 * np.sqrt(level * (1 - level) / n)


@pytest.fixture(scope="module")
def canary_scale():
    out = {}
    for i, (paired, auc) in enumerate(DESIGNS):
        looks = simulate_auc_looks(
            paired=paired, auc_control=auc, n_rollouts=N_ROLLOUTS, seed=2026 + i
        )
        out[paired, auc] = (looks, coverage_table(looks), width_table(looks))
    return out


@pytest.mark.parametrize("paired", [False, True])
def test_look_moments_equal_histogram_entry_points(paired):
    rng = np.random.default_rng(21)
    k = 50
    y_c = rng.random((3, 300)) < 0.3
    y_t = y_c if paired else rng.random((3, 300)) < 0.3
    b_c = rng.integers(0, k, size=(3, 300)) + 10 * y_c
    b_t = rng.integers(0, k, size=(3, 300)) + 8 * y_t
    ends = np.array([100, 200, 300])
    mom = look_moments(b_c, y_c, b_t, y_t, paired=paired, ends=ends)
    kk = k + 10
    for i in range(3):
        for j, e in enumerate(ends):
            yc, yt, bc, bt = y_c[i, :e], y_t[i, :e], b_c[i, :e], b_t[i, :e]
            if paired:
                r = paired_auc_delta_from_table(bc, bt, yc, np.ones(e, dtype=int), n_bins=kk)
                _, cov = delong_covariance(yc, np.vstack([bc, bt]))
                arm = (cov[0, 0], cov[1, 1])
            else:
                r = auc_delta_from_histograms(
                    np.bincount(bc[yc], minlength=kk),
                    np.bincount(bc[~yc], minlength=kk),
                    np.bincount(bt[yt], minlength=kk),
                    np.bincount(bt[~yt], minlength=kk),
                )
                arm = (delong_covariance(yc, bc)[1][0, 0], delong_covariance(yt, bt)[1][0, 0])
            assert mom["auc_control"][i, j] == pytest.approx(r.auc_control, abs=1e-12)
            assert mom["auc_candidate"][i, j] == pytest.approx(r.auc_candidate, abs=1e-12)
            assert mom["variance"][i, j] == pytest.approx(r.se_delong**2, rel=1e-9)
            assert mom["variance_control"][i, j] == pytest.approx(arm[0], rel=1e-9)
            assert mom["variance_candidate"][i, j] == pytest.approx(arm[1], rel=1e-9)
            assert mom["m_candidate"][i, j] == r.n_positives_candidate
            assert mom["n_control"][i, j] == r.n_negatives_control


@pytest.mark.simulation
@pytest.mark.parametrize(("paired", "auc"), DESIGNS)
def test_sequence_width_at_1000_labelled_is_below_twice_delong(canary_scale, paired, auc):
    # planned_se = planned_auc_delta_se(...) at 1,000 labelled per arm (factor 1), or at 250
    # / 4,000 (the engine's expected count off by 4x either way)
    _, _, widths = canary_scale[paired, auc]
    for row in widths:
        assert row["median"] <= 2.0, row
        assert row["q95"] <= 2.0, row
        if row["factor"] == 1.0:
            assert row["median"] <= 1.6, row


@pytest.mark.simulation
@pytest.mark.parametrize(("paired", "auc"), DESIGNS)
def test_sequence_covers_under_repeated_looks(canary_scale, paired, auc):
    # 10 looks (every 100 labelled per arm up to 1,000), running intersection, ΔAUC = −0.01
    _, cover, _ = canary_scale[paired, auc]
    assert cover["sequential floor"][0] >= _min_coverage(N_ROLLOUTS)
    # the side that declares a worse candidate non-inferior stays below α/2
    assert cover["sequential floor miss low"][0] <= 0.025


@pytest.mark.simulation
@pytest.mark.parametrize("paired", [False, True])
def test_fixed_horizon_covers_at_auc_099_with_the_floor(canary_scale, paired):
    # measured at N_ROLLOUTS = 1000, seeds 2027/2029 (unpaired/paired): without the floor
    # 0.943/0.936 (miss on the non-inferiority side 0.047/0.058), with it 0.974/0.982
    # (0.022/0.016), the floor widening the interval 1.16x/1.27x on average
    _, cover, _ = canary_scale[paired, 0.99]
    assert cover["fixed floor"][0] >= 0.93
    assert cover["fixed floor"][0] >= cover["fixed no floor"][0]
    se = cover["fixed floor miss low"][1]
    assert cover["fixed floor miss low"][0] <= 0.025 + 3 * se


@pytest.mark.simulation
@pytest.mark.parametrize("paired", [False, True])
def test_floor_inactive_at_auc_08_with_1000_labelled(canary_scale, paired):
    looks, cover, _ = canary_scale[paired, 0.8]
    for sequential in (True, False):
        with_floor = auc_intervals(looks, sequential=sequential, last_only=True)
        without = auc_intervals(looks, sequential=sequential, last_only=True, variance_floor=False)
        assert not with_floor[2].any()
        np.testing.assert_array_equal(with_floor[0], without[0])
        np.testing.assert_array_equal(with_floor[1], without[1])
    assert cover["floor width ratio"][0] == 1.0


def test_validation_sections_are_deterministic():
    a = validation_sections(scale=0.02, seed=5)
    assert a == validation_sections(scale=0.02, seed=5)
    assert [title for title, _ in a] == [
        "ΔAUC at canary scale: confidence-sequence width vs fixed-horizon DeLong",
        "ΔAUC at canary scale: coverage with the edge variance floor",
    ]
    assert a[0][1].count("| unpaired (canary) | 0.99 → 0.98 |") == 3
    assert "±" in a[1][1]
    with pytest.raises(InvalidInputError, match="scale"):
        validation_sections(scale=0)
