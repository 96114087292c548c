"""Tests of canarykit.stats.auc (DeLong ΔAUC)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from canarykit.errors import InvalidInputError
from canarykit.stats.auc import (
    auc_delta,
    auc_delta_from_moments,
    auc_delta_half_width,
    delong_auc,
    delong_covariance,
    paired_auc_delta,
    planned_auc_delta_se,
)
from canarykit.stats.boundaries import normal_mixture_bound
from canarykit.stats.result import IntervalResult


def brute_force_delong(labels, scores):
    """O(m·n) DeLong: pairwise kernel ψ (ties ½), placements as row/column means."""
    y = np.asarray(labels, dtype=bool)
    s = np.atleast_2d(np.asarray(scores, dtype=float))
    m, n = int(y.sum()), int((~y).sum())
    v10, v01, aucs = [], [], []
    for row in s:
        d = row[y][:, None] - row[~y][None, :]
        psi = (d > 0) + 0.5 * (d == 0)
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    cov = np.atleast_2d(np.cov(np.array(v10))) / m + np.atleast_2d(np.cov(np.array(v01))) / n
    return np.array(aucs), cov


def _tied_data(seed, size=400, levels=12):
    rng = np.random.default_rng(seed)
    y = rng.random(size) < 0.35
    s1 = np.round(rng.normal(size=size) + y, 0) / levels  # heavy ties
    s2 = np.round(rng.normal(size=size) + 0.7 * y + 0.3 * s1, 1)
    return y, np.vstack([s1, s2])


@pytest.mark.parametrize("seed", range(6))
def test_fast_delong_equals_brute_force_with_ties(seed):
    y, s = _tied_data(seed)
    aucs, cov = delong_covariance(y, s)
    ref_aucs, ref_cov = brute_force_delong(y, s)
    np.testing.assert_allclose(aucs, ref_aucs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_auc_equals_sklearn_with_ties(seed):
    y, s = _tied_data(seed, size=1000)
    aucs, _ = delong_covariance(y, s)
    for k in range(2):
        assert aucs[k] == pytest.approx(roc_auc_score(y, s[k]), abs=1e-12)


def test_hanley_mcneil_rating_data_matches_stata_roctab():
    # Published reference: Stata Base Reference Manual, [R] roctab, Example 1
    # (https://www.stata.com/manuals13/rroctab.pdf): `roctab disease rating` on hanley.dta,
    # whose 109 ratings are Table 1 of Hanley & McNeil (1982), Radiology 143:29-36
    # (58 normal: ratings 1..5 = 33, 6, 6, 11, 2; 51 abnormal: 3, 2, 2, 11, 33).
    # Output: Obs 109, ROC Area 0.8932, Std. Err. 0.0307, asymptotic normal 95% CI
    # [0.83295, 0.95339]; roctab's default standard error is DeLong, DeLong & Clarke-Pearson.
    y = np.repeat([0, 1], [58, 51])
    s = np.concatenate(
        [
            np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2]),
            np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33]),
        ]
    )
    r = delong_auc(y, s)
    assert round(r.estimate, 4) == 0.8932
    _aucs, cov = delong_covariance(y, s)
    assert round(math.sqrt(cov[0, 0]), 4) == 0.0307
    assert round(r.ci_low, 5) == 0.83295
    assert round(r.ci_high, 5) == 0.95339


def test_sequential_half_width_is_normal_mixture_boundary_in_information_time():
    # CS = Δ̂ ± u(I)/I with I = 1/Var and u the two-sided normal-mixture boundary tuned at
    # I* = 1/planned_se² (confseq reference values of the boundary: tests/stats/test_boundaries.py).
    var = np.array([1e-4, 1.6e-5, 4e-6])
    info = 1 / var
    u = normal_mixture_bound(info, 0.05, 1 / 0.004**2, 0.05, one_sided=False)
    np.testing.assert_allclose(auc_delta_half_width(var), u / info, rtol=1e-12)
    # at the planned information the CS is about 1.4x the fixed-horizon half-width
    ratio = auc_delta_half_width(1.6e-5) / auc_delta_half_width(1.6e-5, sequential=False)
    assert 1.3 < float(ratio) < 1.6


def _binormal(seed, n=3000, shift=1.0, noise=0.0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    s = rng.normal(size=n) + shift * y
    return y, s, s + rng.normal(scale=noise if noise else 1e-9, size=n)


def test_paired_variance_is_delong_contrast():
    y, sc, st = _binormal(1, noise=0.4)
    r = paired_auc_delta(y, sc, st, sequential=False)
    aucs, cov = brute_force_delong(y, np.vstack([sc, st]))
    assert r.estimate == pytest.approx(aucs[1] - aucs[0], abs=1e-12)
    assert r.se**2 == pytest.approx(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], rel=1e-9)
    half = 1.959963984540054 * r.se
    assert r.ci_low == pytest.approx(r.estimate - half, rel=1e-12)
    assert isinstance(r, IntervalResult)
    assert r.paired
    assert not r.sequential


def test_unpaired_variance_is_sum_of_arm_variances():
    yc, sc, _ = _binormal(2)
    yt, st, _ = _binormal(3, shift=0.8)
    r = auc_delta(yc, sc, yt, st, sequential=False)
    ac, vc = delong_covariance(yc, sc)
    at, vt = delong_covariance(yt, st)
    assert r.estimate == pytest.approx(at[0] - ac[0], abs=1e-12)
    assert r.se**2 == pytest.approx(vc[0, 0] + vt[0, 0], rel=1e-12)
    assert r.n_control == 3000
    assert r.n_candidate == 3000


def test_sequential_interval_is_wider_and_pvalue_is_dual():
    y, sc, st = _binormal(4, n=6000, noise=0.3)
    fixed = paired_auc_delta(y, sc, st, sequential=False)
    seq = paired_auc_delta(y, sc, st, sequential=True)
    assert seq.ci_low < fixed.ci_low < fixed.ci_high < seq.ci_high
    for r in (fixed, seq):
        for margin in (-0.03, -0.02, -0.01, 0.0):
            rr = paired_auc_delta(y, sc, st, sequential=r.sequential, margin=margin)
            assert rr.pvalue is not None
            assert (rr.pvalue <= 0.05) == (rr.ci_low > margin)


def test_decision_with_policy_margin():
    y, sc, st = _binormal(5, n=20000, noise=0.05)
    assert paired_auc_delta(y, sc, st).decide(-0.01, bound="min") == "pass"
    rng = np.random.default_rng(9)
    bad = sc + rng.normal(scale=2.0, size=sc.size)
    assert paired_auc_delta(y, sc, bad).decide(-0.01, bound="min") == "fail"


def test_one_class_is_inconclusive_not_a_crash():
    y = np.zeros(100, dtype=bool)
    s = np.linspace(0, 1, 100)
    r = paired_auc_delta(y, s, s)
    assert r.decide(-0.01, bound="min") == "inconclusive"
    assert "one class" in r.note
    r2 = auc_delta(y, s, y, s)
    assert r2.decide(-0.01, bound="min") == "inconclusive"


def test_perfect_separation_is_inconclusive():
    y = np.repeat([0, 1], 100)
    s = np.arange(200.0)
    r = paired_auc_delta(y, s, s + 0.5)
    assert r.auc_candidate == 1.0
    assert r.decide(-0.01, bound="min") == "inconclusive"
    assert "AUC" in r.note
    assert math.isnan(r.ci_low)
    assert r.pvalue is None


def test_too_few_positives_is_inconclusive_with_estimate():
    rng = np.random.default_rng(0)
    y = np.zeros(500, dtype=bool)
    y[:10] = True
    s = rng.normal(size=500) + y
    r = paired_auc_delta(y, s, s + rng.normal(scale=0.2, size=500))
    assert r.decide(-0.01, bound="min") == "inconclusive"
    assert "too few" in r.note
    assert not math.isnan(r.estimate)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"confidence_level": 1.5}, "confidence_level"),
        ({"margin": math.nan}, "margin"),
        ({"planned_se": 0.0}, "planned_se"),
        ({"min_class_count": 1}, "min_class_count"),
    ],
)
def test_bad_arguments_raise(kwargs, word):
    y, sc, st = _binormal(6, n=200)
    with pytest.raises(InvalidInputError, match=word):
        paired_auc_delta(y, sc, st, **kwargs)


def test_bad_data_raise():
    with pytest.raises(InvalidInputError, match="labels"):
        paired_auc_delta([0, 2, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(InvalidInputError, match="scores_candidate"):
        paired_auc_delta([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(InvalidInputError, match="scores_control"):
        auc_delta([0, 1], [0.1, math.nan], [0, 1], [0.1, 0.2])


def test_from_moments_reports_zero_variance():
    r = auc_delta_from_moments(
        auc_control=0.8, auc_candidate=0.8, variance=0.0, counts=(50, 50, 50, 50), paired=True
    )
    assert r.decide(-0.01, bound="min") == "inconclusive"
    assert "variance" in r.note
    assert r.to_dict()["auc_control"] == 0.8


def test_planned_se_approximates_delong_se():
    # Hanley-McNeil planning formula vs the DeLong SE of one simulated window
    rng = np.random.default_rng(0)

    def arm(n):
        y = rng.random(n) < 0.3
        return y, rng.normal(size=n) + 1.19 * y

    yc, sc = arm(80_000)
    yt, st = arm(20_000)
    r = auc_delta(yc, sc, yt, st)
    planned = planned_auc_delta_se(24_000, 56_000, 6_000, 14_000, auc=0.8)
    assert planned == pytest.approx(r.se, rel=0.15)
    paired = planned_auc_delta_se(6_000, 14_000, 6_000, 14_000, correlation=0.7)
    assert paired < planned
    with pytest.raises(InvalidInputError, match="auc"):
        planned_auc_delta_se(10, 10, 10, 10, auc=1.0)
    with pytest.raises(InvalidInputError, match="n_positives"):
        planned_auc_delta_se(1, 10, 10, 10)
