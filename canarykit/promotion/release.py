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

This module runs the gate and writes the folder (:func:`write_release`); the gate's input is
computed by :mod:`~canarykit.promotion.release_gate`, the manifest by
:mod:`~canarykit.promotion.release_manifest` and the notes by
:mod:`~canarykit.promotion.release_notes`, whose public names are importable from here too.

A release folder is written once: ``DIR`` must be new or empty and not a symbolic link; the
release is built privately and moved into place whole, so nothing is ever written through a
link or over an existing file.

Examples
--------
>>> sorted(RELEASE_FILES)
['policy_snapshot', 'release_manifest.dsse.json', 'release_manifest.json', 'release_notes.md']
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import InvalidInputError
from canarykit.promotion import facts as F
from canarykit.promotion.audit import append_event
from canarykit.promotion.drill import is_drill
from canarykit.promotion.evidence import (
    check_key_id,
    digest_bytes,
    load_private_key,
    sign_statement,
)
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
    snapshot_meta,
    verify_policy_snapshot,
)
from canarykit.promotion.release_gate import (
    _key_facts,
    _policy_facts,
    _policy_folder,
    release_facts,
)
from canarykit.promotion.release_manifest import _manifest, audit_checkpoint, evidence_links
from canarykit.promotion.release_notes import DRILL_NOTE, _notes, md_code, md_text
from canarykit.promotion.sanctioned_policy import bound_policy
from canarykit.promotion.schema_check import validate_or_raise
from canarykit.promotion.session import check_actor
from canarykit.promotion.versions import get_version
from canarykit.safe_io import publish_folder
from canarykit.verdict.snapshot import snapshot_digest

if TYPE_CHECKING:
    from canarykit.promotion.session import Session

__all__ = [
    "DRILL_NOTE",
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
