"""The facts of the two promotion gates, gathered from the registry and the evidence supplied.

Examples
--------
>>> sorted(staging_evidence(digest="sha256:" + "0" * 64, signatures=[], attestation=None,
...                         sbom=None, trust=None))
['attestation', 'sbom', 'signature']
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from canarykit.promotion import facts as F
from canarykit.promotion.approvals import Approval, list_approvals, person_key
from canarykit.promotion.evidence import (
    TrustStore,
    load_json_file,
    load_signature_file,
    verify_dsse,
    verify_signatures,
)
from canarykit.promotion.evidence_records import approved_documents_facts, vex_facts
from canarykit.promotion.sbom import evaluate_sbom
from canarykit.promotion.verdicts import gate_facts
from canarykit.promotion.versions import VersionRecord
from canarykit.promotion.waivers import list_waivers

__all__ = ["approved_facts", "load_signatures", "staging_evidence", "staging_facts"]


def _approval_facts(approval: Approval) -> dict[str, Any]:
    """An approval as the gates see it: the approver's name compared as a person key."""
    return {**approval.to_dict(), "actor": person_key(approval.actor)}


def load_signatures(source: Any) -> list[dict[str, Any]]:
    """Signatures from a signature file path, a list of dicts, or None (none supplied)."""
    if source is None:
        return []
    if isinstance(source, (str, Path)):
        return load_signature_file(source)
    if isinstance(source, Mapping):
        source = source.get("signatures", [source])
    return [dict(s) for s in source]


def staging_evidence(
    *,
    digest: str,
    signatures: Sequence[Mapping[str, Any]],
    attestation: Any,
    sbom: Any,
    trust: TrustStore | None,
) -> dict[str, Any]:
    """Verify signatures, attestation and SBOM for ``digest`` (Rego input form)."""
    if isinstance(attestation, (str, Path)):
        attestation = load_json_file(attestation, what="DSSE envelope")
    if isinstance(sbom, (str, Path)):
        sbom = load_json_file(sbom, what="CycloneDX SBOM")
    return {
        "signature": verify_signatures(digest, signatures, trust).to_dict(),
        "attestation": verify_dsse(attestation, digest, trust).to_dict(),
        "sbom": evaluate_sbom(sbom).to_dict(),
    }


def staging_facts(
    conn: sqlite3.Connection,
    base: Mapping[str, Any],
    record: VersionRecord,
    *,
    policy_digest: str,
    evidence: Mapping[str, Any],
) -> dict[str, Any]:
    """Rego input of the Candidate → Staging gate."""
    return {
        **base,
        "from_stage": record.stage,
        "to_stage": "Staging",
        "version": F.version_facts(record),
        "policy_digest": policy_digest,
        **evidence,
        "approvals": [
            _approval_facts(a) for a in list_approvals(conn, record.model, record.version)
        ],
        "waivers": [w.gate_input() for w in list_waivers(conn, record.model, record.version)],
        "vex_approvals": vex_facts(conn, record),
    }


def approved_facts(
    conn: sqlite3.Connection,
    base: Mapping[str, Any],
    record: VersionRecord,
    *,
    verdict: Mapping[str, Any] | None,
    revalidate_by_ns: int | None,
    guardrails: Sequence[str],
    chg_id: str | None,
) -> dict[str, Any]:
    """Rego input of the Staging → Approved gate (including the change gate's facts)."""
    return {
        **base,
        "from_stage": record.stage,
        "to_stage": "Approved",
        "version": F.version_facts(record),
        "verdict": gate_facts(verdict),
        "approvals": [
            _approval_facts(a)
            for a in list_approvals(conn, record.model, record.version, "Approved")
        ],
        "waivers": [w.gate_input() for w in list_waivers(conn, record.model, record.version)],
        "revalidate_by_ns": revalidate_by_ns,
        "guardrails": list(guardrails),
        "change": F.change_facts(conn, chg_id),
        "calendar": F.calendar_facts(conn, now_ns=int(base["now_ns"])),
        "target": {"model": record.model, "version": record.version, "purpose": "new_version"},
        "documents": approved_documents_facts(conn, record, verdict),
    }
