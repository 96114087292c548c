"""Alias actions: pointing an alias at an Approved version (compare-and-set) and rolling it back.

An alias moves only through :func:`_move_alias`, which writes it and appends its audit event in
the same transaction. :class:`~canarykit.promotion.production.Production` has these methods.

Examples
--------
>>> AliasActions(":memory:").show_alias("risk-default") is None
True
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from canarykit.promotion import facts as F
from canarykit.promotion import transitions
from canarykit.promotion.alias import (
    AliasHistoryEntry,
    AliasState,
    alias_history,
    read_alias,
    rollback_target,
    write_alias,
)
from canarykit.promotion.approvals import ROLES
from canarykit.promotion.audit import append_event
from canarykit.promotion.changes import is_backout
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.session import DEFAULT_ALIAS, Session, check_actor
from canarykit.promotion.states import Stage
from canarykit.promotion.versions import VersionRecord, get_version, validate_name

__all__ = ["AliasActions"]


class AliasActions(Session):
    """Aliases and rollback (see :class:`Session`)."""

    def _alias_facts(
        self,
        conn: sqlite3.Connection,
        now: int,
        actor: str,
        *,
        model: str,
        alias: str,
        target: VersionRecord,
        expected: str | None,
        current: str | None,
        purpose: str,
        chg_id: str | None,
        backout: bool = False,
    ) -> dict[str, Any]:
        change, use = transitions.change_input(
            conn, chg_id, purpose=purpose, record=target, alias=alias, backout=backout
        )
        return {
            **self._base_facts(conn, now, actor),
            "alias": alias,
            "version": F.version_facts(target, conn),
            "target": {**F.version_facts(target, conn), **use},
            "cas": {"checked": True, "expected": expected, "current": current},
            "change": change,
            "calendar": F.calendar_facts(conn, now_ns=now),
        }

    def set_alias(
        self,
        model: str,
        version: str,
        *,
        expected: str | None,
        actor: str,
        chg_id: str | None,
        alias: str = DEFAULT_ALIAS,
    ) -> AliasState:
        """Point ``alias`` at an Approved version if it still points at ``expected``.

        ``expected`` is the version the caller last read (None when the alias was never set);
        if another writer moved the alias since, the compare-and-set fails and nothing changes.
        """
        actor = check_actor(actor)
        validate_name(alias, "alias")
        action = f"alias set {model} {alias} → {version}"

        def body(conn: sqlite3.Connection, now: int) -> AliasState:
            target = get_version(conn, model, version)
            self._require_roles(conn, actor, ROLES, action)
            state = read_alias(conn, model, alias)
            current = None if state is None else state.version
            self._gate(
                "alias",
                action,
                self._alias_facts(
                    conn,
                    now,
                    actor,
                    model=model,
                    alias=alias,
                    target=target,
                    expected=expected,
                    current=current,
                    purpose="alias_existing",
                    chg_id=chg_id,
                ),
            )
            return _move_alias(
                conn,
                model=model,
                alias=alias,
                from_version=current,
                to_version=version,
                kind="alias_update",
                chg_id=chg_id,
                actor=actor,
                now=now,
            )

        return self._run(
            action=action, actor=actor, body=body, model=model, version=version, chg_id=chg_id
        )

    def show_alias(self, model: str, alias: str = DEFAULT_ALIAS) -> AliasState | None:
        """Where the alias points (None if never set; ``version`` None when blocked)."""
        return read_alias(self.store.conn, model, alias)

    def alias_history(self, model: str, alias: str = DEFAULT_ALIAS) -> list[AliasHistoryEntry]:
        """Every move of the alias, oldest first."""
        return alias_history(self.store.conn, model, alias)

    def _is_live_approved(self, conn: sqlite3.Connection, model: str) -> Callable[[str], bool]:
        def check(version: str) -> bool:
            return get_version(conn, model, version).stage == Stage.APPROVED.value

        return check

    def rollback(
        self,
        model: str,
        *,
        actor: str,
        chg_id: str | None,
        alias: str = DEFAULT_ALIAS,
        expected: str | None = None,
    ) -> AliasState:
        """Move the alias back to the previous Approved version in its history.

        A rollback is always a compare-and-set: ``expected`` is the version the caller believes
        is current (default: the one read now, before the write); inside the transaction the
        alias must still point there, so two identical rollbacks at once move it once and the
        second is denied. Under the ticket whose alias move it undoes (its backout plan), the
        rollback is a pre-approved backout: it may run during a freeze
        (:mod:`~canarykit.promotion.changes`). A ticket rolls an alias back once.
        """
        actor = check_actor(actor)
        action = f"rollback {model} {alias}"
        if expected is None:  # what the caller sees now; re-checked inside the transaction
            read = read_alias(self.store.conn, model, alias)
            expected = None if read is None else read.version

        def body(conn: sqlite3.Connection, now: int) -> AliasState:
            self._require_roles(conn, actor, ROLES, action)
            state = read_alias(conn, model, alias)
            current = None if state is None else state.version
            if current != expected:
                raise GateDenial(
                    action,
                    [
                        f"compare-and-set: {alias} is {current}, not the expected {expected}:"
                        " it moved since it was read (rolled back already?); re-read it"
                        f" (canarykit alias show {model}) and retry if still needed"
                    ],
                )
            target_version = rollback_target(
                conn, model, alias, is_approved=self._is_live_approved(conn, model)
            )
            if target_version is None:
                raise GateDenial(
                    action,
                    [
                        f"rollback: {alias} has no previous Approved, unrevoked"
                        f" version in its history (current: {current})"
                    ],
                )
            target = get_version(conn, model, target_version)
            self._gate(
                "alias",
                action,
                self._alias_facts(
                    conn,
                    now,
                    actor,
                    model=model,
                    alias=alias,
                    target=target,
                    expected=expected,
                    current=current,
                    purpose="rollback",
                    chg_id=chg_id,
                    backout=is_backout(
                        conn, model=model, alias=alias, chg_id=chg_id, target=target_version
                    ),
                ),
            )
            return _move_alias(
                conn,
                model=model,
                alias=alias,
                from_version=current,
                to_version=target_version,
                kind="rollback",
                chg_id=chg_id,
                actor=actor,
                now=now,
            )

        return self._run(action=action, actor=actor, body=body, model=model, chg_id=chg_id)


def _move_alias(
    conn: sqlite3.Connection,
    *,
    model: str,
    alias: str,
    from_version: str | None,
    to_version: str | None,
    kind: str,
    chg_id: str | None,
    actor: str,
    now: int,
    event_kind: str | None = None,
    details: dict[str, Any] | None = None,
) -> AliasState:
    """Write the alias and append its audit event (same transaction): the one way an alias moves.

    The event payload records ``alias``, ``from`` and ``to``, then either ``details`` (a
    revocation's cause and message) or the alias's new ``generation``.
    """
    new = write_alias(
        conn,
        model=model,
        alias=alias,
        to_version=to_version,
        kind=kind,
        chg_id=chg_id,
        actor=actor,
        now_ns=now,
    )
    payload: dict[str, Any] = {"alias": alias, "from": from_version, "to": to_version}
    payload.update(details if details is not None else {"generation": new.generation})
    append_event(
        conn,
        kind=event_kind or kind,
        actor=actor,
        time_ns=now,
        model=model,
        version=to_version,
        chg_id=chg_id,
        payload=payload,
    )
    return new
