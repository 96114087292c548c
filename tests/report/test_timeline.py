"""``traces.timeline.error_timeline`` (the counts behind the error-rate plot) vs brute force."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.traces.summaries import Selection
from canarykit.traces.timeline import error_timeline


@pytest.fixture(scope="module")
def store():
    with TraceStore() as s:
        s.ingest(generate_traces("error_regression", n_requests=5_000, canary_share=0.3, seed=5))
        yield s


SELECTION = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")


@pytest.mark.parametrize("bucket_minutes", [1.0, 2.5, 7.0])
def test_counts_match_brute_force(store, bucket_minutes):
    t = error_timeline(store, SELECTION, bucket_minutes=bucket_minutes)
    frame = store.connection.execute("SELECT ts, arm, error FROM traces").df()
    start = frame["ts"].min()
    assert t.start == start.to_pydatetime()
    width = dt.timedelta(minutes=bucket_minutes)
    bucket = ((frame["ts"] - start) // width).to_numpy()
    n_buckets = int(bucket.max()) + 1
    assert len(t.ends) == n_buckets
    assert t.ends[-1] > frame["ts"].max().to_pydatetime() >= t.ends[-2]
    for arm, requests, errors in (
        ("control", t.control_requests, t.control_errors),
        ("canary", t.candidate_requests, t.candidate_errors),
    ):
        mine = (frame["arm"] == arm).to_numpy()
        np.testing.assert_array_equal(requests, np.bincount(bucket[mine], minlength=n_buckets))
        failed = mine & frame["error"].to_numpy()
        np.testing.assert_array_equal(errors, np.bincount(bucket[failed], minlength=n_buckets))
    np.testing.assert_allclose(t.minutes, bucket_minutes * np.arange(1, n_buckets + 1))


def test_until_bounds_the_window(store):
    sel = Selection(
        model="risk-default",
        baseline="v2.2.4",
        candidate="v2.3.0",
        mode="canary",
        until="2026-01-01T00:10:00",
    )
    t = error_timeline(store, sel)
    assert len(t.ends) == 10
    total = store.count()
    assert 0 < int(t.control_requests.sum() + t.candidate_requests.sum()) < total


def test_an_empty_selection_gives_an_empty_timeline(store):
    sel = Selection(model="nobody", baseline="a", candidate="b", mode="canary")
    t = error_timeline(store, sel)
    assert (t.start, t.ends, t.candidate_requests.size, t.minutes.size) == (None, (), 0, 0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bucket_width_must_be_positive(store, bad):
    with pytest.raises(InvalidInputError, match="bucket_minutes: must be > 0"):
        error_timeline(store, SELECTION, bucket_minutes=bad)
