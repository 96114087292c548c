r"""DuckDB SQL of the summary passes → Spark SQL: one definition, transpiled (SQLGlot).

The passes are written once, in DuckDB's dialect, with ``?`` positional parameters. For Spark,
:func:`to_spark_sql` inlines the parameters as literals (quoted by SQLGlot for Spark, so a
``'`` or ``\`` in a model name is text, never SQL), transpiles with
``sqlglot`` (``read="duckdb", write="spark"``) and fixes the few functions whose meaning
differs between the engines:

===============================  ===================================================================
DuckDB                           Spark
===============================  ===================================================================
``hash(a, b, …)`` (64-bit)       ``xxhash64(a, b, …)`` (Spark's ``hash`` is 32-bit Murmur3): the data
                                 digest is therefore engine-specific
``CAST(x AS HUGEINT)``           ``CAST(x AS DECIMAL(38,0))`` (exact sums of 64-bit hashes)
``CAST(x AS UBIGINT)``           ``CAST(x AS DECIMAL(20,0))``
``fsum(x)`` (compensated)        ``CAST(SUM(CAST(x AS DECIMAL(38,28))) AS DOUBLE)``: an exact
                                 decimal sum, independent of partitioning (Spark's ``SUM`` of
                                 doubles depends on the order of the partial sums)
``quantile_disc(x, [p, …])``     ``ARRAY(PERCENTILE_DISC(p) WITHIN GROUP (ORDER BY x), …)``
                                 (both give rank ``⌈p·n⌉`` at the levels the passes use,
                                 ``(r − ½)/n``)
``list(x)``                      ``COLLECT_LIST(x)`` (SQLGlot)
``CAST(… AS TIMESTAMP)``         ``CAST(… AS TIMESTAMP_NTZ)`` (SQLGlot; ``ts`` is UTC wall time)
table ``traces``                 the registered view (a unique name, so a user's own ``traces``
                                 view is never replaced)
===============================  ===================================================================

``count(*) FILTER (WHERE …)``, ``bit_xor``, ``GROUPING SETS`` / ``GROUPING_ID`` (same bit
order), ``LEAST``, ``LN``, ``CEIL`` and ``USING`` joins exist in both. A statement SQLGlot cannot
parse, or one calling a function SQLGlot does not know (other than the ones above) or an
interpolating quantile, raises
:class:`UnsupportedSQLError` naming it — the test ``tests/engines/test_sql_dialect.py`` runs every
statement the passes issue through :func:`to_spark_sql`, so new DuckDB-only SQL is caught.

Examples
--------
>>> print(to_spark_sql("SELECT hash(a) FROM traces WHERE model = ?", ["O'Hara"], table="v"))
SELECT XXHASH64(a) FROM `v` WHERE model = 'O\'Hara'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from canarykit.errors import CanaryError

__all__ = ["UnsupportedSQLError", "duckdb_literal", "inline_parameters", "to_spark_sql"]

#: Functions SQLGlot does not model that exist with the same meaning in both engines.
SHARED_FUNCTIONS = frozenset({"xxhash64", "count_if"})


class UnsupportedSQLError(CanaryError):
    """A statement cannot be run on the other engine (names the statement and the reason)."""


def duckdb_literal(value: Any) -> str:
    """``value`` as a DuckDB SQL literal (strings quoted, ``''`` doubled).

    Examples
    --------
    >>> duckdb_literal("O'Hara"), duckdb_literal(2), duckdb_literal(None), duckdb_literal(True)
    ("'O''Hara'", '2', 'NULL', 'TRUE')
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsupportedSQLError(f"parameter {value!r}: only finite numbers are inlined")
        return f"CAST('{value!r}' AS DOUBLE)"  # a bound float is a DOUBLE, not a DECIMAL
    if isinstance(value, dt.datetime):
        return "TIMESTAMP '" + value.isoformat(sep=" ") + "'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise UnsupportedSQLError(f"parameter of type {type(value).__name__}: cannot be inlined")


