"""Validation of trace inputs in SQL, with messages that name the file, column, rule and rows.

Each contract column is parsed into its contract type by a SQL expression chosen from the
input's column type (:mod:`canarykit.traces.parsing`), and every rule is a SQL condition that
flags a broken row. One aggregate pass counts the rows that break each rule (the
control-character rules first pass a cheap screen, :mod:`canarykit.traces.text_screen`); only
when a rule is broken does a second query fetch the first row numbers and build the one-line
message (:mod:`canarykit.traces.violations`, which also says how rows are numbered).

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
from canarykit.traces.parsing import is_text_type, normalized_select, parsed_expressions
from canarykit.traces.schema import (
    ARMS,
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
from canarykit.traces.violations import (
    MAX_ROWS_SHOWN,
    clip_value,
    first_rows,
    format_violation,
    locate_violation,
)

# a text timestamp starts with an ISO-8601 date; its UTC offset (after a time) is read apart
_ISO_DATE = "^[0-9]{4,}-[0-9]{2}-[0-9]{2}"
_OFFSET = "[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]*)?)?[ ]*([+-])([0-9]{2}):?([0-9]{2})?$"
MAX_OFFSET_MINUTES = 14 * 60
_CONTROL = "[\\x00-\\x1f\\x7f]"

__all__ = [
    "MAX_ROWS_SHOWN",
    "Rule",
    "check_stored_timestamps",
    "check_stored_values",
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
    ts_text = is_text_type(columns.get("ts", ""))
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
        # the control-character rules are counted only where their cheap screen finds a suspect
        rules = [
            r
            for r in _rules(columns)
            if not r.screen or has_control_text(con, view, r.column, r.screen)
        ]
        counts_sql = ", ".join(f"count(*) FILTER (WHERE {r.condition})" for r in rules)
        row = con.execute(f"SELECT count(*), {counts_sql} FROM {view}").fetchall()[0]
    except duckdb.OutOfMemoryException:
        raise  # the machine's limit, not the input's fault (the CLI says how to raise it)
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


# values no ingest accepts, each a predicate DuckDB answers from the column statistics on a
# healthy store (NaN sorts above +inf in DuckDB, so ``>= 'inf'`` catches both)
_STORED_RULES = (
    ("ts", None, f"must be in {TS_RANGE_TEXT}"),
    (
        "latency_ms",
        "latency_ms < 0 OR latency_ms >= CAST('inf' AS DOUBLE)",
        "must be >= 0 and finite",
    ),
    ("score", "score < 0 OR score > 1", "must be in [0, 1] (finite)"),
)


def check_stored_values(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Refuse to read a store whose ``traces`` hold a value no ingest accepts.

    A ``ts`` outside the accepted range, a negative or non-finite ``latency_ms``, a ``score``
    outside [0, 1] or NaN: such rows cannot come from an ingest (it validates every rule); they
    were written by SQL or an older canarykit, and reading them would fail or, worse, count
    them silently (a negative score bin wraps around). The check reads only the columns'
    statistics on a healthy store (about a millisecond at 10 M rows); traces read in place (a
    view) were validated when the view was made and are not scanned again.

    Raises
    ------
    StorageError
        One line naming the store, the column and rule, the number of rows and the first one.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE traces AS SELECT 'r1' AS request_id, 'control' AS arm, "
    ...                 "TIMESTAMP '3000-01-01' AS ts, 5.0::DOUBLE AS latency_ms, 0.5::DOUBLE AS score")
    >>> check_stored_values(con, "s.duckdb")
    Traceback (most recent call last):
    ...
    canarykit.errors.StorageError: s.duckdb: column ts: must be in [1970-01-01, 2200-01-01) UTC (1 stored row, first: request_id 'r1', arm 'control'); the store was written outside canarykit ingest: delete or correct these rows
    >>> _ = con.execute("UPDATE traces SET ts = TIMESTAMP '2026-01-01', latency_ms = 'nan'")
    >>> check_stored_values(con, "s.duckdb")
    Traceback (most recent call last):
    ...
    canarykit.errors.StorageError: s.duckdb: column latency_ms: must be >= 0 and finite (1 stored row, first: request_id 'r1', arm 'control'); the store was written outside canarykit ingest: delete or correct these rows
    """
    view = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = 'traces' AND NOT internal"
    ).fetchall()[0]
    if view and view[0]:
        return
    present = {str(r[0]) for r in con.execute("DESCRIBE traces").fetchall()}
    rules = [
        (column, ts_range_condition("ts") if sql is None else sql, rule)
        for column, sql, rule in _STORED_RULES
        if column in present
    ]
    if not rules:
        return
    counts = ", ".join(
        f"count(*) FILTER (WHERE {sql}), arg_min(request_id, ts) FILTER (WHERE {sql}), "
        f"arg_min(arm, ts) FILTER (WHERE {sql})"
        for _, sql, _ in rules
    )
    anywhere = " OR ".join(f"({sql})" for _, sql, _ in rules)
    row = con.execute(f"SELECT {counts} FROM traces WHERE {anywhere}").fetchall()[0]
    for k, (column, _, rule) in enumerate(rules):
        count = int(row[3 * k] or 0)
        if not count:
            continue
        request_id, arm = clip_value(row[3 * k + 1]), clip_value(row[3 * k + 2])
        raise StorageError(
            f"{name}: column {column}: {rule} ({count} stored "
            f"row{'s' if count != 1 else ''}, first: request_id {request_id}, arm {arm}); the "
            "store was written outside canarykit ingest: delete or correct these rows"
        )


check_stored_timestamps = check_stored_values
"""The earlier name of :func:`check_stored_values` (it checked ``ts`` alone)."""
