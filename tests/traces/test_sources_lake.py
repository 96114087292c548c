"""Data lakes and the Python objects users have: directories, ``**`` globs, Hive partitions,
one scan for a file set, and polars/Arrow/DuckDB objects giving the verdict of the Parquet file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import evaluate


def write_lake(table: pa.Table, root: Path, n_files: int, *, fmt: str = "parquet") -> list[Path]:
    """``root/model=…/date=…/part-NNNN.<fmt>``: ``n_files`` files in ts order, ``model`` only in
    the directory names (as Hive and Spark write partitioned tables)."""
    table = table.sort_by("ts")
    dates = pc.strftime(table["ts"], format="%Y-%m-%d").to_pylist()
    model = table["model"][0].as_py()
    body = table.drop_columns(["model"])
    size = -(-table.num_rows // n_files)
    paths = []
    for i in range(n_files):
        chunk = body.slice(i * size, size)
        folder = root / f"model={model}" / f"date={dates[i * size]}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{i:04d}.{fmt}"
        if fmt == "parquet":
            pq.write_table(chunk, path)
        else:
            chunk.to_pandas().to_csv(path, index=False)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def traces() -> pa.Table:
    # three days of traffic, so that the lake has several date partitions
    return generate_traces("identical", n_requests=6000, seed=11, duration_minutes=3 * 24 * 60)


@pytest.fixture(scope="module")
def single(tmp_path_factory, traces) -> Path:
    path = tmp_path_factory.mktemp("single") / "traces.parquet"
    pq.write_table(traces, path)
    return path


@pytest.fixture(scope="module")
def reference(single):
    return evaluate(str(single), log=False)


@pytest.fixture(scope="module")
def lake(tmp_path_factory, traces) -> Path:
    root = tmp_path_factory.mktemp("lake") / "lake"
    write_lake(traces, root, 12)
    (root / "_SUCCESS").write_text("")  # marker files writers leave behind are skipped
    (root / "model=risk-default" / ".part-0000.parquet.crc").write_bytes(b"crc")
    return root


def _view_sql(store: TraceStore) -> str:
    return str(
        store.connection.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = 'traces'"
        ).fetchall()[0][0]
    )


@pytest.mark.parametrize(
    "pattern", ["{lake}", "{lake}/", "{lake}/**/*.parquet", "{lake}/*/*/*.parquet", "{lake}/**"]
)
def test_directories_and_globs_give_the_verdict_of_the_single_file(lake, reference, pattern):
    verdict = evaluate(pattern.format(lake=lake), log=False)
    assert verdict.data_digest == reference.data_digest
    assert verdict.decision == reference.decision
    assert verdict.to_dict()["checks"] == reference.to_dict()["checks"]


def test_a_file_set_is_one_scan_and_partitions_become_columns(lake, traces):
    with TraceStore.from_files(lake) as store:
        assert _view_sql(store).count("read_parquet(") == 1
        assert store.count() == traces.num_rows
        got = store.select(columns=["model", "date"]).to_pydict()
    assert set(got["model"]) == {"risk-default"}
    assert set(got["date"]) == {"2026-01-01", "2026-01-02", "2026-01-03"}  # text, as in the path


def test_a_csv_lake_is_read_the_same_way(tmp_path, traces, reference):
    write_lake(traces, tmp_path / "csv", 5, fmt="csv")
    with TraceStore.from_files(tmp_path / "csv") as store:
        assert _view_sql(store).count("read_csv(") == 1
    assert evaluate(str(tmp_path / "csv" / "**" / "*.csv"), log=False).data_digest == (
        reference.data_digest
    )


def test_an_ingested_lake_lists_its_files_and_stores_partitions(lake, traces):
    with TraceStore() as store:
        report = store.ingest(str(lake))
        assert report.rows_ingested == traces.num_rows
        assert len(report.sources) == 12
        assert store.select(columns=["date"]).column("date").type == pa.string()


class _ArrowStream:
    """Any object exporting the Arrow C stream interface (nanoarrow, ADBC, pandas, …)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def _polars_frame(table: pa.Table) -> object:
    pl = pytest.importorskip("polars")
    return pl.from_arrow(table)


