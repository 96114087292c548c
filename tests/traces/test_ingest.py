"""Ingest from every input kind, re-ingest policy, extra columns, timestamps, windows and info."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from canarykit.errors import InvalidInputError, StorageError
from canarykit.traces import TraceStore, TraceWindow
from canarykit.traces.generate import generate_traces
from tests.conftest import file_digest, valid_frame

COLUMNS = [
    "request_id",
    "ts",
    "model",
    "version",
    "arm",
    "latency_ms",
    "error",
    "score",
    "label",
    "group",
    "region",
]


def _stored(store: TraceStore) -> pd.DataFrame:
    return (
        store.select(columns=COLUMNS)
        .to_pandas()
        .sort_values(["request_id", "arm"])
        .reset_index(drop=True)
    )


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return generate_traces("identical", n_requests=3000, seed=5, label_coverage=0.7)


def test_parquet_csv_arrow_pandas_give_the_same_store(tmp_path, table):
    parquet, csv = tmp_path / "t.parquet", tmp_path / "t.csv"
    pq.write_table(table, parquet)
    table.to_pandas().to_csv(csv, index=False)
    results = []
    for source in (str(parquet), str(csv), table, table.to_pandas()):
        with TraceStore() as store:
            assert store.ingest(source).rows_ingested == table.num_rows
            results.append(_stored(store))
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0], other)
    expected = table.to_pandas().sort_values(["request_id", "arm"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(results[0], expected[COLUMNS], check_dtype=False)


def test_glob_reads_every_match(tmp_path, table):
    for i, chunk in enumerate((table.slice(0, 1000), table.slice(1000))):
        pq.write_table(chunk, tmp_path / f"part-{i}.parquet")
    with TraceStore() as store:
        report = store.ingest(str(tmp_path / "part-*.parquet"))
        assert report.rows_ingested == table.num_rows
        assert len(report.sources) == 2


def test_reingest_is_rejected_by_default_and_store_unchanged(tmp_path, table):
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(table)
    before = file_digest(db)
    with (
        TraceStore(db) as store,
        pytest.raises(InvalidInputError, match="must not already be in the store"),
    ):
        store.ingest(table)
    assert file_digest(db) == before


def test_reingest_with_skip_counts_skipped_rows_and_never_double_counts(table):
    with TraceStore() as store:
        store.ingest(table.slice(0, 2000))
        report = store.ingest(table, on_existing="skip")
        assert (report.rows_ingested, report.rows_skipped) == (1000, 2000)
        assert store.count() == table.num_rows
        assert "skipped 2000 already stored" in str(report)


def test_reingest_with_different_content_is_a_conflict(table):
    changed = table.to_pandas()
    changed.loc[0, "latency_ms"] = changed.loc[0, "latency_ms"] + 1.0
    with TraceStore() as store:
        store.ingest(table)
        with pytest.raises(InvalidInputError, match="different content"):
            store.ingest(changed, on_existing="skip")
        assert store.count() == table.num_rows


def test_extra_columns_added_and_typed_by_the_store():
    with TraceStore() as store:
        store.ingest(valid_frame(4, prefix="a"))
        df = valid_frame(4, prefix="b").assign(tenant=["x", "y", "x", "y"])
        store.ingest(df)
        stored = store.select(columns=["request_id", "tenant"]).to_pandas()
        assert stored["tenant"].isna().sum() == 4
        bad = valid_frame(2, prefix="c").assign(group=[1, 2])  # stored as VARCHAR: cast works
        store.ingest(bad)
        with pytest.raises(InvalidInputError, match="__x: names starting with '__' are reserved"):
            store.ingest(valid_frame(2, prefix="d").assign(__x=1))


def test_extra_column_values_must_fit_the_stored_type():
    with TraceStore() as store:
        store.ingest(valid_frame(2, prefix="a").assign(weight=[1.5, 2.5]))
        with pytest.raises(InvalidInputError, match="column weight: must be coercible to DOUBLE"):
            store.ingest(valid_frame(2, prefix="b").assign(weight=["heavy", "1.0"]))


def test_timestamps_naive_are_utc_and_offsets_are_converted():
    df = valid_frame(3)
    df["ts"] = ["2026-01-01T00:00:00", "2026-01-01T02:00:00+02:00", "2026-01-01T00:00:00Z"]
    with TraceStore() as store:
        store.ingest(df)
        ts = set(store.select(columns=["ts"]).column("ts").to_pylist())
    assert ts == {dt.datetime(2026, 1, 1)}


def test_timezone_aware_pandas_timestamps():
    df = valid_frame(2)
    df["ts"] = pd.to_datetime(["2026-06-01T12:00:00+02:00", "2026-06-01T10:00:00+00:00"], utc=True)
    with TraceStore() as store:
        store.ingest(df)
        assert set(store.select(columns=["ts"]).column("ts").to_pylist()) == {
            dt.datetime(2026, 6, 1, 10)
        }


def test_labels_accept_booleans_and_zero_one():
    df = valid_frame(4)
    df["label"] = ["1", "0", "true", None]
    df["error"] = [0, 1, 0, 0]
    with TraceStore() as store:
        store.ingest(df)
        got = store.select(columns=["label", "error"]).to_pydict()
    assert got["label"] == [True, False, True, None]
    assert got["error"] == [False, True, False, False]


def test_window_selects_model_versions_arms_and_time(table):
    with TraceStore() as store:
        store.ingest(table)
        canary = store.count(TraceWindow(arms=["canary"]))
        assert canary == pc_count(table, "arm", "canary")
        early = store.count(TraceWindow(end="2026-01-01T00:10:00Z"))
        assert 0 < early < table.num_rows
        assert store.count(TraceWindow(start="2026-01-01T00:10:00", end="2026-01-01T00:10:00")) == 0
        assert store.count(TraceWindow(model="other")) == 0
        assert store.count(TraceWindow(versions=["v2.3.0"])) == canary
    with pytest.raises(InvalidInputError, match="arms"):
        TraceWindow(arms=["treatment"])
    with pytest.raises(InvalidInputError, match="end"):
        TraceWindow(end="not a time")


def pc_count(table: pa.Table, column: str, value: str) -> int:
    return sum(1 for v in table.column(column).to_pylist() if v == value)


def test_info_lists_models_versions_arms_and_label_coverage(table):
    with TraceStore() as store:
        store.ingest(table)
        info = store.info()
    assert info.rows == table.num_rows
    arms = {(g.version, g.arm) for g in info.groups}
    assert arms == {("v2.2.4", "control"), ("v2.3.0", "canary")}
    coverage = sum(g.labelled for g in info.groups) / info.rows
    assert coverage == pytest.approx(0.7, abs=0.05)
    assert "label" in info.to_text() or "labelled" in info.to_text()
    assert info.to_dict()["groups"][0]["start"].startswith("2026-01-01")


def test_read_only_store_refuses_writes(tmp_path):
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(valid_frame())
    with TraceStore(db, read_only=True) as store, pytest.raises(StorageError, match="read-only"):
        store.ingest(valid_frame(prefix="x"))
    with pytest.raises(StorageError, match="no such trace store"):
        TraceStore(tmp_path / "missing.duckdb", read_only=True)


def test_not_a_duckdb_file_is_a_storage_error(tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_text("hello")
    with pytest.raises(StorageError, match="not a DuckDB trace store"):
        TraceStore(junk)


def test_files_read_in_place_are_validated_and_queryable(tmp_path, table):
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    with TraceStore.from_files(str(path)) as store:
        assert store.count() == table.num_rows
        with pytest.raises(StorageError, match="reads files in place"):
            store.ingest(table)
    bad = table.to_pandas()
    bad.loc[3, "arm"] = "blue"
    with pytest.raises(InvalidInputError, match="column arm"):
        TraceStore.from_files(bad)
