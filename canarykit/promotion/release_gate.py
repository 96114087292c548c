"""The input of the release gate (``policies/promotion/release.rego``): version, policy, key.

The gate allows a release only of a version that is Approved and not revoked, whose
``revalidate_by`` has not lapsed, while the audit chain is intact, for the snapshot bound at
Staging signed by a ``policy`` key, with a signing key the trust file lists for ``release``.
This module computes what it decides on: :func:`release_facts` (the version as the audit log
records it, the clock, the chain), the released policy snapshot and its sanction, and whether
the signing key is the trusted key of its id.

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> _key_facts(None, "k", Ed25519PrivateKey.generate())["problem"]
'no trust file configured (canarykit config set-trust)'
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from canarykit.promotion import facts as F
from canarykit.promotion.clock import format_instant
from canarykit.promotion.evidence import TrustStore, digest_bytes, load_json_file
from canarykit.promotion.release_format import policy_signature_problems
from canarykit.promotion.sanctioned_policy import default_signature_path
from canarykit.promotion.versions import VersionRecord
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

__all__ = ["release_facts"]


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
    >>> from canarykit.promotion.versions import get_version
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