OBJECTS = {
    "polars DataFrame": lambda t, path, lake: _polars_frame(t),
    "polars LazyFrame": lambda t, path, lake: _polars_frame(t).lazy(),  # type: ignore[attr-defined]
    "arrow dataset": lambda t, path, lake: pads.dataset(path),
    "arrow dataset, hive": lambda t, path, lake: pads.dataset(lake, partitioning="hive"),
    "record batch reader": lambda t, path, lake: pa.RecordBatchReader.from_batches(
        t.schema, t.to_batches(max_chunksize=1000)
    ),
    "arrow C stream": lambda t, path, lake: _ArrowStream(t),
    "duckdb relation": lambda t, path, lake: duckdb.connect().read_parquet(str(path)),
    "pandas DataFrame": lambda t, path, lake: t.to_pandas(),
}


@pytest.mark.parametrize("kind", list(OBJECTS))
def test_table_like_objects_give_the_verdict_of_the_parquet_file(
    kind, traces, single, lake, reference
):
    source = OBJECTS[kind](traces, single, lake)
    verdict = evaluate(source, log=False)
    assert verdict.data_digest == reference.data_digest
    assert verdict.decision == reference.decision
    assert verdict.to_dict()["checks"] == reference.to_dict()["checks"]


def test_a_duckdb_connection_and_table_name(single, reference):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{single}')")
    assert evaluate((con, "t"), log=False).data_digest == reference.data_digest
    with pytest.raises(InvalidInputError) as info:
        evaluate((con, "missing"), log=False)
    assert str(info.value) == (
        "<duckdb table missing, input 1>: no table missing in the DuckDB connection"
    )
    with pytest.raises(InvalidInputError, match="needs a table name"):
        evaluate(con, log=False)


@pytest.mark.parametrize(
    ("obj", "type_name"),
    [(42, "int"), ({"ts": [1]}, "dict"), (b"bytes", "bytes"), (object(), "object")],
)
def test_unsupported_objects_are_one_line_errors_naming_the_type(obj, type_name):
    with pytest.raises(InvalidInputError) as info:
        TraceStore.from_files(obj)
    message = str(info.value)
    assert message.startswith(f"unsupported input of type {type_name}: expected a path")
    assert "\n" not in message
    assert len(message) <= 300


def test_empty_directories_and_unmatched_globs_are_one_line_errors(tmp_path):
    empty = tmp_path / "empty"
    (empty / "model=x").mkdir(parents=True)
    (empty / "model=x" / "_SUCCESS").write_text("")
    cases = {
        str(empty): f"{empty}: directory holds no Parquet or CSV file",
        f"{empty}/**/*.parquet": f"{empty}/**/*.parquet: no file matches this pattern",
        f"{empty}/*": f"{empty}/*: this pattern matches no Parquet or CSV file (only directories)",
        f"{tmp_path}/nowhere/*.csv": f"{tmp_path}/nowhere/*.csv: no file matches this pattern",
    }
    for source, message in cases.items():
        with pytest.raises(InvalidInputError) as info:
            evaluate(source, log=False)
        assert str(info.value) == message
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(InvalidInputError) as info:
        evaluate(f"{tmp_path}/*.txt", log=False)
    assert str(info.value) == f"{notes}: unsupported file type '.txt' (expected .parquet or .csv)"


def test_a_broken_rule_in_a_file_set_names_the_file_and_its_rows(tmp_path, traces):
    paths = write_lake(traces, tmp_path / "lake", 6)
    for path, rows in ((paths[2], [4, 9]), (paths[4], [0])):
        table = pq.read_table(path)
        latency = table["latency_ms"].to_pylist()
        for r in rows:
            latency[r] = -1.0
        pq.write_table(
            table.set_column(
                table.schema.get_field_index("latency_ms"), "latency_ms", pa.array(latency)
            ),
            path,
        )
    for read in (TraceStore.from_files, lambda s: TraceStore().ingest(s)):
        with pytest.raises(InvalidInputError) as info:
            read(str(tmp_path / "lake"))
        assert str(info.value) == (
            f"{paths[2]}: column latency_ms: must be >= 0 (2 rows, first: row 5, 10); "
            f"1 more row in 1 other file of {tmp_path / 'lake'}"
        )


