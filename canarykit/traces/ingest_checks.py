"""The ingest rules that span inputs, checked in SQL before anything is written.

Every input passed :func:`canarykit.traces.validation.validate_source` on its own; these rules
look across inputs and at the store: the type of each extra (segment) column, ``(request_id,
arm)`` unique across all inputs, and rows whose key is already stored (rejected, or skipped
when identical).
"""

from __future__ import annotations

from typing import Literal

import duckdb

from canarykit.errors import InvalidInputError
from canarykit.traces.parsing import normalized_select, parsed_expressions
from canarykit.traces.schema import CONTRACT_COLUMNS
from canarykit.traces.sources import FILE_COLUMN, InputSource, quote_ident, quote_literal
from canarykit.traces.violations import first_rows, format_violation, locate_violation

__all__ = ["check_against_store", "check_inputs"]

OnExisting = Literal["error", "skip"]
KEY = ("request_id", "arm")
Described = list[tuple[InputSource, tuple[dict[str, str], int]]]


def _stored_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The stored traces table's columns and types ({} before the first ingest)."""
    try:
        return {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE traces").fetchall()}
    except duckdb.CatalogException:
        return {}


def check_inputs(
    con: duckdb.DuckDBPyConnection, described: list[tuple[InputSource, tuple[dict[str, str], int]]]
) -> dict[str, str]:
    """The rules that span inputs (segment column types, unique keys); the extras' types."""
    extras = _extra_types(con, described)
    _check_extra_casts(con, described, extras)
    _check_unique_keys(con, described)
    return extras


def _extra_types(
    con: duckdb.DuckDBPyConnection, described: list[tuple[InputSource, tuple[dict[str, str], int]]]
) -> dict[str, str]:
    """Type of every non-contract column: the stored type if known, else the first input's."""
    contract = {c.name for c in CONTRACT_COLUMNS}
    stored = _stored_columns(con)
    extras: dict[str, str] = {}
    for _, (cols, _) in described:
        for name, sql_type in cols.items():
            if name in contract or name in extras:
                continue
            if name.startswith("__"):
                raise InvalidInputError(f"column {name}: names starting with '__' are reserved")
            extras[name] = stored.get(name, sql_type)
            if extras[name].upper() in ('"NULL"', "NULL"):
                extras[name] = "VARCHAR"
    return extras


def _check_extra_casts(
    con: duckdb.DuckDBPyConnection,
    described: list[tuple[InputSource, tuple[dict[str, str], int]]],
    extras: dict[str, str],
) -> None:
    for src, (cols, _) in described:
        for name, target in extras.items():
            if name not in cols or cols[name] == target:
                continue
            q = quote_ident(name)
            cond = f"({q} IS NOT NULL AND TRY_CAST({q} AS {target}) IS NULL)"
            _raise_if_rows(
                con,
                src,
                cond,
                name,
                f"must be coercible to {target} (the type this column has in the store)",
            )


def _raise_if_rows(
    con: duckdb.DuckDBPyConnection, src: InputSource, condition: str, column: str, rule: str
) -> None:
    row = con.execute(f"SELECT count(*) FROM {src.relation(con)} WHERE {condition}").fetchall()[0]
    count = int(row[0]) if row else 0
    if count:
        numbered = src.relation(con, numbered=True)
        raise InvalidInputError(
            locate_violation(con, src, numbered, condition, column=column, rule=rule, count=count)
        )


def _keys_union(
    con: duckdb.DuckDBPyConnection,
    described: list[tuple[InputSource, tuple[dict[str, str], int]]],
    *,
    numbered: bool,
) -> str:
    parts = []
    for i, (src, (cols, _)) in enumerate(described):
        exprs = parsed_expressions({k: cols[k] for k in KEY})
        where = ""
        if numbered:
            file = FILE_COLUMN if src.is_file_set else quote_literal(src.name)
            where = f", __row, {file} AS {FILE_COLUMN}"
        parts.append(
            f"SELECT {exprs['request_id']} AS request_id, {exprs['arm']} AS arm, "
            f"{i} AS __src{where} FROM {src.relation(con, numbered=numbered)}"
        )
    return " UNION ALL ".join(parts)


def _check_unique_keys(
    con: duckdb.DuckDBPyConnection, described: list[tuple[InputSource, tuple[dict[str, str], int]]]
) -> None:
    """``(request_id, arm)`` unique across all inputs.

    First as many distinct 64-bit key hashes as rows (a hash aggregate on integers, about
    twice as fast as one on the strings; equal counts prove the keys distinct); only when
    they differ — a repeated key, or a hash collision — the exact ``GROUP BY`` on the keys.
    """
    union = _keys_union(con, described, numbered=False)
    # a GROUP BY spills to disk under the memory limit; count(DISTINCT …) does not (100 M rows
    # ran out of memory at the store's 600 MB)
    hashes, rows = con.execute(
        f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT hash(request_id, arm) AS h, "
        f"count(*) AS n FROM ({union}) GROUP BY h)"
    ).fetchall()[0]
    if int(rows) == int(hashes):
        return
    row = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM ({union}) "
        "GROUP BY request_id, arm HAVING count(*) > 1)"
    ).fetchall()[0]
    if not row or not row[0]:
        return
    # locate: rows whose key repeats, counted per input and file, in input and path order
    numbered = _keys_union(con, described, numbered=True)
    repeated = (
        f"(SELECT * FROM ({numbered}) n WHERE (request_id, arm) IN (SELECT (request_id, arm) "
        f"FROM ({union}) GROUP BY request_id, arm HAVING count(*) > 1))"
    )
    counts = con.execute(
        f"SELECT __src, {FILE_COLUMN}, count(*) FROM {repeated} GROUP BY ALL"
    ).fetchall()
    position = {
        (i, file): (i, k)
        for i, (src, _) in enumerate(described)
        for k, file in enumerate(src.files if src.is_file_set else (src.name,))
    }
    ordered = sorted(
        ((int(s), str(f), int(c)) for s, f, c in counts),
        key=lambda r: position.get((r[0], r[1]), (r[0], len(position))),
    )
    first_src, first_file, first_count = ordered[0]
    rows = first_rows(
        con,
        repeated,
        f"__src = {first_src} AND {FILE_COLUMN} = {quote_literal(first_file)}",
    )
    others = [f for _, f, _ in ordered[1:]]
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    also = f"; repeats also in {shown}" if others else ""
    raise InvalidInputError(
        format_violation(
            first_file,
            "(request_id, arm)",
            "must be unique within an ingest",
            first_count,
            rows,
        )
        + also
    )


