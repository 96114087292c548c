"""Every validation rule: rejected with a message naming file, column, rule, count and rows,
and the store left byte-for-byte as it was."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from tests.conftest import file_digest, valid_frame


def _broken(column: str, rows: dict[int, object]) -> pd.DataFrame:
    df = valid_frame(8).astype(
        {"latency_ms": object, "score": object, "label": object, "error": object, "ts": object}
    )
    for row, value in rows.items():
        df.loc[row, column] = value
    return df


# (column, {0-based row: bad value}, expected message fragment)
CASES = [
    ("latency_ms", {2: -1.0, 5: -3.0}, "column latency_ms: must be >= 0 (2 rows, first: row 3, 6)"),
    ("latency_ms", {1: np.inf}, "column latency_ms: must be finite (1 row, first: row 2)"),
    ("latency_ms", {1: "NaN"}, "column latency_ms: must be finite (1 row, first: row 2)"),
    ("latency_ms", {1: "-inf"}, "column latency_ms: must be finite (1 row, first: row 2)"),
    ("latency_ms", {4: "fast"}, "column latency_ms: must be a number (1 row, first: row 5)"),
    (
        "latency_ms",
        {3: None},
        "column latency_ms: may be NULL only when error is true (1 row, first: row 4)",
    ),
    ("score", {0: 1.5}, "column score: must be in [0, 1] (1 row, first: row 1)"),
    ("score", {0: -0.1, 7: 2.0}, "column score: must be in [0, 1] (2 rows, first: row 1, 8)"),
    ("score", {6: "nan"}, "column score: must be finite (1 row, first: row 7)"),
    ("score", {6: "high"}, "column score: must be a number (1 row, first: row 7)"),
    (
        "label",
        {2: "maybe"},
        "column label: must be boolean (true/false or 1/0) or NULL (1 row, first: row 3)",
    ),
    (
        "label",
        {2: 2},
        "column label: must be boolean (true/false or 1/0) or NULL (1 row, first: row 3)",
    ),
    ("error", {2: None}, "column error: must not be NULL (1 row, first: row 3)"),
    (
        "error",
        {2: "oops"},
        "column error: must be boolean (true/false or 1/0) (1 row, first: row 3)",
    ),
    (
        "arm",
        {1: "treatment"},
        "column arm: must be one of control, canary, shadow (1 row, first: row 2)",
    ),
    ("arm", {1: None}, "column arm: must be one of control, canary, shadow (1 row, first: row 2)"),
    (
        "ts",
        {3: "yesterday"},
        "column ts: must be a timestamp or an ISO-8601 string (1 row, first: row 4)",
    ),
    ("ts", {3: None}, "column ts: must not be NULL (1 row, first: row 4)"),
    ("request_id", {0: ""}, "column request_id: must be a non-empty string (1 row, first: row 1)"),
    ("model", {5: None}, "column model: must be a non-empty string (1 row, first: row 6)"),
    ("version", {5: ""}, "column version: must be a non-empty string (1 row, first: row 6)"),
    (
        "request_id",
        {3: "r1"},
        "column (request_id, arm): must be unique within an ingest (2 rows, first: row 2, 4)",
    ),
]


def _to_file(df: pd.DataFrame, tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"input.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        # mixed-type object columns are written as text, as an upstream export would
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].map(lambda v: None if v is None else str(v))
        df.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize(("column", "rows", "message"), CASES)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_rule_rejected_and_store_unchanged(tmp_path, column, rows, message, fmt):
    db = tmp_path / "store.duckdb"
    with TraceStore(db) as store:
        store.ingest(valid_frame(4, prefix="seed"))
    before = file_digest(db)
    path = _to_file(_broken(column, rows), tmp_path, fmt)
    with TraceStore(db) as store, pytest.raises(InvalidInputError) as info:
        store.ingest(str(path))
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text
    assert file_digest(db) == before
    with TraceStore(db, read_only=True) as store:
        assert store.count() == 4


def test_missing_required_columns_named(tmp_path):
    df = valid_frame().drop(columns=["latency_ms", "error"])
    with (
        TraceStore() as store,
        pytest.raises(InvalidInputError, match="missing required columns latency_ms, error"),
    ):
        store.ingest(df)


def test_uncoercible_column_type_is_rejected():
    df = valid_frame()
    df["ts"] = np.arange(len(df))  # epoch-like integers are not accepted as timestamps
    with (
        TraceStore() as store,
        pytest.raises(InvalidInputError, match="column ts: must be a timestamp"),
    ):
        store.ingest(df)


def test_latency_may_be_null_when_error():
    df = valid_frame()
    df["latency_ms"] = df["latency_ms"].astype(object)
    df.loc[1, "latency_ms"] = None
    df.loc[1, "error"] = True
    with TraceStore() as store:
        assert store.ingest(df).rows_ingested == len(df)


def test_several_broken_rules_counted_in_one_line():
    df = valid_frame()
    df.loc[0, "latency_ms"] = -1.0
    df.loc[1, "score"] = 7.0
    with TraceStore() as store, pytest.raises(InvalidInputError) as info:
        store.ingest(df)
    assert "column latency_ms: must be >= 0" in str(info.value)
    assert "1 more rule(s) broken" in str(info.value)


def test_failed_first_ingest_into_new_file_via_cli_leaves_no_file(tmp_path):
    from canarykit.cli.main import main

    bad = tmp_path / "bad.csv"
    _broken("latency_ms", {0: -5.0}).to_csv(bad, index=False)
    db = tmp_path / "new.duckdb"
    assert main(["ingest", str(bad), "--db", str(db)]) == 2
    assert not db.exists()


def test_second_file_broken_means_nothing_ingested(tmp_path):
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    valid_frame(6, prefix="g").to_parquet(good)
    df = valid_frame(6, prefix="b")
    df.loc[2, "score"] = 3.0
    df.to_parquet(bad)
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(valid_frame(2, prefix="seed"))
    before = file_digest(db)
    with (
        TraceStore(db) as store,
        pytest.raises(InvalidInputError, match=r"bad\.parquet: column score"),
    ):
        store.ingest([str(good), str(bad)])
    assert file_digest(db) == before


def test_duplicates_across_files_name_both(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    valid_frame(4).to_parquet(a)
    valid_frame(4).to_parquet(b)
    with TraceStore() as store, pytest.raises(InvalidInputError) as info:
        store.ingest([str(a), str(b)])
    assert "must be unique within an ingest" in str(info.value)
    assert "b.parquet" in str(info.value)


def test_unsupported_and_missing_inputs():
    with TraceStore() as store:
        with pytest.raises(InvalidInputError, match="no such file"):
            store.ingest("does-not-exist.parquet")
        with pytest.raises(InvalidInputError, match="no file matches"):
            store.ingest("nothing-*.parquet")
        with pytest.raises(InvalidInputError, match="unsupported input"):
            store.ingest([42])


def test_typed_nan_in_parquet_is_not_finite(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(valid_frame(), preserve_index=False)
    scores = [0.1, 0.2, float("nan"), 0.3, 0.4, 0.5]  # a real IEEE NaN, not a NULL
    table = table.set_column(
        table.schema.get_field_index("score"),
        "score",
        pa.array(scores, pa.float64(), from_pandas=False),
    )
    path = tmp_path / "nan.parquet"
    pq.write_table(table, path)
    with (
        TraceStore() as store,
        pytest.raises(InvalidInputError, match="column score: must be finite"),
    ):
        store.ingest(str(path))


@pytest.mark.parametrize(
    ("column", "values", "rule"),
    [
        ("version", ["v\x01", "v2"], "must not contain control characters"),
        ("model", ["m\nx", "m"], "must not contain control characters"),
        ("request_id", ["r\t1", "r2"], "must not contain control characters"),
        ("version", ["None", "v2"], "reserved word 'none'"),
        ("error", ["yes", "no"], "must be boolean"),
        ("model", [["a"], ["b"]], "must be text"),
        ("model", [{"a": 1}, {"a": 2}], "must be text"),
    ],
)
def test_values_the_contract_forbids_are_refused(column, values, rule):
    import pandas as pd

    from canarykit.errors import InvalidInputError
    from canarykit.traces import TraceStore

    frame = {
        "request_id": ["r1", "r2"],
        "ts": ["2026-01-01T00:00:00Z"] * 2,
        "model": ["m", "m"],
        "version": ["v1", "v2"],
        "arm": ["control", "canary"],
        "latency_ms": [1.0, 2.0],
        "error": [False, False],
        column: values,
    }
    with TraceStore() as store, pytest.raises(InvalidInputError, match=rule):
        store.ingest(pd.DataFrame(frame))
