"""Validation of trace inputs in SQL, with messages that name the file, column, rule and rows.

Each contract column is parsed into its contract type by a SQL expression chosen from the
input's column type (a typed Parquet ``DOUBLE`` is used as is, CSV text is ``TRY_CAST``), and
every rule is a SQL condition that flags a broken row. One aggregate pass counts the rows that
break each rule; only when a rule is broken does a second query fetch the first row numbers.

Row numbers are 1-based data rows (the CSV header is not counted). When several files are read
together, a broken rule is reported against the first file (in path order) that breaks it, with
row numbers within that file, and the rows in other files are counted after a ``;``.

Timestamps: ``ts`` must lie in :data:`~canarykit.traces.schema.TS_RANGE_TEXT`
(``1970-01-01 <= ts < 2200-01-01`` UTC); a text ``ts`` must start with an ISO-8601 date
(``2026-01-01``, so words such as ``epoch`` are refused) and may carry a UTC offset between
``-14:00`` and ``+14:00`` (the offsets clocks use) or a time-zone name.

Examples
--------
>>> parsed_expressions({"latency_ms": "VARCHAR"})["latency_ms"]
'TRY_CAST(trim("latency_ms") AS DOUBLE)'
>>> ts_range_condition("ts")
"(ts < TIMESTAMP '1970-01-01 00:00:00' OR ts >= TIMESTAMP '2200-01-01 00:00:00')"
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from canarykit.errors import InvalidInputError, StorageError
from canarykit.traces.schema import (
    ARMS,
    CONTRACT_COLUMNS,
    REQUIRED_COLUMNS,
    TS_END,
    TS_MIN,
    TS_RANGE_TEXT,
)
from canarykit.traces.sources import (
    FILE_COLUMN,
    InputSource,
    partition_values,
    quote_ident,
    quote_literal,
)
from canarykit.traces.text_screen import has_control_text

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
_TRUE = ("true", "1", "1.0")
# a text timestamp starts with an ISO-8601 date; its UTC offset (after a time) is read apart
_ISO_DATE = "^[0-9]{4,}-[0-9]{2}-[0-9]{2}"
_OFFSET = "[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]*)?)?[ ]*([+-])([0-9]{2}):?([0-9]{2})?$"
MAX_OFFSET_MINUTES = 14 * 60
_CONTROL = "[\\x00-\\x1f\\x7f]"
_FALSE = ("false", "0", "0.0")

__all__ = [
    "MAX_ROWS_SHOWN",
    "Rule",
    "check_stored_timestamps",
    "first_rows",
    "format_violation",
    "locate_violation",
    "normalized_select",
    "parsed_expressions",
    "ts_range_condition",
    "validate_source",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule over parsed columns: ``condition`` is true on rows that *break* it."""

    column: str
    description: str
    condition: str
    screen: str = ""
    """``"bytes"`` or ``"distinct"``: a cheap screen (:mod:`canarykit.traces.text_screen`) runs
    first and the row condition is counted only when the screen finds a suspect value."""


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


def ts_range_condition(column: str) -> str:
    """SQL condition true where the TIMESTAMP ``column`` is outside the accepted range.

    The range is :data:`~canarykit.traces.schema.TS_MIN` (inclusive) to
    :data:`~canarykit.traces.schema.TS_END` (exclusive); NULL is not flagged.

    Examples
    --------
    >>> import duckdb
    >>> duckdb.sql(f"SELECT {ts_range_condition('t')} FROM (VALUES "
    ...            "(TIMESTAMP '1969-12-31 23:59:59'), (TIMESTAMP '2199-12-31')) v(t)").fetchall()
    [(True,), (False,)]
    """
    low, end = (f"TIMESTAMP '{t.isoformat(sep=' ')}'" for t in (TS_MIN, TS_END))
    return f"({column} < {low} OR {column} >= {end})"


