"""Partition pruning of lakes (canarykit.traces.lake) on the DuckDB engine: files of other
models and of days outside the window are never opened, Delta tables are read through their
current snapshot (never the files a later commit removed)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces.generate import generate_traces
from canarykit.traces.lake import LakeFilter, lake_files
from canarykit.verdict.evaluate import evaluate

UNTIL = "2026-01-02T00:00:00Z"


def deltalake_module():
    """``deltalake``; a missing one fails under ``make test`` (CANARYKIT_REQUIRE_SPARK=1)."""
    import importlib.util
    import os

    if (
        importlib.util.find_spec("deltalake") is None
        and os.environ.get("CANARYKIT_REQUIRE_SPARK") == "1"
    ):
        pytest.fail("CANARYKIT_REQUIRE_SPARK=1 but deltalake is not installed")
    return pytest.importorskip("deltalake")


def lake_table(n: int = 3000) -> pa.Table:
    """Two models over two days (the second day only for model m1)."""
    parts = [
        generate_traces("identical", n_requests=n, seed=1, model="m1", duration_minutes=2 * 1440),
        generate_traces("identical", n_requests=n, seed=2, model="m2", duration_minutes=1440),
    ]
    table = pa.concat_tables(parts)
    return table.append_column("date", pc.strftime(table["ts"], format="%Y-%m-%d"))


def write_hive(table: pa.Table, root: Path) -> Path:
    pads.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=pads.partitioning(
            pa.schema([("model", pa.string()), ("date", pa.string())]), flavor="hive"
        ),
    )
    return root


def poison(folder: Path) -> Path:
    """A file no engine can read: opening it fails the evaluation."""
    folder.mkdir(parents=True, exist_ok=True)
    bad = folder / "part-poison.parquet"
    bad.write_bytes(b"not parquet at all")
    return bad


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = write_hive(lake_table(), tmp_path_factory.mktemp("lake") / "lake")
    poison(root / "model=m2" / "date=2026-01-01")
    poison(root / "model=m1" / "date=2026-01-03")
    return root


def test_pruning_keeps_only_the_model_and_days_of_the_window(lake) -> None:
    files, base = lake_files(lake, LakeFilter(model="m1", until=UNTIL))
    assert base == str(lake)
    assert files
    # the window's day, and a day of margin (partitions cut in a local time zone)
    assert {f.split("/")[-2] for f in files} == {"date=2026-01-01", "date=2026-01-02"}
    assert all("model=m1/" in f for f in files)
    everything, _ = lake_files(lake)
    assert len(everything) > len(files)


def test_unpruned_reads_fail_on_the_poisoned_partitions(lake) -> None:
    with pytest.raises(InvalidInputError):
        evaluate(str(lake), log=False)


def test_a_pruned_evaluation_equals_the_evaluation_of_its_rows(lake, tmp_path) -> None:
    pruned = evaluate(str(lake), model="m1", until=UNTIL, log=False)
    rows = lake_table().filter(pc.equal(lake_table()["model"], "m1"))
    direct = evaluate(rows.drop_columns(["date"]), model="m1", until=UNTIL, log=False)
    assert pruned.data_digest == direct.data_digest
    assert [c.to_dict() for c in pruned.checks] == [c.to_dict() for c in direct.checks]


def test_nothing_left_after_pruning_is_one_line(lake) -> None:
    with pytest.raises(InvalidInputError, match="no partition may hold rows of model m3"):
        evaluate(str(lake), model="m3", log=False)


def test_a_delta_table_is_read_through_its_current_snapshot(tmp_path) -> None:
    deltalake = deltalake_module()
    table = lake_table(1500)
    table = table.set_column(
        table.schema.get_field_index("ts"), "ts", table["ts"].cast(pa.timestamp("us", tz="UTC"))
    )
    path = tmp_path / "delta"
    old = table.set_column(
        table.schema.get_field_index("latency_ms"),
        "latency_ms",
        pc.multiply(table["latency_ms"], 10.0),
    )
    deltalake.write_deltalake(path, old, partition_by=["model", "date"])
    deltalake.write_deltalake(path, table, partition_by=["model", "date"], mode="overwrite")
    got = evaluate(str(path), model="m1", until=UNTIL, log=False)
    rows = table.filter(pc.equal(table["model"], "m1")).drop_columns(["date"])
    want = evaluate(rows, model="m1", until=UNTIL, log=False)
    assert got.data_digest == want.data_digest  # the overwritten files are not read
    assert [c.to_dict() for c in got.checks] == [c.to_dict() for c in want.checks]


def test_a_delta_table_is_pruned_before_a_file_is_opened(tmp_path) -> None:
    deltalake = deltalake_module()
    table = lake_table(1500)
    table = table.set_column(
        table.schema.get_field_index("ts"), "ts", table["ts"].cast(pa.timestamp("us", tz="UTC"))
    )
    path = tmp_path / "delta"
    deltalake.write_deltalake(path, table, partition_by=["model", "date"])
    for file in (path / "model=m2").rglob("*.parquet"):  # still in the snapshot, unreadable
        file.write_bytes(b"not parquet at all")
    files, _ = lake_files(path, LakeFilter(model="m1", until=UNTIL))
    assert files
    assert all("/model=m1/" in f for f in files)
    evaluate(str(path), model="m1", until=UNTIL, log=False)  # reads no m2 file
    with pytest.raises(InvalidInputError):
        evaluate(str(path), log=False)
