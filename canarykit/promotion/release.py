"""Release artifacts of an Approved version: manifest, signed policy snapshot, release notes.

``canarykit release MODEL VERSION --out DIR`` writes::

    DIR/release_manifest.json        validated against schemas/release_manifest.schema.json
    DIR/policy_snapshot/<files>      the policy files whose digest was bound at Staging
    DIR/policy_snapshot/snapshot.json       {"digest", "files": {name: sha256}}
    DIR/policy_snapshot/snapshot.sig.json   {"keyid", "sig", "digest"} — Ed25519 over the digest text
    DIR/release_notes.md             changes, risks, limitations, verdict summary

The signing key must be in the registry's trust file (as base64 or PEM, the two forms a trust
file allows), so anyone holding the trust file can verify the snapshot offline
(:func:`verify_policy_snapshot`). A release folder is written once: ``DIR`` must be new or
empty and not a symbolic link; the release is built privately and moved into place whole, so
nothing is ever written through a link or over an existing file.

Examples
--------
>>> sorted(RELEASE_FILES)
['policy_snapshot', 'release_manifest.json', 'release_notes.md']
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from canarykit.errors import InvalidInputError, StorageError
from canarykit.promotion import facts as F
from canarykit.promotion.alias import read_alias, rollback_target
from canarykit.promotion.approvals import list_approvals
from canarykit.promotion.audit import append_event
from canarykit.promotion.changes import get_ticket
from canarykit.promotion.clock import format_instant
from canarykit.promotion.evidence import (
    TrustStore,
    digest_bytes,
    load_json_file,
    load_private_key,
    sign_digest,
    verify_signatures,
)
from canarykit.promotion.gates import GateDenial
from canarykit.promotion.schema_check import validate_or_raise
from canarykit.promotion.session import check_actor
from canarykit.promotion.states import Stage
from canarykit.promotion.verdicts import verdict_digest
from canarykit.promotion.versions import VersionRecord, get_version
from canarykit.promotion.waivers import list_waivers
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

if TYPE_CHECKING:
    from canarykit.promotion.session import Session

__all__ = [
    "MANIFEST_SCHEMA",
    "RELEASE_FILES",
    "ReleaseResult",
    "check_release_dir",
    "load_signing_key",
    "verify_policy_snapshot",
    "write_release",
]

MANIFEST_SCHEMA = "release_manifest.schema.json"
RELEASE_FILES = ("release_manifest.json", "policy_snapshot", "release_notes.md")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseResult:
    """Where the release artifacts were written, and the manifest."""

    out_dir: str
    manifest: Mapping[str, Any]
    files: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"out_dir": self.out_dir, "files": list(self.files), "manifest": dict(self.manifest)}


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
        found = get_ticket(conn, chg_id)
        if found is not None:
            doc = found[0].to_dict()
            tickets.append({**doc, "requester": found[1]})
    return tickets


def _manifest(
    conn: sqlite3.Connection, record: VersionRecord, *, alias: str, now_ns: int
) -> dict[str, Any]:
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
        "schema": "canarykit.release_manifest/1",
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
            for a in list_approvals(conn, record.model, record.version)
        ],
        "tickets": _tickets(conn, record.model, record.version),
        "waivers": [
            w.to_dict()
            for w in list_waivers(conn, record.model, record.version)
            if w.is_active(now_ns=now_ns)
        ],
        "evidence": {
            "signature_key_ids": list(evidence.get("signature", {}).get("key_ids", [])),
            "attestation_verified": bool(evidence.get("attestation", {}).get("verified", False)),
            "sbom_max_open_severity": evidence.get("sbom", {}).get("max_open_severity", "none"),
        },
        "gate_policy_digest": evidence.get("gate_policy_digest"),
        "created_at": format_instant(now_ns),
    }


def _notes(manifest: Mapping[str, Any]) -> str:
    canary = manifest["canary"]
    lines = [
        f"# Release {manifest['model']} {manifest['version']}",
        "",
        f"- artifact: `{manifest['artifact_digest']}`",
        f"- policy snapshot: `{manifest['policy_digest']}`",
        f"- revalidate by: {manifest['revalidate_by']}",
        f"- rollback: `{manifest['rollback']['alias']}` returns to"
        f" {manifest['rollback']['target'] or 'nothing (the alias would be blocked)'}",
        "",
        "## Changes",
        "",
    ]
    for ticket in manifest["tickets"]:
        lines.append(
            f"- **{ticket['id']}** ({ticket['type']}, risk {ticket['risk']}): {ticket['impact']}"
        )
        lines += [f"  - step: {step}" for step in ticket["steps"]]
        lines.append(f"  - backout: {ticket['backout_plan']}")
        lines += [f"  - validate: {v}" for v in ticket["post_change_validation"]]
    lines += ["", "## Risks", ""]
    lines += [f"- {t['id']}: risk {t['risk']} — {t['impact']}" for t in manifest["tickets"]]
    lines.append(f"- highest open SBOM severity: {manifest['evidence']['sbom_max_open_severity']}")
    lines += [
        f"- waiver {w['waiver_id']} lifts `{w['check']}` until {w['expires']}: {w['reason']}"
        f" (owner {w['owner']})"
        for w in manifest["waivers"]
    ]
    lines += ["", "## Limitations", ""]
    open_checks = [c for c in canary["checks"] if c["status"] != "pass"]
    lines += [f"- check `{c['name']}` was {c['status']} at release" for c in open_checks]
    lines.append(f"- the approval holds until {manifest['revalidate_by']}; revalidate before then")
    if not manifest["evidence"]["attestation_verified"]:
        lines.append("- no verified SLSA provenance attestation was supplied")
    lines += [
        "",
        "## Verdict summary",
        "",
        f"- decision: **{canary['decision']}** ({canary['strategy']} vs {canary['baseline']},"
        f" window {canary['window']['start']} → {canary['window']['end']})",
        f"- data digest: `{canary['data_digest']}`; verdict digest: `{canary['verdict_digest']}`",
        f"- guardrails: {', '.join(manifest['guardrails'])}",
        "",
        "| check | status |",
        "|---|---|",
    ]
    lines += [f"| {c['name']} | {c['status']} |" for c in canary["checks"]]
    lines += [f"- reason: {r}" for r in canary["reasons"]]
    lines += ["", "## Approvals", ""]
    lines += [
        f"- {a['role']} ({a['stage']}): {a['actor']} at {a['time']}" for a in manifest["approvals"]
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


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Create each file (never following or replacing anything already there)."""
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as handle:
            handle.write(data)


