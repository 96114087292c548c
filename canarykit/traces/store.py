"""The DuckDB trace store: create/open, ingest (all-or-nothing), late labels, windows, info.

A store is one embedded DuckDB file (or ``":memory:"``) holding table ``traces`` (the public
contract, DESIGN.md §3, plus any segment columns the inputs bring) and a log of ingests.

Ingest is all-or-nothing: every input is validated in SQL *before* the store is written, then
all rows are inserted in one transaction. A rejected ingest therefore never writes to the file.

Re-ingest policy: a row whose ``(request_id, arm)`` is already stored is **rejected** by default
(``on_existing="error"``), so a batch job that re-sends a file never double-counts. With
``on_existing="skip"`` rows identical to the stored ones are skipped and counted in the report,
while a row that reuses a stored key with *different* content is still rejected as a conflict.

Examples
--------
>>> import pandas as pd
>>> store = TraceStore(":memory:")
>>> df = pd.DataFrame({"request_id": ["r1", "r2"], "ts": ["2026-01-01T00:00:00Z"] * 2,
...                    "model": "m", "version": ["v1", "v2"], "arm": ["control", "canary"],
...                    "latency_ms": [12.5, 14.0], "error": [False, False]})
>>> store.ingest(df).rows_ingested
2
>>> store.count()
2
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from canarykit.errors import InvalidInputError, StorageError
from canarykit.traces.arrival import INGEST_COLUMN, add_arrival_columns
from canarykit.traces.info import StoreInfo, read_info
from canarykit.traces.ingest_checks import check_against_store, check_inputs
from canarykit.traces.labels import LabelReport, plan_label_update
from canarykit.traces.look_cache import Batch, record_batches
from canarykit.traces.pairing import finish as finish_pairing
from canarykit.traces.pairing import insert_columns as pairing_columns
from canarykit.traces.pairing import pair_rows, prepare_store
from canarykit.traces.parsing import normalized_select
from canarykit.traces.schema import CONTRACT_COLUMNS
from canarykit.traces.sources import (
    InputSource,
    quote_ident,
    quote_literal,
    resolve_inputs,
)
from canarykit.traces.store_connection import connect as connect_store
from canarykit.traces.store_connection import (
    set_memory_limit,
)
from canarykit.traces.validation import check_stored_timestamps, validate_source
from canarykit.traces.window import TraceWindow

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[str], None]
OnExisting = Literal["error", "skip"]
KEY = ("request_id", "arm")  # the key of a trace (unique per store)
CLUSTER_AT_INGEST = True
"""Insert each batch ordered by ``model, ts`` (row groups of one model and time span)."""

__all__ = [
    "IngestReport",
    "LabelReport",
    "TraceStore",
    "ingest_new_or_existing",
    "remove_store_files",
]

_CREATE_TRACES = "CREATE TABLE IF NOT EXISTS traces ({})".format(
    ", ".join(f"{quote_ident(c.name)} {c.sql_type}" for c in CONTRACT_COLUMNS)
)
_CREATE_INGESTS = """
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id INTEGER, kind VARCHAR, sources VARCHAR[], rows BIGINT, skipped BIGINT,
    ingested_at TIMESTAMP
)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    """What an ingest did."""

    sources: tuple[str, ...]
    rows_read: int
    rows_ingested: int
    rows_skipped: int = 0

    def __str__(self) -> str:
        skipped = f", skipped {self.rows_skipped} already stored" if self.rows_skipped else ""
        return (
            f"ingested {self.rows_ingested} of {self.rows_read} rows from "
            f"{len(self.sources)} source(s){skipped}"
        )


