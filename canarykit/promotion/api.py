"""The Python API of the promotion layer: one :class:`Promotion` object per registry file.

Every action runs in one ``BEGIN IMMEDIATE`` transaction: read state, compute facts, ask the
gate, then write the change and its audit event — or, when the gate refuses, discard any
partial work, append a ``gate_denied`` event and raise :class:`~canarykit.errors.GateDeniedError`
listing the reasons. There is no "force" flag and no way to pass a different gate policy.

Examples
--------
>>> from canarykit.promotion.clock import FixedClock, parse_instant
>>> p = Promotion(":memory:", clock=FixedClock(parse_instant("2026-11-27T09:00:00Z")), drill=True)
>>> roster = {"people": {"sam": ["security"], "ann": ["product"]}}  # no keys: drill only
>>> p.bootstrap(actor="sam", roster=roster)["roster"][:7]
'sha256:'
>>> record = p.submit("risk-default", "v1", artifact_digest="sha256:" + "1" * 64, actor="ann")
>>> record.stage
'Candidate'
>>> p.promote("risk-default", "v1", to="Approved", actor="ann")
Traceback (most recent call last):
...
canarykit.promotion.gates.GateDenial: promote risk-default v1 → Approved denied: transition Candidate → Approved is not in the transition table ...
>>> p.events()[-1].kind, p.events()[-1].payload["drill"]
('gate_denied', True)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion import acts, transitions
from canarykit.promotion import facts as F
from canarykit.promotion.alias import read_alias
from canarykit.promotion.approvals import ROLES, list_approvals
from canarykit.promotion.approved_verdict import verdict_facts
from canarykit.promotion.artifacts import digest_artifact
from canarykit.promotion.audit import (
    AuditEvent,
    append_event,
    export_jsonl,
    list_events,
)
from canarykit.promotion.clock import parse_instant
from canarykit.promotion.evidence import TrustStore
from canarykit.promotion.evidence_records import EvidenceRecords
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.governance import Governance
from canarykit.promotion.production import Production
from canarykit.promotion.release import ReleaseResult, write_release
from canarykit.promotion.release_verify import ReleaseVerification, verify_release
from canarykit.promotion.results import PromotionResult, StatusReport
from canarykit.promotion.sanctioned_policy import (
    bound_policies,
    check_policy_signature,
    default_signature_path,
    store_bound_policy,
)
from canarykit.promotion.sbom import evaluate_sbom, sbom_record
from canarykit.promotion.session import (
    DEFAULT_ALIAS,
    DEFAULT_REGISTRY,
    REGISTRY_ENV,
    check_actor,
    default_registry,
    load_document,
)
from canarykit.promotion.states import Stage, check_transition, parse_stage
from canarykit.promotion.verdict_attestation import load_verdict_document, store_signed_verdict
from canarykit.promotion.versions import (
    VersionRecord,
    get_version,
    insert_version,
    list_versions,
    update_version,
    validate_name,
)
from canarykit.promotion.waivers import list_waivers
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

if TYPE_CHECKING:
    from canarykit.promotion.log_verification import LogVerification

__all__ = ["DEFAULT_ALIAS", "DEFAULT_REGISTRY", "REGISTRY_ENV", "Promotion", "default_registry"]


class Promotion(Governance, Production, EvidenceRecords):
    """Registry, gates, approvals, waivers, changes, aliases, releases and audit of versions
    (and the evidence documents and VEX approvals the gates read).

    Parameters
    ----------
    registry : str or Path, optional
        The SQLite registry file (created if missing); default
        ``$CANARYKIT_REGISTRY`` or ``canarykit-registry.sqlite``.
    clock : Clock, optional
        Source of "now" for every gate and event; default the system clock.
    """

    # -- versions -----------------------------------------------------------------------------
    def submit(
        self,
        model: str,
        version: str,
        *,
        actor: str,
        artifact: str | Path | None = None,
        artifact_digest: str | None = None,
        key: Any = None,
        origin: Mapping[str, Any] | None = None,
    ) -> VersionRecord:
        """Register a new version as Candidate; its submitter is ``actor``.

        ``actor`` must be on the roster, and ``key`` (their Ed25519 private key, its PEM file
        or a signer) signs the submission: the submitter is who four-eyes and separation of
        duties keep apart from the approvers (:mod:`~canarykit.promotion.acts`). ``artifact``
        is a file or a folder (:func:`~canarykit.promotion.artifacts.digest_artifact`).
        ``origin`` records where the artifact came from in the submission event (e.g.
        ``{"mlflow": {...}}`` from :func:`canarykit.integrations.mlflow.submit_from_mlflow`),
        which the MLflow mirror follows; it is a pointer, never evidence.
        """
        actor = check_actor(actor)
        signer = acts.act_signer(key)
        validate_name(model, "model")
        validate_name(version, "version")
        if (artifact is None) == (artifact_digest is None):
            raise InvalidInputError(
                "artifact: give exactly one of artifact (path) or artifact_digest"
            )
        digest = digest_artifact(artifact) if artifact is not None else str(artifact_digest)

        def body(conn: sqlite3.Connection, now: int) -> VersionRecord:
            act = acts.authorize(
                conn,
                action=f"submit {model} {version}",
                kind="submit",
                actor=actor,
                now_ns=now,
                signer=signer,
                roster=F.load_roster(conn),
                model=model,
                version=version,
                artifact_digest=digest,
            )
            insert_version(
                conn,
                model=model,
                version=version,
                artifact_digest=digest,
                submitter=actor,
                now_ns=now,
            )
            append_event(
                conn,
                kind="submission",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                payload={
                    "artifact_digest": digest,
                    "act": act,
                    **({"origin": dict(origin)} if origin else {}),
                },
            )
            return get_version(conn, model, version)

        return self._run(
            action=f"submit {model} {version}", actor=actor, body=body, model=model, version=version
        )

    # -- stage transitions --------------------------------------------------------------------
    def promote(
        self,
        model: str,
        version: str,
        *,
        to: str,
        actor: str,
        chg_id: str | None = None,
        artifact: str | Path | None = None,
        signatures: Any = None,
        attestation: Any = None,
        sbom: Any = None,
        policy: str | Path | None = None,
        verdict: Any = None,
        revalidate_by: str | int | None = None,
        guardrails: Sequence[str] | None = None,
        policy_signature: Any = None,
    ) -> PromotionResult:
        """Move a version to Staging or Approved through its gate.

        → Staging takes the evidence (``signatures``, ``attestation``, ``sbom``, the ``policy``
        folder whose snapshot gets bound, optionally the ``artifact`` to re-hash) and binds the
        policy only when sanctioned: ``policy_signature`` (a DSSE envelope or its path; default
        ``POLICY/policy.dsse.json``, see :mod:`~canarykit.promotion.sanctioned_policy`) signed
        by a ``policy`` key over exactly the folder's files. → Approved takes the canary
        ``verdict`` — a DSSE envelope (dict or path) from ``canarykit attest`` / ``evaluate
        --sign-key``, signed by a ``verdict`` key for this version; its decision is re-derived
        under the bound policy (:mod:`~canarykit.promotion.approved_verdict`) — and
        ``revalidate_by``, ``guardrails`` (default: the verdict's check names) and the
        authorising ``chg_id``.
        """
        actor = check_actor(actor)
        target = parse_stage(to)
        action = f"promote {model} {version} → {target.value}"
        if target not in (Stage.STAGING, Stage.APPROVED):
            raise InvalidInputError(
                f"to: promote moves to Staging or Approved (use revoke for {target.value})"
            )
        policy_digest, signature_list, artifact_digest = "", [], None
        policy_files: dict[str, bytes] = {}
        policy_envelope: Any = None
        presented, revalidate_ns = None, None
        if target is Stage.STAGING:
            if policy is None:
                raise InvalidInputError("policy: → Staging binds a policy snapshot; give its path")
            policy_files = load_snapshot_files(policy)
            policy_digest = snapshot_digest(policy_files)
            if policy_signature is None and default_signature_path(policy).is_file():
                policy_signature = default_signature_path(policy)
            if policy_signature is not None:
                policy_envelope = load_document(policy_signature, "policy signature")
            signature_list = transitions.load_signatures(signatures)
            artifact_digest = None if artifact is None else digest_artifact(artifact)
            # read and evaluate the evidence now: nothing heavy runs under the write lock
            if isinstance(attestation, (str, Path)):
                attestation = load_document(attestation, "DSSE envelope")
            sbom = evaluate_sbom(
                load_document(sbom, "CycloneDX SBOM") if sbom is not None else None
            )
        else:
            presented = load_verdict_document(verdict)
            if isinstance(revalidate_by, int):
                revalidate_ns = revalidate_by
            elif revalidate_by is not None:
                revalidate_ns = parse_instant(revalidate_by, field="revalidate_by")

        def body(conn: sqlite3.Connection, now: int) -> PromotionResult:
            record = get_version(conn, model, version)
            try:
                check_transition(record.stage, target)
            except GateDeniedError as err:
                raise GateDenial(action, [str(err)]) from None
            self._require_roles(conn, actor, ROLES, action)
            base = self._base_facts(conn, now, actor)
            if target is Stage.STAGING:
                if artifact_digest is not None and artifact_digest != record.artifact_digest:
                    raise GateDenial(
                        action,
                        [
                            f"artifact: digest {artifact_digest} is not the"
                            f" submitted {record.artifact_digest}"
                        ],
                    )
                evidence = transitions.staging_evidence(
                    digest=record.artifact_digest,
                    signatures=signature_list,
                    attestation=attestation,
                    sbom=sbom,
                    trust=F.load_trust(conn),
                )
                sanction = check_policy_signature(policy_files, policy_envelope, F.load_trust(conn))
                evidence = {**evidence, "policy_snapshot": sanction.to_dict()}
                gate = self._gate(
                    "staging",
                    action,
                    transitions.staging_facts(
                        conn, base, record, policy_digest=policy_digest, evidence=evidence
                    ),
                )
                stored = {
                    **evidence,
                    "sbom": sbom_record(evidence["sbom"]),  # bounded: no per-entry list
                    "signatures": signature_list,
                    "gate_policy_digest": gate.policy_digest,
                }
                update_version(
                    conn,
                    record,
                    stage=target.value,
                    now_ns=now,
                    policy_digest=policy_digest,
                    evidence=stored,
                )
                bound = store_bound_policy(
                    conn,
                    model=model,
                    version=version,
                    check=sanction,
                    files=policy_files,
                    envelope=policy_envelope,
                    now_ns=now,
                )
                payload: dict[str, Any] = {
                    "policy_digest": policy_digest,
                    "policy_name": bound.name,
                    "policy_signed_by": list(bound.key_ids),
                }
            else:
                found = verdict_facts(conn, record, presented, now_ns=now)
                verdict_doc = found.evidence.verdict
                rails = list(guardrails or [])
                if guardrails is None and verdict_doc is not None:
                    rails = [str(c.get("name")) for c in verdict_doc.get("checks", [])]
                facts = transitions.approved_facts(
                    conn,
                    base,
                    record,
                    verdict=verdict_doc,
                    revalidate_by_ns=revalidate_ns,
                    guardrails=rails,
                    chg_id=chg_id,
                )
                gate = self._gate("approved", action, {**facts, **found.facts})
                store_signed_verdict(
                    conn, model=model, version=version, evidence=found.evidence, now_ns=now
                )
                update_version(
                    conn,
                    record,
                    stage=target.value,
                    now_ns=now,
                    verdict=verdict_doc,
                    revalidate_by_ns=revalidate_ns,
                    guardrails=rails,
                )
                payload = {
                    "verdict_decision": (verdict_doc or {}).get("decision"),
                    "verdict_data_digest": (verdict_doc or {}).get("data_digest"),
                    "verdict_digest": found.evidence.digest,
                    "verdict_signed_by": list(found.evidence.key_ids),
                    "rederived_decision": (
                        found.rederivation.decision if found.rederivation else None
                    ),
                    "revalidate_by_ns": revalidate_ns,
                    "guardrails": rails,
                }
            event = append_event(
                conn,
                kind="promotion",
                actor=actor,
                time_ns=now,
                model=model,
                version=version,
                chg_id=chg_id,
                payload={
                    "from": record.stage,
                    "to": target.value,
                    "gate_policy_digest": gate.policy_digest,
                    **payload,
                },
            )
            return PromotionResult(
                model=model,
                version=version,
                from_stage=record.stage,
                to_stage=target.value,
                chg_id=chg_id,
                event_seq=event.seq,
                gate=gate,
            )

        return self._run(
            action=action, actor=actor, body=body, model=model, version=version, chg_id=chg_id
        )

    # -- reading ------------------------------------------------------------------------------
    def version(self, model: str, version: str) -> VersionRecord:
        """One version's record."""
        return get_version(self.store.conn, model, version)

    def status(self, model: str | None = None) -> StatusReport:
        """Versions, approvals, waivers and aliases of ``model`` (or of every model)."""
        conn = self.store.conn
        versions = list_versions(conn, model)
        approvals = [a for v in versions for a in list_approvals(conn, v.model, v.version)]
        models = sorted({v.model for v in versions})
        waivers = [w for m in models for w in list_waivers(conn, m)]
        rows = conn.execute(
            "SELECT model, alias FROM aliases WHERE (? IS NULL OR model = ?) ORDER BY model, alias",
            (model, model),
        ).fetchall()
        aliases = [s for m, a in rows if (s := read_alias(conn, m, a)) is not None]
        return StatusReport(
            versions=tuple(versions),
            approvals=tuple(approvals),
            waivers=tuple(waivers),
            aliases=tuple(aliases),
            policies=tuple(bound_policies(conn, model)),
        )

    def events(self, model: str | None = None, kind: str | None = None) -> list[AuditEvent]:
        """Audit events in order (optionally one model's or one kind's)."""
        return list_events(self.store.conn, model=model, kind=kind)

    def audit_verify(self) -> LogVerification:
        """Everything ``canarykit audit verify`` checks
        (:func:`~canarykit.promotion.log_verification.verify_log`): the hash chain, the log's
        start, every act-kind event that does not count, rows no event backs, future-dated
        events and the checkpoints recorded in the log. ``to_dict()`` keeps the chain's keys
        (``ok``, ``events``, ``head_hash``, ``problems``)."""
        from canarykit.promotion.log_verification import verify_log

        return verify_log(self.store.conn)

    def audit_export(self, out: str | Path) -> int:
        """Write the audit log as JSON lines; returns the number of events."""
        return export_jsonl(self.store.conn, out)

    # -- release artifacts --------------------------------------------------------------------
    def release(
        self,
        model: str,
        version: str,
        *,
        out: str | Path,
        signing_key: Any,
        key_id: str,
        policy: str | Path | None = None,
        actor: str,
        alias: str = DEFAULT_ALIAS,
    ) -> ReleaseResult:
        """Run the release gate, then write the signed release (manifest and its DSSE envelope,
        the sanctioned ``policy_snapshot/``, ``release_notes.md``).

        Only an Approved, unrevoked version whose ``revalidate_by`` has not lapsed is released,
        while the audit chain is intact; the snapshot is the sanctioned one bound at Staging
        (``policy``, if given, must be it); ``signing_key`` (an Ed25519 private key or a PEM
        path) is the key ``key_id`` the trust file lists for ``release``, and signs the
        manifest. See :func:`~canarykit.promotion.release.write_release`.
        """
        return write_release(
            self,
            model,
            version,
            out=out,
            signing_key=signing_key,
            key_id=key_id,
            policy=policy,
            actor=actor,
            alias=alias,
        )

    def verify_release(
        self,
        release_dir: str | Path,
        *,
        artifact: str | Path | None = None,
        trust: str | Path | None = None,
    ) -> ReleaseVerification:
        """Check a release folder against its signatures, the artifact and this registry.

        Reads only: see :func:`~canarykit.promotion.release_verify.verify_release` for every
        check. ``trust`` is a trust file (default: the registry's).
        """
        keys = F.load_trust(self.store.conn) if trust is None else TrustStore.from_file(trust)
        return verify_release(
            release_dir,
            trust=keys,
            artifact=artifact,
            registry=self.store.conn,
            now_ns=self.clock.now_ns(),
        )
