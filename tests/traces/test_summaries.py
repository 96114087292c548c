"""Summaries computed in SQL equal the same statistics computed by brute force in numpy/pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from canarykit.stats.auc_histogram import bin_scores
from canarykit.traces import TraceStore, rank_values
from canarykit.traces.generate import generate_traces
from canarykit.traces.summaries import Selection, SummaryPlan, summarize

SEL = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")


@pytest.fixture(scope="module")
def table():
    return generate_traces(
        "latency_tail", n_requests=30_000, canary_share=0.3, seed=8, label_coverage=0.8
    )


def _ranks(n_control: int, n_candidate: int):
    return (
        [1, 2, n_control // 2, n_control - 1, n_control],
        [1, n_candidate // 3, int(0.99 * n_candidate), n_candidate],
    )


def _summaries(table, plan=None, selection=SEL):
    with TraceStore() as store:
        store.ingest(table)
        return summarize(
            store,
            selection,
            plan or SummaryPlan(feature_sets=(("group",), ("group", "region")), ranks_for=_ranks),
        )


def test_counts_and_order_statistics_match_numpy(table):
    s = _summaries(table)
    df = table.to_pandas()
    for arm_summary, arm in ((s.control, "control"), (s.candidate, "canary")):
        rows = df[df.arm == arm]
        assert arm_summary.n == len(rows)
        assert arm_summary.errors == int(rows.error.sum())
        lat = np.sort(rows.latency_ms.dropna().to_numpy())
        assert arm_summary.n_latency == lat.size
        np.testing.assert_array_equal(
            arm_summary.latency_values, lat[arm_summary.latency_ranks - 1]
        )


def test_grouped_value_fetch_gives_the_same_order_statistics(table, monkeypatch):
    # above MAX_BUCKET_VALUES the needed buckets come back as (value, count) rows
    exact = _summaries(table)
    monkeypatch.setattr(rank_values, "MAX_BUCKET_VALUES", 10)
    fallback = _summaries(table)
    np.testing.assert_array_equal(exact.control.latency_values, fallback.control.latency_values)
    np.testing.assert_array_equal(exact.candidate.latency_values, fallback.candidate.latency_values)


def test_score_histograms_match_numpy(table):
    s = _summaries(table)
    df = table.to_pandas()
    rows = df[(df.arm == "canary") & df.label.notna()]
    bins = bin_scores(rows.score.to_numpy(), 10_000)
    y = rows.label.astype(bool).to_numpy()
    np.testing.assert_array_equal(s.candidate.positives, np.bincount(bins[y], minlength=10_000))
    np.testing.assert_array_equal(s.candidate.negatives, np.bincount(bins[~y], minlength=10_000))


def test_confusion_counts_match_pandas_including_intersections(table):
    s = _summaries(table)
    df = table.to_pandas()
    rows = df[(df.arm == "control") & df.label.notna()].assign(d=lambda d: d.score >= 0.5)
    for features in (("group",), ("group", "region")):
        cells = s.control.confusion[features]
        got = (
            pd.DataFrame(
                {
                    "g": cells["groups"],
                    "label": cells["label"],
                    "d": cells["decision"],
                    "n": cells["count"],
                }
            )
            .set_index(["g", "label", "d"])
            .n.sort_index()
        )
        expected = rows.groupby([*features, "label", "d"]).size()
        expected.index = pd.MultiIndex.from_tuples(
            [(tuple(k[: len(features)]), bool(k[-2]), bool(k[-1])) for k in expected.index],
            names=["g", "label", "d"],
        )
        pd.testing.assert_series_equal(
            got, expected.sort_index(), check_names=False, check_dtype=False
        )


def test_paired_tables_match_a_pandas_join():
    table = generate_traces("shadow", n_requests=5000, seed=3, label_coverage=0.7)
    sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="shadow")
    s = _summaries(table, SummaryPlan(n_bins=100, paired_n_bins=50), sel)
    df = table.to_pandas()
    c = df[df.arm == "control"].set_index("request_id")
    sh = df[df.arm == "shadow"].set_index("request_id").loc[c.index]
    assert s.paired.n_pairs == len(c)
    agree = pd.crosstab(c.score >= 0.5, sh.score.to_numpy() >= 0.5).to_numpy()
    np.testing.assert_array_equal(s.paired.agreement, agree)
    assert s.paired.sum_diff == pytest.approx((sh.score.to_numpy() - c.score.to_numpy()).sum())
    labelled = c.label.notna().to_numpy()
    assert s.paired.count.sum() == labelled.sum()


def test_data_digest_is_order_independent_and_content_sensitive(table):
    shuffled = table.take(np.random.default_rng(1).permutation(table.num_rows))
    assert _summaries(table).data_digest == _summaries(shuffled).data_digest
    df = table.to_pandas()
    df.loc[5, "score"] = 0.123456
    assert _summaries(table).data_digest != _summaries(df).data_digest


def test_until_excludes_later_rows(table):
    late = Selection(
        model="risk-default",
        baseline="v2.2.4",
        candidate="v2.3.0",
        mode="canary",
        until="2026-01-01T00:15:00",
    )
    s = _summaries(table, selection=late)
    df = table.to_pandas()
    early = df[df.ts < pd.Timestamp("2026-01-01T00:15:00")]
    assert s.control.n + s.candidate.n == len(early)
