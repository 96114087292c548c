"""Checking that a signature sanctions exactly a policy snapshot (the Staging gate's facts).

:func:`check_policy_signature` opens the envelope for purpose ``policy`` and compares its
signed file list, name for name and sha256 for sha256, with the snapshot's files; the result is
a :class:`PolicySignatureCheck` listing every problem in words that name the difference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canarykit.promotion.evidence import TrustStore, open_envelope
from canarykit.promotion.policy_signing import (
    POLICY_PREDICATE_TYPE,
    POLICY_SIGNATURE_FILE,
    _sha256,
    snapshot_problems,
)
from canarykit.verdict.snapshot import snapshot_digest

__all__ = ["PolicySignatureCheck", "check_policy_signature"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySignatureCheck:
    """A policy folder's snapshot checked against its signature (the Staging gate's facts)."""

    present: bool
    verified: bool
    digest: str
    name: str | None = None
    signed_digest: str | None = None
    key_ids: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the Rego input ``policy_snapshot``)."""
        return {
            "present": self.present,
            "verified": self.verified,
            "digest": self.digest,
            "name": self.name,
            "signed_digest": self.signed_digest,
            "key_ids": list(self.key_ids),
            "problems": list(self.problems),
        }


def _signed_files(predicate: Mapping[str, Any]) -> dict[str, str] | None:
    listed = predicate.get("files")
    if not isinstance(listed, list):
        return None
    out: dict[str, str] = {}
    for entry in listed:
        if not isinstance(entry, Mapping):
            return None
        name, sha = entry.get("name"), entry.get("sha256")
        if not isinstance(name, str) or not isinstance(sha, str) or name in out:
            return None
        out[name] = sha
    return out


def _differences(signed: Mapping[str, str], files: Mapping[str, bytes]) -> list[str]:
    here = {n: _sha256(b) for n, b in files.items()}
    extra = sorted(set(here) - set(signed))
    missing = sorted(set(signed) - set(here))
    changed = sorted(n for n in set(here) & set(signed) if here[n] != signed[n])
    parts = []
    if extra:
        parts.append(f"extra file {', '.join(extra)} (not signed)")
    if missing:
        parts.append(f"missing file {', '.join(missing)} (signed, not in the folder)")
    if changed:
        parts.append(f"changed file {', '.join(changed)} (bytes differ from the signed sha256)")
    return parts


def check_policy_signature(
    files: Mapping[str, bytes], envelope: Any, trust: TrustStore | None
) -> PolicySignatureCheck:
    """Check that ``envelope`` sanctions exactly the snapshot ``files``.

    ``verified`` holds only when the envelope opens for purpose ``policy`` (payload type, a
    signature by a key trusted for ``policy``), carries the policy-snapshot predicate, its
    signed file list equals ``files`` name for name and sha256 for sha256, its subject and
    predicate digests are the snapshot digest, and the snapshot is a complete valid policy.
    Every problem is listed, in words that name the difference.
    """
    digest = snapshot_digest(files)
    problems = snapshot_problems(files, source="the folder's snapshot")
    if envelope is None:
        problems.insert(
            0,
            "the policy snapshot is not signed: sign it with `canarykit policy sign DIR --key"
            " KEY.pem --key-id ID` (a key the trust file lists for purpose policy) and pass"
            f" --policy-signature FILE, or leave the signature at DIR/{POLICY_SIGNATURE_FILE}",
        )
        return PolicySignatureCheck(
            present=False, verified=False, digest=digest, problems=tuple(problems)
        )
    opened = open_envelope(envelope, trust, purpose="policy")
    problems[:0] = [f"signature: {p}" for p in opened.problems]
    statement = opened.statement or {}
    predicate = statement.get("predicate")
    predicate = predicate if isinstance(predicate, Mapping) else {}
    name = predicate.get("name") if isinstance(predicate.get("name"), str) else None
    signed_digest = predicate.get("digest") if isinstance(predicate.get("digest"), str) else None
    if opened.statement is not None and statement.get("predicateType") != POLICY_PREDICATE_TYPE:
        problems.append(
            f"statement.predicateType: {str(statement.get('predicateType'))[:60]!r} is not the"
            f" policy-snapshot type {POLICY_PREDICATE_TYPE!r}"
        )
    signed = _signed_files(predicate) if opened.statement is not None else None
    if opened.statement is not None and signed is None:
        problems.append("predicate.files: not a list of {name, sha256} with distinct names")
    if signed is not None:
        differences = _differences(signed, files)
        if differences:
            problems.append(
                "the signed snapshot differs from the folder: "
                + "; ".join(differences)
                + f" — the signature is for {name or 'a policy'} {str(signed_digest)[:80]},"
                f" the folder's snapshot is {digest}"
            )
        lines = "".join(f"{n}\0{signed[n]}\n" for n in sorted(signed))
        listed_digest = "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()
        subjects = statement.get("subject")
        subject_digests = [
            s["digest"].get("sha256")
            for s in (subjects if isinstance(subjects, list) else [])
            if isinstance(s, Mapping) and isinstance(s.get("digest"), Mapping)
        ]
        if signed_digest != listed_digest or subject_digests != [
            listed_digest.removeprefix("sha256:")
        ]:
            problems.append(
                "the statement is inconsistent: its subject and predicate digests are not the"
                " digest of its signed file list"
            )
    if name is None and opened.statement is not None:
        problems.append("predicate.name: required")
    verified = opened.verified and not problems
    return PolicySignatureCheck(
        present=True,
        verified=verified,
        digest=digest,
        name=name,
        signed_digest=signed_digest,
        key_ids=opened.key_ids,
        problems=tuple(problems),
    )
