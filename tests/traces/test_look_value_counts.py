"""Order statistics from merged value counts (issue 15: a look in proportion to new data).

While an arm's latencies take few distinct values, a rollout look keeps the count of each value
and answers every rank from the counts, so it reads no latency bucket of the whole window. The
ranks must be exactly those the bucket read gives, for latencies logged to 0.1 ms (few values)
and for continuous ones (more values than kept: the look falls back to the bucket read), and the
counts must survive the look record byte for byte.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from canarykit.traces import TraceStore, partial_summaries, rank_values, summaries
from canarykit.traces.generate import generate_traces
from canarykit.traces.partial_summaries import (
    ArmPartial,
    PairedPartial,
    PartialSummaries,
    ValueCounts,
)
from canarykit.traces.rank_values import StaleCountsError, ranks_from_values
from canarykit.traces.summaries import Selection, SummaryPlan, summarize, summarize_since
from canarykit.traces.summary_passes import ZERO_KEY

START = dt.datetime(2026, 3, 2, 9, 0)


def _every_rank(nc: int, nt: int) -> tuple[list[int], list[int]]:
    return list(range(1, nc + 1)), list(range(1, nt + 1))


PLAN = SummaryPlan(ranks_for=_every_rank)


def _store(*, continuous: bool, n: int = 3000) -> tuple[TraceStore, Selection, dt.datetime]:
    table = generate_traces("latency_tail", n_requests=n, seed=7, start=START.isoformat())
    if continuous:  # latencies from a timer: (almost) every value distinct
        lat = table["latency_ms"]
        noise = pa.array(np.random.default_rng(3).uniform(0, 0.1, len(table)))
        table = table.set_column(
            table.schema.get_field_index("latency_ms"), "latency_ms", pc.add(lat, noise)
        )
    store = TraceStore()
    store.ingest(table)
    control = table.filter(pc.equal(table["arm"], "control"))["version"][0].as_py()
    canary = table.filter(pc.equal(table["arm"], "canary"))["version"][0].as_py()
    last = pc.max(table["ts"]).as_py()
    sel = Selection(
        model=table["model"][0].as_py(),
        baseline=control,
        candidate=canary,
        mode="canary",
        since=START.isoformat(),
        until=(last + dt.timedelta(seconds=1)).isoformat(),
    )
    return store, sel, last


def _looks(store: TraceStore, sel: Selection, last: dt.datetime, k: int = 5):
    """``k`` looks at a growing window, each merged with the one before (as a rollout does)."""
    span = last - START
    previous, previous_until, out = None, None, []
    for i in range(1, k + 1):
        until = (START + span * (i / k) + dt.timedelta(seconds=1)).isoformat()
        look_sel = dataclasses.replace(sel, until=until)
        s, previous = summarize_since(store, look_sel, PLAN, previous, previous_until)
        previous_until = until
        out.append((look_sel, s, previous))
    return out


@pytest.mark.parametrize("continuous", [False, True])
def test_every_rank_of_every_look_equals_the_bucket_read(continuous, monkeypatch):
    store, sel, last = _store(continuous=continuous)
    if continuous:  # fewer kept values than the arm has: the counts are dropped
        monkeypatch.setattr(summaries, "MAX_DISTINCT_VALUES", 500)
        monkeypatch.setattr(partial_summaries, "MAX_DISTINCT_VALUES", 500)
    reads: list[str] = []
    original = summaries.order_statistics

    def spy(con, selection, arm, ranks, buckets, **kw):
        reads.append(arm)
        return original(con, selection, arm, ranks, buckets, **kw)

    monkeypatch.setattr(summaries, "order_statistics", spy)
    looks = _looks(store, sel, last)
    # a look reads buckets only for an arm whose counts were dropped (continuous latencies:
    # the 3,000-request control arm; the canary arm's ~150 values stay under 500)
    dropped = [
        arm
        for _, _, f in looks
        for arm, a in (("control", f.control), ("canary", f.candidate))
        if a.values is None
    ]
    assert reads == dropped
    assert dropped == (["control"] * 5 if continuous else [])
    for look_sel, s, _ in looks:
        full = summarize(store, look_sel, PLAN)  # one pass + the bucket read
        for a, b in ((s.control, full.control), (s.candidate, full.candidate)):
            np.testing.assert_array_equal(a.latency_ranks, b.latency_ranks)
            np.testing.assert_array_equal(a.latency_values, b.latency_values)
            assert a.latency_values.size == a.n_latency  # every rank was asked for


def test_counts_are_dropped_for_the_rest_of_the_step_once_too_many(monkeypatch):
    store, sel, last = _store(continuous=True)
    monkeypatch.setattr(summaries, "MAX_DISTINCT_VALUES", 1200)
    monkeypatch.setattr(partial_summaries, "MAX_DISTINCT_VALUES", 1200)
    kept = [
        (f.control.values is not None, f.candidate.values is not None)
        for _, _, f in _looks(store, sel, last)
    ]
    # the ~2,850-value control arm outgrows 1,200 values at its third look and never gets its
    # counts back within the step; the small canary arm keeps them
    assert [c for c, _ in kept] == [True, True, False, False, False]
    assert all(t for _, t in kept)


def test_a_value_count_that_disagrees_with_the_pass_is_stale(monkeypatch):
    store, sel, _ = _store(continuous=False)
    original = rank_values.latency_value_counts

    def one_row_short(con, selection, arm, limit):
        values = original(con, selection, arm, limit)
        return ValueCounts(values=values.values, counts=values.counts - (values.counts > 1))

    monkeypatch.setattr(summaries, "latency_value_counts", one_row_short)
    with pytest.raises(StaleCountsError):
        summarize_since(store, sel, PLAN, None, None)
    with pytest.raises(StaleCountsError):
        ranks_from_values(ValueCounts.of([1.0], [2]), np.array([1]), arm="control", n=3)


def test_ranks_from_values_brute_force():
    rng = np.random.default_rng(11)
    for _ in range(200):
        x = rng.choice(rng.uniform(0, 100, 20).round(1), size=int(rng.integers(1, 60)))
        # counted in two halves and merged, as two looks do
        half = x.size // 2
        values = ValueCounts.of(x[:half], np.ones(half, np.int64)).merge(
            ValueCounts.of(x[half:], np.ones(x.size - half, np.int64))
        )
        ranks = np.arange(1, x.size + 1)
        got = ranks_from_values(values, ranks, arm="canary", n=x.size)
        np.testing.assert_array_equal(got, np.sort(x))


def _partial(values: ValueCounts | None, big: bool) -> ArmPartial:
    scores = np.zeros(10, np.int64)
    scores[[0, 9]] = [3, 2**40 if big else 7]
    return ArmPartial(
        n=12,
        errors=1,
        n_latency=11,
        scored=10,
        labelled=4,
        start=START,
        end=START + dt.timedelta(minutes=3),
        min_latency=0.1,
        max_latency=812.25,
        hsum=2**70 + 5,
        hxor=2**63 + 1,
        buckets={-(2**62): 1, -3: 2, 0: 1, 417: 70_000 if big else 7},
        scores=scores,
        positives=scores // 2,
        negatives=scores - scores // 2,
        confusion={("group",): {(("a",), True, False): 3, ((None,), False, True): 1}},
        values=values,
    )


@pytest.mark.parametrize("big", [False, True])
def test_the_look_record_round_trips_exactly(big):
    values = ValueCounts.of(
        [0.1, 1 / 3, 812.25, float(np.nextafter(2.0, 3.0))], [1, 4, 2**33 if big else 6, 1]
    )
    paired = PairedPartial.of_cells(
        [0, 17],
        [999, 3],
        [1, 0],
        [3, 2**35 if big else 6],
        n_pairs=9,
        agreement=((4, 1), (2, 2**40 if big else 2)),
        sum_diff=-0.1053000000000008,
        sum_sq_diff=float(np.nextafter(0.0425, 1.0)),
    )
    p = PartialSummaries(
        control=_partial(values, big), candidate=_partial(None, big), paired=paired
    )
    back = PartialSummaries.from_bytes(p.to_bytes())
    assert back is not None
    assert back.paired == paired
    assert (
        PartialSummaries.from_bytes(dataclasses.replace(p, paired=None).to_bytes()).paired is None
    )
    for a, b in ((p.control, back.control), (p.candidate, back.candidate)):
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, np.ndarray):
                assert y.dtype == np.int64
                np.testing.assert_array_equal(x, y)
            else:
                assert x == y, f.name
    assert back.control.values == values
    assert back.control.values.values.dtype == np.float64


def test_a_damaged_or_foreign_record_is_ignored():
    import json
    import zlib

    good = PartialSummaries(
        control=_partial(ValueCounts.of([1.0], [1]), False), candidate=ArmPartial()
    ).to_bytes()
    raw = zlib.decompress(good)
    assert PartialSummaries.from_bytes(zlib.compress(raw[:-3])) is None  # truncated arrays
    assert PartialSummaries.from_bytes(zlib.compress(raw + b"\0")) is None  # trailing bytes
    assert PartialSummaries.from_bytes(good[:-5]) is None  # not a whole zlib stream
    old = json.dumps({"format": "canarykit.partial_summaries/1", "control": {}}).encode()
    assert PartialSummaries.from_bytes(zlib.compress(old)) is None  # an older format
    assert PartialSummaries.from_bytes(b"") is None


@pytest.mark.parametrize("continuous", [False, True])
def test_the_first_pass_counts_values_as_the_separate_count_does(continuous):
    """Pass 1 grouped by value (an arm whose counts are kept) gives the same figures, buckets
    and value counts as the grouping by sub-bucket plus the separate value count (NULL and
    zero latencies included)."""
    from canarykit.traces.rank_values import latency_value_counts
    from canarykit.traces.summary_passes import partial_summaries as passes

    store, sel, _ = _store(continuous=continuous)
    store.connection.execute(
        "UPDATE traces SET latency_ms = CASE WHEN hash(request_id) % 50 = 0 THEN NULL "
        "WHEN hash(request_id) % 50 = 1 THEN 0.0 ELSE latency_ms END"
    )
    plan = SummaryPlan(feature_sets=(("group",),))
    plain = passes(store.connection, sel, plan)
    fused = passes(store.connection, sel, plan, count_values=("control", "canary"))
    for arm, a, b in (
        ("control", plain.control, fused.control),
        ("canary", plain.candidate, fused.candidate),
    ):
        assert a.values is None
        assert ZERO_KEY in b.buckets
        assert b.n_latency < b.n
        for f in dataclasses.fields(a):
            if f.name != "values":
                x, y = getattr(a, f.name), getattr(b, f.name)
                assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y, f.name
        assert b.values == latency_value_counts(store.connection, sel, arm, 10**9)
