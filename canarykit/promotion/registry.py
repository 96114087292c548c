"""The registry store: one SQLite file shared safely by several writing processes.

Why SQLite and not DuckDB: the registry is written by several processes at once — a CI job
promoting a version while a person approves another or moves the ``production`` alias. DuckDB
allows only one process to open a database file for writing, so a second writer fails instead
of waiting. SQLite (stdlib ``sqlite3``) in WAL mode lets readers proceed while one writer holds
the lock, and ``BEGIN IMMEDIATE`` takes the write lock *before* the first read of a
read-check-write sequence, so a compare-and-set or a gate decision cannot act on stale state;
the busy timeout makes a second writer wait for the lock instead of failing. The registry's data
is small (versions, approvals, tickets, events), which is what SQLite is good at.

Examples
--------
>>> store = RegistryStore(":memory:")
>>> with store.transaction() as conn:
...     _ = conn.execute("INSERT INTO config (key, value) VALUES ('k', '1')")
>>> store.config_get("k")
'1'
>>> store.close()
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from canarykit.errors import StorageError

__all__ = ["BUSY_TIMEOUT_MS", "SCHEMA_VERSION", "RegistryStore"]

SCHEMA_VERSION = "1"
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    artifact_digest TEXT NOT NULL,
    submitter TEXT NOT NULL,
    submitted_at_ns INTEGER NOT NULL,
    stage TEXT NOT NULL,
    stage_before_revocation TEXT,
    policy_digest TEXT,
    evidence_json TEXT,
    verdict_json TEXT,
    revalidate_by_ns INTEGER,
    guardrails_json TEXT,
    updated_at_ns INTEGER NOT NULL,
    PRIMARY KEY (model, version)
);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    stage TEXT NOT NULL,
    role TEXT NOT NULL,
    actor TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    verdict_digest TEXT NOT NULL DEFAULT '',
    UNIQUE (model, version, stage, role, actor, verdict_digest)
);
CREATE TABLE IF NOT EXISTS waivers (
    waiver_id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    version TEXT,
    check_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_ns INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    chg_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    body_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS change_approvals (
    chg_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    UNIQUE (chg_id, actor, role)
);
CREATE TABLE IF NOT EXISTS aliases (
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    version TEXT,
    generation INTEGER NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    PRIMARY KEY (model, alias)
);
CREATE TABLE IF NOT EXISTS alias_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    from_version TEXT,
    to_version TEXT,
    kind TEXT NOT NULL,
    chg_id TEXT,
    actor TEXT NOT NULL,
    time_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    model TEXT,
    version TEXT,
    chg_id TEXT,
    actor TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    verdict_digest TEXT,
    reference TEXT,
    metrics_json TEXT NOT NULL DEFAULT '[]',
    actor TEXT NOT NULL,
    time_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vex_approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    vulnerability TEXT NOT NULL,
    state TEXT NOT NULL,
    statement_digest TEXT NOT NULL,
    sbom_digest TEXT NOT NULL,
    actor TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (model, version, vulnerability, statement_digest, actor)
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
"""


