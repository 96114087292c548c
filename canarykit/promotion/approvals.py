"""Approvals with identity and role, the roster that says who holds which role, and four-eyes.

An approval is recorded for one model version and the stage it approves entering. The roster
(configured in the registry) lists the roles each person holds; an approval in a role the
person does not hold is refused. Four-eyes itself is decided by the Rego gate; the checks here
refuse the obviously invalid approval at the moment it is given, so the record stays clean.

Examples
--------
>>> roster = Roster.from_dict({"people": {"sam": ["security"], "pat": ["product"]}})
>>> a = Approval(model="m", version="v1", stage="Approved", role="security", actor="sam",
...              time_ns=0, verdict_digest="sha256:" + "0" * 64)
>>> approval_problems(a, submitter="ann", existing=[], roster=roster)
[]
>>> approval_problems(a, submitter="sam", existing=[], roster=roster)
['four-eyes: sam submitted m v1 and cannot approve it']
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from canarykit.promotion.clock import format_instant, parse_instant
from canarykit.promotion.roster import IDENTITY, ROLES, Roster, person_key

__all__ = [
    "APPROVAL_ROLES",
    "IDENTITY",
    "ROLES",
    "Approval",
    "Roster",
    "approval_problems",
    "list_approvals",
    "person_key",
    "record_approval",
]

APPROVAL_ROLES = {"Staging": ("security",), "Approved": ("security", "product")}
"""Which roles may approve entering each gated stage."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """One person's approval, in one role, of a version entering ``stage``.

    Examples
    --------
    >>> a = Approval(model="m", version="v", stage="Approved", role="product", actor="p",
    ...              time_ns=1_000, note="ok")
    >>> Approval.from_dict(a.to_dict()) == a
    True
    """

    model: str
    version: str
    stage: str
    role: str
    actor: str
    time_ns: int
    note: str = ""
    verdict_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (time as ISO 8601 text)."""
        return {
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
            "role": self.role,
            "actor": self.actor,
            "time": format_instant(self.time_ns),
            "note": self.note,
            "verdict_digest": self.verdict_digest,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        """Inverse of :meth:`to_dict`."""
        return cls(
            model=str(data["model"]),
            version=str(data["version"]),
            stage=str(data["stage"]),
            role=str(data["role"]),
            actor=str(data["actor"]),
            time_ns=parse_instant(data["time"], field="time"),
            note=str(data.get("note", "")),
            verdict_digest=data.get("verdict_digest"),
        )


def approval_problems(
    approval: Approval,
    *,
    submitter: str,
    existing: Sequence[Approval],
    roster: Roster | None,
) -> list[str]:
    """Reasons to refuse recording ``approval`` (empty when it may be recorded)."""
    problems: list[str] = []
    who = f"{approval.model} {approval.version}"
    allowed = APPROVAL_ROLES.get(approval.stage)
    if allowed is None:
        problems.append(f"stage: approvals are given for Staging or Approved, not {approval.stage}")
    elif approval.role not in allowed:
        problems.append(
            f"role: {approval.role!r} does not approve entering {approval.stage}"
            f" (roles: {', '.join(allowed)})"
        )
    if approval.stage == "Approved" and not approval.verdict_digest:
        problems.append(
            "verdict: an approval for Approved names the canary verdict it approves"
            " (its digest), so four-eyes covers the evidence"
        )
    if person_key(approval.actor) == person_key(submitter):
        problems.append(f"four-eyes: {approval.actor} submitted {who} and cannot approve it")
    for other in existing:
        if person_key(other.actor) == person_key(approval.actor) and other.role != approval.role:
            problems.append(
                f"four-eyes: {approval.actor} already approved {who} as {other.role};"
                f" one person cannot also approve as {approval.role}"
            )
    if roster is None:
        problems.append(
            "roster: no roster configured, so roles cannot be checked"
            " (canarykit config set-roster FILE)"
        )
    elif approval.role not in roster.roles_of(approval.actor):
        held = ", ".join(roster.roles_of(approval.actor)) or "none"
        problems.append(
            f"roster: {approval.actor} does not hold the {approval.role} role (holds: {held})"
        )
    return problems


def record_approval(conn: sqlite3.Connection, approval: Approval) -> None:
    """Insert one approval (inside a write transaction); a repeat is a no-op."""
    conn.execute(
        "INSERT OR IGNORE INTO approvals (model, version, stage, role, actor, time_ns, note,"
        " verdict_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            approval.model,
            approval.version,
            approval.stage,
            approval.role,
            approval.actor,
            approval.time_ns,
            approval.note,
            approval.verdict_digest or "",
        ),
    )


def list_approvals(
    conn: sqlite3.Connection, model: str, version: str, stage: str | None = None
) -> list[Approval]:
    """Approvals of one version (optionally for one stage), oldest first."""
    rows = conn.execute(
        "SELECT * FROM approvals WHERE model = ? AND version = ? AND (? IS NULL OR stage = ?)"
        " ORDER BY id",
        (model, version, stage, stage),
    ).fetchall()
    return [
        Approval(
            model=r["model"],
            version=r["version"],
            stage=r["stage"],
            role=r["role"],
            actor=r["actor"],
            time_ns=r["time_ns"],
            note=r["note"],
            verdict_digest=r["verdict_digest"] or None,
        )
        for r in rows
    ]
