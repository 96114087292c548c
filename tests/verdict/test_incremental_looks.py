"""Incremental looks (issue 15): a look reads only the rows after the previous one.

The way a batch job runs a rollout: traffic is ingested every few minutes and a look follows
each ingest. Every look's verdict must be the one a full recomputation gives (the recorded
figures only save reading); anything that changes rows inside the cached window (a late batch,
labels, an edit by SQL) must not leak into a verdict unnoticed.
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
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces import TraceStore, summary_passes
from canarykit.traces.generate import generate_traces
from canarykit.traces.look_cache import catalogued_models, load_cached
from canarykit.traces.partial_summaries import PartialSummaries, ValueCounts
from canarykit.traces.summaries import Selection, SummaryPlan, summarize, summarize_since
from canarykit.verdict import evaluate, look
from canarykit.verdict.policy import load_policy
from canarykit.verdict.replay import replay

RATE = 40.0
PLAN = (
    "steps:\n  - {share: 0.05, window_minutes: 30}\n  - {share: 0.25, window_minutes: 30}\n"
    "  - {share: 1.0, window_minutes: 30, control_window_minutes: 30}\n"
)


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def iso(minutes: float) -> str:
    return at(minutes).isoformat() + "Z"


def _slice(table: pa.Table, lo: float, hi: float) -> pa.Table:
    ts = table.column("ts")
    mask = pc.and_(
        pc.greater_equal(ts, pa.scalar(at(lo), ts.type)), pc.less(ts, pa.scalar(at(hi), ts.type))
    )
    return table.filter(mask)


def _versions(table: pa.Table) -> dict[str, str]:
    control = table.filter(pc.equal(table["arm"], "control"))["version"][0].as_py()
    canary = table.filter(pc.not_equal(table["arm"], "control"))["version"][0].as_py()
    return {"baseline": control, "candidate": canary}


def _comparable(verdict) -> dict:
    d = verdict.to_dict()
    d.pop("created_at")
    return d


@pytest.fixture(scope="module")
def traffic() -> dict[str, pa.Table]:
    plan = load_policy().rollout
    return {
        name: rollout_traffic(SCENARIOS[name], plan, rate=RATE, seed=11)
        for name in ("aa", "errors_x3_at_25")
    }


def _job(table: pa.Table, plan_path, *, cache: bool, monkeypatch, reads: list | None = None):
    """A batch job: ingest 5 minutes of traffic, then look; three steps of 30 minutes."""
    with monkeypatch.context() as m:
        if not cache:
            m.setattr(look, "load_cached", lambda *a: None)
        if reads is not None:
            original = summary_passes.partial_summaries

            def spy(con, selection, plan, *, arms=None, count_values=()):
                reads.append((selection.since, selection.until, tuple(arms or ())))
                return original(con, selection, plan, arms=arms, count_values=count_values)

            m.setattr("canarykit.traces.summaries.partial_summaries", spy)
        store = TraceStore()
        store.ingest(_slice(table, -60, 0))  # the traffic before the rollout (tuning)
        start_rollout(store, model=MODEL, at=iso(0), plan=plan_path, **_versions(table))
        verdicts = []
        for step in (1, 2, 3):
            begin = 30.0 * (step - 1)
            if step > 1:
                step_rollout(store, model=MODEL, to=step, at=iso(begin))
            for k in range(1, 7):
                store.ingest(_slice(table, begin + 5 * (k - 1), begin + 5 * k))
                verdicts.append(evaluate(store, until=iso(begin + 5 * k)))
                if verdicts[-1].decision == "STOP":
                    return store, verdicts
        return store, verdicts


@pytest.mark.parametrize("scenario", ["aa", "errors_x3_at_25"])
def test_every_look_equals_a_full_recomputation(traffic, tmp_path, monkeypatch, scenario):
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    reads: list = []
    store, fast = _job(traffic[scenario], plan, cache=True, monkeypatch=monkeypatch, reads=reads)
    _, full = _job(traffic[scenario], plan, cache=False, monkeypatch=monkeypatch)
    assert [v.decision for v in fast] == [v.decision for v in full]
    for a, b in zip(fast, full, strict=True):
        assert _comparable(a) == _comparable(b)
    # after the first look of a step, a look reads only its last five minutes
    deltas = [r for r in reads if r[0] is not None and r[0] != r[1]]
    incremental = [r for r in deltas if (at(0) + dt.timedelta(minutes=5)).isoformat() <= r[0]]
    assert len(incremental) >= len(fast) - 3 - 1
    for since, until, _ in incremental:
        span = dt.datetime.fromisoformat(until) - dt.datetime.fromisoformat(since)
        assert span == dt.timedelta(minutes=5)
    # the 100 % step's control arm (a fixed control window) is read once, not at every look
    if scenario == "aa":
        assert any(arms == ("canary",) for _, _, arms in reads)
    # and replay (which chains the figures in memory) rebuilds the last look bit for bit
    result = replay(fast[-1], store)
    assert result.identical, result.differences


def test_a_late_batch_inside_the_window_is_read_again(traffic, tmp_path, monkeypatch):
    table = traffic["aa"]
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    store = TraceStore()
    store.ingest(_slice(table, -60, 0))
    start_rollout(store, model=MODEL, at=iso(0), plan=plan, **_versions(table))
    late = _slice(table, 3, 4)
    early = _slice(table, 0, 10)
    keep = pc.invert(pc.is_in(early.column("request_id"), late.column("request_id")))
    store.ingest(early.filter(keep))  # minute 3–4 arrives late
    evaluate(store, until=iso(10))
    assert load_cached(store.connection, 1, 1) is not None
    store.ingest(late)
    store.ingest(_slice(table, 10, 15))
    with_cache = evaluate(store, until=iso(15), log=False)
    monkeypatch.setattr(look, "load_cached", lambda *a: None)
    full = evaluate(store, until=iso(15), log=False)
    assert _comparable(with_cache) == _comparable(full)
    n = with_cache.check("error_rate").n_control + with_cache.check("error_rate").n_candidate
    assert n == len(_slice(table, 0, 15))


def test_labels_arriving_for_the_window_are_read_again(tmp_path, monkeypatch):
    table = generate_traces("identical", n_requests=6000, seed=3, start=START.isoformat())
    labels = pa.table({"request_id": table.column("request_id"), "label": table.column("label")})
    unlabelled = table.set_column(
        table.schema.get_field_index("label"), "label", pa.nulls(len(table), pa.bool_())
    )
    store = TraceStore()
    first, last = pc.min_max(table.column("ts")).values()
    span = (last.as_py() - first.as_py()).total_seconds() / 60
    store.ingest(unlabelled)
    start_rollout(store, model=MODEL, at=first.as_py().isoformat() + "Z")
    until = (first.as_py() + dt.timedelta(minutes=span / 2)).isoformat() + "Z"
    before = evaluate(store, until=until)
    store.ingest_labels(labels)
    end = (last.as_py() + dt.timedelta(seconds=1)).isoformat() + "Z"
    with_cache = evaluate(store, until=end, log=False)
    monkeypatch.setattr(look, "load_cached", lambda *a: None)
    full = evaluate(store, until=end, log=False)
    assert _comparable(with_cache) == _comparable(full)
    assert before.data_digest != full.data_digest


def test_an_edit_by_sql_is_found_by_replay(traffic, tmp_path):
    table = traffic["aa"]
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    store = TraceStore()
    store.ingest(_slice(table, -60, 10))
    start_rollout(store, model=MODEL, at=iso(0), plan=plan, **_versions(table))
    evaluate(store, until=iso(5))
    # outside canarykit: errors rewritten in the cached window (no catalogue entry)
    store.connection.execute(
        "UPDATE traces SET error = true WHERE arm = 'canary' AND ts < ? AND ts >= ?",
        [at(5), at(0)],
    )
    v = evaluate(store, until=iso(10))
    result = replay(v, store)
    assert not result.identical
    assert "data_digest" in json.dumps(result.differences, default=str)


def test_forged_look_figures_are_found_by_replay(traffic, tmp_path):
    """The look record's latency value counts edited by SQL (all on the slowest value, the
    total kept so that they still add up): the next look believes them, replay does not."""
    table = traffic["aa"]
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    store = TraceStore()
    store.ingest(_slice(table, -60, 10))
    start_rollout(store, model=MODEL, at=iso(0), plan=plan, **_versions(table))
    honest = evaluate(store, until=iso(5))
    assert replay(honest, store).identical
    con = store.connection
    rollout_id, step, blob = con.execute(
        "SELECT rollout_id, step, figures FROM look_summaries"
    ).fetchall()[0]
    figures = PartialSummaries.from_bytes(bytes(blob))
    assert figures is not None
    assert figures.control.values is not None  # latencies to 0.1 ms: few values, kept
    slowest = ValueCounts.of([figures.control.max_latency], [figures.control.n_latency])
    forged = dataclasses.replace(
        figures, control=dataclasses.replace(figures.control, values=slowest)
    )
    con.execute(
        "UPDATE look_summaries SET figures = ? WHERE rollout_id = ? AND step = ?",
        [forged.to_bytes(), rollout_id, step],
    )
    v = evaluate(store, until=iso(10))
    result = replay(v, store)
    assert not result.identical
    assert "latency" in json.dumps(result.differences, default=str)


def _fields_equal(a, b) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            _fields_equal(x, y)
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        elif f.name in ("sum_diff", "sum_sq_diff"):  # DuckDB's fsum over parallel threads
            assert x == pytest.approx(y, rel=1e-12, abs=1e-12), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize("mode", ["canary", "shadow"])
def test_summaries_merged_at_any_cut_equal_one_pass(mode):
    scenario = "identical" if mode == "canary" else "shadow"
    table = generate_traces(scenario, n_requests=5000, seed=5, start=START.isoformat())
    store = TraceStore()
    store.ingest(table)
    control = sorted(set(table.filter(pc.equal(table["arm"], "control"))["version"].to_pylist()))
    other = sorted(set(table.filter(pc.not_equal(table["arm"], "control"))["version"].to_pylist()))
    first, last = pc.min_max(table.column("ts")).values()
    rng = np.random.default_rng(2)
    plan = SummaryPlan(
        feature_sets=(("group",),),
        ranks_for=lambda nc, nt: (
            sorted({1, max(1, nc // 2), nc} if nc else set()),
            sorted({1, max(1, nt // 3), nt} if nt else set()),
        ),
    )
    span = (last.as_py() - first.as_py()).total_seconds()
    for _ in range(4):
        cuts = sorted(rng.uniform(0, span, size=2))
        since = first.as_py().isoformat()
        mid = (first.as_py() + dt.timedelta(seconds=cuts[0])).isoformat()
        end = (first.as_py() + dt.timedelta(seconds=cuts[1])).isoformat()
        sel = Selection(
            model=table["model"][0].as_py(),
            baseline=control[0],
            candidate=other[0],
            mode=mode,
            since=since,
            until=end,
        )
        _, early = summarize_since(store, dataclasses.replace(sel, until=mid), plan, None, None)
        merged, _ = summarize_since(store, sel, plan, early, mid)
        _fields_equal(merged, summarize(store, sel, plan))


def test_the_catalogue_knows_the_models_until_sql_writes_rows():
    from canarykit.traces.traffic import stored_models

    store = TraceStore()
    store.ingest(generate_traces("identical", n_requests=500, seed=1, model="a"))
    store.ingest(generate_traces("identical", n_requests=500, seed=2, model="b"))
    assert catalogued_models(store.connection) == ["a", "b"]
    store.connection.execute(
        "INSERT INTO traces SELECT * REPLACE ('c' AS model, request_id || 'x' AS request_id) "
        "FROM traces LIMIT 3"
    )
    assert catalogued_models(store.connection) is None  # rows the catalogue does not account for
    assert stored_models(store) == ["a", "b", "c"]
    store.connection.execute("DELETE FROM traces WHERE model = 'c'")
    store.connection.execute("DELETE FROM traces WHERE model = 'b'")
    assert catalogued_models(store.connection) is None
    assert stored_models(store) == ["a"]