def inline_parameters(sql: str, params: Sequence[Any]) -> str:
    """Replace the ``?`` placeholders of ``sql`` by DuckDB literals, in order.

    A ``?`` inside a string literal or a quoted identifier is left alone.

    Examples
    --------
    >>> print(inline_parameters("SELECT '?' AS \\"?\\", ? AS x", ["a"]))
    SELECT '?' AS "?", 'a' AS x
    """
    out: list[str] = []
    used = 0
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            out.append(ch)
            if ch == quote:
                quote = None  # a doubled quote re-enters the literal at the next character
            continue
        if ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            if used >= len(params):
                raise UnsupportedSQLError(f"more placeholders than the {len(params)} parameters")
            out.append(duckdb_literal(params[used]))
            used += 1
        else:
            out.append(ch)
    if used != len(params):
        raise UnsupportedSQLError(f"{len(params)} parameters for {used} placeholders")
    return "".join(out)


def to_spark_sql(sql: str, params: Sequence[Any] = (), *, table: str = "traces") -> str:
    """Spark SQL for one DuckDB statement of the passes (see the module docstring).

    Parameters
    ----------
    sql : str
        A DuckDB statement with ``?`` placeholders.
    params : sequence
        The values of the placeholders, in order.
    table : str
        The Spark view that table ``traces`` names.

    Raises
    ------
    UnsupportedSQLError
        The statement does not parse, or uses a DuckDB-only function.
    """
    import sqlglot
    from sqlglot import exp

    text = inline_parameters(sql, params)
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as err:
        first = str(err).splitlines()[0]
        raise UnsupportedSQLError(f"SQL does not parse as DuckDB SQL: {first}") from None

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name == "hash":
                return exp.Anonymous(this="XXHASH64", expressions=node.expressions)
            if name == "fsum":
                (arg,) = node.expressions
                inner = exp.Cast(this=arg, to=exp.DataType.build("DECIMAL(38,28)"))
                return exp.Cast(this=exp.Sum(this=inner), to=exp.DataType.build("DOUBLE"))
            if name not in SHARED_FUNCTIONS:  # unknown to SQLGlot: no checked Spark equivalent
                raise UnsupportedSQLError(f"DuckDB function {name}(): no Spark equivalent")
        if isinstance(node, exp.PercentileCont | exp.ApproxQuantile):
            name = "quantile_cont" if isinstance(node, exp.PercentileCont) else "approx_quantile"
            raise UnsupportedSQLError(f"DuckDB function {name}(): no Spark equivalent")
        if isinstance(node, exp.DataType):
            if node.this in (exp.DataType.Type.INT128, exp.DataType.Type.UINT128):
                return exp.DataType.build("DECIMAL(38,0)")
            if node.this == exp.DataType.Type.UBIGINT:
                return exp.DataType.build("DECIMAL(20,0)")
        if isinstance(node, exp.PercentileDisc):
            return _percentile_disc(node)
        if isinstance(node, exp.Table) and node.name == "traces" and not node.args.get("db"):
            return exp.Table(
                this=exp.to_identifier(table, quoted=True), alias=node.args.get("alias")
            )
        return node

    return tree.transform(fix).sql(dialect="spark")


def _percentile_disc(node: Any) -> Any:
    """``ARRAY(PERCENTILE_DISC(p) WITHIN GROUP (ORDER BY x), …)`` (raw Spark SQL)."""
    from sqlglot import exp

    levels = node.expression
    column = node.this.sql(dialect="spark")
    many = isinstance(levels, exp.Array)
    values = levels.expressions if many else [levels]
    parts = [
        f"PERCENTILE_DISC({v.sql(dialect='spark')}) WITHIN GROUP (ORDER BY {column})"
        for v in values
    ]
    return exp.Var(this=f"ARRAY({', '.join(parts)})" if many else parts[0])
