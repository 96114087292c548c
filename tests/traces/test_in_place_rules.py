"""Every rule ``ingest`` enforces holds for traces read in place (``evaluate FILE``,
``TraceStore.from_files``), with the same one-line message."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import evaluate
from tests.conftest import valid_frame


@pytest.fixture(scope="module")
def table() -> pa.Table:
    # too little data for a decision: CONTINUE, whatever the candidate does
    return generate_traces("identical", n_requests=2000, seed=3)


def _ingest_error(inputs: object) -> str:
    with TraceStore() as store, pytest.raises(InvalidInputError) as info:
        store.ingest(inputs)
    return str(info.value)


def _in_place_error(inputs: object) -> str:
    with pytest.raises(InvalidInputError) as info:
        TraceStore.from_files(inputs)
    return str(info.value)


def test_repeated_rows_are_rejected_in_place_exactly_as_at_ingest(tmp_path, table):
    # the issue: every row repeated 10x turned CONTINUE into a decision
    once, ten = tmp_path / "once.parquet", tmp_path / "ten.parquet"
    pq.write_table(table, once)
    pq.write_table(pa.concat_tables([table] * 10), ten)
    assert evaluate(str(once), log=False).decision == "CONTINUE"
    at_ingest = _ingest_error(str(ten))
    assert at_ingest == (
        f"{ten}: column (request_id, arm): must be unique within an ingest "
        f"({10 * table.num_rows} rows, first: row 1, 2, 3, 4, 5)"
    )
    assert _in_place_error(str(ten)) == at_ingest
    with pytest.raises(InvalidInputError) as info:
        evaluate(str(ten), log=False)
    assert str(info.value) == at_ingest


def test_a_key_repeated_across_files_read_in_place_names_both(tmp_path, table):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(table.slice(0, 1200), a)
    pq.write_table(table.slice(1000), b)  # rows 1001..1200 of a appear again in b
    message = _in_place_error([str(a), str(b)])
    assert message == _ingest_error([str(a), str(b)])
    assert message == (
        f"{a}: column (request_id, arm): must be unique within an ingest "
        f"(200 rows, first: row 1001, 1002, 1003, 1004, 1005); repeats also in {b}"
    )


def test_a_key_repeated_across_objects_read_in_place(table):
    message = _in_place_error([table, table.to_pandas()])
    assert message == _ingest_error([table, table.to_pandas()])
    assert message.startswith("<arrow table, input 1>: column (request_id, arm): must be unique")
    assert message.endswith("repeats also in <pandas DataFrame, input 2>")


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        ("latency_ms", -1.0, "column latency_ms: must be >= 0 (1 row, first: row 3)"),
        ("arm", "blue", "column arm: must be one of control, canary, shadow (1 row, first: row 3)"),
        ("score", 1.5, "column score: must be in [0, 1] (1 row, first: row 3)"),
        ("ts", "2200-01-01T00:00:00Z", "column ts: must be in [1970-01-01, 2200-01-01) UTC"),
        ("ts", "yesterday", "column ts: must be a timestamp or an ISO-8601 string"),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_each_contract_rule_in_place_as_at_ingest(tmp_path, column, value, fragment, fmt):
    df = valid_frame(6).astype({column: object})
    df.loc[2, column] = value
    path = tmp_path / f"bad.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df[column] = df[column].map(str) if column == "ts" else df[column]
        df.to_parquet(path, index=False)
    at_ingest = _ingest_error(str(path))
    assert at_ingest.startswith(f"{path}: {fragment}")
    assert _in_place_error(str(path)) == at_ingest


def test_segment_column_types_must_agree_in_place_as_at_ingest(tmp_path):
    a = valid_frame(4, prefix="a").assign(weight=[1.5, 2.5, 3.5, 4.5])
    b = valid_frame(4, prefix="b").assign(weight=["1.0", "heavy", "2", "3"])
    inputs = [a, b]
    message = _in_place_error(inputs)
    assert message == _ingest_error(inputs)
    assert message == (
        "<pandas DataFrame, input 2>: column weight: must be coercible to DOUBLE "
        "(the type this column has in the store) (1 row, first: row 2)"
    )


def test_reserved_column_names_are_rejected_in_place():
    df = valid_frame().assign(__row=1)
    message = _in_place_error(df)
    assert message == _ingest_error(df)
    assert (
        message
        == "<pandas DataFrame, input 1>: column __row: names starting with '__' are reserved"
    )


def test_valid_in_place_sources_are_read_without_copy(tmp_path, table):
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    with TraceStore.from_files(str(path)) as store:
        kind = store.connection.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = 'traces'"
        ).fetchall()[0][0]
        assert kind == 1  # a view over the file, not a copy
        assert store.count() == table.num_rows


def test_mixed_parquet_and_csv_inputs_read_together(tmp_path: Path, table):
    parquet, csv = tmp_path / "a.parquet", tmp_path / "b.csv"
    pq.write_table(table.slice(0, 1000), parquet)
    table.slice(1000).to_pandas().to_csv(csv, index=False)
    whole = tmp_path / "all.parquet"
    pq.write_table(table, whole)
    mixed = evaluate([str(parquet), str(csv)], log=False)
    assert mixed.data_digest == evaluate(str(whole), log=False).data_digest
