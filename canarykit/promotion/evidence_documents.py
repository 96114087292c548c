"""Evidence documents and VEX approvals as records: their rows, and reading a decision record.

An :class:`EvidenceDocument` is a model card or a decision record (ADR/SCDR) recorded for one
version (its file name, digest, the verdict a card names, the id a decision record carries); a
:class:`VexApproval` is a security approver's approval of one VEX statement of an SBOM. Both are
rows of the registry (``evidence_documents``, ``vex_approvals``) written with their audit
event by :class:`~canarykit.promotion.evidence_records.EvidenceRecords`; what the gates make of
them is :mod:`~canarykit.promotion.evidence_facts`.

Examples
--------
>>> DOCUMENT_KINDS
('model_card', 'decision_record')
>>> from canarykit.promotion.registry import RegistryStore
>>> conn = RegistryStore(":memory:").conn
>>> list_documents(conn, "m", "v1"), list_vex_approvals(conn, "m", "v1")
([], [])
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import canonical_json
from canarykit.promotion.clock import format_instant
from canarykit.promotion.documents import decode_text
from canarykit.promotion.evidence import digest_bytes

__all__ = [
    "DOCUMENT_KINDS",
    "MAX_DECISION_RECORD_BYTES",
    "EvidenceDocument",
    "VexApproval",
    "decision_reference",
    "list_documents",
    "list_vex_approvals",
    "read_decision_record",
    "record_document",
    "record_vex_approval",
]


DOCUMENT_KINDS = ("model_card", "decision_record")


MAX_DECISION_RECORD_BYTES = 1 << 20


_REFERENCE = re.compile(r"\b(?:ADR|SCDR)-[0-9]+(?:[.-][0-9]+)*")


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceDocument:
    """One evidence file recorded for a version: a model card or a decision record.

    ``verdict_digest`` and ``metrics`` are a model card's (the verdict it describes and its
    performance metrics); ``reference`` is a decision record's id (``ADR-12``, ``SCDR-4``).
    """

    model: str
    version: str
    kind: str
    name: str
    digest: str
    actor: str
    time_ns: int
    verdict_digest: str | None = None
    reference: str | None = None
    metrics: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (time as ISO 8601 text; the metrics are counted, not listed)."""
        return {
            "model": self.model,
            "version": self.version,
            "kind": self.kind,
            "name": self.name,
            "digest": self.digest,
            "verdict_digest": self.verdict_digest,
            "reference": self.reference,
            "metrics": len(self.metrics),
            "actor": self.actor,
            "time": format_instant(self.time_ns),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VexApproval:
    """A security approver's approval of one VEX statement (vulnerability entry) of an SBOM."""

    model: str
    version: str
    vulnerability: str
    state: str
    statement_digest: str
    sbom_digest: str
    actor: str
    time_ns: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (time as ISO 8601 text)."""
        return {
            "model": self.model,
            "version": self.version,
            "vulnerability": self.vulnerability,
            "state": self.state,
            "statement_digest": self.statement_digest,
            "sbom_digest": self.sbom_digest,
            "actor": self.actor,
            "time": format_instant(self.time_ns),
            "note": self.note,
        }


# -- storage ----------------------------------------------------------------------------------
def record_document(conn: sqlite3.Connection, document: EvidenceDocument) -> None:
    """Insert one evidence document (inside a write transaction)."""
    conn.execute(
        "INSERT INTO evidence_documents (model, version, kind, name, digest, verdict_digest,"
        " reference, metrics_json, actor, time_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            document.model,
            document.version,
            document.kind,
            document.name,
            document.digest,
            document.verdict_digest,
            document.reference,
            canonical_json(list(document.metrics)),
            document.actor,
            document.time_ns,
        ),
    )


def list_documents(
    conn: sqlite3.Connection, model: str, version: str, kind: str | None = None
) -> list[EvidenceDocument]:
    """Evidence documents of one version (optionally of one kind), oldest first."""
    rows = conn.execute(
        "SELECT * FROM evidence_documents WHERE model = ? AND version = ?"
        " AND (? IS NULL OR kind = ?) ORDER BY id",
        (model, version, kind, kind),
    ).fetchall()
    return [
        EvidenceDocument(
            model=r["model"],
            version=r["version"],
            kind=r["kind"],
            name=r["name"],
            digest=r["digest"],
            actor=r["actor"],
            time_ns=r["time_ns"],
            verdict_digest=r["verdict_digest"],
            reference=r["reference"],
            metrics=tuple(json.loads(r["metrics_json"])),
        )
        for r in rows
    ]


def record_vex_approval(conn: sqlite3.Connection, approval: VexApproval) -> None:
    """Insert one VEX approval (inside a write transaction); a repeat is a no-op."""
    conn.execute(
        "INSERT OR IGNORE INTO vex_approvals (model, version, vulnerability, state,"
        " statement_digest, sbom_digest, actor, time_ns, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            approval.model,
            approval.version,
            approval.vulnerability,
            approval.state,
            approval.statement_digest,
            approval.sbom_digest,
            approval.actor,
            approval.time_ns,
            approval.note,
        ),
    )


def list_vex_approvals(conn: sqlite3.Connection, model: str, version: str) -> list[VexApproval]:
    """VEX approvals of one version, oldest first."""
    rows = conn.execute(
        "SELECT * FROM vex_approvals WHERE model = ? AND version = ? ORDER BY id", (model, version)
    ).fetchall()
    return [
        VexApproval(
            model=r["model"],
            version=r["version"],
            vulnerability=r["vulnerability"],
            state=r["state"],
            statement_digest=r["statement_digest"],
            sbom_digest=r["sbom_digest"],
            actor=r["actor"],
            time_ns=r["time_ns"],
            note=r["note"],
        )
        for r in rows
    ]


# -- reading the files ------------------------------------------------------------------------
def decision_reference(name: str, text: str) -> str | None:
    """The ``ADR-<n>``/``SCDR-<n>`` id of a decision record: from its file name, else its text.

    Examples
    --------
    >>> decision_reference("record.md", "# SCDR-12: accept CVE-2026-1 until March")
    'SCDR-12'
    >>> decision_reference("notes.md", "no id here") is None
    True
    """
    found = _REFERENCE.search(name) or _REFERENCE.search(text[:4096])
    return found.group(0) if found else None


def read_decision_record(path: str | Path) -> tuple[str, str, str]:
    """``(file name, digest, id)`` of a decision record file (ADR or SCDR).

    Raises
    ------
    InvalidInputError
        The file cannot be read, is empty, larger than 1 MiB, not UTF-8 text, or names no
        ``ADR-…``/``SCDR-…`` id in its file name or its first 4 KiB.
    """
    where = f"{path}: decision record"
    try:
        with open(path, "rb") as handle:  # never more than the limit (and one byte) is read
            data = handle.read(MAX_DECISION_RECORD_BYTES + 1)
    except OSError as err:
        raise InvalidInputError(f"{where}: cannot read ({err.strerror})") from None
    if not data.strip():
        raise InvalidInputError(f"{where}: is empty")
    if len(data) > MAX_DECISION_RECORD_BYTES:
        raise InvalidInputError(f"{where}: is larger than 1 MiB (link large documents instead)")
    text = decode_text(data, where=where)
    reference = decision_reference(Path(path).name, text)
    if reference is None:
        raise InvalidInputError(
            f"{where}: names no ADR-… or SCDR-… id (in its file name or first heading),"
            " so the release cannot point to the decision"
        )
    return Path(path).name, digest_bytes(data), reference
