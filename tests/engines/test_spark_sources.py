"""The Spark engine on lakes and through the CLI: partition pruning (poisoned partitions are
never opened), Delta snapshots, contract errors in one line, exit codes, and replay on the
engine the verdict records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from canarykit.cli.main import main
from canarykit.errors import InvalidInputError
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.replay import replay

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "traces"))
from test_lake import UNTIL, deltalake_module, lake_table, poison, write_hive
from test_spark_equality import assert_same_checks


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = write_hive(lake_table(), tmp_path_factory.mktemp("slake") / "lake")
    poison(root / "model=m2" / "date=2026-01-01")
    poison(root / "model=m1" / "date=2026-01-03")
    return root


def test_a_pruned_lake_gives_the_duckdb_checks(spark, lake) -> None:
    duck = evaluate(str(lake), model="m1", until=UNTIL, log=False)
    on_spark = evaluate(str(lake), model="m1", until=UNTIL, log=False, engine="spark", spark=spark)
    assert_same_checks(duck, on_spark)
    with pytest.raises(InvalidInputError, match=r"cannot be read by Spark|spark"):
        evaluate(str(lake), log=False, engine="spark", spark=spark)  # reads the poison


def test_a_delta_table_on_spark(spark, tmp_path) -> None:
    deltalake = deltalake_module()
    table = lake_table(1500)
    table = table.set_column(
        table.schema.get_field_index("ts"), "ts", table["ts"].cast(pa.timestamp("us", tz="UTC"))
    )
    path = tmp_path / "delta"
    deltalake.write_deltalake(path, table.slice(0, 100), partition_by=["model", "date"])
    deltalake.write_deltalake(path, table, partition_by=["model", "date"], mode="overwrite")
    duck = evaluate(str(path), model="m1", until=UNTIL, log=False)
    on_spark = evaluate(str(path), model="m1", until=UNTIL, log=False, engine="spark", spark=spark)
    assert_same_checks(duck, on_spark)
    assert on_spark.window["start"] == duck.window["start"]  # UTC whatever the session zone


def test_contract_violations_are_one_line(spark, tmp_path) -> None:
    table = lake_table(500).drop_columns(["date"])
    bad = table.set_column(
        table.schema.get_field_index("latency_ms"),
        "latency_ms",
        pc.subtract(table["latency_ms"], 1000.0),
    )
    pq.write_table(bad, tmp_path / "bad.parquet")
    frame = spark.read.parquet(str(tmp_path / "bad.parquet"))
    with pytest.raises(InvalidInputError, match=r"column latency_ms: must be >= 0 \(\d+ rows"):
        evaluate(frame, model="m1", log=False, engine="spark", spark=spark)
    text = frame.withColumn("latency_ms", frame["latency_ms"].cast("string"))
    with pytest.raises(InvalidInputError, match="column latency_ms: must be a number"):
        evaluate(text, model="m1", log=False, engine="spark", spark=spark)
    good = frame.withColumn("latency_ms", frame["latency_ms"] + 1000.0)
    with pytest.raises(InvalidInputError, match=r"column \(request_id, arm\): must be unique"):
        evaluate(good.union(good.limit(1)), model="m1", log=False, engine="spark", spark=spark)
    with pytest.raises(InvalidInputError, match="neither a path nor a table"):
        evaluate("no_such_table", log=False, engine="spark", spark=spark)


def test_cli_engine_spark_and_replay_on_the_recorded_engine(spark, lake, tmp_path, capsys) -> None:
    out = tmp_path / "verdict.json"
    args = ["evaluate", str(lake), "--model", "m1", "--until", UNTIL, "--out", str(out)]
    code = main([*args, "--engine", "spark", "--format", "json"])
    assert code in (0, 1, 3)
    recorded = json.loads(out.read_text())
    assert recorded["engine"] == {"name": "spark", "version": spark.version}
    result = replay(out, str(lake), spark=spark)
    assert result.identical, result.differences
    assert f"(summaries by spark {spark.version})" in result.replayed.to_text()
    capsys.readouterr()
    assert main(["replay", str(out), str(lake)]) == 0  # the active session, by the engine
    assert "identical" in capsys.readouterr().out
    code = main(["evaluate", str(lake), "--engine", "spark", "--model", "m1", "--split", "2"])
    assert code == 2
    assert "--split" in capsys.readouterr().err


def test_a_duckdb_store_is_not_an_engine_spark_source(spark, tmp_path) -> None:
    from canarykit.traces import TraceStore

    store = TraceStore()
    with pytest.raises(InvalidInputError, match="a DuckDB trace store is evaluated by"):
        evaluate(store, engine="spark", spark=spark, log=False)


def test_no_java_is_a_one_line_error(spark, tmp_path) -> None:
    import os
    import subprocess

    path = tmp_path / "t.parquet"
    pq.write_table(lake_table(200).drop_columns(["date"]), path)
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    done = subprocess.run(
        [sys.executable, "-m", "canarykit", "evaluate", "--engine", "spark", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("canarykit: error: engine spark: cannot start a Spark session")
    assert "Traceback" not in done.stderr


def test_a_document_summarized_on_spark_gives_the_duckdb_verdict(spark, lake) -> None:
    from canarykit.summaries import evaluate_summaries, from_dict
    from canarykit.summaries.compute import summarize_source

    doc = summarize_source(str(lake), model="m1", until=UNTIL, engine="spark", spark=spark)
    assert doc["engine"] == {"name": "spark", "version": spark.version}
    verdict = evaluate_summaries(from_dict(json.loads(json.dumps(doc))), engine=doc["engine"])
    duck = evaluate(str(lake), model="m1", until=UNTIL, log=False)
    assert_same_checks(duck, verdict)
    assert verdict.engine["name"] == "spark"
