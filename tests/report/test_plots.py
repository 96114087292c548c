"""Plots are tested for what they show: titles, labels, series, legend entries, thresholds.

Figures are built without pyplot (nothing to close); each test draws on a fresh figure.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer

from canarykit.report.forest import forest_plot
from canarykit.report.plots import (
    arm_sketch,
    error_rate_over_looks,
    fairness_by_group,
    latency_quantiles,
    roc_curve_points,
    roc_curves,
)
from canarykit.stats.auc_histogram import delong_from_histogram
from canarykit.stats.sketch import quantile_cs_from_sketch


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def line(ax, label: str):
    matches = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(matches) == 1, [ln.get_label() for ln in ax.get_lines()]
    return matches[0]


# -- latency ---------------------------------------------------------------------------------
def test_latency_quantiles_shows_both_arms_bands_and_limits(tail_case):
    ax = latency_quantiles(tail_case.data.summaries, slo=(0.95, 120.0), ratio_limit=(0.99, 1.1))
    assert ax.get_title() == "Latency quantiles by arm"
    assert ax.get_xlabel() == "quantile level"
    assert ax.get_ylabel() == "latency (ms)"
    assert ax.get_yscale() == "log"
    assert legend_texts(ax) == [
        "control v2.2.4",
        "control 95% confidence sequence",
        "canary v2.3.0",
        "canary 95% confidence sequence",
        "p95 SLO (120 ms)",
        "p99 limit (control × 1.1)",
    ]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    slo = line(ax, "p95 SLO (120 ms)")
    assert list(slo.get_ydata()) == [120.0, 120.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["p50", "p90", "p95", "p99", "p99.9"]


def test_latency_quantile_lines_follow_the_sketches(tail_case):
    s = tail_case.data.summaries
    ax = latency_quantiles(s, levels=(0.5, 0.95, 0.99))
    control = line(ax, "control v2.2.4").get_ydata()
    canary = line(ax, "canary v2.3.0").get_ydata()
    # the slow path on 1 % of canary requests shows at p99, not at the median
    assert canary[0] == pytest.approx(control[0], rel=0.05)
    assert canary[2] > 1.2 * control[2]
    assert np.all(np.diff(canary) > 0)


def test_latency_band_contains_the_checks_interval(tail_case):
    """The band is the sketch CS, widened to bucket edges: it contains the exact-data CS."""
    check = tail_case.verdict.check("latency_p95")
    sketch = arm_sketch(tail_case.data.summaries.candidate)
    t_opt = check.details["tuning"]["t_opt"]
    upper = quantile_cs_from_sketch(
        sketch, 0.95, confidence_level=1 - check.details["alpha_pass"], t_opt=t_opt
    )
    lower = quantile_cs_from_sketch(
        sketch, 0.95, confidence_level=1 - check.details["alpha_fail"], t_opt=t_opt
    )
    assert lower.ci_low <= check.ci_low <= check.estimate <= check.ci_high <= upper.ci_high
    assert upper.ci_high / lower.ci_low < 1.1 * check.ci_high / check.ci_low


# -- error rate over looks -------------------------------------------------------------------
def test_error_rate_over_looks_replays_the_running_bounds(fairness_case):
    timeline = fairness_case.data.timeline
    ax = error_rate_over_looks(timeline, threshold=0.005, fixed_horizon=True)
    assert ax.get_title() == "Error rate as looks accumulate"
    assert ax.get_ylabel() == "error rate (cumulative)"
    assert ax.get_xlabel().startswith("minutes since window start")
    assert legend_texts(ax) == [
        "canary",
        "running 95% confidence sequence",
        "fixed-horizon interval",
        "control",
        "error-rate SLO (0.50%)",
    ]
    canary = line(ax, "canary")
    n = np.cumsum(timeline.candidate_requests)
    k = np.cumsum(timeline.candidate_errors)
    assert len(canary.get_xdata()) == len(timeline.ends) == 30  # one look per minute
    np.testing.assert_allclose(canary.get_ydata(), k / n)
    assert list(line(ax, "error-rate SLO (0.50%)").get_ydata()) == [0.005, 0.005]
    # the running intersection only narrows: lower edge never falls, upper edge never rises
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    vertices = band.get_paths()[0].vertices[:, 1]
    looks = len(timeline.ends)
    lower, upper = vertices[1 : looks + 1], vertices[looks + 2 : 2 * looks + 2][::-1]
    assert np.all(np.diff(lower) >= 0)
    assert np.all(np.diff(upper) <= 0)
    assert np.all(lower <= k / n)
    assert np.all(k / n <= upper)
    # the fixed-horizon interval of a single look is narrower than the sequence at that look
    fixed_low = line(ax, "fixed-horizon interval").get_ydata()
    assert fixed_low[-1] > lower[-1]


def test_error_band_ends_at_the_checks_interval(fairness_case):
    """The last look of the timeline is the verdict's error_rate check (same rows, same CS)."""
    from canarykit.stats.error_rate import error_rate_bound

    t = fairness_case.data.timeline
    check = fairness_case.verdict.check("error_rate")
    k, n = int(t.candidate_errors.sum()), int(t.candidate_requests.sum())
    level_pass, level_fail = (1 - check.details[f"alpha_{side}"] for side in ("pass", "fail"))
    upper = error_rate_bound(k, n, confidence_level=level_pass)
    lower = error_rate_bound(k, n, confidence_level=level_fail)
    assert (lower.ci_low, upper.ci_high) == pytest.approx((check.ci_low, check.ci_high))


