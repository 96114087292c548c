"""The trace contract (DESIGN.md §3) on Spark: typed columns, the row rules, unique keys.

A Spark source is checked as an ingest checks a file, in two Spark jobs: one aggregate counting
every rule's violations, and one ``GROUP BY request_id, arm`` for repeated keys (a broken rule
then costs a job to name its first row). The first
broken rule becomes a one-line :class:`~canarykit.errors.InvalidInputError` naming the source,
the column, the rule, the count and the first offending ``request_id`` (Spark rows have no
stable number). Columns must already be typed: the text parsing of CSV inputs is DuckDB's.

The view the passes read has the contract's columns with DuckDB's types — ``ts`` as
``TIMESTAMP_NTZ`` holding the UTC wall time (a ``TIMESTAMP`` column is converted exactly,
whatever the session time zone), ``score``/``label`` NULL when absent — followed by the
source's other columns (segments, partition columns) unchanged.
"""

from __future__ import annotations

from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.traces.schema import ARMS, TS_END, TS_MIN, TS_RANGE_TEXT

__all__ = ["normalized_frame"]

_TEXT = ("StringType", "VarcharType", "CharType")
_NUMBER = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType")
_TYPE_RULES = {
    "request_id": (_TEXT, "must be a string"),
    "model": (_TEXT, "must be a string"),
    "version": (_TEXT, "must be a string"),
    "arm": (_TEXT, "must be a string"),
    "ts": (("TimestampType", "TimestampNTZType"), "must be a timestamp"),
    "latency_ms": ((*_NUMBER, "DecimalType"), "must be a number"),
    "error": (("BooleanType",), "must be boolean"),
    "score": ((*_NUMBER, "DecimalType"), "must be a number"),
    "label": (("BooleanType",), "must be boolean"),
}
_REQUIRED = ("request_id", "ts", "model", "version", "arm", "latency_ms", "error")


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _ts_literal(moment: Any) -> str:
    return f"TIMESTAMP_NTZ '{moment.isoformat(sep=' ')}'"


def _finite(col: str) -> str:
    return f"(NOT isnan({col}) AND abs({col}) != double('inf'))"


def _rules() -> list[tuple[str, str, str]]:
    arms = ", ".join(f"'{a}'" for a in ARMS)
    return [
        ("request_id", "must be a non-empty string", "(request_id IS NULL OR request_id = '')"),
        ("ts", "must not be NULL", "ts IS NULL"),
        (
            "ts",
            f"must be in {TS_RANGE_TEXT}",
            f"(ts < {_ts_literal(TS_MIN)} OR ts >= {_ts_literal(TS_END)})",
        ),
        ("model", "must be a non-empty string", "(model IS NULL OR model = '')"),
        ("version", "must be a non-empty string", "(version IS NULL OR version = '')"),
        (
            "version",
            "must not be the reserved word 'none' (it means 'no version' in the registry)",
            "lower(trim(version)) = 'none'",
        ),
        ("arm", f"must be one of {', '.join(ARMS)}", f"(arm IS NULL OR arm NOT IN ({arms}))"),
        ("error", "must not be NULL", "error IS NULL"),
        (
            "latency_ms",
            "must be finite",
            f"(latency_ms IS NOT NULL AND NOT {_finite('latency_ms')})",
        ),
        ("latency_ms", "must be >= 0", f"({_finite('latency_ms')} AND latency_ms < 0)"),
        (
            "latency_ms",
            "may be NULL only when error is true",
            "(latency_ms IS NULL AND error = false)",
        ),
        ("score", "must be finite", f"(score IS NOT NULL AND NOT {_finite('score')})"),
        ("score", "must be in [0, 1]", f"({_finite('score')} AND (score < 0 OR score > 1))"),
    ]


def _typed_columns(frame: Any, name: str) -> list[str]:
    """The SELECT list of the normalized view (raises on a missing or mistyped column)."""
    fields = {f.name: type(f.dataType).__name__ for f in frame.schema.fields}
    missing = [c for c in _REQUIRED if c not in fields]
    if missing:
        raise InvalidInputError(
            f"{name}: missing required column(s) {', '.join(missing)} (trace contract)"
        )
    exprs = []
    for col, (kinds, rule) in _TYPE_RULES.items():
        kind = fields.get(col)
        if kind is None:  # score, label: optional
            sql_type = "DOUBLE" if col == "score" else "BOOLEAN"
            exprs.append(f"CAST(NULL AS {sql_type}) AS {col}")
            continue
        if kind not in kinds and kind != "NullType":
            raise InvalidInputError(
                f"{name}: column {col}: {rule}, got Spark type {kind} (engine spark reads "
                "typed columns; use engine duckdb to parse text)"
            )
        if col == "ts" and kind == "TimestampType":
            # the instant's UTC wall time, independent of spark.sql.session.timeZone
            # (an exact decimal interval: timestampadd casts the microseconds to INT)
            exprs.append(
                "TIMESTAMP_NTZ '1970-01-01 00:00:00' + make_dt_interval(0, 0, 0, "
                "CAST(CAST(unix_micros(ts) AS DECIMAL(20,0)) / 1000000 AS DECIMAL(18,6))) AS ts"
            )
        elif col == "ts":
            exprs.append("CAST(ts AS TIMESTAMP_NTZ) AS ts")
        else:
            spark_type = {"latency_ms": "DOUBLE", "score": "DOUBLE"}.get(col)
            if spark_type is None:
                spark_type = "BOOLEAN" if col in ("error", "label") else "STRING"
            exprs.append(f"CAST({_q(col)} AS {spark_type}) AS {col}")
    exprs += [_q(c) for c in fields if c not in _TYPE_RULES]
    return exprs


def normalized_frame(spark: Any, frame: Any, name: str) -> Any:
    """``frame`` checked against the trace contract and normalized (module docstring).

    Raises
    ------
    InvalidInputError
        The first broken rule, in one line.
    """
    normalized = frame.selectExpr(*_typed_columns(frame, name))
    rules = _rules()
    counts = normalized.selectExpr(
        *(f"count_if({cond}) AS r{i}" for i, (_, _, cond) in enumerate(rules))
    ).collect()[0]
    for i, (col, rule, cond) in enumerate(rules):
        count = int(counts[i] or 0)
        if count:
            first = normalized.where(cond).select("request_id").limit(1).collect()
            shown = repr(first[0][0]) if first else "?"
            noun = "row" if count == 1 else "rows"
            raise InvalidInputError(
                f"{name}: column {col}: {rule} ({count} {noun}, first: request_id {shown})"
            )
    # a job of its own: a COUNT(DISTINCT …) beside the rules' aggregates makes Spark expand
    # every row (twice as slow at 2 M rows)
    repeated = normalized.groupBy("request_id", "arm").count().where("count > 1").limit(1).collect()
    if repeated:
        rid, arm = repeated[0][0], repeated[0][1]
        raise InvalidInputError(
            f"{name}: column (request_id, arm): must be unique within an ingest "
            f"(first repeated: request_id {rid!r}, arm {arm!r})"
        )
    return normalized
