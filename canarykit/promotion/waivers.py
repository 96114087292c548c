"""Waivers (SCDR): a named, owned, reasoned and expiring exception to one check.

A waiver lifts exactly one named check — an SBOM vulnerability id such as ``CVE-2026-0001``
or a verdict check such as ``latency_p99`` — for one model (optionally one version) until it
expires. Whether a waiver is still valid is decided when a transition happens, against the
injectable clock, by the Rego gate (``expires_ns > now_ns``); an expired waiver covers nothing.

Rules enforced when a waiver is granted: a reason and an owner are required, the expiry lies in
the future and at most :data:`MAX_WAIVER_DAYS` days ahead, and whoever grants it is not the
submitter of the version it names (separation of duties).

Examples
--------
>>> w = Waiver(waiver_id="SCDR-7", model="m", version="v1", check="CVE-2026-0001",
...            reason="not reachable", owner="sec-team", expires_ns=10_000, created_by="sam",
...            created_at_ns=0)
>>> w.is_active(now_ns=9_000), w.is_active(now_ns=10_000)
(True, False)
>>> Waiver.from_dict(w.to_dict()) == w
True
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.approvals import person_key
from canarykit.promotion.clock import format_instant, parse_instant

__all__ = ["MAX_WAIVER_DAYS", "Waiver", "list_waivers", "record_waiver", "waiver_problems"]

MAX_WAIVER_DAYS = 90
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiver:
    """An exception to one named check, valid until ``expires_ns``."""

    waiver_id: str
    model: str
    version: str | None
    check: str
    reason: str
    owner: str
    expires_ns: int
    created_by: str
    created_at_ns: int

    def is_active(self, *, now_ns: int) -> bool:
        """True while the waiver has not expired (expiry instant excluded)."""
        return now_ns < self.expires_ns

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO 8601 text)."""
        return {
            "waiver_id": self.waiver_id,
            "model": self.model,
            "version": self.version,
            "check": self.check,
            "reason": self.reason,
            "owner": self.owner,
            "expires": format_instant(self.expires_ns),
            "created_by": self.created_by,
            "created_at": format_instant(self.created_at_ns),
        }

    def gate_input(self) -> dict[str, Any]:
        """The Rego input form (times as integer nanoseconds)."""
        return {
            "id": self.waiver_id,
            "check": self.check,
            "version": self.version,
            "expires_ns": self.expires_ns,
            "created_by": person_key(self.created_by),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Waiver:
        """Inverse of :meth:`to_dict`."""
        return cls(
            waiver_id=str(data["waiver_id"]),
            model=str(data["model"]),
            version=None if data.get("version") is None else str(data["version"]),
            check=str(data["check"]),
            reason=str(data["reason"]),
            owner=str(data["owner"]),
            expires_ns=parse_instant(data["expires"], field="expires"),
            created_by=str(data["created_by"]),
            created_at_ns=parse_instant(data["created_at"], field="created_at"),
        )


def waiver_problems(waiver: Waiver, *, submitter: str | None) -> list[str]:
    """Reasons to refuse granting ``waiver`` (empty when it may be granted)."""
    problems: list[str] = []
    if not _ID.fullmatch(waiver.waiver_id):
        problems.append(f"waiver_id: {waiver.waiver_id!r} must match {_ID.pattern}")
    if not waiver.check.strip():
        problems.append("check: name the one check the waiver lifts")
    if not waiver.reason.strip():
        problems.append("reason: required")
    if not waiver.owner.strip():
        problems.append("owner: required")
    if waiver.expires_ns <= waiver.created_at_ns:
        problems.append(
            f"expires: {format_instant(waiver.expires_ns)} is not after now"
            f" ({format_instant(waiver.created_at_ns)})"
        )
    elif waiver.expires_ns - waiver.created_at_ns > MAX_WAIVER_DAYS * _DAY_NS:
        problems.append(f"expires: more than {MAX_WAIVER_DAYS} days ahead")
    if submitter is not None and person_key(waiver.created_by) == person_key(submitter):
        problems.append(
            f"separation of duties: {waiver.created_by} submitted {waiver.model}"
            f" {waiver.version} and cannot waive its checks"
        )
    return problems


def record_waiver(conn: sqlite3.Connection, waiver: Waiver) -> None:
    """Insert a waiver (inside a write transaction).

    Raises
    ------
    InvalidInputError
        If a waiver with the same id exists (waivers are never overwritten).
    """
    try:
        conn.execute(
            "INSERT INTO waivers (waiver_id, model, version, check_name, reason, owner,"
            " expires_ns, created_by, created_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                waiver.waiver_id,
                waiver.model,
                waiver.version,
                waiver.check,
                waiver.reason,
                waiver.owner,
                waiver.expires_ns,
                waiver.created_by,
                waiver.created_at_ns,
            ),
        )
    except sqlite3.IntegrityError:
        raise InvalidInputError(f"waiver_id: {waiver.waiver_id} already exists") from None


def list_waivers(conn: sqlite3.Connection, model: str, version: str | None = None) -> list[Waiver]:
    """Waivers of ``model`` that apply to ``version`` (its own and model-wide), oldest first."""
    rows = conn.execute(
        "SELECT * FROM waivers WHERE model = ? AND (version IS NULL OR ? IS NULL OR version = ?)"
        " ORDER BY created_at_ns, waiver_id",
        (model, version, version),
    ).fetchall()
    return [
        Waiver(
            waiver_id=r["waiver_id"],
            model=r["model"],
            version=r["version"],
            check=r["check_name"],
            reason=r["reason"],
            owner=r["owner"],
            expires_ns=r["expires_ns"],
            created_by=r["created_by"],
            created_at_ns=r["created_at_ns"],
        )
        for r in rows
    ]