# -- ROC -------------------------------------------------------------------------------------
def test_roc_curves_label_the_aucs_and_the_delta(fairness_case):
    check = fairness_case.verdict.check("auc_delta")
    ax = roc_curves(
        fairness_case.data.summaries,
        delta=(check.estimate, check.ci_low, check.ci_high),
        margin=check.threshold,
    )
    assert ax.get_title() == "ROC curves by arm"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("false positive rate", "true positive rate")
    auc_c, auc_t = check.details["auc_control"], check.details["auc_candidate"]
    assert legend_texts(ax) == [
        f"control v2.2.4 (AUC {auc_c:.3f})",
        f"canary v2.3.0 (AUC {auc_t:.3f})",
        "chance",
    ]
    (note,) = [t.get_text() for t in ax.texts]
    assert f"ΔAUC {check.estimate:+.4f}" in note
    assert f"[{check.ci_low:+.4f}, {check.ci_high:+.4f}]" in note
    assert "margin ≥ -0.010" in note
    for ln in ax.get_lines()[:2]:
        x, y = ln.get_xdata(), ln.get_ydata()
        assert (x[0], y[0], x[-1], y[-1]) == (0.0, 0.0, 1.0, 1.0)
        assert np.all(np.diff(x) >= 0)
        assert np.all(np.diff(y) >= 0)


def test_roc_area_equals_the_histogram_delong_auc():
    rng = np.random.default_rng(11)
    pos = rng.integers(0, 20, size=50)
    neg = rng.integers(0, 20, size=50)
    fpr, tpr = roc_curve_points(pos, neg)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    auc, _ = delong_from_histogram(pos, neg)
    assert area == pytest.approx(float(auc), abs=1e-12)


def test_roc_without_labels_says_so(fairness_case):
    from dataclasses import replace

    s = fairness_case.data.summaries
    empty = np.zeros_like(s.control.positives)
    unlabelled = replace(
        s,
        control=replace(s.control, positives=empty, negatives=empty),
        candidate=replace(s.candidate, positives=empty, negatives=empty),
    )
    ax = roc_curves(unlabelled)
    assert legend_texts(ax) == ["chance"]
    assert "no labelled" in ax.texts[0].get_text()


