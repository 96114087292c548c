"""Tests of canarykit.stats.fairness, including parity with fairlearn's MetricFrame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

from canarykit.errors import InvalidInputError
from canarykit.stats.fairness import (
    ConfusionCounts,
    fairness_gap_delta,
    fairness_summary,
    gap_delta_bounds,
    intersection_groups,
)
from canarykit.stats.shadow import clopper_pearson, proportion_confidence_sequence

METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
}


def _rows(seed, n=6000):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n, p=[0.4, 0.6])
    race = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    age = rng.choice([1, 2], size=n)
    y = rng.random(n) < 0.3 + 0.1 * (race == "b")
    p = 0.2 + 0.5 * y + 0.1 * (sex == "male") - 0.05 * (race == "c")
    d = rng.random(n) < p
    return y.astype(int), d.astype(int), sex, race, age


def _assert_matches_fairlearn(counts, y, d, sf):
    mf = MetricFrame(metrics=METRICS, y_true=y, y_pred=d, sensitive_features=sf)
    s = fairness_summary(counts)
    assert list(mf.by_group.index) == list(s.groups)
    for name in METRICS:
        np.testing.assert_allclose(s.by_group[name], mf.by_group[name].to_numpy(), atol=1e-9)
        assert s.difference[name] == pytest.approx(mf.difference()[name], abs=1e-9)
        assert s.ratio[name] == pytest.approx(mf.ratio()[name], abs=1e-9)
    dpd = demographic_parity_difference(y, d, sensitive_features=sf)
    eod = equalized_odds_difference(y, d, sensitive_features=sf)
    assert s.demographic_parity_difference == pytest.approx(dpd, abs=1e-9)
    assert s.equalized_odds_difference == pytest.approx(eod, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_feature_matches_fairlearn(seed):
    y, d, _sex, race, _age = _rows(seed)
    counts = ConfusionCounts.from_predictions(y, d, race)
    _assert_matches_fairlearn(counts, y, d, race)


@pytest.mark.parametrize("seed", [3, 4])
def test_intersectional_groups_match_fairlearn(seed):
    y, d, sex, race, age = _rows(seed)
    counts = ConfusionCounts.from_predictions(y, d, sex, race, age)
    sf = pd.DataFrame({"sex": sex, "race": race, "age": age})
    assert len(counts.groups) == 12
    assert counts.groups[0] == ("female", "a", 1)
    _assert_matches_fairlearn(counts, y, d, sf)


def test_from_grouped_equals_from_predictions():
    y, d, sex, race, _ = _rows(5)
    keys, codes = intersection_groups(sex, race)
    # what `GROUP BY sex, race, label, decision` returns
    cell = (codes * 2 + y) * 2 + d
    uniq, cnt = np.unique(cell, return_counts=True)
    grouped = ConfusionCounts.from_grouped(
        groups=[keys[u // 4] for u in uniq], label=(uniq // 2) % 2, decision=uniq % 2, count=cnt
    )
    direct = ConfusionCounts.from_predictions(y, d, sex, race)
    assert grouped.groups == direct.groups
    for name in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(grouped, name), getattr(direct, name))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_group_without_positives_is_nan_and_inconclusive_not_zero():
    y, d, _sex, race, _ = _rows(6)
    y = np.where(race == "c", 0, y)  # group "c" has no positives
    counts = ConfusionCounts.from_predictions(y, d, race)
    mf = MetricFrame(metrics=true_positive_rate, y_true=y, y_pred=d, sensitive_features=race)
    assert mf.by_group["c"] == 0.0  # fairlearn silently reports 0
    assert math.isnan(counts.rates("tpr")[2])  # canarykit: undefined
    r = fairness_gap_delta(counts, counts, metric="tpr")
    assert r.decide(0.02, bound="max") == "inconclusive"
    assert "'c': 0 positives < 30" in r.note
    assert math.isnan(r.estimate)
    # selection rate is still fine for that group
    r2 = fairness_gap_delta(counts, counts, metric="selection_rate")
    assert r2.note == ""


def test_min_support_threshold_is_applied_per_rate():
    c = ConfusionCounts.from_arrays(
        groups=["x", "y"], tp=[100, 20], fp=[50, 50], fn=[100, 9], tn=[500, 500]
    )
    r = fairness_gap_delta(c, c, metric="tpr", min_count=30)
    assert r.decide(0.02, bound="max") == "inconclusive"
    assert "'y': 29 positives < 30" in r.note
    assert r.estimate == pytest.approx(0.0)
    assert fairness_gap_delta(c, c, metric="fpr", min_count=30).note == ""


def test_gap_delta_matches_point_estimates_and_sign_flips():
    y, d, _sex, race, _ = _rows(7, n=40_000)
    rng = np.random.default_rng(8)
    d2 = np.where((race == "c") & (y == 1) & (rng.random(y.size) < 0.3), 0, d)
    ctrl = ConfusionCounts.from_predictions(y, d, race)
    cand = ConfusionCounts.from_predictions(y, d2, race)
    for metric in ("selection_rate", "tpr", "fpr", "equalized_odds"):
        r = fairness_gap_delta(ctrl, cand, metric=metric)
        s_c, s_t = fairness_summary(ctrl), fairness_summary(cand)
        if metric == "equalized_odds":
            expect = s_t.equalized_odds_difference - s_c.equalized_odds_difference
        else:
            expect = s_t.difference[metric] - s_c.difference[metric]
        assert r.estimate == pytest.approx(expect, abs=1e-12)
        assert r.ci_low <= r.estimate <= r.ci_high
        swapped = fairness_gap_delta(cand, ctrl, metric=metric)
        assert swapped.estimate == pytest.approx(-r.estimate, abs=1e-12)
        assert swapped.ci_low == pytest.approx(-r.ci_high, abs=1e-12)
    tpr = fairness_gap_delta(ctrl, cand, metric="tpr")
    assert tpr.decide(0.02, bound="max") == "fail"
    same = fairness_gap_delta(ctrl, ctrl, metric="selection_rate")
    assert same.decide(0.02, bound="max") == "inconclusive"
    big = ConfusionCounts.from_arrays(
        groups=ctrl.groups, tp=ctrl.tp * 50, fp=ctrl.fp * 50, fn=ctrl.fn * 50, tn=ctrl.tn * 50
    )
    assert fairness_gap_delta(big, big, metric="selection_rate").decide(0.02, bound="max") == (
        "pass"
    )


def test_interval_covers_when_argmax_group_switches():
    # control: group a highest; candidate: group b highest; true gaps 0.10 and 0.12
    rng = np.random.default_rng(9)
    true_c, true_t = np.array([0.6, 0.5, 0.55]), np.array([0.48, 0.6, 0.5])
    n = 3000
    misses = 0
    reps = 300
    for _ in range(reps):
        sel_c = rng.binomial(n, true_c)
        sel_t = rng.binomial(n, true_t)
        mk = lambda s: ConfusionCounts.from_arrays(  # noqa: E731
            groups=["a", "b", "c"], tp=s, fp=np.zeros(3), fn=np.zeros(3), tn=n - s
        )
        r = fairness_gap_delta(mk(sel_c), mk(sel_t), metric="selection_rate")
        misses += not (r.ci_low <= 0.02 <= r.ci_high)
    assert misses / reps <= 0.05


def test_paired_design():
    y, d, _sex, race, _ = _rows(10)
    c = ConfusionCounts.from_predictions(y, d, race)
    # union bound: no independence needed, identical interval
    a = fairness_gap_delta(c, c, metric="tpr", paired=True, interval="union")
    b = fairness_gap_delta(c, c, metric="tpr", paired=False, interval="union")
    assert a.ci_low == b.ci_low
    assert "paired" in a.method
    assert a.paired
    # contrasts: Cauchy-Schwarz variance bound makes the paired interval wider
    pc = fairness_gap_delta(c, c, metric="tpr", paired=True)
    uc = fairness_gap_delta(c, c, metric="tpr", paired=False)
    assert pc.ci_low < uc.ci_low
    assert uc.ci_high < pc.ci_high


@pytest.mark.parametrize("metric", ["selection_rate", "tpr", "fpr", "equalized_odds"])
def test_contrasts_interval_is_narrower_than_union(metric):
    y, d, sex, race, _ = _rows(14, n=60_000)
    c = ConfusionCounts.from_predictions(y, d, sex, race)
    con = fairness_gap_delta(c, c, metric=metric)
    uni = fairness_gap_delta(c, c, metric=metric, interval="union")
    assert "contrasts" in con.method
    assert uni.ci_low < con.ci_low <= 0.0 <= con.ci_high < uni.ci_high


def test_contrasts_cs_time_uniform_coverage_small_groups_rare_rates():
    # 30 trials per group and look, FPR-like rates near 0, 100 looks, boundary-like truth
    rng = np.random.default_rng(15)
    tc, tt = np.array([0.02, 0.05, 0.03]), np.array([0.02, 0.07, 0.03])
    truth = (tt.max() - tt.min()) - (tc.max() - tc.min())
    reps, looks = 400, 100
    s = rng.binomial(30, np.stack([tc, tt]), size=(reps, looks, 2, 3)).cumsum(axis=1)
    t = np.broadcast_to(30.0 * np.arange(1, looks + 1)[None, :, None, None], s.shape)
    lo, hi = gap_delta_bounds(s[..., None, :], t[..., None, :], planned_n=1000)
    assert ((lo > truth) | (hi < truth)).any(axis=1).mean() <= 0.05


def test_fixed_horizon_is_narrower():
    y, d, _sex, race, _ = _rows(11, n=20_000)
    c = ConfusionCounts.from_predictions(y, d, race)
    seq = fairness_gap_delta(c, c, metric="fpr")
    fix = fairness_gap_delta(c, c, metric="fpr", sequential=False)
    assert seq.ci_low < fix.ci_low <= fix.ci_high < seq.ci_high


def test_missing_group_in_one_arm_is_inconclusive():
    a = ConfusionCounts.from_arrays(
        groups=["x", "y"], tp=[90] * 2, fp=[90] * 2, fn=[90] * 2, tn=[90] * 2
    )
    b = ConfusionCounts.from_arrays(groups=["x"], tp=[90], fp=[90], fn=[90], tn=[90])
    r = fairness_gap_delta(a, b)
    assert r.groups == ("x", "y")
    assert "candidate group 'y': 0 members" in r.note


def test_proportion_cs_and_clopper_pearson():
    lo, hi = proportion_confidence_sequence([0, 10, 50], [50, 50, 50], 0.05)
    assert lo[0] == 0.0
    assert hi[2] == 1.0
    assert lo[1] < 0.2 < hi[1]
    # the sequence is wider than the fixed-horizon interval at the same level
    clo, chi = clopper_pearson(10, 50, 0.05)
    assert lo[1] < clo
    assert chi < hi[1]
    # scipy's binomtest exact interval
    from scipy.stats import binomtest

    ci = binomtest(10, 50).proportion_ci(0.95, method="exact")
    assert clo == pytest.approx(ci.low, abs=1e-12)
    assert chi == pytest.approx(ci.high, abs=1e-12)
    e_lo, e_hi = proportion_confidence_sequence(0, 0, 0.05)
    assert (float(e_lo), float(e_hi)) == (0.0, 1.0)


def test_proportion_cs_time_uniform_coverage():
    rng = np.random.default_rng(13)
    p, reps, looks = 0.3, 400, 200
    x = rng.random((reps, looks * 10)) < p
    s = np.cumsum(x, axis=1)[:, 9::10]
    t = np.arange(10, looks * 10 + 1, 10)
    lo, hi = proportion_confidence_sequence(s, t, 0.05)
    ever_miss = ((lo > p) | (hi < p)).any(axis=1).mean()
    assert ever_miss <= 0.05


def test_bad_arguments():
    c = ConfusionCounts.from_arrays(groups=["x", "y"], tp=[1, 1], fp=[1, 1], fn=[1, 1], tn=[1, 1])
    with pytest.raises(InvalidInputError, match="metric"):
        fairness_gap_delta(c, c, metric="ppv")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="confidence_level"):
        fairness_gap_delta(c, c, confidence_level=95)
    with pytest.raises(InvalidInputError, match="min_count"):
        fairness_gap_delta(c, c, min_count=0)
    with pytest.raises(InvalidInputError, match="tp"):
        ConfusionCounts.from_arrays(groups=["x"], tp=[-1], fp=[1], fn=[1], tn=[1])
    with pytest.raises(InvalidInputError, match="groups"):
        ConfusionCounts.from_arrays(groups=["x", "x"], tp=[1, 1], fp=[1, 1], fn=[1, 1], tn=[1, 1])
    with pytest.raises(InvalidInputError, match="successes"):
        proportion_confidence_sequence(5, 3, 0.05)
    with pytest.raises(InvalidInputError, match="features"):
        intersection_groups()
    with pytest.raises(InvalidInputError, match="interval"):
        fairness_gap_delta(c, c, interval="bonferroni")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="planned_n"):
        fairness_gap_delta(c, c, planned_n=0)
    with pytest.raises(InvalidInputError, match="successes, trials"):
        gap_delta_bounds([1, 2], [3, 4])
