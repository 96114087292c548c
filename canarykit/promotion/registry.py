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

import sqlite3
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
        The SQLite file (created with its schema if missing), or ``":memory:"``.

    Notes
    -----
    The connection runs in autocommit mode; :meth:`transaction` issues ``BEGIN IMMEDIATE`` so the
    write lock is held from the first read to the commit. WAL journaling lets readers run while a
    writer works; ``busy_timeout`` makes a blocked writer wait up to 30 s instead of failing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not Path(self.path).parent.exists():
            raise StorageError(f"{self.path}: registry folder does not exist")
        try:
            self.conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as err:
            raise StorageError(f"{self.path}: cannot open registry ({err})") from None
        self._create_schema()

    def _create_schema(self) -> None:
        try:
            found = self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            if found is not None:
                row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if row is not None and row[0] == SCHEMA_VERSION:
                    return  # an existing registry: no write needed to open it
            elif self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                raise StorageError(f"{self.path}: an SQLite file, but not a canarykit registry")
            with self.transaction() as conn:
                for statement in _split_sql(_SCHEMA):
                    conn.execute(statement)
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
                    )
                elif row[0] != SCHEMA_VERSION:
                    raise StorageError(
                        f"{self.path}: registry schema {row[0]} is not supported "
                        f"(this canarykit reads schema {SCHEMA_VERSION})"
                    )
        except sqlite3.DatabaseError as err:
            raise StorageError(f"{self.path}: not a canarykit registry ({err})") from None

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