# -- fairness --------------------------------------------------------------------------------
def test_fairness_by_group_shows_each_arm_group_and_metric(fairness_case):
    ax = fairness_by_group(fairness_case.data.summaries, metrics=("selection_rate", "tpr"))
    assert ax.get_title() == "Fairness metrics by group and arm"
    assert ax.get_xlabel() == "group"
    assert legend_texts(ax) == ["control v2.2.4", "canary v2.3.0"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B", "C"] * 2
    assert sorted(t.get_text() for t in ax.texts) == ["TPR", "selection rate"]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 4  # 2 metrics × 2 arms
    control_sel, canary_sel = bars[0], bars[1]
    y_control = control_sel.lines[0].get_ydata()
    y_canary = canary_sel.lines[0].get_ydata()
    # the regression: group C's selection rate jumps in the canary, A and B do not
    assert y_canary[2] - y_control[2] > 0.1
    assert abs(y_canary[0] - y_control[0]) < 0.05
    # per-group rates agree with the verdict's check details
    rates = fairness_case.verdict.check("fairness_selection_rate").details
    np.testing.assert_allclose(y_control, rates["rates_control"]["selection_rate"])
    np.testing.assert_allclose(y_canary, rates["rates_candidate"]["selection_rate"])


def test_fairness_intervals_contain_the_rates(fairness_case):
    ax = fairness_by_group(fairness_case.data.summaries, metrics=("tpr",), sequential=False)
    for bars in ax.containers:
        y = bars.lines[0].get_ydata()
        (segments,) = bars.lines[2]
        for (x0, _), (x1, _) in segments.get_segments():
            assert x0 == x1
        lows = np.array([s[0][1] for s in segments.get_segments()])
        highs = np.array([s[1][1] for s in segments.get_segments()])
        assert np.all(lows <= y)
        assert np.all(y <= highs)
        assert np.all(highs - lows > 0)


# -- forest ----------------------------------------------------------------------------------
def test_forest_has_one_row_per_check_with_its_threshold(fairness_case):
    verdict = fairness_case.verdict
    fig = forest_plot(verdict)
    assert [ax.get_ylabel() for ax in fig.axes] == [c.name for c in verdict.checks]
    assert "interval and threshold" in fig.get_suptitle()
    for check, ax in zip(verdict.checks, fig.axes, strict=True):
        labels = [ln.get_label() for ln in ax.get_lines()]
        if check.threshold is not None:
            (threshold,) = [ln for ln in ax.get_lines() if ln.get_label() == "threshold"]
            assert list(threshold.get_xdata()) == [check.threshold, check.threshold]
            lo, hi = ax.get_xlim()
            assert lo < check.threshold < hi
        else:
            assert check.kind == "sample_ratio"
            assert "planned" in labels
        (estimate,) = [ln for ln in ax.get_lines() if ln.get_label() == "estimate"]
        assert list(estimate.get_xdata()) == [check.estimate]
        (interval,) = [ln for ln in ax.get_lines() if ln.get_label() == "interval"]
        assert list(interval.get_xdata()) == [check.ci_low, check.ci_high]
        status = [t.get_text() for t in ax.texts]
        assert status[-1].startswith(check.status)


def test_forest_marks_unbounded_and_missing_intervals():
    from canarykit.traces.generate import generate_traces
    from canarykit.verdict.evaluate import evaluate

    # shadow traces without labels: ΔAUC is not estimable; fairness bounds are infinite
    traces = generate_traces("shadow", n_requests=3000, seed=3, label_coverage=0.0)
    verdict = evaluate(traces, log=False)
    fig = forest_plot(verdict)
    by_name = dict(zip([c.name for c in verdict.checks], fig.axes, strict=True))
    fairness = verdict.check("fairness_tpr")
    assert math.isinf(fairness.ci_high)
    markers = [ln.get_marker() for ln in by_name["fairness_tpr"].get_lines()]
    assert "<" in markers
    assert ">" in markers
    assert any("not estimable" in t.get_text() for t in by_name["auc_delta"].texts)


# -- overview --------------------------------------------------------------------------------
def test_verdict_plot_without_source_is_the_forest_under_the_decision(fairness_case):
    verdict = fairness_case.verdict
    fig = verdict.plot()
    assert len(fig.axes) == len(verdict.checks)
    assert fig.get_suptitle().startswith("STOP — risk-default v2.2.4 → v2.3.0 (canary)")


def test_verdict_plot_with_source_adds_the_panels(fairness_case):
    verdict = fairness_case.verdict
    fig = verdict.plot(fairness_case.traces)
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert titles == [
        "Error rate as looks accumulate",
        "Fairness metrics by group and arm",
        "Latency quantiles by arm",
        "ROC curves by arm",
    ]
    assert len(fig.axes) == len(verdict.checks) + 4
    suptitle = fig.get_suptitle()
    assert "fairness_selection_rate" in suptitle
    assert suptitle.startswith("STOP")


def test_overview_saves_as_png(fairness_case, tmp_path):
    fig = fairness_case.verdict.plot(data=fairness_case.data)
    fig.savefig(tmp_path / "o.png", dpi=40)
    assert (tmp_path / "o.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_importing_the_report_layer_does_not_import_pyplot():
    code = (
        "import sys, canarykit.report, canarykit.report.html; "
        "print('matplotlib' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
