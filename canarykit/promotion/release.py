"""Release artifacts of an Approved version: a signed manifest, the signed policy snapshot, notes.

``canarykit release MODEL VERSION --out DIR --signing-key KEY.pem --key-id ID`` runs the
*release gate* (``policies/promotion/release.rego``) and, when it allows, writes::

    DIR/release_manifest.json        validated against schemas/release_manifest.schema.json
    DIR/release_manifest.dsse.json   DSSE envelope (purpose release): in-toto Statement, subject
                                     the artifact digest, predicate the manifest
    DIR/policy_snapshot/<files>      the policy files whose digest was bound at Staging
    DIR/policy_snapshot/snapshot.json       {"digest", "files": {name: sha256}, "name"}
    DIR/policy_snapshot/snapshot.dsse.json  DSSE envelope (purpose policy) over that snapshot
    DIR/release_notes.md             changes, risks, limitations, verdict summary

(see :mod:`canarykit.promotion.release_format` for the exact formats). The gate allows a
release only of a version that is Approved and not revoked, whose ``revalidate_by`` has not
lapsed, while the audit chain is intact, for the snapshot bound at Staging signed by a
``policy`` key, with a signing key the trust file lists for ``release``. A refusal is a
:class:`~canarykit.promotion.gates.GateDenial` and a ``gate_denied`` audit event.

The manifest records, besides the seed's fields, the verdict digest, the policy snapshot (name,
digest, every file's digest, the digest of its envelope), the audit checkpoint the release was
made at (``audit_checkpoint``: today the chain head — sequence number and hash; a later signed
checkpoint fills ``signed_checkpoint``), the evidence links of the version
(:func:`evidence_links`) and the digest of the release notes. ``canarykit release verify``
(:mod:`canarykit.promotion.release_verify`) checks all of it.

A release folder is written once: ``DIR`` must be new or empty and not a symbolic link; the
release is built privately and moved into place whole, so nothing is ever written through a
link or over an existing file.

Examples
--------
>>> sorted(RELEASE_FILES)
['policy_snapshot', 'release_manifest.dsse.json', 'release_manifest.json', 'release_notes.md']
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from canarykit.errors import InvalidInputError
from canarykit.promotion import facts as F
from canarykit.promotion.alias import read_alias, rollback_target
from canarykit.promotion.audit import append_event, verify_chain
from canarykit.promotion.clock import format_instant
from canarykit.promotion.drill import is_drill
from canarykit.promotion.evidence import (
    TrustStore,
    check_key_id,
    digest_bytes,
    load_json_file,
    load_private_key,
    sign_statement,
)
from canarykit.promotion.evidence_records import evidence_links as recorded_evidence_links
from canarykit.promotion.release_format import (
    MANIFEST,
    MANIFEST_ENVELOPE,
    NOTES,
    RELEASE_FILES,
    SNAPSHOT,
    SNAPSHOT_ENVELOPE,
    SNAPSHOT_META,
    json_bytes,
    manifest_statement,
    policy_signature_problems,
    snapshot_meta,
    verify_policy_snapshot,
)
from canarykit.promotion.sanctioned_policy import bound_policy, default_signature_path
from canarykit.promotion.schema_check import validate_or_raise
from canarykit.promotion.session import check_actor
from canarykit.promotion.states import Stage
from canarykit.promotion.verdicts import verdict_digest
from canarykit.promotion.versions import VersionRecord, get_version
from canarykit.safe_io import publish_folder
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

if TYPE_CHECKING:
    from canarykit.promotion.session import Session

__all__ = [
    "MANIFEST_SCHEMA",
    "RELEASE_FILES",
    "ReleaseResult",
    "audit_checkpoint",
    "check_release_dir",
    "evidence_links",
    "load_signing_key",
    "md_code",
    "md_text",
    "release_facts",
    "verify_policy_snapshot",
    "write_release",
]

MANIFEST_SCHEMA = "release_manifest.schema.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseResult:
    """Where the release artifacts were written, the manifest and the digest of its file."""

    out_dir: str
    manifest: Mapping[str, Any]
    files: tuple[str, ...]
    manifest_digest: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "out_dir": self.out_dir,
            "files": list(self.files),
            "manifest_digest": self.manifest_digest,
            "manifest": dict(self.manifest),
        }


def load_signing_key(source: Any) -> Ed25519PrivateKey:
    """An Ed25519 private key object, or one read from an unencrypted PEM (PKCS#8) file.

    See :func:`canarykit.promotion.evidence.load_private_key` (this is the same function).
    """
    return load_private_key(source)


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


DRILL_NOTE = (
    "**DRILL**: made from a drill registry (`config init --drill`): a rehearsal, never a"
    " production release (`release verify` fails it)"
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = re.compile(r"([\\`*_\[\](){}#|~!])")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def md_text(value: Any) -> str:
    r"""``value`` as inert text on one line of Markdown: nothing in it can start a heading, a
    list item, a table row or cell, a link, emphasis, code or HTML.

    Line breaks (``\n``, ``\r``, U+2028 …) become a visible ``↵``, other control and
    bidirectional-override characters are dropped, Markdown punctuation is backslash-escaped
    and ``& < >`` become HTML entities. Ticket fields (impact, title, steps, backout plan),
    waiver reasons and names reach the release notes only through this.

    Examples
    --------
    >>> print(md_text("x\n## Approvals\n- eve"))
    x ↵ \#\# Approvals ↵ - eve
    >>> print(md_text("a | b <script>alert(1)</script>"))
    a \| b &lt;script&gt;alert\(1\)&lt;/script&gt;
    """
    text = _LINE_BREAKS.sub(" ↵ ", str(value))
    text = _CONTROLS.sub("", text)
    return _MARKDOWN.sub(r"\\\1", text).translate(_HTML)


def md_code(value: Any) -> str:
    r"""``value`` for a Markdown code span (between backticks): one line, no backtick.

    Inside a code span Markdown and HTML are not interpreted, so only what could end the span
    or the line is replaced (a backtick by ``'``, a line break by ``↵``).

    Examples
    --------
    >>> print(md_code("a`b\n<i>"))
    a'b ↵ <i>
    """
    text = _LINE_BREAKS.sub(" ↵ ", str(value))
    return _CONTROLS.sub("", text).replace("`", "'")


def _notes(manifest: Mapping[str, Any]) -> str:
    """The release notes: every value that is not canarykit's own is escaped (:func:`md_text`,
    :func:`md_code` between backticks)."""
    e, c = md_text, md_code
    canary = manifest["canary"]
    lines = [
        f"# Release {e(manifest['model'])} {e(manifest['version'])}",
        "",
        *([DRILL_NOTE, ""] if manifest.get("drill") is True else []),
        f"- artifact: `{c(manifest['artifact_digest'])}`",
        f"- policy snapshot: `{c(manifest['policy_digest'])}`"
        + (f" ({e(policy['name'])})" if (policy := manifest["policy_snapshot"])["name"] else ""),
        f"- verdict: `{c(manifest['verdict_digest'])}`",
        f"- audit checkpoint: event {e(manifest['audit_checkpoint']['seq'])},"
        f" head `{c(manifest['audit_checkpoint']['head_hash'])}`",
        *[
            f"- {e(kind.replace('_', ' '))}:"
            f" `{c(link.get('digest') if isinstance(link, Mapping) else link)}`"
            for kind, link in sorted(manifest["evidence_links"].items())
        ],
        f"- revalidate by: {e(manifest['revalidate_by'])}",
        f"- rollback: `{c(manifest['rollback']['alias'])}` returns to"
        f" {e(manifest['rollback']['target'] or 'nothing (the alias would be blocked)')}",
        "",
        "## Changes",
        "",
    ]
    for ticket in manifest["tickets"]:
        title = f" {e(ticket['title'])}:" if ticket.get("title") else ""
        lines.append(
            f"- **{e(ticket['id'])}** ({e(ticket['type'])}, risk {e(ticket['risk'])}):{title}"
            f" {e(ticket['impact'])}"
        )
        lines += [f"  - step: {e(step)}" for step in ticket["steps"]]
        lines.append(f"  - backout: {e(ticket['backout_plan'])}")
        lines += [f"  - validate: {e(v)}" for v in ticket["post_change_validation"]]
    lines += ["", "## Risks", ""]
    lines += [
        f"- {e(t['id'])}: risk {e(t['risk'])} — {e(t['impact'])}" for t in manifest["tickets"]
    ]
    lines.append(
        f"- highest open SBOM severity: {e(manifest['evidence']['sbom_max_open_severity'])}"
    )
    lines += [
        f"- waiver {e(w['waiver_id'])} lifts `{c(w['check'])}` until {e(w['expires'])}:"
        f" {e(w['reason'])} (owner {e(w['owner'])})"
        for w in manifest["waivers"]
    ]
    lines += ["", "## Limitations", ""]
    open_checks = [check for check in canary["checks"] if check["status"] != "pass"]
    lines += [
        f"- check `{c(check['name'])}` was {e(check['status'])} at release" for check in open_checks
    ]
    lines.append(
        f"- the approval holds until {e(manifest['revalidate_by'])}; revalidate before then"
    )
    if not manifest["evidence"]["attestation_verified"]:
        lines.append("- no verified SLSA provenance attestation was supplied")
    lines += [
        "",
        "## Verdict summary",
        "",
        f"- decision: **{e(canary['decision'])}** ({e(canary['strategy'])} vs"
        f" {e(canary['baseline'])}, window {e(canary['window']['start'])} →"
        f" {e(canary['window']['end'])})",
        f"- data digest: `{c(canary['data_digest'])}`;"
        f" verdict digest: `{c(canary['verdict_digest'])}`",
        f"- guardrails: {', '.join(e(g) for g in manifest['guardrails'])}",
        "",
        "| check | status |",
        "|---|---|",
    ]
    lines += [f"| {e(check['name'])} | {e(check['status'])} |" for check in canary["checks"]]
    lines += [f"- reason: {e(r)}" for r in canary["reasons"]]
    lines += ["", "## Approvals", ""]
    lines += [
        f"- {e(a['role'])} ({e(a['stage'])}): {e(a['actor'])} at {e(a['time'])}"
        for a in manifest["approvals"]
    ]
    return "\n".join(lines) + "\n"


def check_release_dir(out_dir: Path) -> None:
    """Refuse an ``out`` that is a link, a file, a release or a folder with files in it.

    Raises
    ------
    InvalidInputError
        One line naming ``out_dir`` and why a release cannot be written there.
    """
    if out_dir.is_symlink():
        raise InvalidInputError(
            f"{out_dir}: is a symbolic link; a release is written to a new or empty folder and"
            " links are never followed"
        )
    if out_dir.parent.is_symlink():
        raise InvalidInputError(
            f"{out_dir.parent}: is a symbolic link; a release is written into a real folder and"
            " links are never followed"
        )
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InvalidInputError(f"{out_dir}: is a file; a release is a new or empty folder")
    if (out_dir / "release_manifest.json").exists():
        raise InvalidInputError(f"{out_dir}: already holds a release (releases are written once)")
    if any(out_dir.iterdir()):
        raise InvalidInputError(
            f"{out_dir}: is not empty; a release is written to a new or empty folder"
        )


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_facts(trust: TrustStore | None, key_id: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """Is ``key`` the trusted key of ``key_id``, and for which purposes (the gate's input)?"""
    problem = None
    trusted = None if trust is None else trust.public_key(key_id)
    if trust is None:
        problem = "no trust file configured (canarykit config set-trust)"
    elif trusted is None:
        problem = f"{key_id!r} is not in the trust file"
    elif _raw_public(trusted) != _raw_public(key.public_key()):
        problem = f"{key_id!r}: the key given is not the trusted key of that id"
    purposes = sorted(trust.purposes_of(key_id)) if trust is not None else []
    if problem is None and "release" not in purposes:
        problem = (
            f"{key_id!r} is not trusted for release signatures (it signs:"
            f" {', '.join(purposes) or 'nothing'}); list purpose release for it in the trust file"
        )
    return {"key_id": key_id, "trusted": problem is None, "purposes": purposes, "problem": problem}


def release_facts(
    conn: sqlite3.Connection,
    record: VersionRecord,
    *,
    now_ns: int,
    actor: str,
    policy: Mapping[str, Any],
    key: Mapping[str, Any],
) -> dict[str, Any]:
    """The input of the release gate (``policies/promotion/release.rego``).

    Parameters
    ----------
    conn : sqlite3.Connection
        The registry, inside the release's transaction.
    record : VersionRecord
        The version to release.
    now_ns : int
        The time of the release.
    actor : str
        Who releases.
    policy : mapping
        ``{"digest", "name", "signature": {"verified", "subject_matches", "key_ids",
        "problems"}}`` of the snapshot released.
    key : mapping
        ``{"key_id", "trusted", "purposes", "problem"}`` of the signing key.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> from canarykit.promotion.versions import insert_version
    >>> store = RegistryStore(":memory:")
    >>> with store.transaction() as conn:
    ...     insert_version(conn, model="m", version="v1", artifact_digest="sha256:" + "0" * 64,
    ...                    submitter="ann", now_ns=0)
    >>> facts = release_facts(store.conn, get_version(store.conn, "m", "v1"), now_ns=1,
    ...                       actor="olga", policy={}, key={})
    >>> facts["version"]["stage"], facts["audit"]["ok"], facts["version"]["revalidate_by"]
    ('Unrecorded', True, None)
    """
    version = F.version_facts(record, conn)  # stage, digests and revalidate_by as logged
    revalidate_ns = version["revalidate_by_ns"]
    return {
        "now_ns": now_ns,
        "now": format_instant(now_ns),
        "actor": actor,
        "clock": F.clock_facts(conn, now_ns=now_ns),
        "audit": F.audit_facts(conn),  # the chain, extending its latest recorded checkpoint
        "version": {
            **version,
            "revalidate_by": None if revalidate_ns is None else format_instant(revalidate_ns),
        },
        "policy": dict(policy),
        "release_key": dict(key),
    }


def _policy_facts(
    *,
    files: Mapping[str, bytes],
    envelope: Any,
    trust: TrustStore | None,
    source: str,
    given_digest: str | None,
) -> dict[str, Any]:
    """The released snapshot as the release gate sees it: digest, name, and its sanction."""
    digest = snapshot_digest(files)
    check, problems = policy_signature_problems(files, envelope, trust, expected_digest=digest)
    return {
        "digest": digest,
        "name": check.name,
        "source": source,
        "given_digest": given_digest,
        "files": {n: digest_bytes(data) for n, data in sorted(files.items())},
        "signature": {
            "verified": check.verified and not problems,
            "subject_matches": check.signed_digest == digest,
            "key_ids": list(check.key_ids),
            "problems": problems,
        },
    }


def _policy_folder(policy: str | Path | None) -> tuple[dict[str, bytes], Any, str]:
    """The files of ``policy`` (default: the shipped policy), the envelope that sanctions them
    (``DIR/policy.dsse.json`` when present) and how to name them."""
    from canarykit.verdict.policy import default_policy_path

    root = Path(policy) if policy is not None else default_policy_path()
    files = load_snapshot_files(root)
    signature = default_signature_path(root) if root.is_dir() else None
    envelope = None
    if signature is not None and signature.is_file():
        envelope = load_json_file(signature, what="policy signature")
    return files, envelope, str(root)


def write_release(
    session: Session,
    model: str,
    version: str,
    *,
    out: str | Path,
    signing_key: Any,
    key_id: str,
    policy: str | Path | None = None,
    actor: str,
    alias: str = "production",
) -> ReleaseResult:
    """Run the release gate, then write the signed release of a version.

    Parameters
    ----------
    session : Session
        The registry (a :class:`~canarykit.promotion.api.Promotion`).
    model, version : str
        The version to release.
    out : str or Path
        A new or empty folder, not a symbolic link. The release is built in a private folder
        next to it and moved into place once complete, so no file outside ``out`` is ever
        written through a link and a refused or failed release leaves nothing behind.
    signing_key : Ed25519PrivateKey, str or Path
        The key that signs the manifest (its PEM file, or the key).
    key_id : str
        Its id in the trust file, which must list it for purpose ``release``.
    policy : str or Path, optional
        The policy released is the sanctioned snapshot the registry stored when the version
        was bound at Staging (:func:`~canarykit.promotion.sanctioned_policy.bound_policy`);
        ``policy``, when given, must be that very snapshot. A version bound before policies
        were stored is released from ``policy`` (default: the shipped policy), which must then
        carry its sanctioning signature as ``DIR/policy.dsse.json``.
    actor : str
        Who releases.
    alias : str, default "production"
        The alias whose rollback target the manifest records.

    Returns
    -------
    ReleaseResult

    Raises
    ------
    InvalidInputError
        ``out`` is a link, a file or a folder with files in it; the key or policy is unreadable.
    GateDeniedError
        The release gate refuses: the version is not Approved or is revoked, its
        ``revalidate_by`` has lapsed, the audit chain is broken, the policy is not the one bound
        at Staging or not signed by a ``policy`` key, or the signing key is not the trusted key
        of ``key_id`` for ``release``. A ``gate_denied`` event records it.

    Examples
    --------
    >>> import tempfile
    >>> from canarykit.promotion.api import Promotion
    >>> p = Promotion(":memory:", drill=True)  # a drill registry: unsigned acts allowed
    >>> _ = p.bootstrap(actor="sam", roster={"people": {"sam": ["security"], "ann": ["product"]}})
    >>> _ = p.submit("m", "v1", artifact_digest="sha256:" + "1" * 64, actor="ann")
    >>> out = Path(tempfile.mkdtemp()) / "rel"
    >>> p.release("m", "v1", out=out, signing_key=Ed25519PrivateKey.generate(), key_id="k",
    ...           actor="sam")
    Traceback (most recent call last):
    ...
    canarykit.promotion.gates.GateDenial: release m v1 denied: ...
    >>> p.events()[-1].kind, out.exists()
    ('gate_denied', False)
    """
    actor = check_actor(actor)
    key_id = check_key_id(key_id)
    out_dir = Path(out)
    check_release_dir(out_dir)
    given = _policy_folder(policy)
    key = load_signing_key(signing_key)
    action = f"release {model} {version}"

    def body(conn: sqlite3.Connection, now: int) -> ReleaseResult:
        record = get_version(conn, model, version)
        trust = F.load_trust(conn)
        bound = bound_policy(conn, model, version)
        if bound is not None:  # the sanctioned snapshot bound at Staging, as stored
            files, envelope = dict(bound.files), dict(bound.envelope)
            source = "the snapshot bound at Staging"
            given_digest = None if policy is None else snapshot_digest(given[0])
        else:
            files, envelope, source = given
            given_digest = None
        policy_facts = _policy_facts(
            files=files, envelope=envelope, trust=trust, source=source, given_digest=given_digest
        )
        name, digest, hashes = policy_facts["name"], policy_facts["digest"], policy_facts["files"]
        facts = release_facts(
            conn,
            record,
            now_ns=now,
            actor=actor,
            policy=policy_facts,
            key=_key_facts(trust, key_id, key),
        )
        session._gate("release", action, facts)
        envelope_bytes = json_bytes(envelope)  # the gate allowed: a verified envelope
        checkpoint = audit_checkpoint(conn, trust=trust, key=key, key_id=key_id, now_ns=now)
        manifest = _manifest(
            conn,
            record,
            alias=alias,
            now_ns=now,
            policy_snapshot={
                "name": name,
                "digest": digest,
                "files": hashes,
                "envelope_digest": digest_bytes(envelope_bytes),
                "signed_by": policy_facts["signature"]["key_ids"],
            },
            checkpoint=checkpoint,
        )
        if is_drill(conn):  # a rehearsal says so in every output, signed with the manifest
            manifest["drill"] = True
        notes = _notes(manifest).encode("utf-8")
        manifest["release_notes_digest"] = digest_bytes(notes)
        validate_or_raise(manifest, MANIFEST_SCHEMA, what=MANIFEST)
        signed = sign_statement(
            manifest_statement(manifest), purpose="release", private_key=key, key_id=key_id
        )
        manifest_bytes = json_bytes(manifest)
        contents = {
            **{f"{SNAPSHOT}/{n}": data for n, data in files.items()},
            f"{SNAPSHOT}/{SNAPSHOT_META}": json_bytes(
                snapshot_meta(name=name, digest=digest, files=hashes)
            ),
            f"{SNAPSHOT}/{SNAPSHOT_ENVELOPE}": envelope_bytes,
            NOTES: notes,
            MANIFEST: manifest_bytes,
            MANIFEST_ENVELOPE: json_bytes(signed),
        }
        append_event(
            conn,
            kind="release",
            actor=actor,
            time_ns=now,
            model=model,
            version=version,
            payload={
                "out_dir": str(out_dir),
                "policy_digest": digest,
                "manifest_digest": digest_bytes(manifest_bytes),
                "envelope_digest": digest_bytes(contents[MANIFEST_ENVELOPE]),
                "key_id": key_id,
                "audit_checkpoint": {
                    "seq": checkpoint["seq"],
                    "head_hash": checkpoint["head_hash"],
                    "signed_checkpoint": checkpoint["signed_checkpoint"],
                },
            },
        )
        # built privately beside out_dir and renamed into place whole; no link is followed
        publish_folder(out_dir, contents)
        return ReleaseResult(
            out_dir=str(out_dir),
            manifest=manifest,
            files=tuple(sorted(contents)),
            manifest_digest=digest_bytes(manifest_bytes),
        )

    return session._run(action=action, actor=actor, body=body, model=model, version=version)
