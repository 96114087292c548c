"""Per-segment summaries against a brute-force pandas computation, and the --by rules."""

from __future__ import annotations

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.stats.sketch import LatencySketch
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.traces.segment_summaries import summarize_segments
from canarykit.traces.summaries import Selection

SEL = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")


@pytest.fixture(scope="module")
def table():
    return generate_traces(
        "latency_tail", n_requests=20_000, canary_share=0.25, seed=5, segments=True
    )


@pytest.fixture(scope="module")
def store(table):
    s = TraceStore()
    s.ingest(table)
    yield s
    s.close()


def test_generator_segments_keep_every_other_column(table):
    plain = generate_traces("latency_tail", n_requests=20_000, canary_share=0.25, seed=5)
    assert table.drop_columns(["region", "route"]).equals(plain.drop_columns(["region"]))
    assert sorted(set(table.column("route").to_pylist())) == ["beta", "default"]
    assert len(set(table.column("region").to_pylist())) == 8


def test_affected_confines_the_regression(table):
    t = generate_traces(
        "error_regression",
        n_requests=40_000,
        canary_share=0.5,
        seed=1,
        segments=True,
        affected={"region": "br-south"},
    ).to_pandas()
    rates = t[t.arm == "canary"].groupby(t.region == "br-south").error.mean()
    assert rates[True] > 2 * rates[False]
    with pytest.raises(InvalidInputError, match="affected"):
        generate_traces("identical", n_requests=10, segments=True, affected={"region": "mars"})


def test_matches_pandas_brute_force(store, table):
    seg = summarize_segments(
        store, SEL, by=("region", "route"), latency_thresholds=(120.0,), scores=True, n_bins=50
    )
    df = table.to_pandas()
    assert len(seg.segments) == df.groupby(["region", "route"]).ngroups == 16
    for (region, route), (control, candidate) in seg.segments.items():
        for arm, got in (("control", control), ("canary", candidate)):
            rows = df[(df.region == region) & (df.route == route) & (df.arm == arm)]
            lat = rows.latency_ms.dropna().to_numpy()
            assert got.n == len(rows)
            assert got.errors == int(rows.error.sum())
            assert got.n_latency == lat.size
            assert got.exceed[120.0] == int((lat > 120.0).sum())
            sketch = LatencySketch.from_values(lat, relative_accuracy=seg.relative_accuracy)
            assert got.keys.tolist() == sketch.keys.tolist()
            assert got.counts.tolist() == sketch.counts.tolist()
            lab = rows.dropna(subset=["score", "label"])
            b = np.minimum(np.floor(lab.score.to_numpy() * 50).astype(int), 49)
            y = lab.label.to_numpy(dtype=bool)
            assert got.positives.tolist() == np.bincount(b[y], minlength=50).tolist()
            assert got.negatives.tolist() == np.bincount(b[~y], minlength=50).tolist()


@pytest.mark.parametrize(
    ("by", "message"),
    [
        (("zone",), "--by zone: not a column of the traces"),
        (("latency_ms",), "--by latency_ms: a column of the trace contract"),
        (("region", "region"), "named twice"),
        (("region", "route", "group", "region2"), "at most 3 columns"),
    ],
)
def test_bad_by_is_one_line_naming_column_and_rule(store, by, message):
    with pytest.raises(InvalidInputError, match=message) as err:
        summarize_segments(store, SEL, by=by)
    assert "\n" not in str(err.value)


def test_too_many_segments_is_refused_before_grouping(store):
    with pytest.raises(InvalidInputError, match=r"more than 10 segments.*max_segments"):
        summarize_segments(store, SEL, by=("region", "route"), max_segments=10)
