"""One-line messages for broken rules: the file, column, rule, count and first rows.

Row numbers are 1-based data rows (the CSV header is not counted). When several files are read
together, a broken rule is reported against the first file (in path order) that breaks it, with
row numbers within that file, and the rows in other files are counted after a ``;``.
"""

from __future__ import annotations

import duckdb

from canarykit.traces.sources import FILE_COLUMN, InputSource, quote_literal

__all__ = ["MAX_ROWS_SHOWN", "clip_value", "first_rows", "format_violation", "locate_violation"]

MAX_ROWS_SHOWN = 5


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


def clip_value(value: object, limit: int = 40) -> str:
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
