"""Segment summaries kept from look to look (issues 15 and 16): ``evaluate --by`` during a rollout.

A batch job looks every five minutes with ``--by region``: each look must read only the rows
after the previous look's segment summaries, and the earlier steps' windows (whose segment
e-values it carries in) once — while every verdict stays the one a full recomputation gives,
replay stays identical, and anything that changes rows inside a kept window (a late batch) or
the kept figures themselves (SQL) does not slip through.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from canarykit.rollout import start_rollout, step_rollout
from canarykit.traces import TraceStore, segment_figures
from canarykit.traces.generate import generate_traces
from canarykit.verdict import evaluate, segments
from canarykit.verdict.replay import replay

START = dt.datetime(2026, 4, 6, 9, 0)
MODEL = "risk-default"
PLAN = (
    "steps:\n  - {share: 0.05, window_minutes: 30}\n  - {share: 0.25, window_minutes: 30}\n"
    "  - {share: 1.0, window_minutes: 30, control_window_minutes: 30}\n"
)
# (start minute, minutes, canary share): the hour before the rollout, then the three steps
TRAFFIC = ((-60, 60, 0.05), (0, 30, 0.05), (30, 30, 0.25), (60, 30, 1.0))


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def iso(minutes: float) -> str:
    return at(minutes).isoformat() + "Z"


@pytest.fixture(scope="module")
def traffic() -> pa.Table:
    parts = []
    for i, (begin, minutes, share) in enumerate(TRAFFIC):
        t = generate_traces(
            "identical",
            n_requests=200 * minutes,
            seed=70 + i,
            canary_share=share,
            start=at(begin).isoformat(),
            duration_minutes=minutes,
            segments=True,
        )
        parts.append(t)
    return pa.concat_tables(parts)


def _slice(table: pa.Table, lo: float, hi: float) -> pa.Table:
    ts = table.column("ts")
    return table.filter(
        pc.and_(
            pc.greater_equal(ts, pa.scalar(at(lo), ts.type)),
            pc.less(ts, pa.scalar(at(hi), ts.type)),
        )
    )


def _comparable(verdict) -> dict:
    d = verdict.to_dict()
    d.pop("created_at")
    return d


def _job(table, plan_path, monkeypatch, *, kept: bool, reads: list | None = None):
    """Ingest five minutes, look with --by region; three steps of 30 minutes."""
    with monkeypatch.context() as m:
        original = segments.summarize_segments_kept
        if not kept:

            def unkept(store, selection, keep, **kw):
                return original(store, selection, None, **kw)

            m.setattr(segments, "summarize_segments_kept", unkept)
        if reads is not None:
            summarize = segment_figures.summarize_segments

            def spy(store, selection, **kw):
                reads.append((selection.since, selection.until, tuple(kw.get("arms") or ())))
                return summarize(store, selection, **kw)

            m.setattr(segment_figures, "summarize_segments", spy)
        store = TraceStore()
        store.ingest(_slice(table, -60, 0))
        start_rollout(store, model=MODEL, at=iso(0), plan=plan_path)
        verdicts = []
        for step in (1, 2, 3):
            begin = 30.0 * (step - 1)
            if step > 1:
                step_rollout(store, model=MODEL, to=step, at=iso(begin))
            for k in range(1, 7):
                store.ingest(_slice(table, begin + 5 * (k - 1), begin + 5 * k))
                verdicts.append(evaluate(store, until=iso(begin + 5 * k), by="region"))
        return store, verdicts


def test_segment_looks_read_new_rows_and_equal_a_full_recomputation(traffic, tmp_path, monkeypatch):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    reads: list = []
    store, fast = _job(traffic, plan, monkeypatch, kept=True, reads=reads)
    _, full = _job(traffic, plan, monkeypatch, kept=False)
    assert len(fast) == 18
    for a, b in zip(fast, full, strict=True):
        assert _comparable(a) == _comparable(b)
    assert fast[-1].segments is not None
    assert fast[-1].segments.carried_from_step == 2
    # every look after the first of a step reads its last five minutes only; the earlier
    # steps' whole windows (carried in) are completed once, at the first look of the next step
    whole = [r for r in reads if r[0] is not None and r[0] in (iso(0)[:-1], iso(30)[:-1])]
    slices = [r for r in reads if r not in whole]
    for since, until, _ in slices:
        span = dt.datetime.fromisoformat(until) - dt.datetime.fromisoformat(since)
        assert span <= dt.timedelta(minutes=5), (since, until)
    # one read per look: the earlier steps' windows were kept up to their ends by their last
    # looks, so carrying their e-values in reads nothing
    assert len(reads) == 18
    # the 100 % step's control arm (a fixed control window) is read once
    assert any(arms == ("canary",) for _, _, arms in reads)
    assert replay(fast[-1], store).identical
    assert replay(fast[8], store).identical


def test_a_late_batch_makes_the_next_segment_look_read_its_window(traffic, tmp_path, monkeypatch):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    table = traffic
    store = TraceStore()
    late = _slice(table, 2, 3)
    on_time = table.filter(pc.invert(pc.is_in(table["request_id"], late["request_id"])))
    store.ingest(_slice(on_time, -60, 10))
    start_rollout(store, model=MODEL, at=iso(0), plan=plan)
    evaluate(store, until=iso(5), by="region")
    store.ingest(late)  # a minute of traffic that arrives late, inside the kept window
    reads: list = []
    summarize = segment_figures.summarize_segments

    def spy(store, selection, **kw):
        reads.append(selection.since)
        return summarize(store, selection, **kw)

    monkeypatch.setattr(segment_figures, "summarize_segments", spy)
    v = evaluate(store, until=iso(10), by="region")
    assert reads == [at(0).isoformat()]  # the whole window again, not the last five minutes
    assert v.segments is not None
    # (replay of this look differs, as for any look: the late rows change look 1 as well)


def test_forged_segment_figures_are_found_by_replay(traffic, tmp_path):
    """The kept segment summaries edited by SQL (every error moved onto one region's canary
    arm): the next look believes them, replay recomputes from the rows and differs."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    store = TraceStore()
    store.ingest(_slice(traffic, -60, 10))
    start_rollout(store, model=MODEL, at=iso(0), plan=plan)
    honest = evaluate(store, until=iso(5), by="region")
    assert replay(honest, store).identical
    con = store.connection
    key, blob = con.execute("SELECT key, figures FROM segment_figures").fetchall()[0]
    kept = segment_figures.from_bytes(bytes(blob))
    assert kept is not None
    first = next(iter(kept.segments))
    control, canary = kept.segments[first]
    forged = dataclasses.replace(
        kept,
        segments={
            **kept.segments,
            first: (control, dataclasses.replace(canary, errors=canary.n)),
        },
    )
    con.execute(
        "UPDATE segment_figures SET figures = ? WHERE key = ?",
        [segment_figures.to_bytes(forged), key],
    )
    v = evaluate(store, until=iso(10), by="region")
    result = replay(v, store)
    assert not result.identical
    assert "segments" in json.dumps(result.differences, default=str)