def _publish(staging: Path, out_dir: Path) -> None:
    """Move the finished release folder to ``out_dir`` (absent or an empty folder)."""
    try:
        os.rename(staging, out_dir)  # replaces only an empty folder; never a link or a file
    except OSError as err:
        raise StorageError(
            f"{out_dir}: cannot write the release ({err.strerror or type(err).__name__});"
            " it must be a new or empty folder"
        ) from None


def write_release(
    session: Session,
    model: str,
    version: str,
    *,
    out: str | Path,
    signing_key: Any,
    key_id: str,
    policy: str | Path,
    actor: str,
    alias: str = "production",
) -> ReleaseResult:
    """Write the release artifacts of an Approved version (see the module docstring).

    ``out`` must be a new or empty folder, and not a symbolic link. The release is built in a
    private folder next to it and moved into place once complete, so no file outside ``out``
    is ever written through a link and a refused or failed release leaves nothing behind.

    Raises
    ------
    InvalidInputError
        ``out`` is a link, a file or a folder with files in it; the key or policy is unreadable.
    GateDeniedError
        The version is not Approved, the policy is not the one bound at Staging, or the signing
        key is not the trusted key of ``key_id`` (the trust file may give it as base64 or PEM).
    """
    actor = check_actor(actor)
    out_dir = Path(out)
    check_release_dir(out_dir)
    files = load_snapshot_files(policy)
    key = load_signing_key(signing_key)
    action = f"release {model} {version}"

    def body(conn: sqlite3.Connection, now: int) -> ReleaseResult:
        record = get_version(conn, model, version)
        problems = []
        if record.stage != Stage.APPROVED.value:
            problems.append(
                f"stage: {model} {version} is {record.stage}; only Approved is released"
            )
        digest = snapshot_digest(files)
        if digest != record.policy_digest:
            problems.append(
                f"policy: {policy} has digest {digest}, not the bound {record.policy_digest}"
            )
        trust = F.load_trust(conn)
        trusted = None if trust is None else trust.public_key(key_id)
        if trusted is None or _raw_public(trusted) != _raw_public(key.public_key()):
            problems.append(f"signing key: {key_id!r} is not the trusted key of that id")
        if problems:
            raise GateDenial(action, problems)
        manifest = _manifest(conn, record, alias=alias, now_ns=now)
        validate_or_raise(manifest, MANIFEST_SCHEMA, what="release_manifest.json")
        hashes = {name: digest_bytes(data) for name, data in sorted(files.items())}
        signature = {**sign_digest(key, key_id, digest), "digest": digest}
        contents = {
            **{f"policy_snapshot/{name}": data for name, data in files.items()},
            "policy_snapshot/snapshot.json": _json_bytes({"digest": digest, "files": hashes}),
            "policy_snapshot/snapshot.sig.json": _json_bytes(signature),
            "release_notes.md": _notes(manifest).encode("utf-8"),
            "release_manifest.json": _json_bytes(manifest, sort_keys=True),
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
                "manifest_digest": digest_bytes(json.dumps(manifest, sort_keys=True).encode()),
            },
        )
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # the mode any new folder gets
            _write_files(staging, contents)
            _publish(staging, out_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return ReleaseResult(out_dir=str(out_dir), manifest=manifest, files=tuple(sorted(contents)))

    return session._run(action=action, actor=actor, body=body, model=model, version=version)


def _json_bytes(data: Any, *, sort_keys: bool = False) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=sort_keys) + "\n").encode("utf-8")


def verify_policy_snapshot(snapshot_dir: str | Path, trust: TrustStore) -> list[str]:
    """Problems with a written ``policy_snapshot/`` (empty when files, digest and signature hold).

    Raises
    ------
    InvalidInputError
        ``snapshot.json`` or ``snapshot.sig.json`` cannot be read as JSON.
    """
    folder = Path(snapshot_dir)
    problems: list[str] = []
    meta = load_json_file(folder / "snapshot.json", what="snapshot metadata")
    signature = load_json_file(folder / "snapshot.sig.json", what="snapshot signature")
    listed = meta.get("files") if isinstance(meta, Mapping) else None
    if not isinstance(listed, Mapping) or not isinstance(signature, Mapping):
        return ["snapshot: snapshot.json needs {digest, files} and snapshot.sig.json {keyid, sig}"]
    names = [n for n in listed if isinstance(n, str) and Path(n).name == n and n not in ("", "..")]
    files = {name: (folder / name).read_bytes() for name in names if (folder / name).is_file()}
    if set(files) != set(listed):
        problems.append("files: some listed policy files are missing")
    if snapshot_digest(files) != meta.get("digest"):
        problems.append("digest: the policy files do not match the recorded digest")
    check = verify_signatures(str(meta.get("digest")), [signature], trust)
    problems += list(check.problems)
    return problems
