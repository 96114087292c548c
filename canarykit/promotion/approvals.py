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

import re
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.clock import format_instant, parse_instant

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

ROLES = ("security", "product", "operations", "executive")
APPROVAL_ROLES = {"Staging": ("security",), "Approved": ("security", "product")}
"""Which roles may approve entering each gated stage."""


#: An identity, as ``--actor`` names it and the roster lists it (after :func:`person_key`).
IDENTITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def person_key(name: str) -> str:
    """How the names of people are compared: Unicode NFKC, then case folding.

    Two names with the same key are the same person everywhere — on the roster, in four-eyes
    and separation-of-duties checks (DESIGN.md §10).

    Examples
    --------
    >>> person_key("Ann") == person_key("ann") == person_key("\uff41\uff4e\uff4e")  # full-width
    True
    """
    return unicodedata.normalize("NFKC", name).casefold()


def _roster_name(name: Any, where: str, errors: list[str]) -> str | None:
    """The key of a roster name, or None (with the reason appended to ``errors``)."""
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{where}: {name!r} is not a name (every person needs a non-empty name)")
        return None
    key = person_key(name)
    if not IDENTITY.fullmatch(key):
        errors.append(
            f"{where}: {name!r} is not an identity (1-128 letters, digits or ._@+-, as --actor"
            " names people)"
        )
        return None
    return key


@dataclass(frozen=True, slots=True, kw_only=True)
class Roster:
    """Who holds which role (``people: {name: [roles]}``), keyed by :func:`person_key`.

    Every name must be a non-empty identity (what ``--actor`` accepts), and two names that are
    the same person after Unicode NFKC and case folding (``Ann``, ``ann``) are refused as a
    duplicate: the roster could otherwise give one person two sets of roles.

    Examples
    --------
    >>> Roster.from_dict({"people": {"a": ["boss"]}})
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: roster: people.a[0]: 'boss' is not a role (security, ...)
    >>> Roster.from_dict({"people": {"Ann": ["product"], "ann": ["security"]}})
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: roster: people: 'Ann' and 'ann' are the same person ...
    >>> Roster.from_dict({"people": {"Ann": ["product"]}}).roles_of("ANN")
    ('product',)
    """

    people: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "roster") -> Roster:
        """Validate a roster document, collecting every field error."""
        people = data.get("people") if isinstance(data, Mapping) else None
        if not isinstance(people, Mapping) or not people:
            raise InvalidInputError(f"{source}: people: must be a non-empty mapping name → roles")
        errors: list[str] = []
        result: dict[str, tuple[str, ...]] = {}
        written: dict[str, str] = {}
        for name, roles in people.items():
            key = _roster_name(name, "people", errors)
            if key is None:
                continue
            if key in written:
                errors.append(
                    f"people: {written[key]!r} and {name!r} are the same person (names are"
                    " compared after Unicode NFKC and case folding)"
                )
                continue
            written[key] = name
            if not isinstance(roles, list) or not roles:
                errors.append(f"people.{name}: must be a non-empty list of roles")
                continue
            for index, role in enumerate(roles):
                if role not in ROLES:
                    errors.append(
                        f"people.{name}[{index}]: {role!r} is not a role ({', '.join(ROLES)})"
                    )
            result[key] = tuple(sorted(str(r) for r in roles))
        if errors:
            raise InvalidInputError(f"{source}: " + "; ".join(errors))
        return cls(people=result)

    def roles_of(self, actor: str) -> tuple[str, ...]:
        """Roles held by ``actor`` (empty when not on the roster); names as :func:`person_key`."""
        return self.people.get(person_key(actor), ())

    def to_dict(self) -> dict[str, Any]:
        """The roster document (names as their :func:`person_key`)."""
        return {"people": {k: list(v) for k, v in sorted(self.people.items())}}


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