def test_a_key_repeated_in_two_files_of_a_set(tmp_path, traces):
    paths = write_lake(traces, tmp_path / "lake", 4)
    copy = paths[1].with_name("copy-of-part-0001.parquet")
    copy.write_bytes(paths[1].read_bytes())
    with pytest.raises(InvalidInputError) as info:
        TraceStore.from_files(tmp_path / "lake")
    n = pq.read_metadata(paths[1]).num_rows
    assert str(info.value) == (
        f"{copy}: column (request_id, arm): must be unique within an ingest "
        f"({n} rows, first: row 1, 2, 3, 4, 5); repeats also in {paths[1]}"
    )


def test_a_file_column_disagreeing_with_its_partition_directory(tmp_path, traces):
    folder = tmp_path / "lake" / "model=risk-default"
    folder.mkdir(parents=True)
    pq.write_table(traces.slice(0, 100), folder / "a.parquet")  # model column agrees
    wrong = traces.slice(100, 100).set_column(
        traces.schema.get_field_index("model"), "model", pa.array(["other"] * 100)
    )
    pq.write_table(wrong, folder / "b.parquet")
    with pytest.raises(InvalidInputError) as info:
        TraceStore.from_files(tmp_path / "lake")
    assert str(info.value) == (
        f"{folder / 'b.parquet'}: column model: must equal its partition directory in the path "
        "(model=…; drop the column from the files or move them) (100 rows, first: row 1, 2, 3, 4, 5)"
    )
    (folder / "b.parquet").unlink()
    with TraceStore.from_files(tmp_path / "lake") as store:
        assert store.count() == 100


def test_files_with_different_partition_keys_are_a_one_line_error(tmp_path, traces):
    for folder in ("a=1", "b=2"):
        (tmp_path / folder).mkdir()
        pq.write_table(
            traces.slice(0 if folder == "a=1" else 100, 100), tmp_path / folder / "p.parquet"
        )
    with pytest.raises(InvalidInputError) as info:
        TraceStore.from_files(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path}: cannot be read: ")
    assert "Hive partition mismatch" in message
    assert "\n" not in message


# Linux keeps a process's peak RSS across exec, so a process forked from pytest would report
# pytest's own size. The script below therefore runs itself once more to evaluate, and reports
# that process's peak with getrusage(RUSAGE_CHILDREN), cross-checked with /proc VmHWM.
_MEASURE = """
import json, re, resource, subprocess, sys, time
if len(sys.argv) == 3:
    start = time.perf_counter()
    from canarykit.verdict.evaluate import evaluate
    verdict = evaluate(sys.argv[2], log=False)
    hwm = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())
    print(json.dumps({
        "decision": verdict.decision,
        "digest": verdict.data_digest,
        "seconds": round(time.perf_counter() - start, 2),
        "vm_hwm_mb": round(int(hwm.group(1)) / 1024) if hwm else None,
    }))
else:
    out = subprocess.run(
        [sys.executable, sys.argv[0], "--evaluate", sys.argv[1]],
        capture_output=True, text=True, check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print(json.dumps(result))
"""


@pytest.mark.simulation
def test_a_lake_of_1000_files_and_1m_rows_evaluates_in_place_within_2gb(tmp_path):
    table = generate_traces(
        "identical", n_requests=1_000_000, seed=7, duration_minutes=10 * 24 * 60
    )
    write_lake(table, tmp_path / "lake", 1000)
    single = tmp_path / "single.parquet"
    pq.write_table(table, single)
    del table
    script = tmp_path / "measure.py"
    script.write_text(_MEASURE)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    runs = {}
    for name, source in (
        ("lake", str(tmp_path / "lake" / "*" / "*" / "*.parquet")),
        ("single", str(single)),
    ):
        out = subprocess.run(
            [sys.executable, str(script), source],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=300,
        )
        runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
    lake, one = runs["lake"], runs["single"]
    print(f"1,000-file lake: {lake}; single file: {one}")
    assert lake["peak_rss_mb"] < 2048
    assert (lake["decision"], lake["digest"]) == (one["decision"], one["digest"])
