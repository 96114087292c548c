"""Validation of trace inputs in SQL, with messages that name the file, column, rule and rows.

Each contract column is parsed into its contract type by a SQL expression chosen from the
input's column type (a typed Parquet ``DOUBLE`` is used as is, CSV text is ``TRY_CAST``), and
every rule is a SQL condition that flags a broken row. One aggregate pass counts the rows that
break each rule; only when a rule is broken does a second query fetch the first row numbers.

Row numbers are 1-based data rows (the CSV header is not counted).

Examples
--------
>>> parsed_expressions({"latency_ms": "VARCHAR"})["latency_ms"]
'TRY_CAST(trim("latency_ms") AS DOUBLE)'
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from canarykit.errors import InvalidInputError
from canarykit.traces.schema import ARMS, CONTRACT_COLUMNS, REQUIRED_COLUMNS
from canarykit.traces.sources import InputSource, quote_ident, quote_literal

MAX_ROWS_SHOWN = 5

_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
)
_TEXT = ("VARCHAR",)
_TRUE = ("true", "t", "1", "1.0", "yes")
_FALSE = ("false", "f", "0", "0.0", "no")

__all__ = [
    "MAX_ROWS_SHOWN",
    "Rule",
    "first_rows",
    "format_violation",
    "normalized_select",
    "parsed_expressions",
    "validate_source",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule over parsed columns: ``condition`` is true on rows that *break* it."""

    column: str
    description: str
    condition: str


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().startswith(_NUMERIC) or sql_type.upper().startswith("DECIMAL")


def _is_null_type(sql_type: str) -> bool:
    return sql_type.upper() in ('"NULL"', "NULL")


def _number(col: str, sql_type: str) -> str | None:
    q = quote_ident(col)
    if _is_null_type(sql_type):
        return "CAST(NULL AS DOUBLE)"
    if _is_numeric(sql_type):
        return f"CAST({q} AS DOUBLE)"
    if sql_type.upper() in _TEXT:
        return f"TRY_CAST(trim({q}) AS DOUBLE)"
    return None


def _boolean(col: str, sql_type: str) -> str | None:
    q = quote_ident(col)
    if _is_null_type(sql_type):
        return "CAST(NULL AS BOOLEAN)"
    if sql_type.upper() == "BOOLEAN":
        return q
    if _is_numeric(sql_type):
        return f"(CASE WHEN {q} = 1 THEN true WHEN {q} = 0 THEN false END)"
    if sql_type.upper() in _TEXT:
        true = ", ".join(quote_literal(v) for v in _TRUE)
        false = ", ".join(quote_literal(v) for v in _FALSE)
        return (
            f"(CASE WHEN lower(trim({q})) IN ({true}) THEN true "
            f"WHEN lower(trim({q})) IN ({false}) THEN false END)"
        )
    return None


def _timestamp(col: str, sql_type: str) -> str | None:
    q = quote_ident(col)
    upper = sql_type.upper()
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        return f"CAST(CAST({q} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if upper in _TEXT:
        return f"CAST(TRY_CAST(trim({q}) AS TIMESTAMPTZ) AS TIMESTAMP)"
    return None


def _text(col: str, sql_type: str) -> str:
    return f"CAST({quote_ident(col)} AS VARCHAR)"


_PARSERS = {
    "request_id": _text,
    "model": _text,
    "version": _text,
    "arm": _text,
    "ts": _timestamp,
    "latency_ms": _number,
    "error": _boolean,
    "score": _number,
    "label": _boolean,
}
_TYPE_RULE = {
    "ts": "must be a timestamp or an ISO-8601 string",
    "latency_ms": "must be a number",
    "score": "must be a number",
    "error": "must be boolean (true/false or 1/0)",
    "label": "must be boolean (true/false or 1/0) or NULL",
}


def parsed_expressions(columns: dict[str, str]) -> dict[str, str]:
    """SQL expression parsing each present contract column into its contract type.

    Raises
    ------
    InvalidInputError
        When a column's type cannot be coerced at all (e.g. ``ts`` stored as an integer).
    """
    out: dict[str, str] = {}
    for name, sql_type in columns.items():
        parser = _PARSERS.get(name)
        if parser is None:
            continue
        expr = parser(name, sql_type)
        if expr is None:
            raise InvalidInputError(f"column {name}: {_TYPE_RULE[name]}, got type {sql_type}")
        out[name] = expr
    return out


def _rules(present: set[str]) -> list[Rule]:
    arms = ", ".join(quote_literal(a) for a in ARMS)
    rules = [
        Rule("request_id", "must be a non-empty string", "(request_id IS NULL OR request_id = '')"),
        Rule("ts", "must not be NULL", "raw_ts IS NULL"),
        Rule(
            "ts", "must be a timestamp or an ISO-8601 string", "(raw_ts IS NOT NULL AND ts IS NULL)"
        ),
        Rule("model", "must be a non-empty string", "(model IS NULL OR model = '')"),
        Rule("version", "must be a non-empty string", "(version IS NULL OR version = '')"),
        Rule("arm", f"must be one of {', '.join(ARMS)}", f"(arm IS NULL OR arm NOT IN ({arms}))"),
        Rule("error", "must not be NULL", "raw_error IS NULL"),
        Rule(
            "error",
            "must be boolean (true/false or 1/0)",
            "(raw_error IS NOT NULL AND error IS NULL)",
        ),
        Rule(
            "latency_ms", "must be a number", "(raw_latency_ms IS NOT NULL AND latency_ms IS NULL)"
        ),
        Rule(
            "latency_ms", "must be finite", "(latency_ms IS NOT NULL AND NOT isfinite(latency_ms))"
        ),
        Rule("latency_ms", "must be >= 0", "(isfinite(latency_ms) AND latency_ms < 0)"),
        Rule(
            "latency_ms",
            "may be NULL only when error is true",
            "(raw_latency_ms IS NULL AND error IS NOT TRUE AND raw_error IS NOT NULL)",
        ),
    ]
    if "score" in present:
        rules += [
            Rule("score", "must be a number", "(raw_score IS NOT NULL AND score IS NULL)"),
            Rule("score", "must be finite", "(score IS NOT NULL AND NOT isfinite(score))"),
            Rule("score", "must be in [0, 1]", "(isfinite(score) AND (score < 0 OR score > 1))"),
        ]
    if "label" in present:
        rules.append(
            Rule(
                "label",
                "must be boolean (true/false or 1/0) or NULL",
                "(raw_label IS NOT NULL AND label IS NULL)",
            )
        )
    return rules


