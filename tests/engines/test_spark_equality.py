"""The Spark engine gives the DuckDB path's verdict: every check's estimate, interval and
status (to 1e-12; counts exactly), on the same Parquet data — canary, a regression that STOPs,
fairness checks, shadow pairing and the grouped (value, count) order-statistics fetch.

The data digest is engine-specific (DuckDB ``hash()`` vs Spark ``xxhash64``): it differs, and
the verdict records the engine that made it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import canarykit.traces.rank_values as rank_values
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.verdict import Verdict

NUMBERS = ("estimate", "ci_low", "ci_high", "pvalue", "threshold", "confidence_level")
COUNTS = ("n_control", "n_candidate")


def assert_close(a: Any, b: Any, where: str) -> None:
    """Equal structures, numbers to 1e-12 (relative above 1), integers and text exactly."""
    if isinstance(a, dict):
        assert isinstance(b, dict), where
        assert sorted(a) == sorted(b), where
        for key in a:
            assert_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple), where
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float | int):
        assert (a != a and b != b) or abs(a - b) <= 1e-12 * max(1.0, abs(a)), (where, a, b)
    else:
        assert a == b, (where, a, b)


def assert_same_checks(duck: Verdict, spark: Verdict) -> None:
    assert spark.decision == duck.decision
    assert [c.name for c in spark.checks] == [c.name for c in duck.checks]
    for d, s in zip(duck.checks, spark.checks, strict=True):
        dd, sd = d.to_dict(), s.to_dict()
        assert sd["status"] == dd["status"], d.name
        for key in COUNTS:
            assert sd[key] == dd[key], (d.name, key)
        for key in NUMBERS:
            a, b = dd.get(key), sd.get(key)
            if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
                assert a == b or (a != a and b != b), (d.name, key, a, b)
            else:
                assert abs(a - b) <= 1e-12 * max(1.0, abs(a)), (d.name, key, a, b)
        assert_close(sd["details"], dd["details"], d.name)
    assert spark.reasons == duck.reasons
    assert spark.window == duck.window
    assert spark.selection == duck.selection


def both(path: Path, spark_session: Any, **kwargs: Any) -> tuple[Verdict, Verdict]:
    duck = evaluate(str(path), log=False, **kwargs)
    on_spark = evaluate(str(path), log=False, engine="spark", spark=spark_session, **kwargs)
    return duck, on_spark


def _parquet(tmp_path_factory: Any, name: str, table: Any) -> Path:
    path = tmp_path_factory.mktemp(name) / f"{name}.parquet"
    pq.write_table(table, path, row_group_size=20_000)
    return path


@pytest.fixture(scope="module")
def regression(tmp_path_factory) -> Path:
    table = generate_traces("error_regression", n_requests=60_000, seed=21, canary_share=0.25)
    return _parquet(tmp_path_factory, "regression", table)


@pytest.fixture(scope="module")
def fairness(tmp_path_factory) -> Path:
    table = generate_traces("fairness_regression", n_requests=60_000, seed=22, canary_share=0.25)
    return _parquet(tmp_path_factory, "fairness", table)


@pytest.fixture(scope="module")
def shadow(tmp_path_factory) -> Path:
    table = generate_traces("shadow", n_requests=15_000, seed=23)
    return _parquet(tmp_path_factory, "shadow", table)


def test_a_regression_stops_on_both_engines_with_equal_checks(spark, regression) -> None:
    duck, on_spark = both(regression, spark)
    assert duck.decision == "STOP"
    assert_same_checks(duck, on_spark)
    assert duck.engine["name"] == "duckdb"
    assert on_spark.engine == {
        "name": "spark",
        "version": spark.version,
    }
    assert on_spark.data_digest != duck.data_digest  # engine-specific row hash
    assert on_spark.to_dict()["engine"]["name"] == "spark"


def test_fairness_checks_are_equal(spark, fairness) -> None:
    duck, on_spark = both(fairness, spark)
    fair = [c for c in duck.checks if c.name.startswith("fairness")]
    assert fair
    assert any(c.status != "inconclusive" for c in fair)
    assert_same_checks(duck, on_spark)


def test_shadow_pairing_is_equal(spark, shadow) -> None:
    duck, on_spark = both(shadow, spark)
    assert duck.mode == "shadow"
    names = {c.name for c in duck.checks}
    assert {"shadow_agreement", "auc_delta"} <= names
    assert_same_checks(duck, on_spark)


def test_the_grouped_value_fetch_is_equal(spark, regression, monkeypatch) -> None:
    # every needed latency bucket "too large": both engines read (value, count) rows
    monkeypatch.setattr(rank_values, "MAX_BUCKET_VALUES", 0)
    duck, on_spark = both(regression, spark, until="2026-01-01T00:30:00Z")
    assert any(c.name.startswith("latency") and c.estimate is not None for c in duck.checks)
    assert_same_checks(duck, on_spark)
    monkeypatch.undo()
    exact = evaluate(str(regression), log=False, until="2026-01-01T00:30:00Z")
    assert_same_checks(exact, duck)


def test_a_spark_dataframe_and_a_table_name_are_sources(spark, regression) -> None:
    frame = spark.read.parquet(str(regression))
    frame.createOrReplaceTempView("ck_equality_table")
    try:
        by_frame = evaluate(frame, log=False, engine="spark", spark=spark)
        by_name = evaluate("ck_equality_table", log=False, engine="spark", spark=spark)
    finally:
        spark.catalog.dropTempView("ck_equality_table")
    assert by_frame.data_digest == by_name.data_digest
    assert_same_checks(by_frame, by_name)
    # the user's own views are left alone: canarykit registers a uniquely named one
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("__canarykit")]


@pytest.mark.parametrize("name", ["fairness", "shadow"])
def test_the_summaries_documents_are_equal(spark, name, request) -> None:
    """Every figure of the public summaries document, both engines (digest aside)."""
    from canarykit.engines.spark import open_spark_traces
    from canarykit.summaries import summary_plan, to_dict
    from canarykit.traces.summaries import summarize
    from canarykit.verdict.evaluate import open_source, resolve_selection
    from canarykit.verdict.policy import load_policy

    path = str(request.getfixturevalue(name))
    policy = load_policy()
    docs = []
    for opened in (open_source(path), open_spark_traces(spark, path)):
        with opened as traces:
            sel = resolve_selection(traces, model=None, baseline=None, candidate=None, until=None)
            docs.append(to_dict(summarize(traces, sel, summary_plan(policy, sel.mode))))
    duck, on_spark = docs
    assert duck.pop("data_digest") != on_spark.pop("data_digest")
    assert_close(on_spark, duck, "summaries")
    assert sum(duck["arms"]["control"]["scores"]["count"]) > 0
