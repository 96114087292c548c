"""The verdict facts of the Approved gate: signed, for this version, re-derived under the
sanctioned policy bound at Staging.

Python computes, Rego decides (``approved.rego``): this module opens the presented verdict
(:mod:`~canarykit.promotion.verdict_attestation`), reads the bound policy from the registry
(:mod:`~canarykit.promotion.sanctioned_policy`), re-derives the decision over the verdict's
checks with the unexpired waivers (:mod:`~canarykit.promotion.rederive`) and hands the gate
plain facts; every refusal is a ``deny`` of the gate, so it is audited as ``gate_denied``.

The Rego input it adds (beside :func:`~canarykit.promotion.verdicts.gate_facts`)::

    verdict: {supplied, signed, verified, subject_matches, key_ids, subjects,
              evidence_problems: [...], plain_allowed,
              rederived: {decision, reasons, plain_decision, plain_reasons, waived, missing,
                          problems, error}}
    bound_policy: {present, ok, name, digest, problems}

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> from canarykit.promotion.versions import get_version, insert_version
>>> conn = RegistryStore(":memory:").conn
>>> insert_version(conn, model="m", version="v1", artifact_digest="sha256:" + "0" * 64,
...                submitter="ann", now_ns=1)
>>> found = verdict_facts(conn, get_version(conn, "m", "v1"), {"decision": "PROCEED"}, now_ns=2)
>>> found.facts["verdict"]["evidence_problems"][0][:36]
'a plain JSON verdict is not evidence'
>>> found.facts["bound_policy"]["present"]
False
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from canarykit.errors import PolicyError
from canarykit.promotion import acts
from canarykit.promotion import facts as F
from canarykit.promotion.rederive import Rederivation, active_waived_checks, rederive
from canarykit.promotion.sanctioned_policy import bound_policy, bound_policy_facts
from canarykit.promotion.verdict_attestation import (
    VerdictEvidence,
    open_verdict,
    plain_verdicts_allowed,
)
from canarykit.promotion.verdicts import gate_facts
from canarykit.promotion.versions import VersionRecord

__all__ = ["VerdictFacts", "verdict_facts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictFacts:
    """The opened verdict and the Rego facts ``verdict`` and ``bound_policy``."""

    evidence: VerdictEvidence
    facts: dict[str, Any]
    rederivation: Rederivation | None = None


def verdict_facts(
    conn: sqlite3.Connection, record: VersionRecord, document: Any, *, now_ns: int
) -> VerdictFacts:
    """Open ``document`` for ``record`` and re-derive its decision under the bound policy.

    Parameters
    ----------
    conn : sqlite3.Connection
        The registry, inside the gate's transaction.
    record : VersionRecord
        The version being promoted.
    document : Any
        The verdict presented (a DSSE envelope, a plain verdict, or None).
    now_ns : int
        The instant of the transition (waivers are judged at it).
    """
    trust = F.load_trust(conn)
    bound = bound_policy(conn, record.model, record.version)
    policy_facts = bound_policy_facts(bound, policy_digest=record.policy_digest, trust=trust)
    allowed = plain_verdicts_allowed(conn)
    if document is None:
        evidence = VerdictEvidence(signed=False, verified=False, subject_matches=False)
    else:
        evidence = open_verdict(
            document,
            trust,
            model=record.model,
            version=record.version,
            artifact_digest=record.artifact_digest,
            plain_allowed=allowed,
        )
    rederived = None
    if evidence.verdict is not None and bound is not None and bound.intact:
        from canarykit.verdict.policy import policy_from_files

        try:
            policy = policy_from_files(bound.files, source=f"bound policy {bound.name}")
        except PolicyError as err:
            rederived = Rederivation(decision=None, error=str(err))
        else:
            waived = active_waived_checks(
                acts.standing_waivers(  # recorded by their events, grantor still standing
                    conn,
                    F.recorded_waivers(conn, record.model, record.version),
                    F.load_roster(conn),
                ),
                now_ns=now_ns,
                version=record.version,
                submitter=record.submitter,
            )
            rederived = rederive(evidence.verdict, policy, waived=waived)
    verdict = {
        **gate_facts(evidence.verdict),
        **evidence.to_dict(),
        "supplied": document is not None,
        "plain_allowed": allowed,
        "rederived": None if rederived is None else rederived.to_dict(),
    }
    return VerdictFacts(
        evidence=evidence,
        facts={"verdict": verdict, "bound_policy": policy_facts},
        rederivation=rederived,
    )
