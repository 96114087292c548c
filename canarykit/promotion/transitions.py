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

from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import Approval, list_approvals, person_key
from canarykit.promotion.audit import list_events
from canarykit.promotion.calendar import DEFAULT_MAX_TICKET_WINDOW_DAYS
from canarykit.promotion.changes import control_facts
from canarykit.promotion.evidence import (
    TrustStore,
    load_json_file,
    load_signature_file,
    verify_dsse,
    verify_signatures,
)
from canarykit.promotion.evidence_records import approved_documents_facts, vex_facts
from canarykit.promotion.sbom import SbomCheck, evaluate_sbom, gate_summary
from canarykit.promotion.verdicts import gate_facts
from canarykit.promotion.versions import VersionRecord

__all__ = [
    "approval_facts",
    "approved_facts",
    "change_input",
    "load_signatures",
    "staging_evidence",
    "staging_facts",
]


def _approval_facts(approval: Approval, void: str | None) -> dict[str, Any]:
    """An approval as the gates see it: the approver's name compared as a person key, and
    whether it still counts (``void`` says why not)."""
    return {
        **approval.to_dict(),
        "actor": person_key(approval.actor),
        "counts": void is None,
        "void": void,
    }


def approval_facts(
    conn: sqlite3.Connection, record: VersionRecord, stage: str | None = None
) -> list[dict[str, Any]]:
    """The approvals of ``record`` (for ``stage``) as the gates see them.

    An approval counts only while it stands under the roster in force
    (:func:`~canarykit.promotion.acts.act_standing`): its audit event holds the signed act,
    the approver is still on the roster with the role, and the key that signed it is still
    theirs. Approvals of people since removed, or whose key was removed, stop counting.
    """
    roster = F.load_roster(conn)
    drill = acts.drill_registry(conn)
    registry = acts.registry_identity(conn)
    events = [
        e
        for e in list_events(conn, model=record.model, kind="approval")
        if e.version == record.version
    ]
    out = []
    for approval in list_approvals(conn, record.model, record.version, stage):
        act = acts.latest_act(
            events,
            stage=approval.stage,
            role=approval.role,
            actor=approval.actor,
            verdict_digest=approval.verdict_digest,
        )
        expect = {
            "action": "approve",
            "registry": registry,
            "model": approval.model,
            "version": approval.version,
            "stage": approval.stage,
            "role": approval.role,
            "verdict_digest": approval.verdict_digest,
        }
        void = acts.act_standing(
            act, roster, actor=approval.actor, role=approval.role, drill=drill, expect=expect
        )
        out.append(_approval_facts(approval, void))
    return out


def _waivers(conn: sqlite3.Connection, record: VersionRecord) -> list[Any]:
    """The waivers the gates read: recorded by their events, and still standing (their
    grantor still on the roster with the role, signing with the key that signed them)."""
    recorded = F.recorded_waivers(conn, record.model, record.version)
    return acts.standing_waivers(conn, recorded, F.load_roster(conn))


def change_input(
    conn: sqlite3.Connection,
    chg_id: str | None,
    *,
    purpose: str,
    record: VersionRecord,
    alias: str | None = None,
    backout: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The change gate's ``change`` facts and ``target`` facts for one action under ``chg_id``.

    ``change`` is the ticket with its standing approvals, the transitions it was used for and
    the longest window the calendar allows; ``target`` names the version, the action's
    ``purpose`` (``new_version``, ``alias_existing``, ``rollback``), the transition it is
    (``use``) and whether it is a pre-approved ``backout``
    (:mod:`~canarykit.promotion.changes`).
    """
    calendar = F.load_calendar(conn)
    max_window_ns = (
        calendar.max_ticket_window_ns
        if calendar is not None
        else DEFAULT_MAX_TICKET_WINDOW_DAYS * 86_400 * 10**9
    )
    extra, target = control_facts(
        conn,
        chg_id,
        purpose=purpose,
        model=record.model,
        version=record.version,
        alias=alias,
        max_window_ns=max_window_ns,
        backout=backout,
    )
    return (
        {**F.change_facts(conn, chg_id), **extra},
        {"model": record.model, "version": record.version, "purpose": purpose, **target},
    )


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
    """Verify signatures, attestation and SBOM for ``digest`` (Rego input form).

    ``sbom`` may be an :class:`~canarykit.promotion.sbom.SbomCheck` already evaluated (the API
    reads and evaluates the SBOM before it takes the registry's write lock).
    """
    if isinstance(attestation, (str, Path)):
        attestation = load_json_file(attestation, what="DSSE envelope")
    if isinstance(sbom, (str, Path)):
        sbom = load_json_file(sbom, what="CycloneDX SBOM")
    check = sbom if isinstance(sbom, SbomCheck) else evaluate_sbom(sbom)
    return {
        "signature": verify_signatures(digest, signatures, trust).to_dict(),
        "attestation": verify_dsse(attestation, digest, trust).to_dict(),
        "sbom": check.to_dict(),
    }


def staging_facts(
    conn: sqlite3.Connection,
    base: Mapping[str, Any],
    record: VersionRecord,
    *,
    policy_digest: str,
    evidence: Mapping[str, Any],
) -> dict[str, Any]:
    """Rego input of the Candidate → Staging gate (the SBOM as its grouped summary,
    :func:`~canarykit.promotion.sbom.gate_summary`: the gate's work does not grow with it)."""
    waivers = [w.gate_input() for w in _waivers(conn, record)]
    vex = vex_facts(conn, record)
    return {
        **base,
        "from_stage": F.version_facts(record, conn)["stage"],
        "to_stage": "Staging",
        "version": F.version_facts(record, conn),
        "policy_digest": policy_digest,
        **evidence,
        "sbom": gate_summary(evidence.get("sbom"), vex_approvals=vex, waivers=waivers),
        "approvals": approval_facts(conn, record),
        "waivers": waivers,
        "vex_approvals": vex,
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
    change, target = change_input(conn, chg_id, purpose="new_version", record=record)
    return {
        **base,
        "from_stage": F.version_facts(record, conn)["stage"],
        "to_stage": "Approved",
        "version": F.version_facts(record, conn),
        "verdict": gate_facts(verdict),
        "approvals": approval_facts(conn, record, "Approved"),
        "waivers": [w.gate_input() for w in _waivers(conn, record)],
        "revalidate_by_ns": revalidate_by_ns,
        "guardrails": list(guardrails),
        "change": change,
        "calendar": F.calendar_facts(conn, now_ns=int(base["now_ns"])),
        "target": target,
        "documents": approved_documents_facts(conn, record, verdict),
    }
