"""Table rows the verified audit log does not back, and recorded facts whose rows are gone.

The registry's tables are a fast index of what its audit log records
(:mod:`~canarykit.promotion.verified_state`). Whoever can open the SQLite file can insert, edit
or delete rows without any event; :func:`row_problems` compares each table with the state the
counted events build and names every disagreement, for ``canarykit audit verify``::

    approvals row 7 (sam approves risk-default v1 for Approved as security) has no audit event

The gates never read these rows for a decision (they read the verified state); this module only
reports them.

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> from canarykit.promotion.verified_state import build_state
>>> store = RegistryStore(":memory:")
>>> _ = store.conn.execute("INSERT INTO approvals (model, version, stage, role, actor, time_ns)"
...                        " VALUES ('m', 'v1', 'Approved', 'security', 'sam', 0)")
>>> row_problems(store.conn, build_state([]))
['approvals row 1 (sam approves m v1 for Approved as security) has no audit event']
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from canarykit.promotion.audit import canonical_json
from canarykit.promotion.clock import format_instant
from canarykit.promotion.verified_state import (
    Key,
    VerifiedState,
    _text,
    approval_key,
    waiver_key,
)

__all__ = ["row_key", "row_problems"]


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    sql: str
    key: Callable[[sqlite3.Row], Key]
    describe: Callable[[sqlite3.Row], str]


_TABLES = (
    _Table(
        "approvals",
        "SELECT rowid AS n, * FROM approvals ORDER BY rowid",
        lambda r: approval_key(
            r["model"], r["version"], r["stage"], r["role"], r["actor"], r["verdict_digest"]
        ),
        lambda r: (
            f"{r['actor']} approves {r['model']} {r['version']} for {r['stage']} as {r['role']}"
        ),
    ),
    _Table(
        "waivers",
        "SELECT rowid AS n, * FROM waivers ORDER BY rowid",
        lambda r: waiver_key(
            {
                "waiver_id": r["waiver_id"],
                "model": r["model"],
                "version": r["version"],
                "check": r["check_name"],
                "expires": format_instant(r["expires_ns"]),
                "created_by": r["created_by"],
            }
        ),
        lambda r: (
            f"{r['waiver_id']}: {r['created_by']} waives {r['check_name']} for"
            f" {r['model']} {r['version'] or '(all versions)'}"
        ),
    ),
    _Table(
        "changes",
        "SELECT rowid AS n, * FROM changes ORDER BY rowid",
        lambda r: (r["chg_id"], r["created_by"]),
        lambda r: f"{r['chg_id']} requested by {r['created_by']}",
    ),
    _Table(
        "change_approvals",
        "SELECT rowid AS n, * FROM change_approvals ORDER BY rowid",
        lambda r: (r["chg_id"], r["actor"], r["role"]),
        lambda r: f"{r['actor']} approves {r['chg_id']} as {r['role']}",
    ),
    _Table(
        "alias_history",
        "SELECT rowid AS n, * FROM alias_history ORDER BY rowid",
        lambda r: (r["model"], r["alias"], _text(r["to_version"]), r["actor"], r["time_ns"]),
        lambda r: f"{r['actor']} moves {r['model']} {r['alias']} to {r['to_version']}",
    ),
    _Table(
        "evidence_documents",
        "SELECT rowid AS n, * FROM evidence_documents ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["kind"], r["name"], r["digest"]),
        lambda r: f"{r['kind']} {r['name']} of {r['model']} {r['version']}",
    ),
    _Table(
        "vex_approvals",
        "SELECT rowid AS n, * FROM vex_approvals ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["vulnerability"], r["statement_digest"], r["actor"]),
        lambda r: (
            f"{r['actor']} approves {r['state']} for {r['vulnerability']} of"
            f" {r['model']} {r['version']}"
        ),
    ),
    _Table(
        "bound_policies",
        "SELECT rowid AS n, * FROM bound_policies ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["digest"]),
        lambda r: f"policy {r['digest'][:19]}… bound to {r['model']} {r['version']}",
    ),
    _Table(
        "signed_verdicts",
        "SELECT rowid AS n, * FROM signed_verdicts ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["verdict_digest"]),
        lambda r: f"verdict {r['verdict_digest'][:19]}… of {r['model']} {r['version']}",
    ),
)


def _rows(conn: sqlite3.Connection, sql: str) -> list[sqlite3.Row]:
    try:
        rows: list[sqlite3.Row] = conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # a table this registry never created (added later)
        return []
    return rows


def row_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    """Every table row no event backs, and every recorded fact whose row is gone or differs."""
    problems: list[str] = []
    for table in _TABLES:
        backed = state.rows.get(table.name, Counter())
        held = set()
        for row in _rows(conn, table.sql):
            key = table.key(row)
            held.add(key)
            if not backed[key]:
                problems.append(
                    f"{table.name} row {row['n']} ({table.describe(row)}) has no audit event"
                )
        problems += [
            f"{table.name}: audit event {state.seqs[table.name][key]} records a row that the"
            " table no longer holds (deleted)"
            for key in backed
            if key not in held
        ]
    problems += _version_problems(conn, state)
    problems += _alias_problems(conn, state)
    problems += _config_problems(conn, state)
    problems += _ticket_problems(conn, state)
    return problems


def _version_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems, seen = [], set()
    for row in _rows(conn, "SELECT rowid AS n, * FROM versions ORDER BY rowid"):
        mv = (row["model"], row["version"])
        seen.add(mv)
        recorded = state.stage(*mv)
        where = f"versions row {row['n']} ({row['model']} {row['version']})"
        if recorded is None:
            problems.append(f"{where} has no audit event (no submission)")
        elif recorded != row["stage"]:
            problems.append(
                f"{where}: the table says {row['stage']}, the audit log says {recorded}"
                + (" (the revocation stands: the event wins)" if mv in state.revoked else "")
            )
        for name, value in state.fields.get(mv, {}).items():
            if row[name] != value:
                problems.append(
                    f"{where}: the table says {name} {row[name]}, the audit log says {value}"
                )
    problems += [
        f"versions: the audit log records {m} {v} ({stage}) but the table has no row (deleted)"
        for (m, v), stage in state.stages.items()
        if (m, v) not in seen
    ]
    return problems


def _alias_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems, seen = [], set()
    for row in _rows(conn, "SELECT rowid AS n, * FROM aliases ORDER BY rowid"):
        key = (row["model"], row["alias"])
        seen.add(key)
        where = f"aliases row {row['n']} ({row['model']} {row['alias']} → {row['version']})"
        if key not in state.aliases:
            problems.append(f"{where} has no audit event")
        elif state.aliases[key] != row["version"]:
            problems.append(f"{where}: the audit log says {state.aliases[key]}")
    problems += [
        f"aliases: the audit log records {m} {a} → {to} but the table has no row (deleted)"
        for (m, a), to in state.aliases.items()
        if (m, a) not in seen
    ]
    return problems


def _config_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems, seen = [], set()
    for row in _rows(conn, "SELECT rowid AS n, key, value FROM config ORDER BY rowid"):
        seen.add(row["key"])
        where = f"config row {row['n']} ({row['key']})"
        recorded = state.config.get(row["key"])
        try:
            value = json.loads(row["value"])
        except json.JSONDecodeError:
            value = None
        if recorded is None:
            problems.append(f"{where} has no audit event; the gates ignore it")
        elif canonical_json(value) != canonical_json(recorded):
            problems.append(
                f"{where} differs from the document its last config event put in force; the"
                " gates read the event's"
            )
    problems += [
        f"config: the audit log puts a {key} in force but the table has no row (deleted)"
        for key in state.config
        if key not in seen
    ]
    return problems


def _ticket_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems = []
    for row in _rows(conn, "SELECT rowid AS n, chg_id, body_json FROM changes ORDER BY rowid"):
        recorded = state.tickets.get(row["chg_id"])
        try:
            body = json.loads(row["body_json"])
        except json.JSONDecodeError:
            body = None
        if recorded is not None and canonical_json(body) != canonical_json(recorded):
            problems.append(
                f"changes row {row['n']} ({row['chg_id']}) differs from the ticket its audit"
                " event records; the gates read the event's"
            )
    return problems


def row_key(table: str, row: Mapping[str, Any]) -> Key:
    """The key a ``table`` row (a mapping of its columns) is matched with its event by."""
    return next(t for t in _TABLES if t.name == table).key(row)  # type: ignore[arg-type]