@dataclass(eq=False)
class TraceStore:
    """An embedded DuckDB trace store.

    Parameters
    ----------
    path : str or Path
        DuckDB file (created if missing) or ``":memory:"``.
    read_only : bool
        Open an existing file without the right to write.
    memory_limit : str, optional
        DuckDB memory limit (default ``CANARYKIT_MEMORY_LIMIT`` or 600MB); larger work spills
        to a temporary directory.
    lock_timeout : float, optional
        DuckDB lets one process at a time open a file for writing (and none read while it
        does): when another process holds the file, wait up to this many seconds (default
        ``CANARYKIT_LOCK_TIMEOUT`` or 120), saying so once on stderr, then fail with a
        one-line :class:`StorageError`. ``0`` fails at once.
    create : bool
        Create the store's tables in a database that has none (default). ``False`` refuses a
        DuckDB file without a ``traces`` table instead (evaluating one is a mistake, and
        canarykit must not add its tables to somebody else's database).
    """

    path: str | Path = ":memory:"
    read_only: bool = False
    memory_limit: str | None = None
    lock_timeout: float | None = None
    create: bool = True
    _con: duckdb.DuckDBPyConnection = field(init=False, repr=False)
    _tmpdir: str = field(init=False, repr=False)
    _cleanup: weakref.finalize = field(init=False, repr=False)

    def __post_init__(self) -> None:
        target = str(self.path)
        if self.read_only and target != ":memory:" and not os.path.lexists(target):
            raise StorageError(f"{target}: no such trace store")
        # spill space for large ingests; removed when the store is closed or collected
        self._tmpdir = tempfile.mkdtemp(prefix="canarykit-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmpdir, ignore_errors=True)
        self._con = connect_store(target, read_only=self.read_only, timeout=self.lock_timeout)
        self._con.execute("SET TimeZone = 'UTC'")
        self.memory_limit = set_memory_limit(self._con, self.memory_limit)
        self._con.execute(f"SET temp_directory = {quote_literal(self._tmpdir)}")
        self._con.execute("SET preserve_insertion_order = false")
        # DuckDB's own progress bar writes to stdout: off unless a terminal asks for it
        self.show_progress_bar(False)
        if not self._has_table("traces"):
            if self.read_only or not self.create:
                self._con.close()
                self._cleanup()
                raise StorageError(
                    f"{target}: has no traces table (not a canarykit trace store; "
                    "`canarykit ingest FILES --db STORE` makes one)"
                )
            self._con.execute(_CREATE_TRACES)
            self._con.execute(_CREATE_INGESTS)

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def from_files(cls, inputs: Any, *, memory_limit: str | None = None) -> TraceStore:
        """A read-only store over files or tables read in place, after the checks of an ingest.

        The files are not copied: table ``traces`` is a view that parses them on every query.
        Every rule :meth:`ingest` enforces holds here too, with the same messages: the
        contract rules on each input, values of segment columns coercible across inputs, and
        ``(request_id, arm)`` unique across all the inputs together (a row read twice would
        be counted twice). Validation runs in SQL over the sources; nothing is copied.

        Parameters
        ----------
        inputs : path, directory, glob, table-like object, or a list of them
            What :func:`~canarykit.traces.sources.resolve_inputs` accepts: Parquet/CSV files,
            directories and globs (one scan for all the files, Hive partitions as columns),
            Arrow tables, datasets and streams, pandas/polars frames, DuckDB relations.
        memory_limit : str, optional
            DuckDB memory limit (default ``CANARYKIT_MEMORY_LIMIT`` or 600MB); larger work
            spills to a temporary directory.

        Raises
        ------
        InvalidInputError
            One line naming the file (or input), column, rule and first rows.

        Examples
        --------
        >>> from canarykit.traces.generate import generate_traces
        >>> t = generate_traces("identical", n_requests=100, seed=1)
        >>> with TraceStore.from_files([t.slice(0, 50), t.slice(50)]) as store:
        ...     store.count()
        100
        >>> TraceStore.from_files([t, t])
        Traceback (most recent call last):
        ...
        canarykit.errors.InvalidInputError: <arrow table, input 1>: column (request_id, arm): must be unique within an ingest (100 rows, first: row 1, 2, 3, 4, 5); repeats also in <arrow table, input 2>
        """
        store = cls(":memory:", memory_limit=memory_limit)
        try:
            # a file set is scanned once per query: keep the Parquet footers between queries
            store._con.execute("SET parquet_metadata_cache = true")
            sources = resolve_inputs(inputs)
            described = store._validate_all(sources, progress=None)
            extras = check_inputs(store._con, described)
            selects = [
                normalized_select(cols, src.relation(store._con), extra_types=extras)
                for src, (cols, _) in described
            ]
            store._con.execute("DROP TABLE traces")
            store._con.execute("CREATE VIEW traces AS " + " UNION ALL BY NAME ".join(selects))
        except BaseException:
            store.close()
            raise
        return store

    def show_progress_bar(self, enabled: bool = True) -> None:
        """Let DuckDB draw its progress bar for long queries (for interactive terminals)."""
        # in Jupyter without ipywidgets DuckDB refuses the setting: it draws no bar there anyway
        with contextlib.suppress(duckdb.Error):
            self._con.execute(f"SET enable_progress_bar = {'true' if enabled else 'false'}")

    def close(self) -> None:
        """Close the connection (the file stays)."""
        self._con.close()
        self._cleanup()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (for the summaries module in this layer)."""
        return self._con

    # -- ingest ------------------------------------------------------------------------------
    def ingest(
        self, inputs: Any, *, on_existing: OnExisting = "error", progress: Progress | None = None
    ) -> IngestReport:
        """Validate and insert traces from files/globs, Arrow tables or DataFrames, all or nothing.

        Parameters
        ----------
        inputs : path, glob, pyarrow.Table, pandas.DataFrame, or a list of them
        on_existing : {"error", "skip"}
            What to do with rows whose ``(request_id, arm)`` is already stored (module docs).
        progress : callable, optional
            Called with a short message before each step (the CLI prints them on a terminal).

        Raises
        ------
        InvalidInputError
            Any broken rule; the store is left exactly as it was.
        """
        if on_existing not in ("error", "skip"):
            raise InvalidInputError(f"on_existing: must be 'error' or 'skip', got {on_existing!r}")
        self._require_writable()
        sources = resolve_inputs(inputs)
        described = self._validate_all(sources, progress=progress)
        extras = check_inputs(self._con, described)
        normalized = [
            (src, normalized_select(cols, src.relation(self._con), extra_types=extras))
            for src, (cols, _) in described
        ]
        skipped = check_against_store(self._con, normalized, on_existing)
        _say(progress, "writing to the store")
        total = sum(n for _, (_, n) in described)
        self._con.begin()
        try:
            stored = self._table_columns("traces")
            for name, sql_type in extras.items():
                if name not in stored:
                    self._con.execute(
                        f"ALTER TABLE traces ADD COLUMN {quote_ident(name)} {sql_type}"
                    )
            guard = (
                ""
                if on_existing == "error"
                else (
                    " WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE t.request_id = s.request_id "
                    "AND t.arm = s.arm)"
                )
            )
            afresh = prepare_store(self._con)
            batches: list[Batch] = []
            for _, select in normalized:
                # the catalogue (look_cache.py): which models and times this batch touches
                batches += self._con.execute(
                    f"SELECT s.model, s.version, s.arm, count(*), min(s.ts), max(s.ts) "
                    f"FROM ({select}) s{guard} GROUP BY s.model, s.version, s.arm"
                ).fetchall()
            # shadow mode: control and shadow rows of one request get one pair id (pairing.py)
            pairs = pair_rows(
                self._con,
                [f"SELECT s.* FROM ({select}) s{guard}" for _, select in normalized],
                new_arms={str(b[2]) for b in batches if b[3]},
                afresh=afresh,
            )
            columns, join = pairing_columns(pairs)
            # every row carries the id of the ingest that wrote it (traces/arrival.py)
            add_arrival_columns(self._con)
            ingest_id = self._log_ingest("traces", sources, total - skipped, skipped)
            # rows stored clustered by model and time (within each batch): a query for one
            # model or one time window skips the other row groups by their zone maps
            order = " ORDER BY s.model, s.ts" if CLUSTER_AT_INGEST else ""
            for _, select in normalized:
                self._con.execute(
                    f"INSERT INTO traces BY NAME SELECT {columns}, "
                    f"{int(ingest_id)} AS {INGEST_COLUMN} FROM ({select}) s"
                    f"{join}{guard}{order}"
                )
            finish_pairing(self._con, pairs)
            record_batches(self._con, ingest_id, "traces", batches)
            self._con.commit()
        except BaseException:
            self._con.rollback()
            raise
        return IngestReport(
            sources=tuple(name for s in sources for name in s.labels),
            rows_read=total,
            rows_ingested=total - skipped,
            rows_skipped=skipped,
        )

    def _validate_all(
        self, sources: list[InputSource], *, progress: Progress | None
    ) -> list[tuple[InputSource, tuple[dict[str, str], int]]]:
        described = []
        for i, src in enumerate(sources, start=1):
            _say(progress, f"validating {src.name} ({i}/{len(sources)})")
            described.append((src, validate_source(self._con, src)))
        return described

    def ingest_labels(
        self,
        inputs: Any,
        *,
        on_unknown: Literal["error", "skip"] = "error",
        progress: Progress | None = None,
    ) -> LabelReport:
        """Set ``label`` on stored rows by ``request_id`` (and ``arm`` when the input has it).

        Without an ``arm`` column a label applies to every arm of the request (in shadow mode
        control and shadow share the request and its outcome). Rules: ``request_id`` non-empty;
        ``label`` true/false/1/0 (not NULL); ``arm``, when present, one of the arms; one label per
        key; every key matches a stored row (``on_unknown="skip"`` skips and counts unmatched
        ones); a stored label is never silently changed: a different value is rejected.
        Validation happens before any write, so a rejected file leaves the store as it was.
        """
        if on_unknown not in ("error", "skip"):
            raise InvalidInputError(f"on_unknown: must be 'error' or 'skip', got {on_unknown!r}")
        self._require_writable()
        sources = resolve_inputs(inputs)
        plan = plan_label_update(self._con, sources, on_unknown=on_unknown, progress=progress)
        _say(progress, "writing labels")
        self._con.begin()
        try:
            batches = self._con.execute(plan.touched_sql).fetchall()
            add_arrival_columns(self._con)
            ingest_id = self._log_ingest("labels", sources, plan.rows_updated, plan.labels_unknown)
            self._con.execute(plan.update_sql_for(ingest_id))
            record_batches(self._con, ingest_id, "labels", batches)
            self._con.commit()
        except BaseException:
            self._con.rollback()
            raise
        return LabelReport(
            sources=tuple(s.name for s in sources),
            labels_read=plan.labels_read,
            rows_updated=plan.rows_updated,
            rows_unchanged=plan.rows_unchanged,
            labels_unknown=plan.labels_unknown,
        )

    # -- reading -------------------------------------------------------------------------------
    def count(self, window: TraceWindow | None = None) -> int:
        """Number of rows in ``window`` (all rows by default)."""
        where, params = (window or TraceWindow()).where()
        row = self._con.execute(f"SELECT count(*) FROM traces WHERE {where}", params).fetchall()[0]
        return int(row[0]) if row else 0

    def select(
        self, window: TraceWindow | None = None, *, columns: Iterable[str] | None = None
    ) -> pa.Table:
        """The rows of ``window`` as an Arrow table, ordered by ``ts, arm, request_id``."""
        where, params = (window or TraceWindow()).where()
        if columns is None:  # every column but canarykit's own (the pair id: pairing.py)
            columns = [c for c in self._table_columns("traces") if not c.startswith("__")]
        cols = ", ".join(quote_ident(c) for c in columns)
        try:
            return self._con.sql(
                f"SELECT {cols} FROM traces WHERE {where} ORDER BY ts, arm, request_id",
                params=params,
            ).to_arrow_table()
        except duckdb.Error as err:
            raise InvalidInputError(f"select: {str(err).splitlines()[0]}") from None

    def info(self, window: TraceWindow | None = None) -> StoreInfo:
        """What the store holds: per model/version/arm row counts, time range, label coverage.

        Raises
        ------
        StorageError
            The store holds a ``ts`` outside the accepted range (written by SQL, not ingest).
        """
        check_stored_timestamps(self._con, str(self.path))
        return read_info(self._con, str(self.path), window)

    # -- helpers -------------------------------------------------------------------------------
    def _require_writable(self) -> None:
        if self.read_only:
            raise StorageError(f"{self.path}: opened read-only")
        if self._is_view("traces"):
            raise StorageError("this store reads files in place; ingest into a DuckDB file instead")

    def _has_table(self, name: str) -> bool:
        row = self._con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary "
            "UNION ALL SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND NOT temporary",
            [name, name],
        ).fetchall()
        return any(r[0] for r in row)

    def _is_view(self, name: str) -> bool:
        row = self._con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]
        ).fetchall()[0]
        return bool(row and row[0])

    def _table_columns(self, name: str) -> dict[str, str]:
        return {str(r[0]): str(r[1]) for r in self._con.execute(f"DESCRIBE {name}").fetchall()}

    def _log_ingest(self, kind: str, sources: list[InputSource], rows: int, skipped: int) -> int:
        """Append the ingest to ``ingests`` and return its id."""
        row = self._con.execute(
            "INSERT INTO ingests SELECT coalesce(max(ingest_id), 0) + 1, ?, ?, ?, ?, ? FROM ingests "
            "RETURNING ingest_id",
            [
                kind,
                [name for s in sources for name in s.labels],
                rows,
                skipped,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ],
        ).fetchall()
        return int(row[0][0])


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def ingest_new_or_existing(
    path: str | Path,
    inputs: Any,
    *,
    on_existing: OnExisting = "error",
    progress: Progress | None = None,
    lock_timeout: float | None = None,
) -> IngestReport:
    """Ingest into the store at ``path``, creating it atomically if it does not exist yet.

    A new store is built in a private file beside ``path`` and published with a hard link,
    which fails if another process published one first: then this ingest goes into that
    store instead (waiting for its lock). So concurrent ingests that create the same store
    never delete or overwrite each other's rows, and a failed first ingest leaves no file.

    Examples
    --------
    >>> import tempfile
    >>> from canarykit.traces.generate import generate_traces
    >>> db = Path(tempfile.mkdtemp()) / "new.duckdb"
    >>> ingest_new_or_existing(db, generate_traces("identical", n_requests=100)).rows_ingested
    100
    """
    target = Path(path)
    if target.is_symlink() and not target.exists():
        raise StorageError(
            f"{target}: a broken symbolic link, not a trace store (a new store is never created"
            " through a link; name the real path)"
        )
    if not target.exists():
        private = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.new")
        try:
            with TraceStore(private, lock_timeout=0) as store:
                report = store.ingest(inputs, on_existing=on_existing, progress=progress)
                store.connection.execute("CHECKPOINT")
            try:
                os.link(private, target)
                return report
            except FileExistsError:
                pass  # another process created the store first: ingest into it below
            except OSError:  # a file system without hard links: publish by rename
                if not target.exists():
                    os.replace(private, target)
                    return report
        finally:
            remove_store_files(private)
    with TraceStore(target, lock_timeout=lock_timeout) as store:
        return store.ingest(inputs, on_existing=on_existing, progress=progress)


def remove_store_files(path: str | Path) -> None:
    """Delete a DuckDB file and its write-ahead log (used when a new store's first ingest fails)."""
    for candidate in (Path(path), Path(f"{path}.wal")):
        if candidate.exists():
            os.remove(candidate)
