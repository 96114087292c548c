"""Pairing at ingest: control and shadow rows of one request, paired once and written down.

In shadow mode the same request is scored by the production model (``arm = 'control'``) and
the shadow model (``arm = 'shadow'``); the paired checks need both scores side by side. The
definition pairs rows of the same model by ``request_id`` equality (a hash join on strings).
Every ingest also writes the pairing down, so that a verdict reads the pairs from the control
rows alone, with no join (:mod:`canarykit.traces.paired`):

``traces.__pair_id`` (BIGINT)
    Equal on the control and the shadow row of one request of one model, NULL on every other
    row (canary rows, and rows whose partner has not arrived yet).
``traces.__pair_score``, ``__pair_ts``, ``__pair_version``
    On a paired control row: its shadow partner's ``score``, ``ts`` and ``version`` (NULL on
    every other row). Stored rows never change after ingest except their ``label``, which the
    paired table reads from the control row itself.
``trace_pairing`` (one row: ``next_pair_id``, ``paired_rows``)
    The next unused pair id, and the number of rows ``traces`` held when an ingest last
    paired it.

The ``__`` prefix is reserved (no input may bring such a column), so these never collide with
a segment column; they are not part of the trace contract and :meth:`TraceStore.select` and
``--by`` leave them out.

An ingest pairs, in its own transaction, the new control and shadow rows with each other and
with stored rows still waiting for their partner (a partner may arrive in a later batch);
the stored row then gets its pair id (and, a control row, the copies). Pairing follows the
definition: a model and ``request_id`` whose rows include a control and a shadow row is one
pair (``(request_id, arm)`` is unique). The first ingest into a store written by an older
canarykit adds the columns and pairs every stored row; so does the first ingest after rows
were written around canarykit (the table's row count moved since the last pairing). A request
stored twice in one arm (only SQL can do that) cannot be stood for by one copy per control
row: such a store is marked unpairable and read by ``request_id``.

A verdict believes the stored pairing only when ``trace_pairing.paired_rows`` equals the
table's row count (:func:`pair_ids_complete`): rows written by an older canarykit or inserted
by SQL make it read the pairs by ``request_id`` until the next ingest pairs them. A pairing
edited by SQL is not seen by that count: ``canarykit replay`` pairs by ``request_id`` (the
definition, :func:`reference_pairing`) and reports the verdict that differs, and
:func:`contradicting_pairs` counts the control rows the edit broke (``docs/security.md``).

Examples
--------
>>> import pyarrow.compute as pc
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> full = generate_traces("shadow", n_requests=100, seed=1)
>>> control = full.filter(pc.equal(full.column("arm"), "control"))
>>> shadow = full.filter(pc.equal(full.column("arm"), "shadow"))
>>> store = TraceStore()
>>> _ = store.ingest(control)  # the partners arrive later
>>> pair_counts(store.connection)
(0, 100)
>>> _ = store.ingest(shadow)
>>> pair_counts(store.connection), pair_ids_complete(store.connection)
((100, 0), True)
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence

import duckdb

__all__ = [
    "PAIR_COLUMN",
    "PAIR_COLUMNS",
    "PAIR_TABLE",
    "contradicting_pairs",
    "pair_counts",
    "pair_ids_complete",
    "pair_rows",
    "reference_pairing",
]

PAIR_COLUMN = "__pair_id"
"""The column of ``traces`` holding the pair id (reserved prefix: never an input column)."""
PAIR_COLUMNS = {
    PAIR_COLUMN: "BIGINT",
    "__pair_score": "DOUBLE",
    "__pair_ts": "TIMESTAMP",
    "__pair_version": "VARCHAR",
}
"""canarykit's own columns of ``traces``: the pair id (control and shadow rows), and on the
control row its shadow partner's score, time and version."""
UNPAIRABLE = -2
"""``paired_rows`` of a store holding a request twice in one arm (written around canarykit):
its verdicts pair by ``request_id``."""
PAIR_TABLE = "trace_pairing"
"""The one-row table: next unused pair id, rows of ``traces`` when last paired."""
PAIRED_ARMS = "('control', 'shadow')"

_REFERENCE = contextvars.ContextVar("canarykit_reference_pairing", default=False)


@contextlib.contextmanager
def reference_pairing() -> Iterator[None]:
    """Within the block, paired tables pair rows by ``request_id`` and ignore pair ids.

    Replay uses it: the replayed verdict follows the definition, so a pair id edited outside
    canarykit shows up as a difference.
    """
    token = _REFERENCE.set(True)
    try:
        yield
    finally:
        _REFERENCE.reset(token)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary "
        "AND database_name = current_database() AND schema_name = current_schema()",
        [name],
    ).fetchall()
    return bool(row and row[0][0])


def _missing_pair_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'traces' "
        "AND database_name = current_database() AND schema_name = current_schema()"
    ).fetchall()
    present = {str(r[0]) for r in rows}
    return [c for c in PAIR_COLUMNS if c not in present]


