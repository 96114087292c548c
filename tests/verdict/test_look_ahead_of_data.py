"""A rollout look cannot be taken ahead of both the clock and its data.

Found by a README walk-through: ``evaluate STORE --until 2036-…`` (a typo'd year) was recorded
as a look, latched a STOP, and pinned every later look of the step to 2036 — looks must move
forward in time — until the rollout was aborted.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from canarykit.errors import InvalidInputError
from canarykit.rollout import start_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces import TraceStore
from canarykit.traces.rollouts import list_looks
from canarykit.verdict import evaluate
from canarykit.verdict.policy import load_policy


@pytest.fixture(scope="module")
def traffic() -> pa.Table:
    return rollout_traffic(SCENARIOS["aa"], load_policy().rollout[:1], rate=20.0, seed=5)


def _shifted(table: pa.Table, years: int) -> pa.Table:
    """The same traffic dated ``years`` later (synthetic or replayed traffic)."""
    shift = pa.scalar(dt.timedelta(days=365 * years), pa.duration("us"))
    ts = pc.add(table["ts"].cast(pa.timestamp("us")), shift)
    return table.set_column(table.schema.get_field_index("ts"), "ts", ts)


def test_a_typod_year_is_refused_and_records_nothing(traffic):
    store = TraceStore()
    store.ingest(traffic)
    rollout = start_rollout(store, model=MODEL, at=START.isoformat() + "Z")
    typo = (START + dt.timedelta(days=3650, minutes=5)).isoformat() + "Z"
    with pytest.raises(InvalidInputError, match="ahead of the clock"):
        evaluate(store, until=typo)
    assert list_looks(store, rollout.rollout_id) == []
    ok = (START + dt.timedelta(minutes=5)).isoformat() + "Z"
    assert evaluate(store, until=ok).decision in ("CONTINUE", "PROCEED")
    assert len(list_looks(store, rollout.rollout_id)) == 1


def test_traffic_dated_in_the_future_is_looked_at_as_usual(traffic):
    """The bar is the later of the clock and the data: a store of traffic dated years ahead
    (a replay, a generator with other dates) takes looks up to its data."""
    years = 12
    later = START + dt.timedelta(days=365 * years)
    store = TraceStore()
    store.ingest(_shifted(traffic, years))
    start_rollout(store, model=MODEL, at=later.isoformat() + "Z")
    for minutes in (5, 10):
        until = (later + dt.timedelta(minutes=minutes)).isoformat() + "Z"
        assert evaluate(store, until=until).decision in ("CONTINUE", "PROCEED")
    with pytest.raises(InvalidInputError, match="its latest trace is at"):
        evaluate(store, until=(later + dt.timedelta(days=400)).isoformat() + "Z")
