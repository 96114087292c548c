"""Model versions in the registry: who submitted which artifact, and where it stands.

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> with store.transaction() as conn:
...     insert_version(conn, model="m", version="v1", artifact_digest="sha256:" + "0" * 64,
...                    submitter="ann", now_ns=0)
>>> record = get_version(store.conn, "m", "v1")
>>> record.stage, record.submitter
('Candidate', 'ann')
>>> VersionRecord.from_dict(record.to_dict()) == record
True
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import canonical_json
from canarykit.promotion.clock import format_instant, parse_instant
from canarykit.promotion.states import Stage

__all__ = [
    "RESERVED_NAME",
    "VersionRecord",
    "get_version",
    "insert_version",
    "list_versions",
    "update_version",
    "validate_name",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
#: The name that means "no version" (compared case-insensitively); no model, version or alias
#: may be called that.
RESERVED_NAME = "none"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def validate_name(value: str, field_name: str) -> str:
    """Check a model, version or alias name.

    A name is 1-128 letters, digits or ``._+-``, starting with a letter or digit (so no spaces
    or control characters), and not the reserved word ``none`` in any case: ``none`` means "no
    version" — ``alias set --expect none``, and the trace contract reserves it (DESIGN.md §3).

    Examples
    --------
    >>> validate_name("risk-default", "model")
    'risk-default'
    >>> validate_name("None", "version")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: version: 'None' is reserved (none means "no version"); ...
    """
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInputError(
            f"{field_name}: {value!r} must be 1-128 letters, digits or ._+- (starting alphanumeric)"
        )
    if value.casefold() == RESERVED_NAME:
        raise InvalidInputError(
            f'{field_name}: {value!r} is reserved (none means "no version"); choose another name'
        )
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRecord:
    """One model version and everything its gates bound to it."""

    model: str
    version: str
    artifact_digest: str
    submitter: str
    submitted_at_ns: int
    stage: str
    updated_at_ns: int
    stage_before_revocation: str | None = None
    policy_digest: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    verdict: Mapping[str, Any] | None = None
    revalidate_by_ns: int | None = None
    guardrails: tuple[str, ...] = ()

    @property
    def revoked(self) -> bool:
        """True once the version has been revoked."""
        return self.stage == Stage.REVOKED.value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO 8601 text)."""
        return {
            "model": self.model,
            "version": self.version,
            "artifact_digest": self.artifact_digest,
            "submitter": self.submitter,
            "submitted_at": format_instant(self.submitted_at_ns),
            "stage": self.stage,
            "stage_before_revocation": self.stage_before_revocation,
            "updated_at": format_instant(self.updated_at_ns),
            "policy_digest": self.policy_digest,
            "evidence": dict(self.evidence),
            "verdict": None if self.verdict is None else dict(self.verdict),
            "revalidate_by": None
            if self.revalidate_by_ns is None
            else format_instant(self.revalidate_by_ns),
            "guardrails": list(self.guardrails),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VersionRecord:
        """Inverse of :meth:`to_dict`."""
        revalidate = data.get("revalidate_by")
        return cls(
            model=str(data["model"]),
            version=str(data["version"]),
            artifact_digest=str(data["artifact_digest"]),
            submitter=str(data["submitter"]),
            submitted_at_ns=parse_instant(data["submitted_at"], field="submitted_at"),
            stage=str(data["stage"]),
            stage_before_revocation=data.get("stage_before_revocation"),
            updated_at_ns=parse_instant(data["updated_at"], field="updated_at"),
            policy_digest=data.get("policy_digest"),
            evidence=dict(data.get("evidence") or {}),
            verdict=None if data.get("verdict") is None else dict(data["verdict"]),
            revalidate_by_ns=None if revalidate is None else parse_instant(revalidate),
            guardrails=tuple(data.get("guardrails") or ()),
        )


def _record(row: sqlite3.Row) -> VersionRecord:
    return VersionRecord(
        model=row["model"],
        version=row["version"],
        artifact_digest=row["artifact_digest"],
        submitter=row["submitter"],
        submitted_at_ns=row["submitted_at_ns"],
        stage=row["stage"],
        stage_before_revocation=row["stage_before_revocation"],
        updated_at_ns=row["updated_at_ns"],
        policy_digest=row["policy_digest"],
        evidence=json.loads(row["evidence_json"]) if row["evidence_json"] else {},
        verdict=json.loads(row["verdict_json"]) if row["verdict_json"] else None,
        revalidate_by_ns=row["revalidate_by_ns"],
        guardrails=tuple(json.loads(row["guardrails_json"]) if row["guardrails_json"] else ()),
    )


def insert_version(
    conn: sqlite3.Connection,
    *,
    model: str,
    version: str,
    artifact_digest: str,
    submitter: str,
    now_ns: int,
) -> None:
    """Register a new version as Candidate (inside a write transaction).

    Raises
    ------
    InvalidInputError
        If a name or the digest is malformed, or the version already exists.
    """
    validate_name(model, "model")
    validate_name(version, "version")
    if not _DIGEST.fullmatch(artifact_digest):
        raise InvalidInputError(f"artifact_digest: {artifact_digest!r} must be sha256:<64 hex>")
    try:
        conn.execute(
            "INSERT INTO versions (model, version, artifact_digest, submitter, submitted_at_ns,"
            " stage, updated_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (model, version, artifact_digest, submitter, now_ns, Stage.CANDIDATE.value, now_ns),
        )
    except sqlite3.IntegrityError:
        raise InvalidInputError(
            f"version: {model} {version} is already registered (versions are immutable;"
            " submit a new version)"
        ) from None


def get_version(conn: sqlite3.Connection, model: str, version: str) -> VersionRecord:
    """The version's record.

    Raises
    ------
    InvalidInputError
        If the model has no such version.
    """
    row = conn.execute(
        "SELECT * FROM versions WHERE model = ? AND version = ?", (model, version)
    ).fetchone()
    if row is None:
        raise InvalidInputError(f"version: {model} {version} is not registered (submit it first)")
    return _record(row)


def list_versions(conn: sqlite3.Connection, model: str | None = None) -> list[VersionRecord]:
    """Versions (of one model or all), in submission order."""
    rows = conn.execute(
        "SELECT * FROM versions WHERE (? IS NULL OR model = ?) ORDER BY submitted_at_ns, rowid",
        (model, model),
    ).fetchall()
    return [_record(row) for row in rows]


def update_version(
    conn: sqlite3.Connection,
    record: VersionRecord,
    *,
    stage: str,
    now_ns: int,
    policy_digest: str | None = None,
    evidence: Mapping[str, Any] | None = None,
    verdict: Mapping[str, Any] | None = None,
    revalidate_by_ns: int | None = None,
    guardrails: Sequence[str] | None = None,
) -> None:
    """Move a version to ``stage`` and store what its gate bound (only from its current stage)."""
    cursor = conn.execute(
        "UPDATE versions SET stage = ?, updated_at_ns = ?,"
        " stage_before_revocation = CASE WHEN ? = 'Revoked' THEN stage"
        "   ELSE stage_before_revocation END,"
        " policy_digest = COALESCE(?, policy_digest),"
        " evidence_json = COALESCE(?, evidence_json),"
        " verdict_json = COALESCE(?, verdict_json),"
        " revalidate_by_ns = COALESCE(?, revalidate_by_ns),"
        " guardrails_json = COALESCE(?, guardrails_json)"
        " WHERE model = ? AND version = ? AND stage = ?",
        (
            stage,
            now_ns,
            stage,
            policy_digest,
            None if evidence is None else canonical_json(dict(evidence)),
            None if verdict is None else canonical_json(dict(verdict)),
            revalidate_by_ns,
            None if guardrails is None else canonical_json(list(guardrails)),
            record.model,
            record.version,
            record.stage,
        ),
    )
    if cursor.rowcount != 1:
        raise InvalidInputError(
            f"version: {record.model} {record.version} changed stage concurrently; retry"
        )
