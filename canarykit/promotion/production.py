"""Production actions: the alias (compare-and-set), rollback, revocation, the startup check.

Aliases and rollback are :class:`~canarykit.promotion.alias_actions.AliasActions`, the startup
check :class:`~canarykit.promotion.startup_actions.StartupActions`; revocation, which moves
every alias on the revoked version, is here.

Examples
--------
>>> p = Production(":memory:")
>>> p.show_alias("risk-default") is None
True
>>> p.check_startup("risk-default", policy_digest="sha256:" + "0" * 64,
...                 no_artifact_check=True).exit_code
10
"""

from __future__ import annotations

import sqlite3
from typing import Any

from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.alias import rollback_target
from canarykit.promotion.alias_actions import AliasActions, _move_alias
from canarykit.promotion.audit import append_event
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.results import AliasAction, RevocationResult
from canarykit.promotion.session import check_actor
from canarykit.promotion.startup_actions import StartupActions
from canarykit.promotion.states import Stage, check_transition
from canarykit.promotion.versions import get_version, update_version

__all__ = ["Production"]

_REVOKER_ROLES = ("security", "operations", "executive")


class Production(AliasActions, StartupActions):
    """Aliases, rollback, revocation and the startup check (see :class:`Session`)."""

    # -- revocation ---------------------------------------------------------------------------
    def revoke(
        self,
        model: str,
        version: str,
        *,
        actor: str,
        reason: str,
        chg_id: str | None = None,
        key: Any = None,
    ) -> RevocationResult:
        """Revoke a version; every alias on it rolls back, or is blocked if none remains.

        Revocation is a safety action: it is not held back by change windows or freezes, but the
        revoker must hold the security, operations or executive role, give a reason and sign
        the act with ``key`` (:mod:`~canarykit.promotion.acts`).
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        action = f"revoke {model} {version}"
        if not reason.strip():
            raise InvalidInputError("reason: a revocation needs a reason")

        def body(conn: sqlite3.Connection, now: int) -> RevocationResult:
            record = get_version(conn, model, version)
            self._require_roles(conn, actor, _REVOKER_ROLES, action)
            try:
                check_transition(record.stage, Stage.REVOKED)
            except GateDeniedError as err:
                raise GateDenial(action, [str(err)]) from None
            act = acts.authorize(
                conn,
                action=action,
                kind="revoke",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                model=model,
                version=version,
                reason=reason,
                chg_id=chg_id,
            )
            update_version(conn, record, stage=Stage.REVOKED.value, now_ns=now)
            actions = []
            rows = conn.execute(
                "SELECT alias FROM aliases WHERE model = ? AND version = ? ORDER BY alias",
                (model, version),
            ).fetchall()
            for (alias,) in rows:
                after = rollback_target(
                    conn, model, alias, is_approved=self._is_live_approved(conn, model)
                )
                moved = AliasAction(
                    alias=alias,
                    before=version,
                    after=after,
                    action="rolled_back" if after else "blocked",
                )
                actions.append(moved)
                _move_alias(
                    conn,
                    model=model,
                    alias=alias,
                    from_version=version,
                    to_version=after,
                    kind="revocation",
                    event_kind="rollback" if after else "alias_update",
                    chg_id=chg_id,
                    actor=actor,
                    now=now,
                    details={"cause": "revocation", "message": moved.message},
                )
            result = RevocationResult(
                model=model, version=version, previous_stage=record.stage, aliases=tuple(actions)
            )
            append_event(
                conn,
                kind="revocation",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                chg_id=chg_id,
                payload={"reason": reason, **result.to_dict(), "act": act},
            )
            return result

        return self._run(
            action=action, actor=actor, body=body, model=model, version=version, chg_id=chg_id
        )
