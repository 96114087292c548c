"""Replay reads each look as of the last ingest it saw: late batches and labels do not make
earlier looks "different".

Found by a README walk-through: ingest the 09:00 batch and look at 09:05; ingest the 09:10
batch (09:05's missing) and look at 09:15; ingest 09:05 and 09:15, look at 09:20. The live
looks are honest (each saw the rows that had arrived), but replay recomputed looks 1 and 2 from
today's rows, so ``replay`` said "different" for looks 2 and 3 — routine late data looked like
tampering. Each look now records the last ingest it saw and replay reads the store as of it
(:mod:`canarykit.traces.arrival`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from canarykit.rollout import start_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces import TraceStore
from canarykit.verdict import evaluate
from canarykit.verdict.policy import load_policy
from canarykit.verdict.replay import replay


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def iso(minutes: float) -> str:
    return at(minutes).isoformat() + "Z"


@pytest.fixture(scope="module")
def traffic() -> pa.Table:
    return rollout_traffic(SCENARIOS["aa"], load_policy().rollout[:2], rate=40.0, seed=11)


def batch(table: pa.Table, lo: float, hi: float, *, labels: bool = True) -> pa.Table:
    ts = table["ts"].cast(pa.timestamp("us"))
    keep = pc.and_(
        pc.greater_equal(ts, pa.scalar(at(lo), pa.timestamp("us"))),
        pc.less(ts, pa.scalar(at(hi), pa.timestamp("us"))),
    )
    out = table.filter(keep)
    if not labels:
        out = out.set_column(
            out.schema.get_field_index("label"), "label", pa.nulls(len(out), pa.bool_())
        )
    return out


def versions(table: pa.Table) -> dict[str, str]:
    arm = table["arm"]
    return {
        "baseline": table.filter(pc.equal(arm, "control"))["version"][0].as_py(),
        "candidate": table.filter(pc.equal(arm, "canary"))["version"][0].as_py(),
    }


def labels_of(table: pa.Table, lo: float, hi: float) -> pa.Table:
    b = batch(table, lo, hi)
    return pa.table({"request_id": b["request_id"], "arm": b["arm"], "label": b["label"]})


@pytest.mark.parametrize("by", [None, "region"])
def test_a_late_batch_replays_identically(traffic, by):
    store = TraceStore()
    store.ingest(batch(traffic, -60, 5))  # the traffic before the rollout and the first batch
    start_rollout(store, model=MODEL, at=iso(0), **versions(traffic))
    looks = [evaluate(store, until=iso(5), by=by)]
    store.ingest(batch(traffic, 10, 15))  # 05–10 is late
    looks.append(evaluate(store, until=iso(15), by=by))
    store.ingest(batch(traffic, 5, 10))  # the late batch, inside looks 1–2's windows
    store.ingest(batch(traffic, 15, 20))
    looks.append(evaluate(store, until=iso(20), by=by))
    assert [v.rollout.look_ingests for v in looks] == [(1,), (1, 2), (1, 2, 4)]
    for verdict in looks:
        result = replay(verdict, store)
        assert result.identical, result.differences
    # the late rows do count from the next look on: look 3 saw all of 0–20
    n = looks[-1].checks[0].n_control + looks[-1].checks[0].n_candidate
    assert n == len(batch(traffic, 0, 20))


def test_late_labels_replay_identically(traffic):
    store = TraceStore()
    store.ingest(batch(traffic, -60, 0))
    start_rollout(store, model=MODEL, at=iso(0), **versions(traffic))
    store.ingest(batch(traffic, 0, 5, labels=False))
    first = evaluate(store, until=iso(5))
    store.ingest_labels(labels_of(traffic, 0, 5))  # the outcomes arrive after look 1
    store.ingest(batch(traffic, 5, 10, labels=False))
    second = evaluate(store, until=iso(10))
    auc = {c.name: c for c in second.checks}["auc_delta"]
    assert auc.n_candidate > 0  # look 2 saw the late labels
    for verdict in (first, second):
        result = replay(verdict, store)
        assert result.identical, result.differences


def test_a_row_moved_to_another_ingest_by_sql_is_caught(traffic):
    """The arrival columns are not trusted blindly: a row edited by SQL — its outcome flipped
    and its ingest id pushed past the look so that replay would skip it — makes the replay of
    the look that read it differ."""
    store = TraceStore()
    store.ingest(batch(traffic, -60, 10))
    start_rollout(store, model=MODEL, at=iso(0), **versions(traffic))
    store.connection.execute(
        "UPDATE traces SET error = NOT error, __ingest_id = 99 WHERE arm = 'canary' "
        "AND ts >= ? AND ts < ?",
        [at(0), at(3)],
    )
    verdict = evaluate(store, until=iso(10))
    assert not replay(verdict, store).identical


def test_a_store_from_before_arrival_columns_replays_as_before(traffic, tmp_path):
    """Rows without an ingest id (a store written before the column existed) count as arrived
    first; its looks replay from the store as it is."""
    db = tmp_path / "old.duckdb"
    with TraceStore(db) as store:
        store.ingest(batch(traffic, -60, 10))
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE traces DROP COLUMN __ingest_id")
    con.execute("ALTER TABLE traces DROP COLUMN __label_ingest_id")
    con.close()
    with TraceStore(db) as store:
        start_rollout(store, model=MODEL, at=iso(0), **versions(traffic))
        verdict = evaluate(store, until=iso(10))
        assert replay(verdict, store).identical
