"""What a release manifest says: the version, its canary, approvals, tickets, waivers, links.

The manifest is built inside the release's transaction from what the registry records (counted
events: approvals, change tickets, waivers), the verdict the version was approved with, the
rollback target of the alias, the policy snapshot released, the audit checkpoint the release
is made at (:func:`audit_checkpoint`) and the evidence documents it links
(:func:`evidence_links`). :mod:`~canarykit.promotion.release` signs and writes it; its on-disk
form is :mod:`~canarykit.promotion.release_format`.

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> conn = RegistryStore(":memory:").conn
>>> evidence_links(conn, "m", "v1"), audit_checkpoint(conn)["kind"]
({}, 'chain_head')
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.promotion import facts as F
from canarykit.promotion.alias import read_alias, rollback_target
from canarykit.promotion.audit import verify_chain
from canarykit.promotion.clock import format_instant
from canarykit.promotion.evidence import TrustStore
from canarykit.promotion.evidence_records import evidence_links as recorded_evidence_links
from canarykit.promotion.states import Stage
from canarykit.promotion.verdicts import verdict_digest
from canarykit.promotion.versions import VersionRecord, get_version

__all__ = ["audit_checkpoint", "evidence_links"]


def _tickets(conn: sqlite3.Connection, model: str, version: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT DISTINCT chg_id FROM events WHERE model = ? AND version = ? AND chg_id IS NOT NULL"
        " AND kind != 'gate_denied' ORDER BY chg_id",
        (model, version),
    ).fetchall()
    tickets = []
    for (chg_id,) in rows:
        found = F.recorded_ticket(conn, chg_id)  # as its counted change event records it
        if found is not None:
            doc = found[0].to_dict()
            tickets.append({**doc, "requester": found[1]})
    return tickets


def evidence_links(conn: sqlite3.Connection, model: str, version: str) -> dict[str, Any]:
    """The evidence documents a release links, by kind, with the digests recorded for them.

    The model card recorded for the verdict the version was approved with and the latest
    decision record (ADR/SCDR) — ``{"model_card": {"name", "digest", "verdict_digest"},
    "decision_record": {"name", "digest", "reference"}}``, see
    :func:`canarykit.promotion.evidence_records.evidence_links`: it goes into the manifest's
    ``evidence_links``, is signed with it and is compared with the registry by ``release verify
    --registry``. Empty until those documents are recorded.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> evidence_links(RegistryStore(":memory:").conn, "m", "v1")
    {}
    """
    return recorded_evidence_links(conn, model, version)


def audit_checkpoint(
    conn: sqlite3.Connection,
    *,
    trust: TrustStore | None = None,
    key: Ed25519PrivateKey | None = None,
    key_id: str | None = None,
    now_ns: int = 0,
) -> dict[str, Any]:
    """The audit checkpoint a release is made at: the chain head (sequence number and hash).

    ``signed_checkpoint`` is a signed checkpoint of that head when the release ``key`` is
    trusted for purpose ``checkpoint`` too, else the latest checkpoint recorded in the log, else
    None (:func:`~canarykit.promotion.checkpoints.release_checkpoint`): its envelope verifies
    the log with ``canarykit audit verify --checkpoint``.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> audit_checkpoint(RegistryStore(":memory:").conn)["seq"]
    0
    """
    from canarykit.promotion.checkpoints import latest_checkpoint, release_checkpoint

    chain = verify_chain(conn)
    signed = None
    if key is not None and key_id is not None:
        signed = release_checkpoint(
            conn, trust=trust, private_key=key, key_id=key_id, now_ns=now_ns
        )
    else:
        latest = latest_checkpoint(conn)
        signed = None if latest is None else latest.to_dict()
    return {
        "kind": "chain_head",
        "seq": chain.events,
        "head_hash": chain.head_hash,
        "signed_checkpoint": signed,
    }


def _manifest(
    conn: sqlite3.Connection,
    record: VersionRecord,
    *,
    alias: str,
    now_ns: int,
    policy_snapshot: Mapping[str, Any],
    checkpoint: Mapping[str, Any],
) -> dict[str, Any]:
    """The manifest without ``release_notes_digest`` (the notes are rendered from it)."""
    verdict = dict(record.verdict or {})
    evidence = dict(record.evidence)
    state = read_alias(conn, record.model, alias)
    current = None if state is None else state.version

    def approved(version: str) -> bool:
        return get_version(conn, record.model, version).stage == Stage.APPROVED.value

    if current == record.version:
        target = rollback_target(conn, record.model, alias, is_approved=approved)
    else:
        target = current
    raw_window = verdict.get("window")
    window: Mapping[str, Any] = raw_window if isinstance(raw_window, Mapping) else {}
    return {
        "schema": "canarykit.release_manifest/2",
        "model": record.model,
        "version": record.version,
        "stage": record.stage,
        "artifact_digest": record.artifact_digest,
        "policy_digest": record.policy_digest,
        "submitter": record.submitter,
        "canary": {
            "strategy": verdict.get("mode", "canary"),
            "baseline": verdict.get("baseline"),
            "decision": verdict.get("decision"),
            "window": {"start": window.get("start"), "end": window.get("end")},
            "data_digest": verdict.get("data_digest"),
            "policy_digest": verdict.get("policy_digest"),
            "verdict_digest": verdict_digest(verdict) if verdict else None,
            "reasons": list(verdict.get("reasons", [])),
            "checks": [
                {"name": c.get("name"), "status": c.get("status")}
                for c in verdict.get("checks", [])
            ],
        },
        "revalidate_by": None
        if record.revalidate_by_ns is None
        else format_instant(record.revalidate_by_ns),
        "guardrails": list(record.guardrails),
        "rollback": {"alias": alias, "current": current, "target": target},
        "approvals": [
            {
                "stage": a.stage,
                "role": a.role,
                "actor": a.actor,
                "time": format_instant(a.time_ns),
                "verdict_digest": a.verdict_digest,
            }
            for a in F.recorded_approvals(conn, record.model, record.version)
        ],
        "tickets": _tickets(conn, record.model, record.version),
        "waivers": [
            w.to_dict()
            for w in F.recorded_waivers(conn, record.model, record.version)  # counted events
            if w.is_active(now_ns=now_ns)
        ],
        "evidence": {
            "signature_key_ids": list(evidence.get("signature", {}).get("key_ids", [])),
            "attestation_verified": bool(evidence.get("attestation", {}).get("verified", False)),
            "sbom_max_open_severity": evidence.get("sbom", {}).get("max_open_severity", "none"),
        },
        "gate_policy_digest": evidence.get("gate_policy_digest"),
        "created_at": format_instant(now_ns),
        "verdict_digest": verdict_digest(verdict) if verdict else None,
        "policy_snapshot": dict(policy_snapshot),
        "audit_checkpoint": dict(checkpoint),
        "evidence_links": evidence_links(conn, record.model, record.version),
    }
