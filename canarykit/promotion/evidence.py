"""Offline evidence about an artifact: its digest, Ed25519 signatures and DSSE attestations.

Nothing here touches the network. Keys come from a *trust file*
(:mod:`~canarykit.promotion.trust_store`, the keys it believes and their purposes); signing keys
are read and named by :mod:`~canarykit.promotion.signing_keys`; DSSE envelopes with in-toto
statements (signed verdicts, policies, releases, checkpoints and SLSA build provenance) are
signed and opened by :mod:`~canarykit.promotion.dsse_envelopes`. Every name of those modules
that was first defined here is still importable from here.

A *signature file* (JSON) holds one or more signatures over the UTF-8 bytes of the artifact
digest text ``"sha256:<hex>"``::

    {"signatures": [{"keyid": "release-2026", "sig": "<base64 Ed25519 signature>"}]}

This module computes that digest (:func:`digest_bytes`, :func:`digest_file`), writes the
signature document (:func:`sign_artifact`) and checks its signatures against the trust file
(:func:`verify_signatures`).

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> key = Ed25519PrivateKey.generate()
>>> trust = TrustStore.from_dict({"keys": [{"id": "k1", "public_key": public_key_text(key)}]})
>>> digest = digest_bytes(b"model weights")
>>> check = verify_signatures(digest, [sign_digest(key, "k1", digest)], trust)
>>> check.verified, check.key_ids
(True, ('k1',))
>>> verify_signatures(digest, [], trust).problems
('no signature supplied although trust is configured',)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.documents import load_document_file
from canarykit.promotion.dsse_envelopes import (
    INTOTO_PAYLOAD_TYPE,
    INTOTO_STATEMENT_V1,
    PAYLOAD_TYPES,
    SLSA_PROVENANCE_PREFIX,
    SLSA_PROVENANCE_V1,
    AttestationCheck,
    EnvelopeCheck,
    dsse_pae,
    intoto_statement,
    open_envelope,
    sign_statement,
    verify_dsse,
)
from canarykit.promotion.signing_keys import (
    check_key_id,
    load_private_key,
    public_key_text,
    sign_digest,
)
from canarykit.promotion.trust_store import DEFAULT_PURPOSES, PURPOSES, TrustStore, _verify_one

__all__ = [
    "DEFAULT_PURPOSES",
    "INTOTO_PAYLOAD_TYPE",
    "INTOTO_STATEMENT_V1",
    "PAYLOAD_TYPES",
    "PURPOSES",
    "SLSA_PROVENANCE_PREFIX",
    "SLSA_PROVENANCE_V1",
    "AttestationCheck",
    "EnvelopeCheck",
    "SignatureCheck",
    "TrustStore",
    "check_key_id",
    "digest_bytes",
    "digest_file",
    "dsse_pae",
    "intoto_statement",
    "load_json_file",
    "load_private_key",
    "load_signature_file",
    "open_envelope",
    "public_key_text",
    "sign_artifact",
    "sign_digest",
    "sign_statement",
    "verify_dsse",
    "verify_signatures",
]

_CHUNK = 1 << 20


def digest_bytes(data: bytes) -> str:
    """``"sha256:<hex>"`` of some bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_file(path: str | Path) -> str:
    """``"sha256:<hex>"`` of a file, read in 1 MiB chunks.

    Raises
    ------
    InvalidInputError
        If the file cannot be read.
    """
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                sha.update(chunk)
    except OSError as err:
        raise InvalidInputError(f"{path}: cannot read artifact ({err.strerror})") from None
    return "sha256:" + sha.hexdigest()


def load_json_file(path: str | Path, *, what: str) -> Any:
    """Read a JSON (or YAML, by suffix) file, naming the file in any error.

    Strict UTF-8 and bounded nesting: see :func:`canarykit.promotion.documents.load_document_file`.
    """
    return load_document_file(path, what=what)


def sign_artifact(artifact: str | Path, private_key: Any, key_id: str) -> dict[str, Any]:
    """The signature document over an artifact, as ``promote --signature`` reads it.

    Parameters
    ----------
    artifact : str or Path
        The artifact file, or a model folder (an MLflow model); its digest text
        ``"sha256:<hex>"`` (:func:`~canarykit.promotion.artifacts.digest_artifact`) is what gets
        signed.
    private_key : Ed25519PrivateKey, str or Path
        The key or its unencrypted PEM file (see :func:`load_private_key`).
    key_id : str
        The id the trust file lists the matching public key under.

    Returns
    -------
    dict
        ``{"signatures": [{"keyid": key_id, "sig": "<base64 Ed25519 signature>"}]}``.

    Raises
    ------
    InvalidInputError
        The artifact cannot be read, the key is not usable, or the key id is malformed.

    Examples
    --------
    >>> import tempfile
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> key = Ed25519PrivateKey.generate()
    >>> with tempfile.NamedTemporaryFile(suffix=".bin") as artifact:
    ...     _ = artifact.write(b"weights"); artifact.flush()
    ...     document = sign_artifact(artifact.name, key, "release-key")
    >>> trust = TrustStore.from_dict({"keys": [{"id": "release-key",
    ...                                          "public_key": public_key_text(key)}]})
    >>> verify_signatures(digest_bytes(b"weights"), document["signatures"], trust).verified
    True
    """
    from canarykit.promotion.artifacts import digest_artifact  # a file or a folder

    key_id = check_key_id(key_id)
    key = load_private_key(private_key)
    digest = digest_artifact(artifact)
    return {"signatures": [sign_digest(key, key_id, digest)]}


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    """Outcome of verifying signatures over an artifact digest."""

    trust_configured: bool
    present: bool
    verified: bool
    key_ids: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (also the Rego input form)."""
        return {
            "trust_configured": self.trust_configured,
            "present": self.present,
            "verified": self.verified,
            "key_ids": list(self.key_ids),
            "problems": list(self.problems),
        }


def load_signature_file(path: str | Path) -> list[dict[str, Any]]:
    """Read a signature file: ``{"signatures": [...]}``, a list, or one ``{"keyid", "sig"}``."""
    data = load_json_file(path, what="signature file")
    if isinstance(data, Mapping) and "signatures" in data:
        data = data["signatures"]
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise InvalidInputError(f"{path}: signatures: must be a list of {{keyid, sig}}")
    return [dict(item) if isinstance(item, Mapping) else {"invalid": item} for item in data]


def verify_signatures(
    digest: str,
    signatures: Sequence[Mapping[str, Any]],
    trust: TrustStore | None,
    *,
    purpose: str = "artifact",
) -> SignatureCheck:
    """Verify Ed25519 signatures over the digest text against the trust store.

    ``verified`` is true only when trust is configured, at least one signature is present, and
    every supplied signature verifies with a key trusted for ``purpose`` (one bad signature
    fails the check).
    """
    if trust is None:
        return SignatureCheck(
            trust_configured=False,
            present=bool(signatures),
            verified=False,
            problems=("no trust file configured: signatures cannot be verified",),
        )
    if not signatures:
        return SignatureCheck(
            trust_configured=True,
            present=False,
            verified=False,
            problems=("no signature supplied although trust is configured",),
        )
    good: list[str] = []
    problems: list[str] = []
    for index, entry in enumerate(signatures):
        key_id, problem = _verify_one(
            digest.encode("utf-8"), entry, trust, f"signatures[{index}]", purpose
        )
        if key_id is not None:
            good.append(key_id)
        if problem is not None:
            problems.append(problem)
    return SignatureCheck(
        trust_configured=True,
        present=True,
        verified=bool(good) and not problems,
        key_ids=tuple(good),
        problems=tuple(problems),
    )