class RegistryStore:
    """An open registry file: connection settings, schema and write transactions.

    Parameters
    ----------
    path : str or Path
        The SQLite file, or ``":memory:"``. Where no file exists a new registry is created
        (complete, or not at all); an existing file must be a canarykit registry — an empty
        file or any other file is refused, never written to.

    Notes
    -----
    The connection runs in autocommit mode; :meth:`transaction` issues ``BEGIN IMMEDIATE`` so the
    write lock is held from the first read to the commit. WAL journaling lets readers run while a
    writer works; ``busy_timeout`` makes a blocked writer wait up to 30 s instead of failing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            file = Path(self.path)
            if not file.parent.is_dir():
                raise StorageError(f"{self.path}: registry folder does not exist")
            if file.is_symlink() and not file.exists():
                raise StorageError(f"{self.path}: a broken symbolic link, not a registry")
            if not file.exists():
                _publish_new_registry(file)
            elif file.is_file() and file.stat().st_size == 0:
                raise StorageError(
                    f"{self.path}: an empty file, not a canarykit registry (a new registry is"
                    " created only where no file exists; remove it or name another path)"
                )
        self.conn = _connect(self.path)
        if self.path == ":memory:":
            with self.transaction() as conn:
                _write_schema(conn)
        else:
            self._check_schema()  # before anything could write to a file that is not ours
            _use_wal(self.conn, self.path)
            self._add_missing_tables()

    def _check_schema(self) -> None:
        """Refuse any file that is not a complete canarykit registry of our schema version."""
        try:
            found = self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            row = None
            if found is not None:
                row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise StorageError(f"{self.path}: not a canarykit registry ({err})") from None
        if row is None:
            self.conn.close()
            raise StorageError(f"{self.path}: an SQLite file, but not a canarykit registry")
        if row[0] != SCHEMA_VERSION:
            self.conn.close()
            raise StorageError(
                f"{self.path}: registry schema {row[0]} is not supported "
                f"(this canarykit reads schema {SCHEMA_VERSION})"
            )

    def _add_missing_tables(self) -> None:
        """Create the tables a registry of this schema version gained later (evidence documents,
        VEX approvals): additive only, and only when one is missing, so an up-to-date
        registry is never written to by opening it."""
        names = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        wanted = [s for s in _split_sql(_SCHEMA) if _created_name(s) not in names]
        if wanted:
            with self.transaction() as conn:
                for statement in wanted:
                    conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): commits on success, rolls back on error."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise StorageError(f"{self.path}: registry is locked or unwritable ({err})") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.DatabaseError as err:
                self.conn.execute("ROLLBACK")
                raise StorageError(f"{self.path}: commit failed ({err})") from None

    def config_get(self, key: str) -> str | None:
        """Read one configuration value (JSON text) or None."""
        row = self.conn.execute("SELECT value FROM config WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> RegistryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split_sql(script: str) -> list[str]:
    """Split the schema script into statements (triggers keep their inner ``;``)."""
    statements: list[str] = []
    buffer: list[str] = []
    for line in script.strip().splitlines():
        buffer.append(line)
        text = "\n".join(buffer).strip()
        is_trigger = text.upper().startswith("CREATE TRIGGER")
        if text.endswith(";") and (not is_trigger or text.upper().endswith("END;")):
            statements.append(text)
            buffer = []
    return statements


def _created_name(statement: str) -> str:
    """The name a ``CREATE TABLE|TRIGGER IF NOT EXISTS name ...`` statement creates."""
    return statement.split(maxsplit=6)[5]


def _connect(path: str) -> sqlite3.Connection:
    """A connection with the registry's settings (autocommit, busy timeout, WAL, full sync)."""
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as err:
        raise StorageError(f"{path}: cannot open registry ({err})") from None
    return conn


def _use_wal(conn: sqlite3.Connection, path: str) -> None:
    """WAL journaling (kept in the file: a no-op for a registry this module created)."""
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as err:
        conn.close()
        raise StorageError(f"{path}: cannot open registry ({err})") from None


def _write_schema(conn: sqlite3.Connection) -> None:
    for statement in _split_sql(_SCHEMA):
        conn.execute(statement)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))


def _publish_new_registry(file: Path) -> None:
    """Create a registry at ``file``, complete or not at all.

    The registry is built under a private name in the same folder and published with a hard
    link, which fails if the name exists: no process ever sees a half-built registry, and of
    several processes creating the same registry at once one wins and the others open its
    file. The file gets the mode any new file gets (0666 less the umask).
    """
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".new")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)
        os.close(fd)
        conn = _connect(tmp)
        try:
            _use_wal(conn, str(file))
            conn.execute("BEGIN IMMEDIATE")
            _write_schema(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()  # the last connection folds the WAL into the file and removes it
        try:
            os.link(tmp, file)
        except FileExistsError:
            pass  # another process published it first: open theirs
        except OSError:  # a file system without hard links: exclusive create, then copy
            _copy_exclusive(Path(tmp), file)
    except sqlite3.DatabaseError as err:
        raise StorageError(f"{file}: cannot create the registry ({err})") from None
    finally:
        for leftover in (tmp, f"{tmp}-wal", f"{tmp}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


def _copy_exclusive(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` only if ``target`` does not exist yet."""
    try:
        with open(target, "xb") as handle:
            handle.write(source.read_bytes())
            handle.flush()
            os.fsync(handle.fileno())
    except FileExistsError:
        pass
    except OSError as err:
        raise StorageError(
            f"{target}: cannot create the registry ({err.strerror or type(err).__name__})"
        ) from None