def test_a_look_without_log_reads_kept_figures_but_writes_none(traffic, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    store = TraceStore()
    store.ingest(_slice(traffic, -60, 15))
    start_rollout(store, model=MODEL, at=iso(0), plan=plan)
    evaluate(store, until=iso(5), by="region")
    before = store.connection.execute("SELECT key, until FROM segment_figures").fetchall()
    v = evaluate(store, until=iso(10), by="region", log=False)
    after = store.connection.execute("SELECT key, until FROM segment_figures").fetchall()
    assert before == after
    assert v.segments is not None


def test_segment_figures_round_trip_and_merge_exactly(traffic):
    from canarykit.traces.segment_summaries import summarize_segments
    from canarykit.traces.summaries import Selection

    store = TraceStore()
    store.ingest(_slice(traffic, 0, 30))
    sel = Selection(
        model=MODEL,
        baseline="v2.2.4",
        candidate="v2.3.0",
        mode="canary",
        since=at(0).isoformat(),
        until=at(30).isoformat(),
    )
    kw = {"by": ("region", "route"), "latency_thresholds": (250.0, 400.0), "scores": True}
    whole = summarize_segments(store, sel, **kw)
    cut = at(11).isoformat()
    merged = segment_figures.merge_segments(
        summarize_segments(store, dataclasses.replace(sel, until=cut), **kw),
        summarize_segments(store, dataclasses.replace(sel, since=cut), **kw),
    )
    for got in (merged, segment_figures.from_bytes(segment_figures.to_bytes(merged))):
        assert got is not None
        assert list(got.segments) == list(whole.segments)
        for key, pair in whole.segments.items():
            for a, b in zip(got.segments[key], pair, strict=True):
                for f in dataclasses.fields(a):
                    x, y = getattr(a, f.name), getattr(b, f.name)
                    if isinstance(x, np.ndarray):
                        np.testing.assert_array_equal(x, y, err_msg=f"{key} {f.name}")
                    else:
                        assert x == y, (key, f.name)
    assert segment_figures.from_bytes(b"not a record") is None
