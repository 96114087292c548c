"""Opening a DuckDB trace store: bounded waiting for another process's lock, memory limit.

DuckDB lets one process write a file at a time. :func:`connect` retries while another
process holds the lock (or its write-ahead log is caught mid-checkpoint), up to
``CANARYKIT_LOCK_TIMEOUT`` seconds (default 120), saying once on stderr that it waits; any
other failure to open is a one-line :class:`~canarykit.errors.StorageError`.
:func:`set_memory_limit` applies ``CANARYKIT_MEMORY_LIMIT`` (default 600MB).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import duckdb

from canarykit.errors import StorageError
from canarykit.traces.sources import quote_literal

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_MEMORY_LIMIT",
    "DUCKDB_MAGIC",
    "connect",
    "is_duckdb_file",
    "set_memory_limit",
]

DUCKDB_MAGIC = b"DUCK"
# never download a DuckDB extension at run time (opening a SQLite file as a store made DuckDB
# try to fetch sqlite_scanner from the network); the built-in ones (parquet, json, icu) load.
# Set on the connection, not as a connect() option: DuckDB refuses a second connection to a
# file with another configuration (a notebook's own duckdb.connect of the same store)
_NO_DOWNLOADS = "SET autoinstall_known_extensions = false"


def is_duckdb_file(path: str | Path) -> bool:
    """Whether ``path`` is a DuckDB database file (by its header).

    Examples
    --------
    >>> is_duckdb_file("no-such-file.duckdb")
    False
    """
    p = Path(path)
    try:
        if not p.is_file():
            return False
        with p.open("rb") as handle:
            header = handle.read(16)
    except OSError:
        return False
    return header[8:12] == DUCKDB_MAGIC


def _check_store_file(target: str) -> None:
    """Refuse, in canarykit's words, a path that exists and is no DuckDB database."""
    if target == ":memory:" or not os.path.lexists(target):
        return
    path = Path(target)
    if path.is_dir():
        raise StorageError(f"{target}: is a folder, not a DuckDB trace store")
    if not path.is_file():
        raise StorageError(f"{target}: is not a regular file, not a DuckDB trace store")
    if path.stat().st_size == 0:
        raise StorageError(
            f"{target}: is an empty file, not a DuckDB trace store (remove it: ingest creates "
            "the store)"
        )
    if not is_duckdb_file(path):
        raise StorageError(
            f"{target}: not a DuckDB trace store (no DuckDB header); Parquet and CSV files are "
            "read in place by evaluate, or ingested into a store with ingest FILE --db STORE"
        )


DEFAULT_LOCK_TIMEOUT = 120.0
DEFAULT_MEMORY_LIMIT = "600MB"


def set_memory_limit(con: duckdb.DuckDBPyConnection, limit: str | None) -> str:
    """Set DuckDB's memory limit: ``limit``, else ``CANARYKIT_MEMORY_LIMIT``, else 600MB."""
    source = "memory_limit"
    if limit is None:
        limit = os.environ.get("CANARYKIT_MEMORY_LIMIT")
        source = "CANARYKIT_MEMORY_LIMIT"
    if limit is None:
        limit = DEFAULT_MEMORY_LIMIT
    try:
        con.execute(f"SET memory_limit = {quote_literal(limit)}")
    except duckdb.Error:
        con.close()
        raise StorageError(
            f"{source}: must be a memory size such as 600MB or 4GB, got {limit[:40]!r}"
        ) from None
    return limit


def _lock_timeout(timeout: float | None) -> float:
    if timeout is not None:
        return max(float(timeout), 0.0)
    raw = os.environ.get("CANARYKIT_LOCK_TIMEOUT")
    if raw is None:
        return DEFAULT_LOCK_TIMEOUT
    try:
        return max(float(raw), 0.0)
    except ValueError:
        raise StorageError(
            f"CANARYKIT_LOCK_TIMEOUT: must be a number of seconds, got {raw[:40]!r}"
        ) from None


def _is_lock_conflict(err: duckdb.Error) -> bool:
    """A lock held by another process, or its write-ahead log caught mid-checkpoint (retry)."""
    text = str(err).lower()
    if "wal" in text and (
        "older version" in text
        or "checkpoint iteration" in text
        or "no such file or directory" in text
    ):
        # another process checkpointed between our reads of the file and its log (or removed
        # the log, checkpointed, between DuckDB seeing it and opening it)
        return True
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def connect(target: str, *, read_only: bool, timeout: float | None) -> duckdb.DuckDBPyConnection:
    """Open ``target``, waiting (bounded) while another process holds its lock."""
    _check_store_file(target)
    limit = _lock_timeout(timeout)
    started = time.monotonic()
    delay, told = 0.05, False
    while True:
        try:
            con = duckdb.connect(target, read_only=read_only)
            con.execute(_NO_DOWNLOADS)
            return con
        except duckdb.Error as err:
            if not _is_lock_conflict(err):
                raise StorageError(
                    f"{target}: cannot open as a DuckDB trace store: {str(err).splitlines()[0]}"
                ) from None
            waited = time.monotonic() - started
            if waited >= limit:
                raise StorageError(
                    f"{target}: another process has held the store for {waited:.0f} s "
                    f"(lock timeout {limit:g} s; set CANARYKIT_LOCK_TIMEOUT to wait longer)"
                ) from None
            if not told:
                print(
                    f"canarykit: {target} is in use by another process; waiting up to {limit:g} s",
                    file=sys.stderr,
                )
                told = True
            time.sleep(min(delay, max(limit - waited, 0.0)))
            delay = min(delay * 1.5, 1.0)
