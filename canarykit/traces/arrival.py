"""When each row and label arrived, and a store read as of an earlier ingest.

Every ingest writes its id on the rows it inserts (``traces.__ingest_id``) and every label
ingest on the labels it sets (``traces.__label_ingest_id``). A rollout look records the last
ingest it saw; replaying it later reads the store :func:`as_of` that ingest — the rows and
labels that had arrived, no batch or label that came after — so a batch of traces that
arrives late (its rows fall inside a window an earlier look already read) or labels that
arrive after a look change the next looks, as they should, but not the replay of the earlier
ones. Rows stored before these columns existed carry NULL and count as arrived first.

The view is a temporary ``traces`` (with ``ingests`` and ``trace_batches``) that shadows the
stored tables on this connection only, so every summary pass reads as of the ingest without
a change; it is dropped when the ``with`` block ends.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=100, seed=1))
>>> _ = store.ingest(generate_traces("identical", n_requests=50, seed=2))
>>> count = "SELECT count(*) FROM traces"
>>> with as_of(store.connection, 1):
...     store.connection.execute(count).fetchall()[0][0]
100
>>> store.connection.execute(count).fetchall()[0][0]
150
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from canarykit.traces.sources import quote_ident

__all__ = ["INGEST_COLUMN", "LABEL_INGEST_COLUMN", "add_arrival_columns", "as_of"]

INGEST_COLUMN = "__ingest_id"
LABEL_INGEST_COLUMN = "__label_ingest_id"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str] | None:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND NOT internal "
        "AND schema_name = 'main' AND database_name = current_database()",
        [table],
    ).fetchall()
    return {str(r[0]) for r in rows} or None


def add_arrival_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add the two arrival columns to ``traces`` when missing (inside an ingest's transaction)."""
    present = _columns(con, "traces") or set()
    for name in (INGEST_COLUMN, LABEL_INGEST_COLUMN):
        if name not in present:
            con.execute(f"ALTER TABLE traces ADD COLUMN {name} INTEGER")


@contextlib.contextmanager
def as_of(con: duckdb.DuckDBPyConnection, ingest_id: int | None) -> Iterator[None]:
    """Read ``traces`` (and the ingest log and catalogue) as of ingest ``ingest_id``.

    ``None``, or traces read in place (no stored table), reads the store as it is.
    """
    columns = None if ingest_id is None else _columns(con, "traces")
    if columns is None or INGEST_COLUMN not in columns:
        yield
        return
    seq = int(ingest_id)  # type: ignore[arg-type]
    db = quote_ident(str(con.execute("SELECT current_database()").fetchall()[0][0]))
    label = (
        f" REPLACE (CASE WHEN coalesce({LABEL_INGEST_COLUMN}, 0) <= {seq} THEN label END AS label)"
        if "label" in columns and LABEL_INGEST_COLUMN in columns
        else ""
    )
    views = {
        "traces": f"SELECT *{label} FROM {db}.main.traces "
        f"WHERE coalesce({INGEST_COLUMN}, 0) <= {seq}"
    }
    for table in ("ingests", "trace_batches"):
        if _columns(con, table) is not None:
            views[table] = f"SELECT * FROM {db}.main.{table} WHERE ingest_id <= {seq}"
    made = []
    try:
        for name, sql in views.items():
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            made.append(name)
        yield
    finally:
        for name in made:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")
