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

import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import person_key
from canarykit.promotion.audit import append_event, canonical_json, list_events
from canarykit.promotion.clock import format_instant
from canarykit.promotion.documents import decode_text
from canarykit.promotion.evidence import digest_bytes
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.model_card import model_card_metrics, read_model_card
from canarykit.promotion.sbom import CLEARING_STATES, statement_digest
from canarykit.promotion.session import Session, check_actor, load_document
from canarykit.promotion.states import Stage
from canarykit.promotion.verdicts import verdict_digest
from canarykit.promotion.versions import VersionRecord, get_version

__all__ = [
    "DOCUMENT_KINDS",
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


# -- gate facts and release links ----------------------------------------------------------------
def _metric_key(metric: Mapping[str, Any]) -> str:
    return canonical_json(dict(metric))


def approved_documents_facts(
    conn: sqlite3.Connection, record: VersionRecord, verdict: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``documents`` input of the Approved gate.

    For each recorded model card: its digest, the verdict digest it names and
    ``missing_metrics`` — the metrics of the verdict being promoted that the card does not carry
    exactly (type and slice); ``expected_verdict_digest`` is that verdict's digest (None without a
    verdict). Each decision record: its digest and id.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> from canarykit.promotion.versions import insert_version
    >>> store = RegistryStore(":memory:")
    >>> with store.transaction() as conn:
    ...     insert_version(conn, model="m", version="v1", artifact_digest="sha256:" + "0" * 64,
    ...                    submitter="ann", now_ns=0)
    >>> approved_documents_facts(store.conn, get_version(store.conn, "m", "v1"), None)
    {'model_cards': [], 'decision_records': [], 'expected_verdict_digest': None}
    """
    from canarykit.promotion.verified_state import recorded_keys

    expected = [] if verdict is None else model_card_metrics(verdict)
    backed = recorded_keys(conn, "evidence_documents", record.model)  # rows without events: none

    def recorded(kind: str) -> list[EvidenceDocument]:
        found = list_documents(conn, record.model, record.version, kind)
        return [d for d in found if (d.model, d.version, d.kind, d.name, d.digest) in backed]

    cards = []
    for card in recorded("model_card"):
        carried = {_metric_key(m) for m in card.metrics}
        missing = [f"{m['type']} ({m['slice']})" for m in expected if _metric_key(m) not in carried]
        cards.append(
            {
                "name": card.name,
                "digest": card.digest,
                "verdict_digest": card.verdict_digest,
                "missing_metrics": missing,
            }
        )
    records = [
        {"name": d.name, "digest": d.digest, "reference": d.reference}
        for d in recorded("decision_record")
    ]
    return {
        "model_cards": cards,
        "decision_records": records,
        "expected_verdict_digest": None if verdict is None else verdict_digest(verdict),
    }


def vex_facts(conn: sqlite3.Connection, record: VersionRecord) -> list[dict[str, Any]]:
    """The ``vex_approvals`` input of the Staging gate (approvers as person keys).

    Only approvals that still stand count (:func:`~canarykit.promotion.acts.act_standing`:
    the signed act is recorded, the approver still holds the security role on the roster, the
    key that signed it is still theirs).
    """
    roster = F.load_roster(conn)
    drill = acts.drill_registry(conn)
    registry = acts.registry_identity(conn)
    events = [
        e
        for e in list_events(conn, model=record.model, kind="vex_approval")
        if e.version == record.version
    ]
    out = []
    for a in list_vex_approvals(conn, record.model, record.version):
        act = acts.latest_act(
            events,
            vulnerability=a.vulnerability,
            statement_digest=a.statement_digest,
            actor=a.actor,
        )
        expect = {
            "action": "approve_vex",
            "registry": registry,
            "model": record.model,
            "version": record.version,
            "vulnerability": a.vulnerability,
        }
        why = acts.act_standing(
            act, roster, actor=a.actor, role="security", drill=drill, expect=expect
        )
        if why is None:
            out.append(
                {
                    "id": a.vulnerability,
                    "state": a.state,
                    "statement_digest": a.statement_digest,
                    "actor": person_key(a.actor),
                }
            )
    return out


def evidence_links(conn: sqlite3.Connection, model: str, version: str) -> dict[str, Any]:
    """The model card and decision record a release links (names, digests), or ``{}``.

    The model card is the latest one recorded for the verdict the version was approved with;
    the decision record the latest one recorded. Deterministic, so ``release verify`` can
    compare a manifest with the registry.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> evidence_links(RegistryStore(":memory:").conn, "m", "v1")
    {}
    """
    row = conn.execute(
        "SELECT verdict_json FROM versions WHERE model = ? AND version = ?", (model, version)
    ).fetchone()
    verdict = json.loads(row[0]) if row is not None and row[0] else None
    approved = None if verdict is None else verdict_digest(verdict)
    links: dict[str, Any] = {}
    cards = [
        d
        for d in list_documents(conn, model, version, "model_card")
        if d.verdict_digest == approved
    ]
    if cards:
        card = cards[-1]
        links["model_card"] = {
            "name": card.name,
            "digest": card.digest,
            "verdict_digest": card.verdict_digest,
        }
    records = list_documents(conn, model, version, "decision_record")
    if records:
        links["decision_record"] = {
            "name": records[-1].name,
            "digest": records[-1].digest,
            "reference": records[-1].reference,
        }
    return links


# -- actions ------------------------------------------------------------------------------------
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
