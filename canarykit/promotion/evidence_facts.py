"""What the gates and a release read from the evidence records of a version.

The Approved gate needs a model card whose verdict is the verdict being promoted and whose
metrics include every metric that verdict gives, and a decision record
(:func:`approved_documents_facts`, ``approved_evidence.rego``); the Staging gate counts a
``not_affected``/``resolved``/``false_positive`` VEX state on a high or critical
vulnerability only with a standing security approval (:func:`vex_facts`,
``staging_evidence.rego``); a release links the model card and the decision record the
version was approved with (:func:`evidence_links`). Only records that counted audit events
back are read.

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> evidence_links(RegistryStore(":memory:").conn, "m", "v1")
{}
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.approvals import person_key
from canarykit.promotion.audit import canonical_json, list_events
from canarykit.promotion.evidence_documents import (
    EvidenceDocument,
    list_documents,
    list_vex_approvals,
)
from canarykit.promotion.model_card import model_card_metrics
from canarykit.promotion.verdicts import verdict_digest
from canarykit.promotion.versions import VersionRecord

__all__ = ["approved_documents_facts", "evidence_links", "vex_facts"]


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
    >>> from canarykit.promotion.versions import get_version, insert_version
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