def _has_pair_column(con: duckdb.DuckDBPyConnection) -> bool:
    return not _missing_pair_columns(con)


def pair_ids_complete(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every stored row was seen by a pairing ingest (then pair ids are believed).

    No scan: compares the row count recorded by the last pairing ingest with the table's.
    ``False`` inside :func:`reference_pairing`, for files read in place and for stores no
    ingest of this version has written.
    """
    if _REFERENCE.get() or not _has_table(con, PAIR_TABLE) or not _has_pair_column(con):
        return False
    row = con.execute(
        f"SELECT (SELECT max(paired_rows) FROM {PAIR_TABLE}), (SELECT count(*) FROM traces)"
    ).fetchall()
    return bool(row) and row[0][0] is not None and int(row[0][0]) == int(row[0][1])


def pair_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(pairs with an id, control/shadow rows still waiting for a partner)."""
    row = con.execute(
        f"SELECT count(DISTINCT {PAIR_COLUMN}), count(*) FILTER (WHERE {PAIR_COLUMN} IS NULL) "
        f"FROM traces WHERE arm IN {PAIRED_ARMS}"
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def prepare_store(con: duckdb.DuckDBPyConnection) -> bool:
    """Add the pair column and table when missing (inside the ingest's transaction).

    Returns whether the store must be paired afresh: a store no pairing ingest has written
    (an older one, or a new one), or one whose row count moved since the last pairing ingest
    (rows written around canarykit). Then every stored row is a candidate, not only the rows
    still waiting for a partner.
    """
    for name in _missing_pair_columns(con):
        con.execute(f"ALTER TABLE traces ADD COLUMN {name} {PAIR_COLUMNS[name]}")
    if not _has_table(con, PAIR_TABLE):
        con.execute(
            f"CREATE TABLE {PAIR_TABLE} (next_pair_id BIGINT NOT NULL, paired_rows BIGINT NOT NULL)"
        )
    row = con.execute(f"SELECT count(*) FROM {PAIR_TABLE}").fetchall()
    if not row or not row[0][0]:
        con.execute(f"INSERT INTO {PAIR_TABLE} VALUES (1, -1)")
    row = con.execute(
        f"SELECT (SELECT max(paired_rows) FROM {PAIR_TABLE}), (SELECT count(*) FROM traces)"
    ).fetchall()
    return not row or int(row[0][0]) != int(row[0][1])


def pair_rows(
    con: duckdb.DuckDBPyConnection,
    new_rows: Sequence[str],
    *,
    new_arms: set[str],
    afresh: bool,
) -> str | None:
    """Find the pairs this ingest completes; give the stored ones their id; return the table.

    Runs inside the ingest's transaction, before the new rows are inserted.

    Parameters
    ----------
    new_rows : sequence of str
        One ``SELECT`` per input giving the rows that will be inserted (as the ingest inserts
        them), with columns ``model``, ``request_id`` and ``arm``.
    new_arms : set of str
        The arms among the new rows.
    afresh : bool
        Pair the whole store again (:func:`prepare_store`): every stored pair id is cleared
        and every stored control and shadow row is a candidate.

    Returns
    -------
    str or None
        A temporary table ``(model, request_id, pair_id)`` for the new rows to join at insert,
        or ``None`` when no new row completes a pair.
    """
    if afresh:
        cleared = ", ".join(f"{c} = NULL" for c in PAIR_COLUMNS)
        con.execute(f"UPDATE traces SET {cleared} WHERE {PAIR_COLUMN} IS NOT NULL")
        con.execute(f"UPDATE {PAIR_TABLE} SET paired_rows = -1")
    waiting = _waiting_arms(con)
    new_paired = new_arms & {"control", "shadow"}
    # a pair needs a shadow row and a control row: new ones, or stored ones still waiting
    if not ({"control", "shadow"} <= (new_paired | waiting)):
        return None
    parts = []
    keys = "model, request_id, arm, score, ts, version"
    union = " UNION ALL ".join(
        f"SELECT {keys}, FALSE AS stored FROM ({sql}) n WHERE arm IN {PAIRED_ARMS}"
        for sql in new_rows
    )
    if new_paired:
        parts.append(union)
    if waiting:
        stored = (
            f"SELECT {keys}, TRUE FROM traces WHERE {PAIR_COLUMN} IS NULL AND arm IN {PAIRED_ARMS}"
        )
        if not afresh:
            # only the stored rows that can pair with a new one (a semi-join on the new keys)
            stored += f" AND (model, request_id) IN (SELECT (model, request_id) FROM ({union}))"
        parts.append(stored)
    first = _next_pair_id(con)
    shadow = "FILTER (WHERE arm = 'shadow')"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __canarykit_pairs AS "
        f"SELECT model, request_id, bool_or(stored) AS stored, "
        f"CAST({first} + row_number() OVER () - 1 AS BIGINT) AS pair_id, "
        f"max(score) {shadow} AS s_score, max(ts) {shadow} AS s_ts, "
        f"max(version) {shadow} AS s_version, count(*) {shadow} AS n_shadow, "
        "count(*) FILTER (WHERE arm = 'control') AS n_control "
        f"FROM ({' UNION ALL '.join(parts)}) GROUP BY model, request_id "
        "HAVING count(*) FILTER (WHERE arm = 'control') > 0 "
        f"AND count(*) {shadow} > 0"
    )
    copies = ", ".join(
        f"{c} = CASE WHEN traces.arm = 'control' THEN p.{v} END"
        for c, v in (
            ("__pair_score", "s_score"),
            ("__pair_ts", "s_ts"),
            ("__pair_version", "s_version"),
        )
    )
    con.execute(
        f"UPDATE traces SET {PAIR_COLUMN} = p.pair_id, {copies} FROM (SELECT * FROM "
        "__canarykit_pairs WHERE stored) p WHERE traces.model = p.model AND traces.request_id "
        f"= p.request_id AND traces.arm IN {PAIRED_ARMS} AND traces.{PAIR_COLUMN} IS NULL"
    )
    row = con.execute(
        "SELECT max(pair_id), count(*) FILTER (WHERE n_shadow > 1 OR n_control > 1) "
        "FROM __canarykit_pairs"
    ).fetchall()
    if row and row[0][0] is not None:
        con.execute(
            f"UPDATE {PAIR_TABLE} SET next_pair_id = greatest(next_pair_id, ?)",
            [int(row[0][0]) + 1],
        )
    if row and row[0][1]:
        # a request twice in one arm (rows written around canarykit): one copy per control
        # row cannot stand for the pairs of a string join, so this store is read by request_id
        con.execute(f"UPDATE {PAIR_TABLE} SET paired_rows = {UNPAIRABLE}")
    return "__canarykit_pairs"


def _waiting_arms(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The arms (control, shadow) of stored rows without a pair id."""
    rows = con.execute(
        f"SELECT DISTINCT arm FROM traces WHERE {PAIR_COLUMN} IS NULL AND arm IN {PAIRED_ARMS}"
    ).fetchall()
    return {str(r[0]) for r in rows}


def _next_pair_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT max(next_pair_id) FROM {PAIR_TABLE}").fetchall()
    return int(row[0][0]) if row and row[0][0] is not None else 1


def finish(con: duckdb.DuckDBPyConnection, table: str | None) -> None:
    """After the insert: drop the temporary table, record that every row has been paired."""
    if table is not None:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(
        f"UPDATE {PAIR_TABLE} SET paired_rows = (SELECT count(*) FROM traces) "
        f"WHERE paired_rows <> {UNPAIRABLE}"
    )


def insert_columns(table: str | None) -> tuple[str, str]:
    """The select list and join for the new rows (``s``) of an insert: pair id and copies."""
    if table is None:
        return "*", ""
    copies = ", ".join(
        f"CASE WHEN s.arm = 'control' THEN p.{v} END AS {c}"
        for c, v in (
            ("__pair_score", "s_score"),
            ("__pair_ts", "s_ts"),
            ("__pair_version", "s_version"),
        )
    )
    return (
        f"s.*, p.pair_id AS {PAIR_COLUMN}, {copies}",
        f" LEFT JOIN {table} p ON p.model = s.model AND p.request_id = s.request_id "
        f"AND s.arm IN {PAIRED_ARMS}",
    )


def contradicting_pairs(con: duckdb.DuckDBPyConnection, *, model: str) -> int:
    """How many of the model's control rows the stored pairing contradicts.

    A control row contradicts the definition when it has a pair id but no shadow row of its
    ``request_id`` exists, or has none while one exists, or when its copies of the partner's
    score, time or version differ from the shadow row's. 0 for a store whose pairing only
    ingests wrote (and for a store without pair columns).
    """
    if not (_has_table(con, PAIR_TABLE) and _has_pair_column(con)):
        return 0
    row = con.execute(
        f"SELECT count(*) FROM (SELECT * FROM traces WHERE model = ? AND arm = 'control') c "
        "LEFT JOIN (SELECT request_id, score, ts, version FROM traces WHERE model = ? "
        "AND arm = 'shadow') s USING (request_id) "
        f"WHERE (c.{PAIR_COLUMN} IS NULL) <> (s.request_id IS NULL) "
        f"OR (c.{PAIR_COLUMN} IS NOT NULL AND (c.__pair_score IS DISTINCT FROM s.score "
        "OR c.__pair_ts IS DISTINCT FROM s.ts OR c.__pair_version IS DISTINCT FROM s.version))",
        [model, model],
    ).fetchall()
    return int(row[0][0]) if row else 0