def check_against_store(
    con: duckdb.DuckDBPyConnection,
    normalized: list[tuple[InputSource, str]],
    on_existing: OnExisting,
) -> int:
    """Count (skip mode) or reject (error mode) rows whose key is already stored."""
    contract = [c.name for c in CONTRACT_COLUMNS]
    same = " AND ".join(
        f"n.{quote_ident(c)} IS NOT DISTINCT FROM t.{quote_ident(c)}" for c in contract
    )
    skipped = 0
    for src, select in normalized:
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT ({same})) FROM ({select}) n "
            "JOIN traces t ON n.request_id = t.request_id AND n.arm = t.arm"
        ).fetchall()[0]
        existing, conflicting = (int(row[0]), int(row[1])) if row else (0, 0)
        if not existing:
            continue
        if on_existing == "error" or conflicting:
            cond = (
                f"EXISTS (SELECT 1 FROM traces t WHERE t.request_id = n.request_id AND "
                f"t.arm = n.arm{'' if on_existing == 'error' else f' AND NOT ({same})'})"
            )
            located = {"__row": "BIGINT"}
            if src.is_file_set:
                located[FILE_COLUMN] = "VARCHAR"
            numbered = normalized_select(
                src.columns(con) | located,
                src.relation(con, numbered=True),
                extra_types=located,
            )
            if on_existing == "error":
                rule = (
                    "must not already be in the store (re-ingesting would double-count; "
                    "use on_existing='skip' or --skip-existing to skip identical rows)"
                )
                count = existing
            else:
                rule = "is already in the store with different content (conflicting re-ingest)"
                count = conflicting
            raise InvalidInputError(
                locate_violation(
                    con,
                    src,
                    f"({numbered}) n",
                    cond,
                    column="(request_id, arm)",
                    rule=rule,
                    count=count,
                )
            )
        skipped += existing
    return skipped


# -- late labels ---------------------------------------------------------------------------
