"""A look's bookkeeping does not grow with the store's history (issue 15).

A batch job looks every few minutes for months: the store keeps every rollout ever run and
every look of a step, each with its verdict. A look must read the one open rollout and the last
look of its step — not every rollout record, not every earlier verdict of the step.
"""

from __future__ import annotations

import pytest

from canarykit.rollout import abort_rollout, start_rollout
from canarykit.traces import TraceStore, rollout_records, rollouts
from canarykit.traces.generate import generate_traces
from canarykit.verdict import evaluate

START = "2026-05-04T08:00:00"


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A store with 20 aborted rollouts of its model and 5 of another model, then an open one."""
    path = tmp_path_factory.mktemp("history") / "traces.duckdb"
    with TraceStore(path) as store:
        store.ingest(
            generate_traces("identical", n_requests=6000, seed=3, start=START, duration_minutes=30)
        )
        store.ingest(
            generate_traces(
                "identical", n_requests=600, seed=4, start=START, duration_minutes=30, model="other"
            )
        )
        for i in range(25):
            model = "risk-default" if i < 20 else "other"
            start_rollout(store, model=model, at=START + "Z")
            abort_rollout(store, model=model, reason=f"rehearsal {i}")
        start_rollout(store, model="risk-default", at=START + "Z")
    return path


def test_a_look_reads_one_rollout_and_one_earlier_look(history, monkeypatch):
    loads: list[int] = []
    fetched: list[tuple[int | None, bool]] = []
    load, looks = rollout_records.load_record, rollout_records.read_looks

    def spy_load(con, rollout_id):
        loads.append(rollout_id)
        return load(con, rollout_id)

    def spy_looks(store, rollout_id, *, step, last=False):
        fetched.append((step, last))
        return looks(store, rollout_id, step=step, last=last)

    for module in (rollout_records, rollouts):  # the reads, and record_look's own
        monkeypatch.setattr(module, "load_record", spy_load)
    monkeypatch.setattr(rollout_records, "read_looks", spy_looks)
    verdicts = []
    for minute in range(3, 31, 3):
        loads.clear()
        fetched.clear()
        with TraceStore(history) as store:
            verdicts.append(
                evaluate(store, model="risk-default", until=f"2026-05-04T08:{minute:02d}:00Z")
            )
        # the open rollout (found by one query), then again inside the look's transaction
        assert len(loads) <= 2, loads
        assert set(loads) == {26}
        # only the latest look of the step is read, never the step's earlier verdicts
        assert fetched == [(1, True)]
    assert [v.selection["look"] for v in verdicts] == list(range(1, 11))


def test_the_last_look_is_the_latest_of_its_step(history):
    with TraceStore(history) as store:
        every = rollouts.list_looks(store, 26, step=1)
        latest = rollouts.last_look(store, 26, step=1)
        assert every
        assert latest == every[-1]
        assert rollouts.last_look(store, 26, step=2) is None
        assert rollouts.last_look(store, 999, step=1) is None
        assert rollouts.open_models(store) == ["risk-default"]