def _offset_condition(raw: str) -> str:
    """True where a text timestamp carries a UTC offset beyond ±14:00 (or minutes ≥ 60)."""
    text = f"trim({raw})"
    hours = f"TRY_CAST(regexp_extract({text}, '{_OFFSET}', 4) AS INTEGER)"
    minutes = (
        f"coalesce(TRY_CAST(nullif(regexp_extract({text}, '{_OFFSET}', 5), '') AS INTEGER), 0)"
    )
    return (
        f"(regexp_matches({text}, '{_OFFSET}') AND "
        f"({minutes} >= 60 OR {hours} * 60 + {minutes} > {MAX_OFFSET_MINUTES}))"
    )


def _rules(columns: dict[str, str]) -> list[Rule]:
    present = set(columns)
    arms = ", ".join(quote_literal(a) for a in ARMS)
    ts_text = columns.get("ts", "").upper() in _TEXT
    not_iso = f" OR NOT regexp_matches(trim(raw_ts), '{_ISO_DATE}')" if ts_text else ""
    rules = [
        Rule("request_id", "must be a non-empty string", "(request_id IS NULL OR request_id = '')"),
        Rule("ts", "must not be NULL", "raw_ts IS NULL"),
        Rule(
            "ts",
            "must be a timestamp or an ISO-8601 string",
            f"(raw_ts IS NOT NULL AND (ts IS NULL{not_iso}))",
        ),
    ]
    if ts_text:
        rules.append(
            Rule(
                "ts",
                "must have a UTC offset between -14:00 and +14:00",
                f"(ts IS NOT NULL AND {_offset_condition('raw_ts')})",
            )
        )
    rules += [
        Rule(
            "ts",
            f"must be in {TS_RANGE_TEXT}",
            f"(ts IS NOT NULL AND {ts_range_condition('ts')})",
        ),
        Rule("model", "must be a non-empty string", "(model IS NULL OR model = '')"),
        Rule("version", "must be a non-empty string", "(version IS NULL OR version = '')"),
        *(
            Rule(
                name,
                "must not contain control characters",
                f"regexp_matches({name}, '{_CONTROL}')",
                screen="bytes" if name == "request_id" else "distinct",
            )
            for name in ("request_id", "model", "version")
        ),
        Rule(
            "version",
            "must not be the reserved word 'none' (it means 'no version' in the registry)",
            "lower(trim(version)) = 'none'",
        ),
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


def _parsed_view(
    columns: dict[str, str], relation: str, *, with_row: bool, with_file: bool = False
) -> str:
    exprs = parsed_expressions(columns)
    parts = [f"{expr} AS {quote_ident(name)}" for name, expr in exprs.items()]
    parts += [
        f"{quote_ident(name)} AS {quote_ident('raw_' + name)}"
        for name in ("ts", "error", "latency_ms", "score", "label")
        if name in columns
    ]
    if with_row:
        parts.append("__row")
    if with_file:
        parts.append(FILE_COLUMN)
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

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection the source is read on (with ``TimeZone`` UTC, as a store sets it).
    source : InputSource
        One input; a file set is checked in one scan.

    Returns
    -------
    columns : dict of str to str
        Column name → DuckDB type, as read.
    rows : int
        Number of data rows.

    Raises
    ------
    InvalidInputError
        One line: ``<file>: column <name>: <rule> (<n> rows, first: r1, r2, ...)``, followed by
        how many other rules are broken, if any.

    Examples
    --------
    >>> import duckdb
    >>> import pyarrow as pa
    >>> from canarykit.traces.generate import generate_traces
    >>> from canarykit.traces.sources import resolve_inputs
    >>> con = duckdb.connect()
    >>> table = generate_traces("identical", n_requests=10, seed=1)
    >>> validate_source(con, resolve_inputs(table)[0])[1]
    10
    >>> late = table.set_column(1, "ts", pa.array(["2201-01-01T00:00:00Z"] * 10))
    >>> validate_source(con, resolve_inputs(late)[0])
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: <arrow table, input 1>: column ts: must be in [1970-01-01, 2200-01-01) UTC (10 rows, first: row 1, 2, 3, 4, 5)
    """
    columns = source.columns(con)
    reserved = [name for name in columns if name.startswith("__")]
    if reserved:
        raise InvalidInputError(
            f"{source.name}: column {reserved[0]}: names starting with '__' are reserved"
        )
    check_required_columns(source, columns)
    try:
        parsed_expressions(columns)
    except InvalidInputError as err:
        raise InvalidInputError(f"{source.name}: {err}") from None
    check_partition_columns(con, source)
    view = _parsed_view(columns, source.relation(con), with_row=False)
    try:
        rules = [
            r
            for r in _rules(columns)
            if not r.screen or has_control_text(con, view, r.column, r.screen)
        ]
    except duckdb.Error as err:
        raise InvalidInputError(
            f"{source.name}: cannot be read: {str(err).splitlines()[0]}"
        ) from None
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
        numbered = _parsed_view(
            columns,
            source.relation(con, numbered=True),
            with_row=True,
            with_file=source.is_file_set,
        )
        raise InvalidInputError(
            locate_violation(
                con,
                source,
                numbered,
                rule.condition,
                column=rule.column,
                rule=rule.description,
                count=count,
            )
            + (f"; {len(violated) - 1} more rule(s) broken" if len(violated) > 1 else "")
        )
    return columns, n_rows


def check_partition_columns(con: duckdb.DuckDBPyConnection, source: InputSource) -> None:
    """A column both inside the files and in their ``key=value`` directories must agree.

    DuckDB (like Hive) takes the directory's value and hides the file's own; Spark refuses
    such data. A file copied into the wrong partition would otherwise be read with values it
    does not hold, so a disagreement is a broken rule: ``FILE: column KEY: must equal its
    partition directory in the path (N rows, first: row R1, …)``. Nothing is read unless a
    partition key is also a column of the files.

    Raises
    ------
    InvalidInputError
        The first file (in path order) whose column disagrees with its directory.

    Examples
    --------
    >>> import duckdb, pathlib, tempfile
    >>> import pyarrow as pa
    >>> import pyarrow.parquet as pq
    >>> from canarykit.traces.sources import resolve_inputs
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "model=a"
    >>> folder.mkdir()
    >>> pq.write_table(pa.table({"model": ["b", "a"]}), folder / "p.parquet")
    >>> check_partition_columns(duckdb.connect(), resolve_inputs(folder)[0])
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: .../model=a/p.parquet: column model: must equal its partition directory in the path (model=…; drop the column from the files or move them) (1 row, first: row 1)
    """
    if source.kind == "arrow":
        return
    expected = {f: partition_values(f) for f in source.files}
    keys = {k for values in expected.values() for k in values}
    if not keys:
        return
    inner = source.columns(con, hive=False)
    for key in sorted(keys & set(inner)):
        pairs = [(f, v[key]) for f, v in expected.items() if key in v]
        table = ", ".join(f"({quote_literal(f)}, {quote_literal(v)})" for f, v in pairs)
        numbered = source.relation(con, numbered=True, hive=False)
        if not source.is_file_set:
            numbered = (
                f"(SELECT *, {quote_literal(source.files[0])} AS {FILE_COLUMN} FROM {numbered})"
            )
        joined = (
            f"(SELECT n.*, e.v AS __expected FROM {numbered} n JOIN (VALUES {table}) e(f, v) "
            f"ON n.{FILE_COLUMN} = e.f)"
        )
        condition = f"CAST({quote_ident(key)} AS VARCHAR) IS DISTINCT FROM __expected"
        row = con.execute(f"SELECT count(*) FROM {joined} WHERE {condition}").fetchall()[0]
        if row and row[0]:
            raise InvalidInputError(
                locate_violation(
                    con,
                    source,
                    joined,
                    condition,
                    column=key,
                    rule="must equal its partition directory in the path "
                    f"({key}=…; drop the column from the files or move them)",
                    count=int(row[0]),
                )
            )


def locate_violation(
    con: duckdb.DuckDBPyConnection,
    source: InputSource,
    numbered: str,
    condition: str,
    *,
    column: str,
    rule: str,
    count: int | None = None,
) -> str:
    """The one-line message for the rows of ``source`` where ``condition`` holds.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    source : InputSource
        The source the rows come from.
    numbered : str
        A relation over ``source`` with ``__row`` (and ``__file`` for a file set) in which
        ``condition`` can be evaluated.
    condition : str
        SQL condition, true on the rows that break ``rule``.
    column, rule : str
        What the message names.
    count : int, optional
        How many rows break the rule, when the caller has counted them already.

    Returns
    -------
    str
        ``FILE: column NAME: RULE (N rows, first: row R1, …)``; for a file set FILE is the first
        file (in path order) holding such rows, N and the rows are counted within it, and
        ``; M more rows in K other files of SOURCE`` follows when other files have some too.

    Examples
    --------
    >>> import duckdb
    >>> from canarykit.traces.sources import InputSource
    >>> con = duckdb.connect()
    >>> src = InputSource(name="t.csv", kind="csv", files=("t.csv",))
    >>> rel = "(SELECT * FROM (VALUES (1, -1.0), (2, 3.0), (3, -2.0)) v(__row, latency_ms))"
    >>> locate_violation(con, src, rel, "latency_ms < 0", column="latency_ms", rule="must be >= 0")
    't.csv: column latency_ms: must be >= 0 (2 rows, first: row 1, 3)'
    """
    if not source.is_file_set:
        if count is None:
            row = con.execute(f"SELECT count(*) FROM {numbered} WHERE {condition}").fetchall()[0]
            count = int(row[0]) if row else 0
        rows = first_rows(con, numbered, condition)
        return format_violation(source.name, column, rule, count, rows)
    per_file = {
        str(r[0]): int(r[1])
        for r in con.execute(
            f"SELECT {FILE_COLUMN}, count(*) FROM {numbered} WHERE {condition} GROUP BY ALL"
        ).fetchall()
    }
    order = [f for f in source.files if f in per_file] or sorted(per_file)
    if not order:
        return format_violation(source.name, column, rule, 0, [])
    first = order[0]
    rows = first_rows(con, numbered, f"({condition}) AND {FILE_COLUMN} = {quote_literal(first)}")
    message = format_violation(first, column, rule, per_file[first], rows)
    if len(order) > 1:
        rest = sum(per_file[f] for f in order[1:])
        message += (
            f"; {rest} more row{'s' if rest != 1 else ''} in {len(order) - 1} other "
            f"file{'s' if len(order) > 2 else ''} of {source.name}"
        )
    return message


def check_stored_timestamps(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Refuse to read a store whose ``traces`` hold a ``ts`` outside the accepted range.

    Such rows cannot come from an ingest (it validates the range); they were written by SQL
    or an older canarykit, and reading them back would fail. The check reads only the
    column's statistics on a healthy store (well under a millisecond at 10 M rows); traces
    read in place (a view) were validated when the view was made and are not scanned again.

    Raises
    ------
    StorageError
        One line naming the store, the number of rows, the first one and the range.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE traces AS SELECT 'r1' AS request_id, 'control' AS arm, "
    ...                 "TIMESTAMP '3000-01-01' AS ts")
    >>> check_stored_timestamps(con, "s.duckdb")
    Traceback (most recent call last):
    ...
    canarykit.errors.StorageError: s.duckdb: column ts: must be in [1970-01-01, 2200-01-01) UTC (1 stored row, first: request_id 'r1', arm 'control'); the store was written outside canarykit ingest: delete or correct these rows
    """
    view = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = 'traces' AND NOT internal"
    ).fetchall()[0]
    if view and view[0]:
        return
    bad = ts_range_condition("ts")
    row = con.execute(
        f"SELECT count(*), arg_min(request_id, ts), arg_min(arm, ts) FROM traces WHERE {bad}"
    ).fetchall()[0]
    if not row or not row[0]:
        return
    count, request_id, arm = int(row[0]), _clip(row[1]), _clip(row[2])
    raise StorageError(
        f"{name}: column ts: must be in {TS_RANGE_TEXT} ({count} stored "
        f"row{'s' if count != 1 else ''}, first: request_id {request_id}, arm {arm}); the store "
        "was written outside canarykit ingest: delete or correct these rows"
    )


def _clip(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 2] + "…'"


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
