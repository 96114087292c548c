"""Pairing at ingest (traces/pairing.py) and the paired pass on pair ids (traces/paired.py).

The reference is the definition: control and shadow rows of one model paired by
``request_id`` equality (``reference_pairing()``). Every shadow verdict and paired table made
on pair ids must equal it exactly: counts, tables, sums (bit for bit), checks, data digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from canarykit.errors import InvalidInputError
from canarykit.summaries.document import to_dict
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces, split_late_labels
from canarykit.traces.paired import paired_pass
from canarykit.traces.pairing import (
    PAIR_COLUMN,
    contradicting_pairs,
    pair_counts,
    pair_ids_complete,
    reference_pairing,
)
from canarykit.traces.segment_summaries import check_by
from canarykit.traces.summaries import Selection, SummaryPlan, summarize
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.replay import replay

SEL = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="shadow")
PLANS = (SummaryPlan(), SummaryPlan(paired_n_bins=37, decision_threshold=0.3))


def _shadow(n=3000, seed=7, **kw):
    return generate_traces("shadow", n_requests=n, seed=seed, label_coverage=0.6, **kw)


def _arm(table, arm):
    return table.filter(pc.equal(table.column("arm"), arm))


def _verdict_dict(source, **kw):
    d = evaluate(source, log=False, **kw).to_dict()
    d.pop("created_at", None)
    return d


def assert_same_as_definition(store, selection=SEL, *, verdict=True):
    """Paired tables, summaries and the verdict on pair ids equal those by request_id."""
    con = store.connection
    for plan in PLANS:
        fast = paired_pass(con, selection, plan)
        with reference_pairing():
            slow = paired_pass(con, selection, plan)
        assert fast == slow, (fast, slow)
    fast_doc = to_dict(summarize(store, selection, SummaryPlan()))
    with reference_pairing():
        slow_doc = to_dict(summarize(store, selection, SummaryPlan()))
    assert fast_doc == slow_doc
    if not verdict:
        return
    names = {"model": selection.model, "baseline": selection.baseline}
    names["candidate"] = selection.candidate
    fast_v = _verdict_dict(store, **names)
    with reference_pairing():
        slow_v = _verdict_dict(store, **names)
    assert fast_v == slow_v


def test_one_ingest_pairs_every_request_and_the_verdict_equals_the_string_join():
    table = _shadow()
    # a few rows without a score, and labels partly missing (label_coverage)
    score = table.column("score").to_numpy(zero_copy_only=False).copy()
    mask = np.zeros(len(score), bool)
    mask[::97] = True
    table = table.set_column(
        table.schema.get_field_index("score"), "score", pa.array(score, mask=mask)
    )
    with TraceStore() as store:
        store.ingest(table)
        assert pair_counts(store.connection) == (3000, 0)
        assert pair_ids_complete(store.connection)
        assert_same_as_definition(store)
        # a window: both arms cut by until/since
        ts = sorted(table.column("ts").to_pylist())
        window = Selection(
            model="risk-default",
            baseline="v2.2.4",
            candidate="v2.3.0",
            mode="shadow",
            since=ts[len(ts) // 5].isoformat(),
            until=ts[len(ts) // 2].isoformat(),
        )
        fast = paired_pass(store.connection, window, SummaryPlan())
        with reference_pairing():
            assert fast == paired_pass(store.connection, window, SummaryPlan())
        assert 0 < fast.n_pairs < 3000


@pytest.mark.parametrize("order", ["control first", "shadow first", "interleaved chunks"])
def test_partners_arriving_in_later_batches_are_paired(order):
    table = _shadow(n=2000, seed=11)
    control, shadow = _arm(table, "control"), _arm(table, "shadow")
    if order == "control first":
        batches = [control, shadow]
    elif order == "shadow first":
        batches = [shadow.slice(0, 1500), control, shadow.slice(1500)]
    else:
        batches = [
            part
            for k in range(4)
            for part in (control.slice(500 * k, 500), shadow.slice(500 * ((k + 3) % 4), 500))
        ]
    with TraceStore() as store:
        for i, batch in enumerate(batches):
            store.ingest(batch)
            assert pair_ids_complete(store.connection)
            if i < len(batches) - 1:
                assert_same_as_definition(store, verdict=False)
        assert pair_counts(store.connection) == (2000, 0)
        assert_same_as_definition(store)


def test_missing_partners_other_models_and_canary_rows_stay_unpaired():
    table = _shadow(n=1000, seed=3)
    control, shadow = _arm(table, "control"), _arm(table, "shadow")
    # 100 shadow rows never get a partner; the same request ids under another model and as
    # canary rows must not pair with them
    shadow_ids = shadow.column("request_id").slice(0, 100)
    other = control.slice(0, 100).set_column(
        control.schema.get_field_index("model"), "model", pa.array(["other-model"] * 100)
    )
    other = other.set_column(other.schema.get_field_index("request_id"), "request_id", shadow_ids)
    canary = control.slice(200, 50).set_column(
        control.schema.get_field_index("arm"), "arm", pa.array(["canary"] * 50)
    )
    canary = canary.set_column(
        canary.schema.get_field_index("request_id"),
        "request_id",
        shadow.column("request_id").slice(200, 50),
    )
    with TraceStore() as store:
        store.ingest([control.slice(100), shadow])
        store.ingest(pa.concat_tables([other, canary]))
        pairs, waiting = pair_counts(store.connection)
        assert (pairs, waiting) == (900, 100 + 100)  # 100 shadow, 100 other-model control
        rows = store.connection.execute(
            f"SELECT count(*) FROM traces WHERE arm = 'canary' AND {PAIR_COLUMN} IS NOT NULL"
        ).fetchall()
        assert rows[0][0] == 0
        assert_same_as_definition(store)


def test_a_row_inserted_by_sql_makes_the_verdict_pair_by_request_id_until_the_next_ingest():
    table = _shadow(n=1000, seed=5)
    with TraceStore() as store:
        store.ingest(table)
        con = store.connection
        # a duplicate control row (the string join pairs it too), written around canarykit
        dup = con.execute("SELECT min(request_id) FROM traces WHERE arm = 'control'").fetchall()
        con.execute(
            f"INSERT INTO traces BY NAME SELECT * EXCLUDE ({PAIR_COLUMN}) REPLACE "
            "(score * 0.5 AS score) FROM traces WHERE arm = 'control' AND request_id = ?",
            [dup[0][0]],
        )
        assert not pair_ids_complete(con)
        with reference_pairing():
            expected = paired_pass(con, SEL, SummaryPlan())
        assert expected.n_pairs == 1001
        assert paired_pass(con, SEL, SummaryPlan()) == expected
        # the next ingest sees the row count moved and pairs the store afresh; a request twice
        # in one arm cannot be stood for by one copy per control row: the store stays read by
        # request_id (and equal to the definition)
        store.ingest(generate_traces("shadow", n_requests=10, seed=99, start="2026-02-01"))
        assert not pair_ids_complete(con)
        assert_same_as_definition(store)
        # deleting the duplicate (by SQL again) and ingesting pairs the store afresh
        con.execute(
            "DELETE FROM traces WHERE rowid = (SELECT max(rowid) FROM traces "
            "WHERE arm = 'control' AND request_id = ?)",
            [dup[0][0]],
        )
        store.ingest(generate_traces("shadow", n_requests=10, seed=98, start="2026-03-01"))
        assert pair_ids_complete(con)
        assert pair_counts(con) == (1020, 0)
        assert_same_as_definition(store)


def test_a_store_without_pair_ids_is_read_by_request_id_and_paired_at_its_next_ingest(tmp_path):
    db = tmp_path / "old.duckdb"
    table = _shadow(n=1500, seed=8)
    with TraceStore(db) as store:
        store.ingest(table.slice(0, 2000))
        # what an older canarykit wrote: no pair column, no pairing table
        store.connection.execute(f"ALTER TABLE traces DROP COLUMN {PAIR_COLUMN}")
        store.connection.execute("DROP TABLE trace_pairing")
    expected = None
    with TraceStore(db, read_only=True) as store:
        assert not pair_ids_complete(store.connection)
        with reference_pairing():
            expected = _verdict_dict(store)
        assert _verdict_dict(store) == expected
    with TraceStore(db) as store:
        store.ingest(table.slice(2000))
        assert pair_ids_complete(store.connection)
        assert pair_counts(store.connection) == (1500, 0)  # old rows paired too
        assert_same_as_definition(store)


@pytest.mark.parametrize(
    ("edit", "broken"),
    [
        # the shadow score copied onto the control row, flipped: agreement and the paired AUC
        # change, the data digest (which covers the contract columns) does not
        ("__pair_score = 1 - __pair_score WHERE arm = 'control'", 3000),
        # a third of the pairs unpaired
        (f"{PAIR_COLUMN} = NULL WHERE arm = 'control' AND {PAIR_COLUMN} % 3 = 0", 1000),
        # the shadow rows' own scores edited: the copies on the control rows go stale (the
        # data digest changes too, as for any edited contract column)
        ("score = 1 - score WHERE arm = 'shadow'", None),
    ],
)
def test_a_pairing_edited_by_sql_is_caught_by_replay(tmp_path, edit, broken):
    db = tmp_path / "shadow.duckdb"
    with TraceStore(db) as store:
        store.ingest(_shadow(n=3000, seed=21))
    honest = evaluate(db, log=False)
    with TraceStore(db) as store:
        store.connection.execute(f"UPDATE traces SET {edit}")
        assert pair_ids_complete(store.connection)  # a row count cannot see an edit
        found = contradicting_pairs(store.connection, model="risk-default")
        assert found == broken if broken is not None else found > 2900
    distorted = evaluate(db, log=False)
    assert (distorted.data_digest == honest.data_digest) == (broken is not None)
    assert distorted.to_dict()["checks"] != honest.to_dict()["checks"]
    # a verdict made on the edited pairing: replay pairs by request_id and differs
    result = replay(distorted, db)
    assert not result.identical
    assert any(d.startswith("checks[") for d in result.differences)
    assert any("contradicts request_id" in w for w in result.warnings)
    # a verdict made before an edit of the pairing still replays identically, with the
    # warning (an edited score is an edited row: replay reports the data digest that differs)
    before = replay(honest, db)
    assert before.identical == (broken is not None), before.differences
    assert any("contradicts request_id" in w for w in before.warnings)


def test_an_honest_store_replays_without_a_pairing_warning(tmp_path):
    db = tmp_path / "shadow.duckdb"
    with TraceStore(db) as store:
        store.ingest(_shadow(n=500, seed=2))
    result = replay(evaluate(db, log=False), db)
    assert result.identical
    assert not result.warnings


def test_the_pair_column_is_canarykits_own():
    with TraceStore() as store:
        store.ingest(_shadow(n=50, seed=1))
        assert PAIR_COLUMN not in store.select().column_names
        columns = [r[0] for r in store.connection.execute("DESCRIBE traces").fetchall()]
        assert PAIR_COLUMN in columns
        with pytest.raises(InvalidInputError, match="not a column of the traces"):
            check_by([PAIR_COLUMN], columns)
        # what select() returns can be ingested again (elsewhere)
        with TraceStore() as other:
            assert other.ingest(store.select()).rows_ingested == 100


def test_a_canary_store_has_no_pairs():
    with TraceStore() as store:
        table = generate_traces("identical", n_requests=2000, seed=1)
        store.ingest(table)
        control = _arm(table, "control").num_rows
        assert pair_counts(store.connection) == (0, control)  # no shadow partner
        assert pair_ids_complete(store.connection)


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "canarykit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_ingests_of_the_two_arms_pair_every_request(tmp_path):
    table = _shadow(n=4000, seed=13)
    files = []
    for arm in ("control", "shadow"):
        path = tmp_path / f"{arm}.parquet"
        pq.write_table(_arm(table, arm), path)
        files.append(path)
    db = tmp_path / "new.duckdb"
    procs = [_cli("ingest", str(f), "--db", str(db)) for f in files]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with TraceStore(db, read_only=True) as store:
        assert pair_counts(store.connection) == (4000, 0)
        assert pair_ids_complete(store.connection)
        assert_same_as_definition(store)


def test_partners_with_other_times_and_late_labels_follow_the_definition():
    """The window cuts a pair by both rows' times; labels arriving later are read fresh."""
    table, labels = split_late_labels(_shadow(n=2000, seed=17))
    ts = table.column("ts")
    shadow = pc.equal(table.column("arm"), "shadow")
    # shadow rows scored 40 s after their control row: a window end splits some pairs
    later = pc.if_else(shadow, pc.add(ts, pa.scalar(40_000_000, pa.duration("us"))), ts)
    table = table.set_column(table.schema.get_field_index("ts"), "ts", later)
    with TraceStore() as store:
        store.ingest(table)
        times = sorted(ts.to_pylist())
        window = Selection(
            model="risk-default",
            baseline="v2.2.4",
            candidate="v2.3.0",
            mode="shadow",
            since=times[300].isoformat(),
            until=times[1500].isoformat(),
        )
        assert_same_as_definition(store, window, verdict=False)
        split = store.connection.execute(
            "SELECT count(*) FROM traces WHERE arm = 'control' AND ts >= ? AND ts < ? "
            "AND NOT (__pair_ts >= ? AND __pair_ts < ?)",
            [window.since, window.until] * 2,
        ).fetchall()[0][0]
        assert split > 0  # pairs cut by the window end: the control row in, the shadow out
        store.ingest_labels(labels.slice(0, len(labels) // 2))
        assert pair_ids_complete(store.connection)
        assert_same_as_definition(store)
        assert_same_as_definition(store, window, verdict=False)


@pytest.mark.parametrize("batches", [1, 3])
def test_paired_figures_merged_over_slices_equal_the_window(batches):
    """summarize_since in shadow mode: each slice adds the pairs it completes (the later row of
    the pair in the slice, the partner possibly older — or ingested in a later batch), so the
    merged paired table is the window's; the fsum'd score-difference sums agree to rounding."""
    from canarykit.traces.paired import paired_partial
    from canarykit.traces.summaries import summarize_since

    table = _shadow(n=3000, seed=23, start="2026-02-02T10:00:00", duration_minutes=30)
    ts = table.column("ts")
    shadow = pc.equal(table.column("arm"), "shadow")
    offset = pa.array(np.random.default_rng(5).integers(0, 90_000_000, len(table)))
    later = pc.if_else(shadow, pc.add(ts, pc.cast(offset, pa.duration("us"))), ts)
    table = table.set_column(table.schema.get_field_index("ts"), "ts", later)
    store = TraceStore()
    times = sorted(later.to_pylist())
    cuts = [times[int(len(times) * q)].isoformat() for q in (0.25, 0.5, 0.75)] + [
        (times[-1] + dt.timedelta(seconds=1)).isoformat()
    ]
    window = dataclasses.replace(SEL, since=times[0].isoformat(), until=cuts[-1])
    # ingest in time order: in 3 batches a partner 0–90 s later often lands in the next one
    edges = [times[0].isoformat(), cuts[0], cuts[1], cuts[-1]] if batches == 3 else None
    if edges is None:
        store.ingest(table)
    else:
        for lo, hi in itertools.pairwise(edges):
            part = table.filter(
                pc.and_(
                    pc.greater_equal(later, pa.scalar(dt.datetime.fromisoformat(lo), later.type)),
                    pc.less(later, pa.scalar(dt.datetime.fromisoformat(hi), later.type)),
                )
            )
            store.ingest(part)
    assert pair_ids_complete(store.connection)
    previous, previous_until, straddling = None, None, 0
    for cut in cuts:
        sel = dataclasses.replace(window, until=cut)
        s, previous = summarize_since(store, sel, SummaryPlan(), previous, previous_until)
        if previous_until is not None:
            straddling += store.connection.execute(
                "SELECT count(*) FROM traces WHERE arm = 'control' AND ts < ? AND __pair_ts >= ?"
                " AND __pair_ts < ?",
                [previous_until, previous_until, cut],
            ).fetchall()[0][0]
        previous_until = cut
        assert previous.paired is not None
        with reference_pairing():
            full = paired_pass(store.connection, sel, SummaryPlan())
        got = s.paired
        assert got.n_pairs == full.n_pairs
        for name in ("agreement", "bin_control", "bin_candidate", "label", "count"):
            np.testing.assert_array_equal(getattr(got, name), getattr(full, name), err_msg=name)
        assert got.sum_diff == pytest.approx(full.sum_diff, rel=1e-12, abs=1e-12)
        assert got.sum_sq_diff == pytest.approx(full.sum_sq_diff, rel=1e-12, abs=1e-12)
    assert straddling > 0  # pairs completed by a slice whose control row was in an earlier one
    # a slice is empty of pairs when the pairing cannot be believed (rows written around
    # canarykit): None, and the look pairs its whole window by request_id
    store.connection.execute(
        "INSERT INTO traces BY NAME SELECT * EXCLUDE (__pair_id) FROM traces LIMIT 0"
    )
    assert paired_partial(store.connection, window, SummaryPlan()) is not None
    store.connection.execute(
        "INSERT INTO traces (request_id, ts, model, version, arm, latency_ms, error) "
        "VALUES ('sql-row', TIMESTAMP '2026-02-02 10:05:00', 'risk-default', 'v2.2.4', "
        "'control', 10.0, false)"
    )
    assert paired_partial(store.connection, window, SummaryPlan()) is None
    s, figures = summarize_since(store, window, SummaryPlan(), None, None)
    assert figures.paired is None
    with reference_pairing():
        assert s.paired == paired_pass(store.connection, window, SummaryPlan())