def _parsed_view(columns: dict[str, str], relation: str, *, with_row: bool) -> str:
    exprs = parsed_expressions(columns)
    parts = [f"{expr} AS {quote_ident(name)}" for name, expr in exprs.items()]
    parts += [
        f"{quote_ident(name)} AS {quote_ident('raw_' + name)}"
        for name in ("ts", "error", "latency_ms", "score", "label")
        if name in columns
    ]
    if with_row:
        parts.append("__row")
    return f"(SELECT {', '.join(parts)} FROM {relation})"


def check_required_columns(source: InputSource, columns: dict[str, str]) -> None:
    """Raise if a required contract column is missing from ``source``."""
    missing = [c.name for c in REQUIRED_COLUMNS if c.name not in columns]
    if missing:
        raise InvalidInputError(
            f"{source.name}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (the trace contract needs "
            f"{', '.join(c.name for c in REQUIRED_COLUMNS)})"
        )


def validate_source(
    con: duckdb.DuckDBPyConnection, source: InputSource
) -> tuple[dict[str, str], int]:
    """Check every contract rule on ``source``; return its columns and row count.

    Raises
    ------
    InvalidInputError
        One line: ``<file>: column <name>: <rule> (<n> rows, first: r1, r2, ...)``, followed by
        how many other rules are broken, if any.
    """
    columns = source.columns(con)
    check_required_columns(source, columns)
    try:
        parsed_expressions(columns)
    except InvalidInputError as err:
        raise InvalidInputError(f"{source.name}: {err}") from None
    rules = _rules(set(columns))
    view = _parsed_view(columns, source.relation(con), with_row=False)
    counts_sql = ", ".join(f"count(*) FILTER (WHERE {r.condition})" for r in rules)
    try:
        row = con.execute(f"SELECT count(*), {counts_sql} FROM {view}").fetchall()[0]
    except duckdb.Error as err:
        raise InvalidInputError(
            f"{source.name}: cannot be read: {str(err).splitlines()[0]}"
        ) from None
    assert row is not None
    n_rows, broken = int(row[0]), [int(v) for v in row[1:]]
    violated = [(rule, count) for rule, count in zip(rules, broken, strict=True) if count]
    if violated:
        rule, count = violated[0]
        numbered = _parsed_view(columns, source.relation(con, numbered=True), with_row=True)
        rows = first_rows(con, numbered, rule.condition)
        raise InvalidInputError(
            format_violation(source.name, rule.column, rule.description, count, rows)
            + (f"; {len(violated) - 1} more rule(s) broken" if len(violated) > 1 else "")
        )
    return columns, n_rows


def first_rows(con: duckdb.DuckDBPyConnection, numbered: str, condition: str) -> list[int]:
    """The first :data:`MAX_ROWS_SHOWN` values of ``__row`` in ``numbered`` where ``condition``."""
    return [
        int(r[0])
        for r in con.execute(
            f"SELECT __row FROM {numbered} WHERE {condition} ORDER BY __row LIMIT {MAX_ROWS_SHOWN}"
        ).fetchall()
    ]


def format_violation(name: str, column: str, rule: str, count: int, rows: list[int]) -> str:
    """The one-line message for a broken rule.

    Examples
    --------
    >>> format_violation("a.csv", "latency_ms", "must be >= 0", 2, [3, 9])
    'a.csv: column latency_ms: must be >= 0 (2 rows, first: row 3, 9)'
    """
    shown = ", ".join(str(r) for r in rows)
    noun = "row" if count == 1 else "rows"
    return f"{name}: column {column}: {rule} ({count} {noun}, first: row {shown})"


def normalized_select(
    columns: dict[str, str], relation: str, *, extra_types: dict[str, str]
) -> str:
    """``SELECT`` producing contract-typed columns (absent optional ones as NULL) plus extras.

    ``extra_types`` maps each non-contract column to the type it has (or will have) in the
    store; values are cast to it.
    """
    exprs = parsed_expressions(columns)
    parts = []
    for col in CONTRACT_COLUMNS:
        expr = exprs.get(col.name, f"CAST(NULL AS {col.sql_type})")
        parts.append(f"{expr} AS {quote_ident(col.name)}")
    for name, sql_type in extra_types.items():
        if name in columns:
            parts.append(f"CAST({quote_ident(name)} AS {sql_type}) AS {quote_ident(name)}")
    return f"SELECT {', '.join(parts)} FROM {relation}"
