"""Offline evidence about an artifact: its digest, Ed25519 signatures and DSSE attestations.

Nothing here touches the network. Keys come from a *trust file* (YAML or JSON)::

    keys:
      - id: release-2026                 # the key id signatures name
        public_key: "<base64 of the 32 raw Ed25519 public-key bytes, or PEM text>"

A *signature file* (JSON) holds one or more signatures over the UTF-8 bytes of the artifact
digest text ``"sha256:<hex>"``::

    {"signatures": [{"keyid": "release-2026", "sig": "<base64 Ed25519 signature>"}]}

A *DSSE envelope* (JSON) carries an in-toto Statement v1 whose ``subject[].digest.sha256`` must
match the artifact and whose ``predicateType`` is SLSA provenance; its signatures are checked over
the DSSE pre-authentication encoding against the same trust file.

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

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.documents import decode_text, load_document_file, parse_document

__all__ = [
    "INTOTO_STATEMENT_V1",
    "AttestationCheck",
    "SignatureCheck",
    "TrustStore",
    "check_key_id",
    "digest_bytes",
    "digest_file",
    "dsse_pae",
    "load_json_file",
    "load_private_key",
    "load_signature_file",
    "public_key_text",
    "sign_artifact",
    "sign_digest",
    "verify_dsse",
    "verify_signatures",
]

INTOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
SLSA_PROVENANCE_PREFIX = "https://slsa.dev/provenance/"
_CHUNK = 1 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    """Base64 of the raw public key of ``private_key`` (the trust-file form)."""
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def sign_digest(private_key: Ed25519PrivateKey, key_id: str, digest: str) -> dict[str, str]:
    """Sign the artifact digest text; returns ``{"keyid", "sig"}`` for a signature file."""
    signature = private_key.sign(digest.encode("utf-8"))
    return {"keyid": key_id, "sig": base64.b64encode(signature).decode("ascii")}


def load_private_key(source: Any) -> Ed25519PrivateKey:
    """An Ed25519 private key object, or one read from an unencrypted PEM (PKCS#8) file.

    Parameters
    ----------
    source : Ed25519PrivateKey, str or Path
        The key, or the path of its PEM file (``-----BEGIN PRIVATE KEY-----``, as written by
        ``openssl genpkey -algorithm ed25519`` or ``cryptography``'s ``PrivateFormat.PKCS8``).

    Raises
    ------
    InvalidInputError
        One line naming the file and why it is not a usable key: unreadable, not PEM,
        encrypted, a public key, or a key of another algorithm.
    """
    if isinstance(source, Ed25519PrivateKey):
        return source
    where = f"{source}: signing key"
    try:
        data = Path(source).read_bytes()
    except OSError as err:
        raise InvalidInputError(
            f"{where}: cannot read it ({err.strerror or type(err).__name__})"
        ) from None
    if b"-----BEGIN PUBLIC KEY-----" in data:
        raise InvalidInputError(f"{where}: is a public key; signing needs the private key")
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data:
        raise InvalidInputError(f"{where}: is encrypted; give an unencrypted PEM (PKCS#8) key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # encrypted in a legacy PEM form
        raise InvalidInputError(
            f"{where}: is encrypted; give an unencrypted PEM (PKCS#8) key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInputError(
            f"{where}: not a PEM private key (expected -----BEGIN PRIVATE KEY-----)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInputError(f"{where}: not an Ed25519 key (it is {_algorithm(key)})")
    return key


def _algorithm(key: object) -> str:
    """A key's algorithm in the words people use (RSA, ECDSA, ...)."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa, x448, x25519

    kinds = (
        (rsa.RSAPrivateKey, "an RSA key"),
        (ec.EllipticCurvePrivateKey, "an ECDSA key"),
        (dsa.DSAPrivateKey, "a DSA key"),
        (ed448.Ed448PrivateKey, "an Ed448 key"),
        (x25519.X25519PrivateKey, "an X25519 key"),
        (x448.X448PrivateKey, "an X448 key"),
    )
    return next((name for kind, name in kinds if isinstance(key, kind)), type(key).__name__)


def check_key_id(key_id: Any) -> str:
    """Return ``key_id`` if it can name a trust-file key (non-empty text, no control characters).

    Raises
    ------
    InvalidInputError
        It cannot.
    """
    if not isinstance(key_id, str) or not key_id.strip() or _CONTROL.search(key_id):
        raise InvalidInputError(
            f"key id: {key_id!r} must be non-empty text without control characters (the id"
            " the trust file lists the key under)"
        )
    return key_id


def sign_artifact(artifact: str | Path, private_key: Any, key_id: str) -> dict[str, Any]:
    """The signature document over an artifact, as ``promote --signature`` reads it.

    Parameters
    ----------
    artifact : str or Path
        The artifact file; its digest text ``"sha256:<hex>"`` is what gets signed.
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
    >>> key = Ed25519PrivateKey.generate()
    >>> with tempfile.NamedTemporaryFile(suffix=".bin") as artifact:
    ...     _ = artifact.write(b"weights"); artifact.flush()
    ...     document = sign_artifact(artifact.name, key, "release-key")
    >>> trust = TrustStore.from_dict({"keys": [{"id": "release-key",
    ...                                          "public_key": public_key_text(key)}]})
    >>> verify_signatures(digest_bytes(b"weights"), document["signatures"], trust).verified
    True
    """
    key_id = check_key_id(key_id)
    key = load_private_key(private_key)
    digest = digest_file(artifact)
    return {"signatures": [sign_digest(key, key_id, digest)]}


def _parse_public_key(text: str, where: str) -> Ed25519PublicKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
            if not isinstance(key, Ed25519PublicKey):
                raise InvalidInputError(f"{where}: PEM key is not an Ed25519 public key")
            return key
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        raise InvalidInputError(
            f"{where}: not a base64 raw Ed25519 public key (32 bytes) or PEM text"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustStore:
    """Trusted Ed25519 public keys by key id, with the text they came from.

    Examples
    --------
    >>> TrustStore.from_dict({"keys": [{"id": "k"}]})
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: trust: keys[0].public_key: required
    """

    keys: Mapping[str, str]

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "trust") -> TrustStore:
        """Validate a trust document; all field errors are collected and raised together."""
        errors: list[str] = []
        keys: dict[str, str] = {}
        entries = data.get("keys") if isinstance(data, Mapping) else None
        if not isinstance(entries, list) or not entries:
            raise InvalidInputError(f"{source}: keys: must be a non-empty list")
        for index, entry in enumerate(entries):
            where = f"keys[{index}]"
            if not isinstance(entry, Mapping):
                errors.append(f"{where}: must be a mapping with id and public_key")
                continue
            key_id, text = entry.get("id"), entry.get("public_key")
            if not isinstance(key_id, str) or not key_id:
                errors.append(f"{where}.id: required")
            elif key_id in keys:
                errors.append(f"{where}.id: duplicate key id {key_id!r}")
            if not isinstance(text, str) or not text:
                errors.append(f"{where}.public_key: required")
                continue
            try:
                _parse_public_key(text, f"{where}.public_key")
            except InvalidInputError as err:
                errors.append(str(err))
                continue
            if isinstance(key_id, str) and key_id:
                keys[key_id] = text.strip()
        if errors:
            raise InvalidInputError(f"{source}: " + "; ".join(errors))
        return cls(keys=keys)

    @classmethod
    def from_file(cls, path: str | Path) -> TrustStore:
        """Load a YAML/JSON trust file."""
        return cls.from_dict(load_json_file(path, what="trust file"), source=str(path))

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        """The key for ``key_id`` or None when it is not trusted."""
        text = self.keys.get(key_id)
        return None if text is None else _parse_public_key(text, f"key {key_id}")

    def to_dict(self) -> dict[str, Any]:
        """The trust document."""
        return {"keys": [{"id": k, "public_key": v} for k, v in sorted(self.keys.items())]}


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


def _verify_one(
    message: bytes, entry: Mapping[str, Any], trust: TrustStore, where: str
) -> tuple[str | None, str | None]:
    key_id, sig = entry.get("keyid"), entry.get("sig")
    if not isinstance(key_id, str) or not isinstance(sig, str):
        return None, f"{where}: needs string fields keyid and sig"
    key = trust.public_key(key_id)
    if key is None:
        return None, f"{where}: key {key_id!r} is not in the trust file"
    try:
        key.verify(base64.b64decode(sig, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return None, f"{where}: signature by {key_id!r} does not verify"
    return key_id, None


def verify_signatures(
    digest: str, signatures: Sequence[Mapping[str, Any]], trust: TrustStore | None
) -> SignatureCheck:
    """Verify Ed25519 signatures over the digest text against the trust store.

    ``verified`` is true only when trust is configured, at least one signature is present, and
    every supplied signature verifies with a trusted key (one bad signature fails the check).
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
        key_id, problem = _verify_one(digest.encode("utf-8"), entry, trust, f"signatures[{index}]")
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


def dsse_pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding of a payload.

    Examples
    --------
    >>> dsse_pae("t", b"ab")
    b'DSSEv1 1 t 2 ab'
    """
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationCheck:
    """Outcome of verifying a DSSE envelope carrying SLSA provenance for the artifact."""

    present: bool
    verified: bool
    subject_matches: bool
    predicate_type: str | None = None
    key_ids: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (also the Rego input form)."""
        return {
            "present": self.present,
            "verified": self.verified,
            "subject_matches": self.subject_matches,
            "predicate_type": self.predicate_type,
            "key_ids": list(self.key_ids),
            "problems": list(self.problems),
        }


def verify_dsse(
    envelope: Mapping[str, Any] | None, digest: str, trust: TrustStore | None
) -> AttestationCheck:
    """Check a DSSE envelope: signatures, in-toto Statement v1, SLSA predicate, subject digest."""
    if envelope is None:
        return AttestationCheck(present=False, verified=False, subject_matches=False)
    problems: list[str] = []
    payload_type = envelope.get("payloadType")
    try:
        payload = base64.b64decode(str(envelope.get("payload", "")), validate=True)
        statement = parse_document(decode_text(payload, where="payload"), where="payload")
    except (binascii.Error, ValueError):
        return AttestationCheck(
            present=True,
            verified=False,
            subject_matches=False,
            problems=("payload: not base64-encoded JSON",),
        )
    if payload_type != INTOTO_PAYLOAD_TYPE:
        problems.append(f"payloadType: {payload_type!r}, expected {INTOTO_PAYLOAD_TYPE!r}")
    good: list[str] = []
    signatures = envelope.get("signatures")
    if trust is None:
        problems.append("no trust file configured: the envelope cannot be verified")
    elif not isinstance(signatures, list) or not signatures:
        problems.append("signatures: the envelope is not signed")
    else:
        message = dsse_pae(str(payload_type), payload)
        for index, entry in enumerate(signatures):
            if not isinstance(entry, Mapping):
                problems.append(f"signatures[{index}]: must be a mapping")
                continue
            key_id, problem = _verify_one(message, entry, trust, f"signatures[{index}]")
            good += [key_id] if key_id else []
            problems += [problem] if problem else []
    predicate_type = statement.get("predicateType") if isinstance(statement, dict) else None
    if not isinstance(statement, dict) or statement.get("_type") != INTOTO_STATEMENT_V1:
        problems.append(f"statement._type: expected {INTOTO_STATEMENT_V1!r}")
    if not str(predicate_type or "").startswith(SLSA_PROVENANCE_PREFIX):
        problems.append(f"statement.predicateType: {predicate_type!r} is not SLSA provenance")
    hexdigest = digest.removeprefix("sha256:")
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    matches = isinstance(subjects, list) and any(
        isinstance(s, Mapping)
        and isinstance(s.get("digest"), Mapping)
        and s["digest"].get("sha256") == hexdigest
        for s in subjects
    )
    if not matches:
        problems.append(f"statement.subject: no subject has digest sha256 {hexdigest[:12]}…")
    return AttestationCheck(
        present=True,
        verified=bool(good) and not problems,
        subject_matches=matches,
        predicate_type=predicate_type if isinstance(predicate_type, str) else None,
        key_ids=tuple(good),
        problems=tuple(problems),
    )
