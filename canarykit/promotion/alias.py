"""Aliases (``production``) with compare-and-set, full history, and the rollback target.

The alias row carries a ``generation`` counter that grows with every move; the history table
records every move (``alias_update``, ``rollback``, ``revocation``) with its change ticket.
Moves happen inside the caller's ``BEGIN IMMEDIATE`` transaction, so the compare-and-set check
(expected current value == stored current value) and the write are atomic across processes.

Rollback semantics: the history is replayed as a stack — an ``alias_update`` pushes its target;
a rollback or revocation returns to an earlier entry and discards what was above it. The
rollback target is the nearest entry below the top that is still Approved (not revoked).

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> with store.transaction() as conn:
...     _ = write_alias(conn, model="m", alias="production", to_version="v1", kind="alias_update",
...                 chg_id="CHG-1", actor="olga", now_ns=0)
...     _ = write_alias(conn, model="m", alias="production", to_version="v2", kind="alias_update",
...                 chg_id="CHG-2", actor="olga", now_ns=1)
>>> read_alias(store.conn, "m", "production").version
'v2'
>>> rollback_target(store.conn, "m", "production", is_approved=lambda v: True)
'v1'
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from canarykit.promotion.clock import format_instant

__all__ = [
    "ALIAS_KINDS",
    "AliasHistoryEntry",
    "AliasState",
    "alias_history",
    "alias_stack",
    "read_alias",
    "rollback_target",
    "write_alias",
]

ALIAS_KINDS = ("alias_update", "rollback", "revocation")


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasState:
    """Where an alias points now (``version`` None means blocked: nothing may start)."""

    model: str
    alias: str
    version: str | None
    generation: int
    updated_at_ns: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "model": self.model,
            "alias": self.alias,
            "version": self.version,
            "generation": self.generation,
            "updated_at": format_instant(self.updated_at_ns),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasHistoryEntry:
    """One move of an alias."""

    model: str
    alias: str
    from_version: str | None
    to_version: str | None
    kind: str
    chg_id: str | None
    actor: str
    time_ns: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "model": self.model,
            "alias": self.alias,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "kind": self.kind,
            "chg_id": self.chg_id,
            "actor": self.actor,
            "time": format_instant(self.time_ns),
        }


def read_alias(conn: sqlite3.Connection, model: str, alias: str) -> AliasState | None:
    """The alias's current state, or None if it was never set."""
    row = conn.execute(
        "SELECT * FROM aliases WHERE model = ? AND alias = ?", (model, alias)
    ).fetchone()
    if row is None:
        return None
    return AliasState(
        model=row["model"],
        alias=row["alias"],
        version=row["version"],
        generation=row["generation"],
        updated_at_ns=row["updated_at_ns"],
    )


def alias_history(conn: sqlite3.Connection, model: str, alias: str) -> list[AliasHistoryEntry]:
    """Every move of the alias, oldest first."""
    rows = conn.execute(
        "SELECT * FROM alias_history WHERE model = ? AND alias = ? ORDER BY id", (model, alias)
    ).fetchall()
    return [
        AliasHistoryEntry(
            model=r["model"],
            alias=r["alias"],
            from_version=r["from_version"],
            to_version=r["to_version"],
            kind=r["kind"],
            chg_id=r["chg_id"],
            actor=r["actor"],
            time_ns=r["time_ns"],
        )
        for r in rows
    ]


def alias_stack(history: list[AliasHistoryEntry]) -> list[str]:
    """Replay the history as a stack of versions (top = current)."""
    stack: list[str] = []
    for entry in history:
        if entry.kind == "alias_update" and entry.to_version is not None:
            stack.append(entry.to_version)
        elif entry.to_version is None:
            stack = []
        elif entry.to_version in stack:
            del stack[len(stack) - stack[::-1].index(entry.to_version) :]
        else:
            stack.append(entry.to_version)
    return stack


def rollback_target(
    conn: sqlite3.Connection, model: str, alias: str, *, is_approved: Callable[[str], bool]
) -> str | None:
    """The previous Approved version below the current one, or None if none remains."""
    stack = alias_stack(alias_history(conn, model, alias))
    current = stack[-1] if stack else None
    for version in reversed(stack[:-1]):
        if version != current and is_approved(version):
            return version
    return None


def write_alias(
    conn: sqlite3.Connection,
    *,
    model: str,
    alias: str,
    to_version: str | None,
    kind: str,
    chg_id: str | None,
    actor: str,
    now_ns: int,
) -> AliasState:
    """Move the alias (inside the caller's write transaction) and append to its history."""
    current = read_alias(conn, model, alias)
    generation = 1 if current is None else current.generation + 1
    conn.execute(
        "INSERT INTO aliases (model, alias, version, generation, updated_at_ns)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, alias) DO UPDATE SET"
        " version = excluded.version, generation = excluded.generation,"
        " updated_at_ns = excluded.updated_at_ns",
        (model, alias, to_version, generation, now_ns),
    )
    conn.execute(
        "INSERT INTO alias_history (model, alias, from_version, to_version, kind, chg_id, actor,"
        " time_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            model,
            alias,
            None if current is None else current.version,
            to_version,
            kind,
            chg_id,
            actor,
            now_ns,
        ),
    )
    return AliasState(
        model=model, alias=alias, version=to_version, generation=generation, updated_at_ns=now_ns
    )
