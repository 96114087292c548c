"""The hash-chained audit log: append-only at the database, tampering detected by verify."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from canarykit.errors import StorageError
from canarykit.promotion.audit import (
    AuditEvent,
    append_event,
    export_jsonl,
    list_events,
    verify_chain,
)
from canarykit.promotion.registry import RegistryStore


@pytest.fixture
def store(tmp_path: Path) -> RegistryStore:
    registry = RegistryStore(tmp_path / "audit.sqlite")
    with registry.transaction() as conn:
        for i in range(5):
            append_event(
                conn,
                kind="approval",
                actor=f"a{i}",
                time_ns=i * 1000,
                model="m",
                version="v1",
                chg_id="CHG-1",
                payload={"i": i},
            )
    return registry


def _raw(store: RegistryStore, sql: str) -> None:
    conn = sqlite3.connect(store.path)
    conn.executescript(
        "DROP TRIGGER events_append_only_update;DROP TRIGGER events_append_only_delete;" + sql
    )
    conn.close()


def test_intact_log_verifies(store: RegistryStore) -> None:
    result = verify_chain(store.conn)
    assert (result.ok, result.events, result.problems) == (True, 5, ())


@pytest.mark.parametrize(
    "sql", ["UPDATE events SET actor = 'x' WHERE seq = 2", "DELETE FROM events WHERE seq = 2"]
)
def test_database_refuses_update_and_delete(store: RegistryStore, sql: str) -> None:
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.conn.execute(sql)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE events SET payload_json = '{\"i\":99}' WHERE seq = 3;", "seq 3: hash does not"),
        ("UPDATE events SET time_ns = 1 WHERE seq = 1;", "seq 1: hash does not"),
        ("DELETE FROM events WHERE seq = 3;", "seq 4: prev_hash does not link"),
        ("DELETE FROM events WHERE seq = 5;", "audit_head: records seq 5"),
        ("DELETE FROM events WHERE seq = 1;", "seq 2: prev_hash does not link"),
        (
            "UPDATE events SET seq = -2 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3;"
            " UPDATE events SET seq = 3 WHERE seq = -2;",
            "prev_hash does not link",
        ),
        ("DELETE FROM audit_head;", "audit_head: missing"),
    ],
)
def test_tampering_is_detected(store: RegistryStore, sql: str, problem: str) -> None:
    _raw(store, sql)
    result = verify_chain(store.conn)
    assert not result.ok
    assert any(problem in p for p in result.problems), result.problems


def test_recomputed_hashes_do_not_hide_an_edit_from_the_chain(store: RegistryStore) -> None:
    """Re-hashing an edited row still breaks the link from the next row."""
    event = next(e for e in _events(store) if e.seq == 3)
    forged = AuditEvent(**{**_fields(event), "actor": "mallory", "hash": ""})
    forged_hash = forged.computed_hash()
    _raw(store, f"UPDATE events SET actor = 'mallory', hash = '{forged_hash}' WHERE seq = 3;")
    problems = verify_chain(store.conn).problems
    assert any("seq 4: prev_hash" in p for p in problems)


def test_appending_after_a_tail_deletion_keeps_the_gap_visible(store: RegistryStore) -> None:
    _raw(store, "DELETE FROM events WHERE seq = 5;")
    with store.transaction() as conn:
        event = append_event(conn, kind="rollback", actor="ops", time_ns=10_000)
    assert event.seq == 6
    assert not verify_chain(store.conn).ok


def test_export_writes_json_lines_that_round_trip(store: RegistryStore, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert export_jsonl(store.conn, out) == 5
    events = [AuditEvent.from_dict(json.loads(line)) for line in out.read_text().splitlines()]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(e.computed_hash() == e.hash for e in events)
    assert events[0].chg_id == "CHG-1"


def _events(store: RegistryStore) -> list[AuditEvent]:
    return list_events(store.conn)


def _fields(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in AuditEvent.__dataclass_fields__}


def test_foreign_files_are_not_registries(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StorageError, match="not a canarykit registry"):
        RegistryStore(other)
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StorageError):
        RegistryStore(tmp_path / "junk.sqlite")
    with pytest.raises(StorageError, match="folder does not exist"):
        RegistryStore(tmp_path / "missing" / "r.sqlite")
