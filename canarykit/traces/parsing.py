"""Parsing trace inputs into the contract's types, in SQL chosen from each column's type.

A typed Parquet ``DOUBLE`` is used as is, CSV text is ``TRY_CAST`` (a value that does not parse
becomes NULL, which a rule of :mod:`canarykit.traces.validation` then reports), a naive
``TIMESTAMP`` is taken as UTC. :func:`normalized_select` is the ``SELECT`` an ingest inserts
and a store over files reads.

Examples
--------
>>> parsed_expressions({"latency_ms": "VARCHAR"})["latency_ms"]
'TRY_CAST(trim("latency_ms") AS DOUBLE)'
>>> parsed_expressions({"ts": "TIMESTAMP"})["ts"]
'"ts"'
"""

from __future__ import annotations

from canarykit.errors import InvalidInputError
from canarykit.traces.schema import CONTRACT_COLUMNS
from canarykit.traces.sources import quote_ident, quote_literal

__all__ = ["is_text_type", "normalized_select", "parsed_expressions"]

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


_TRUE = ("true", "1", "1.0")


_FALSE = ("false", "0", "0.0")


def is_text_type(sql_type: str) -> bool:
    """Whether values of ``sql_type`` are parsed from text (CSV columns, string Parquet)."""
    return sql_type.upper() in _TEXT


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
    if upper == "TIMESTAMP":
        # already the contract type (naive = UTC): no per-row time-zone round trip
        return q
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        # TRY_: a date beyond the TIMESTAMP range becomes NULL and is reported as a broken rule
        return f"TRY_CAST(TRY_CAST({q} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if upper in _TEXT:
        return f"CAST(TRY_CAST(trim({q}) AS TIMESTAMPTZ) AS TIMESTAMP)"
    return None


_TEXT_LIKE = ("VARCHAR", "CHAR", "TEXT", "STRING", "BPCHAR", "UUID", "ENUM")


def _text(col: str, sql_type: str) -> str | None:
    """Text columns must be text (or numbers, e.g. numeric ids): never lists or structs."""
    upper = sql_type.upper()
    if _is_null_type(sql_type):
        return "CAST(NULL AS VARCHAR)"
    nested = "[" in upper or upper.startswith(("STRUCT", "MAP", "UNION", "LIST"))
    if not nested and (upper.startswith(_TEXT_LIKE) or _is_numeric(sql_type)):
        return f"CAST({quote_ident(col)} AS VARCHAR)"
    return None


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
    "request_id": "must be text",
    "model": "must be text",
    "version": "must be text",
    "arm": "must be text",
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
