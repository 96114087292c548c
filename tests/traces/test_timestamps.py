"""The accepted range of ``ts`` (1970-01-01 <= ts < 2200-01-01 UTC) and UTC offsets, at ingest,
in place, and when reading a store that already holds a bad ``ts``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from canarykit.errors import InvalidInputError, StorageError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.traces.schema import TS_END, TS_MIN
from canarykit.verdict.evaluate import evaluate
from tests.conftest import file_digest, valid_frame

RANGE = "column ts: must be in [1970-01-01, 2200-01-01) UTC"


def _with_ts(values: list[str]) -> pd.DataFrame:
    df = valid_frame(len(values) + 2)
    df["ts"] = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", *values]
    return df


def _typed_parquet(path, years: list[int]) -> None:
    """A Parquet file with a typed ``timestamp[us]`` column holding the given years."""
    table = pa.Table.from_pandas(valid_frame(len(years)), preserve_index=False)
    stamps = np.array([f"{y:04d}-06-01T00:00:00" for y in years], dtype="datetime64[us]")
    table = table.set_column(table.schema.get_field_index("ts"), "ts", pa.array(stamps))
    pq.write_table(table, path)


@pytest.mark.parametrize("year", [10000, 1600])
@pytest.mark.parametrize("fmt", ["parquet", "csv", "pandas"])
def test_out_of_range_ts_rejected_in_one_line_and_store_unchanged(tmp_path, year, fmt):
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(valid_frame(4, prefix="seed"))
    before = file_digest(db)
    if fmt == "parquet":
        source: object = str(tmp_path / "t.parquet")
        _typed_parquet(source, [2026, year, 2026])
        where = f"{source}: "
    else:
        df = valid_frame(3)
        df["ts"] = ["2026-01-01T00:00:00", f"{year}-06-01T00:00:00", "2026-01-01T00:00:02"]
        if fmt == "csv":
            source = str(tmp_path / "t.csv")
            df.to_csv(source, index=False)
            where = f"{source}: "
        else:
            source, where = df, "<pandas DataFrame, input 1>: "
    with TraceStore(db) as store, pytest.raises(InvalidInputError) as info:
        store.ingest(source)
    assert str(info.value) == f"{where}{RANGE} (1 row, first: row 2)"
    assert file_digest(db) == before
    with pytest.raises(InvalidInputError) as in_place:
        TraceStore.from_files(source)
    assert str(in_place.value) == str(info.value)


def test_range_bounds_inclusive_start_exclusive_end():
    assert (dt.datetime(1970, 1, 1), dt.datetime(2200, 1, 1)) == (TS_MIN, TS_END)
    ok = _with_ts(["1970-01-01T00:00:00Z", "2199-12-31T23:59:59.999999Z"])
    with TraceStore() as store:
        assert store.ingest(ok).rows_ingested == len(ok)
    for value, row in (("1969-12-31T23:59:59Z", 3), ("2200-01-01T00:00:00Z", 3)):
        with TraceStore() as store, pytest.raises(InvalidInputError) as info:
            store.ingest(_with_ts([value]))
        assert str(info.value) == f"<pandas DataFrame, input 1>: {RANGE} (1 row, first: row {row})"
    # an offset can move an instant across a bound
    with TraceStore() as store, pytest.raises(InvalidInputError) as info:
        store.ingest(_with_ts(["1970-01-01T00:30:00+01:00"]))
    assert RANGE in str(info.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2026-01-01T00:00:00+25:00",
            "column ts: must have a UTC offset between -14:00 and +14:00",
        ),
        (
            "2026-01-01T00:00:00+14:01",
            "column ts: must have a UTC offset between -14:00 and +14:00",
        ),
        ("2026-01-01T00:00:00-0575", "column ts: must have a UTC offset between -14:00 and +14:00"),
        ("epoch", "column ts: must be a timestamp or an ISO-8601 string"),
        ("infinity", "column ts: must be a timestamp or an ISO-8601 string"),
        ("+10000-01-01", "column ts: must be a timestamp or an ISO-8601 string"),
    ],
)
def test_offsets_and_words_that_are_not_iso_timestamps(value, message):
    with TraceStore() as store, pytest.raises(InvalidInputError) as info:
        store.ingest(_with_ts([value]))
    assert str(info.value).startswith(
        f"<pandas DataFrame, input 1>: {message} (1 row, first: row 3)"
    )
    assert "\n" not in str(info.value)


def test_offsets_within_fourteen_hours_are_converted_to_utc():
    df = _with_ts(
        ["2026-01-01T14:00:00+14:00", "2025-12-31T14:00:00-10:00", "2026-01-01T05:30:00+0530"]
    )
    with TraceStore() as store:
        store.ingest(df)
        stored = store.select(columns=["request_id", "ts"]).to_pydict()
    by_id = dict(zip(stored["request_id"], stored["ts"], strict=True))
    assert by_id["r2"] == by_id["r3"] == by_id["r4"] == dt.datetime(2026, 1, 1)


@pytest.mark.parametrize("bad", ["10000-01-01", "1600-01-01"])
def test_store_holding_a_bad_ts_gives_a_one_line_error(tmp_path, bad):
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(generate_traces("identical", n_requests=500, seed=1))
        # written behind canarykit's back: ingest would refuse it
        store.connection.execute(
            "INSERT INTO traces (request_id, ts, model, version, arm, latency_ms, error) "
            f"VALUES ('x', TIMESTAMP '{bad}', 'risk-default', 'v2.2.4', 'control', 1, false)"
        )
    expected = (
        f"{db}: {RANGE} (1 stored row, first: request_id 'x', arm 'control'); the store was "
        "written outside canarykit ingest: delete or correct these rows"
    )
    with TraceStore(db, read_only=True) as store, pytest.raises(StorageError) as info:
        store.info()
    assert str(info.value) == expected
    for source in (str(db), TraceStore(db, read_only=True)):
        with pytest.raises(StorageError) as info:
            evaluate(source, log=False)
        assert str(info.value) == expected
        if isinstance(source, TraceStore):
            source.close()


def test_healthy_store_reads_as_before(tmp_path):
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(generate_traces("too_little_data", seed=1))
    assert evaluate(str(db), log=False).decision == "CONTINUE"
