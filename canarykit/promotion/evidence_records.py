"""Evidence documents and VEX approvals recorded in the registry for one version.

Three kinds of record that the gates read (Python computes the facts here, Rego decides):

- a **model card** (``canarykit model-card VERDICT``, CycloneDX): the file's digest, the verdict
  digest it names and its performance metrics. The Approved gate needs one whose verdict is the
  verdict being promoted and whose metrics include every metric that verdict gives
  (``approved_evidence.rego``);
- a **decision record** (an ADR or SCDR, Markdown or text): the file's digest and its id
  (``ADR-…``/``SCDR-…``, from its file name or its text). The Approved gate needs one;
- a **VEX approval**: a security approver's approval of one VEX statement of an SBOM — the
  vulnerability id and the digest of its statement (:func:`~canarykit.promotion.sbom.statement_digest`).
  The Staging gate counts a ``not_affected``/``resolved``/``false_positive`` state on a high or
  critical vulnerability only with such an approval or an unexpired waiver
  (``staging_evidence.rego``).

Each record is written with an audit event (``evidence``, ``vex_approval``) in the same
transaction, through :class:`EvidenceRecords` (part of
:class:`~canarykit.promotion.api.Promotion`). A release links the model card and the decision
record the version was approved with (:func:`evidence_links`).

This module holds the actions; the records and their rows are
:mod:`~canarykit.promotion.evidence_documents`, what the gates and a release read from them
:mod:`~canarykit.promotion.evidence_facts` (their names are importable from here too).

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> doc = EvidenceDocument(model="m", version="v1", kind="decision_record", name="ADR-7.md",
...     digest="sha256:" + "a" * 64, reference="ADR-7", actor="pat", time_ns=0)
>>> with store.transaction() as conn:
...     record_document(conn, doc)
>>> list_documents(store.conn, "m", "v1") == [doc]
True
>>> decision_reference("ADR-0007-promote.md", "# Promote v2")
'ADR-0007'
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import person_key
from canarykit.promotion.audit import append_event, canonical_json
from canarykit.promotion.evidence import digest_bytes
from canarykit.promotion.evidence_documents import (
    DOCUMENT_KINDS,
    MAX_DECISION_RECORD_BYTES,
    EvidenceDocument,
    VexApproval,
    decision_reference,
    list_documents,
    list_vex_approvals,
    read_decision_record,
    record_document,
    record_vex_approval,
)
from canarykit.promotion.evidence_facts import approved_documents_facts, evidence_links, vex_facts
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.model_card import read_model_card
from canarykit.promotion.sbom import CLEARING_STATES, statement_digest
from canarykit.promotion.session import Session, check_actor, load_document
from canarykit.promotion.states import Stage
from canarykit.promotion.versions import get_version

__all__ = [
    "DOCUMENT_KINDS",
    "MAX_DECISION_RECORD_BYTES",
    "EvidenceDocument",
    "EvidenceRecords",
    "VexApproval",
    "approved_documents_facts",
    "decision_reference",
    "evidence_links",
    "list_documents",
    "list_vex_approvals",
    "read_decision_record",
    "record_document",
    "record_vex_approval",
    "vex_facts",
]


_EVIDENCE_ROLES = ("security", "product", "operations", "executive")


class EvidenceRecords(Session):
    """Record model cards, decision records and VEX approvals (see :class:`Session`)."""

    def add_evidence(
        self,
        model: str,
        version: str,
        *,
        actor: str,
        model_card: str | Path | None = None,
        decision_record: str | Path | None = None,
    ) -> list[EvidenceDocument]:
        """Record a model card and/or a decision record for a version, each with an audit event.

        Parameters
        ----------
        model, version : str
            The version (not yet Approved, not revoked).
        actor : str
            Who records them (anyone on the roster).
        model_card : str or Path, optional
            A model card file written by ``canarykit model-card`` for a verdict of this version.
        decision_record : str or Path, optional
            The ADR/SCDR file of the decision (its id in its file name or text).

        Returns
        -------
        list of EvidenceDocument

        Raises
        ------
        InvalidInputError
            Neither file given, or a file is unreadable or malformed.
        GateDeniedError
            The actor is not on the roster, the version is Approved or revoked, or the card
            describes another model or version (a ``gate_denied`` event is written).
        """
        actor = check_actor(actor)
        if model_card is None and decision_record is None:
            raise InvalidInputError("evidence: give --model-card and/or --decision-record")
        card = None if model_card is None else read_model_card(model_card)
        decision = None if decision_record is None else read_decision_record(decision_record)
        action = f"evidence add {model} {version}"

        def body(conn: sqlite3.Connection, now: int) -> list[EvidenceDocument]:
            record = get_version(conn, model, version)
            self._require_roles(conn, actor, _EVIDENCE_ROLES, action)
            problems = []
            if record.stage in (Stage.APPROVED.value, Stage.REVOKED.value):
                problems.append(
                    f"stage: {model} {version} is {record.stage}; evidence is recorded before"
                    " Approved (the release links what the approval saw)"
                )
            if card is not None and (card.model, card.version) != (model, version):
                problems.append(
                    f"model card: {card.name} describes {card.model} {card.version}, not"
                    f" {model} {version}"
                )
            if problems:
                raise GateDenial(action, problems)
            written = []
            if card is not None:
                written.append(
                    EvidenceDocument(
                        model=model,
                        version=version,
                        kind="model_card",
                        name=card.name,
                        digest=card.digest,
                        actor=actor,
                        time_ns=now,
                        verdict_digest=card.verdict_digest,
                        metrics=card.metrics,
                    )
                )
            if decision is not None:
                name, digest, reference = decision
                written.append(
                    EvidenceDocument(
                        model=model,
                        version=version,
                        kind="decision_record",
                        name=name,
                        digest=digest,
                        actor=actor,
                        time_ns=now,
                        reference=reference,
                    )
                )
            for document in written:
                record_document(conn, document)
                append_event(
                    conn,
                    kind="evidence",
                    actor=actor,
                    time_ns=now,
                    model=model,
                    version=version,
                    payload=document.to_dict(),
                )
            return written

        return self._run(action=action, actor=actor, body=body, model=model, version=version)

    def approve_vex(
        self,
        model: str,
        version: str,
        *,
        vulnerability: str,
        sbom: Any,
        actor: str,
        note: str = "",
        key: Any = None,
    ) -> list[VexApproval]:
        """Record a security approval of the VEX statement(s) an SBOM makes on ``vulnerability``.

        The approval names the digest of each statement (the vulnerability's entry in
        ``sbom``), so it counts for exactly that statement: the Staging gate lets a
        ``not_affected``/``resolved``/``false_positive`` state on a high or critical
        vulnerability through only with it (or a waiver).

        Parameters
        ----------
        model, version : str
            The version whose SBOM makes the statement.
        vulnerability : str
            The vulnerability id (``CVE-…``, ``GHSA-…``).
        sbom : str, Path or mapping
            The CycloneDX SBOM the approver reviewed (the one to be given to ``promote``).
        actor : str
            The approver: holds the security role, and is not the submitter.
        note : str, optional
            Why the statement holds.
        key : Ed25519PrivateKey, str, Path or signer, optional
            The approver's key, which signs the approval (:mod:`~canarykit.promotion.acts`).

        Returns
        -------
        list of VexApproval
            One per entry of the vulnerability in the SBOM.

        Raises
        ------
        InvalidInputError
            The SBOM cannot be read, or makes no VEX statement on ``vulnerability``.
        GateDeniedError
            The approver lacks the security role, is the submitter, or the version is revoked.
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        bom = load_document(sbom, "CycloneDX SBOM")
        where = f"{sbom}: SBOM" if isinstance(sbom, (str, Path)) else "SBOM"
        entries = bom.get("vulnerabilities") if isinstance(bom, Mapping) else None
        matching = [
            v for v in entries or [] if isinstance(v, Mapping) and v.get("id") == vulnerability
        ]
        if not matching:
            raise InvalidInputError(f"{where}: has no vulnerability {vulnerability!r}")
        statements = []
        for entry in matching:
            analysis = entry.get("analysis")
            state = analysis.get("state") if isinstance(analysis, Mapping) else None
            if state not in CLEARING_STATES:
                raise InvalidInputError(
                    f"{where}: {vulnerability} has analysis state {state!r}, no VEX statement"
                    f" ({', '.join(CLEARING_STATES)}) to approve; an open vulnerability is lifted"
                    " by a waiver"
                )
            statements.append((str(state), statement_digest(entry)))
        sbom_digest = digest_bytes(canonical_json(bom).encode("utf-8"))
        action = f"approve {model} {version} VEX {vulnerability} as security"

        def body(conn: sqlite3.Connection, now: int) -> list[VexApproval]:
            record = get_version(conn, model, version)
            self._require_roles(conn, actor, ("security",), action)
            problems = []
            if person_key(actor) == person_key(record.submitter):
                problems.append(
                    f"four-eyes: {actor} submitted {model} {version} and cannot approve its"
                    " VEX statements"
                )
            if record.revoked:
                problems.append(f"stage: {model} {version} is revoked")
            act = acts.authorize(
                conn,
                action=action,
                kind="approve_vex",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                problems=problems,
                model=model,
                version=version,
                vulnerability=vulnerability,
                sbom_digest=sbom_digest,
                statements=[{"state": s, "digest": d} for s, d in statements],
                note=note,
            )
            approvals = [
                VexApproval(
                    model=model,
                    version=version,
                    vulnerability=vulnerability,
                    state=state,
                    statement_digest=digest,
                    sbom_digest=sbom_digest,
                    actor=actor,
                    time_ns=now,
                    note=note,
                )
                for state, digest in statements
            ]
            for approval in approvals:
                record_vex_approval(conn, approval)
                append_event(
                    conn,
                    kind="vex_approval",
                    actor=actor,
                    time_ns=now,
                    model=model,
                    version=version,
                    payload={**approval.to_dict(), "act": act},
                )
            return approvals

        return self._run(action=action, actor=actor, body=body, model=model, version=version)

    def evidence(self, model: str, version: str) -> dict[str, Any]:
        """The evidence documents and VEX approvals recorded for a version."""
        conn = self.store.conn
        get_version(conn, model, version)
        return {
            "documents": [d.to_dict() for d in list_documents(conn, model, version)],
            "vex_approvals": [a.to_dict() for a in list_vex_approvals(conn, model, version)],
            "links": evidence_links(conn, model, version),
        }
