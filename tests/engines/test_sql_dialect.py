"""Every statement the summary passes issue transpiles to Spark SQL (no Spark needed).

The passes are recorded on DuckDB — canary with fairness features, shadow pairing, the
order-statistics fetch by bucket, one row per value or grouped by value — and each statement goes through
:func:`to_spark_sql`: a new DuckDB-only construct in a pass fails here, not on a cluster.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import canarykit.traces.rank_values as rank_values
from canarykit.engines.sql_dialect import (
    UnsupportedSQLError,
    inline_parameters,
    to_spark_sql,
)
from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import _evaluate_store
from canarykit.verdict.policy import load_policy


class Recording:
    """A DuckDB connection that records every statement and its parameters."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.statements: list[tuple[str, list[Any]]] = []

    def execute(self, sql: str, params: Any = None) -> Any:
        self.statements.append((sql, list(params or [])))
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)


class RecordingStore:
    """What the passes read of a store (``connection``), recorded; like Spark's traces it is
    not a DuckDB ``TraceStore``, so the DuckDB-only stored-timestamp check is not issued."""

    def __init__(self, store: TraceStore) -> None:
        self.path = store.path
        self._recording = Recording(store.connection)

    @property
    def connection(self) -> Any:
        return self._recording


def _statements(scenario: str, **kwargs: Any) -> list[tuple[str, list[Any]]]:
    store = TraceStore()
    store.ingest(generate_traces(scenario, seed=5, **kwargs))
    recording = RecordingStore(store)
    _evaluate_store(
        recording,
        load_policy(),
        model=None,
        baseline=None,
        candidate=None,
        until=None,
        since=None,
        split=None,
    )
    return recording._recording.statements


@pytest.fixture(scope="module")
def statements() -> list[tuple[str, list[Any]]]:
    return _statements("fairness_regression", n_requests=20_000) + _statements(
        "shadow", n_requests=4_000
    )


def test_every_pass_statement_transpiles(statements) -> None:
    kinds = set()
    for sql, params in statements:
        spark_sql = to_spark_sql(sql, params, table="__v")
        assert "traces" not in re.findall(r"\w+", spark_sql.lower()), spark_sql
        assert not re.search(r"(?<!XX)HASH\(", spark_sql)
        assert "INT128" not in spark_sql
        assert "FSUM" not in spark_sql
        assert "?" not in spark_sql.replace("'?'", "")
        kinds.update(
            w for w in ("XXHASH64", "GROUPING SETS", "FILTER(WHERE", "BIT_XOR") if w in spark_sql
        )
    # the statements cover the pass families the Spark engine must run
    assert kinds == {"XXHASH64", "GROUPING SETS", "FILTER(WHERE", "BIT_XOR"}
    assert len(statements) >= 8


def test_the_grouped_value_fetch_transpiles(monkeypatch) -> None:
    monkeypatch.setattr(rank_values, "MAX_BUCKET_VALUES", 0)
    recorded = _statements("identical", n_requests=3_000)
    grouped = [s for s in recorded if "GROUP BY k, v" in s[0]]
    assert grouped
    for sql, params in grouped:
        spark_sql = to_spark_sql(sql, params)
        assert "count(*)" in spark_sql.lower()
        assert "GROUP BY" in spark_sql


def test_parameters_are_literals_never_sql() -> None:
    sql = to_spark_sql(
        "SELECT 1 FROM traces WHERE model = ? AND version = ?", ["a' OR 1=1 --", "v\\1"]
    )
    assert sql.endswith("WHERE model = 'a\\' OR 1=1 --' AND version = 'v\\\\1'")


def test_placeholders_and_parameters_must_match() -> None:
    with pytest.raises(UnsupportedSQLError, match="2 parameters for 1 placeholders"):
        inline_parameters("SELECT ?", [1, 2])
    with pytest.raises(UnsupportedSQLError, match="more placeholders"):
        inline_parameters("SELECT ?, ?", [1])
    assert inline_parameters("SELECT '?', \"?\", ?", [1.5]) == (
        "SELECT '?', \"?\", CAST('1.5' AS DOUBLE)"
    )


def test_duckdb_only_functions_are_refused() -> None:
    with pytest.raises(UnsupportedSQLError, match=r"quantile_cont\(\): no Spark equivalent"):
        to_spark_sql("SELECT quantile_cont(latency_ms, 0.5) FROM traces")
    with pytest.raises(UnsupportedSQLError, match=r"duckdb_views\(\): no Spark equivalent"):
        to_spark_sql("SELECT count(*) FROM duckdb_views()")
    with pytest.raises(UnsupportedSQLError, match="does not parse"):
        to_spark_sql("SELECT FROM WHERE (")


def test_exact_sums_and_digest_functions_are_rewritten() -> None:
    sql = to_spark_sql("SELECT fsum(x), sum(CAST(hash(a, b) AS HUGEINT)) FROM traces", table="v")
    assert sql == (
        "SELECT CAST(SUM(CAST(x AS DECIMAL(38, 28))) AS DOUBLE), "
        "SUM(CAST(XXHASH64(a, b) AS DECIMAL(38, 0))) FROM `v`"
    )


def test_replaying_a_spark_verdict_without_pyspark_is_one_line(monkeypatch, tmp_path) -> None:
    import importlib.util
    from dataclasses import replace

    from canarykit.verdict.evaluate import evaluate
    from canarykit.verdict.replay import replay

    table = generate_traces("identical", n_requests=2_000, seed=1)
    verdict = replace(evaluate(table, log=False), engine={"name": "spark", "version": "3.5.9"})
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a)
    )
    with pytest.raises(InvalidInputError, match=r"computed by the spark engine .* needs pyspark"):
        replay(verdict, table)
    path = tmp_path / "v.json"
    path.write_text(verdict.to_json())
    from canarykit.cli.main import main

    assert main(["replay", str(path), "x.parquet"]) == 2
