"""Offline evidence about an artifact: its digest, Ed25519 signatures and DSSE attestations.

Nothing here touches the network. Keys come from a *trust file* (YAML or JSON)::

    keys:
      - id: release-2026                 # the key id signatures name
        public_key: "<base64 of the 32 raw Ed25519 public-key bytes, or PEM text>"
        purposes: [release]              # what its signatures count for (default: [artifact])
      - id: ci-builder
        public_key: "..."
        purposes: [provenance]
        builders: ["https://ci.example/builder@v1"]   # builder ids it may attest

A signature counts only for its key's purposes (:data:`PURPOSES`): ``artifact`` (signatures over
the artifact digest), ``verdict`` (signed verdicts), ``policy`` (sanctioned policy snapshots),
``release`` (release manifests), ``checkpoint`` (audit-log checkpoints) and ``provenance``
(SLSA build provenance, for the builder ids listed). Every DSSE envelope carries a payload type
of its own per purpose (:data:`PAYLOAD_TYPES`), so a statement signed for one purpose can never
be presented as another.

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
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.documents import decode_text, load_document_file, parse_document

__all__ = [
    "DEFAULT_PURPOSES",
    "INTOTO_STATEMENT_V1",
    "PAYLOAD_TYPES",
    "PURPOSES",
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

INTOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
SLSA_PROVENANCE_PREFIX = "https://slsa.dev/provenance/"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
PURPOSES = ("artifact", "verdict", "policy", "release", "checkpoint", "provenance")
"""What a trusted key's signatures may count for (a key lists its own)."""
DEFAULT_PURPOSES = ("artifact",)
"""Purposes of a key whose trust entry lists none (trust files written before purposes)."""
PAYLOAD_TYPES = {
    "verdict": "application/vnd.canarykit.verdict.v1+json",
    "policy": "application/vnd.canarykit.policy-snapshot.v1+json",
    "release": "application/vnd.canarykit.release-manifest.v1+json",
    "checkpoint": "application/vnd.canarykit.audit-checkpoint.v1+json",
    "provenance": INTOTO_PAYLOAD_TYPE,
}
"""DSSE payload type per purpose: every envelope holds an in-toto Statement v1, and the type
binds it to one purpose (provenance keeps the standard in-toto type that builders emit)."""
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
    """Trusted Ed25519 public keys by key id, with their purposes and the text they came from.

    Examples
    --------
    >>> TrustStore.from_dict({"keys": [{"id": "k"}]})
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: trust: keys[0].public_key: required
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> pub = public_key_text(Ed25519PrivateKey.generate())
    >>> t = TrustStore.from_dict({"keys": [{"id": "v", "public_key": pub, "purposes": ["verdict"]}]})
    >>> t.public_key("v", purpose="verdict") is not None, t.public_key("v", purpose="artifact")
    (True, None)
    """

    keys: Mapping[str, str]
    purposes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    builders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "trust") -> TrustStore:
        """Validate a trust document; all field errors are collected and raised together."""
        errors: list[str] = []
        keys: dict[str, str] = {}
        purposes: dict[str, frozenset[str]] = {}
        builders: dict[str, tuple[str, ...]] = {}
        entries = data.get("keys") if isinstance(data, Mapping) else None
        if not isinstance(entries, list) or not entries:
            raise InvalidInputError(f"{source}: keys: must be a non-empty list")
        for index, entry in enumerate(entries):
            where = f"keys[{index}]"
            if not isinstance(entry, Mapping):
                errors.append(f"{where}: must be a mapping with id and public_key")
                continue
            unknown = sorted(set(entry) - {"id", "public_key", "purposes", "builders"}, key=str)
            errors += [f"{where}.{k}: unknown field" for k in unknown]
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
            own = _purposes(entry.get("purposes", list(DEFAULT_PURPOSES)), where, errors)
            ids = _builders(entry.get("builders"), own, where, errors)
            if isinstance(key_id, str) and key_id:
                keys[key_id] = text.strip()
                purposes[key_id] = own
                builders[key_id] = ids
        if errors:
            raise InvalidInputError(f"{source}: " + "; ".join(errors))
        return cls(keys=keys, purposes=purposes, builders=builders)

    @classmethod
    def from_file(cls, path: str | Path) -> TrustStore:
        """Load a YAML/JSON trust file."""
        return cls.from_dict(load_json_file(path, what="trust file"), source=str(path))

    def purposes_of(self, key_id: str) -> frozenset[str]:
        """The purposes ``key_id`` may sign for (empty when it is not trusted)."""
        if key_id not in self.keys:
            return frozenset()
        return self.purposes.get(key_id, frozenset(DEFAULT_PURPOSES))

    def public_key(self, key_id: str, *, purpose: str | None = None) -> Ed25519PublicKey | None:
        """The key for ``key_id`` (trusted for ``purpose`` when given), else None."""
        text = self.keys.get(key_id)
        if text is None or (purpose is not None and purpose not in self.purposes_of(key_id)):
            return None
        return _parse_public_key(text, f"key {key_id}")

    def to_dict(self) -> dict[str, Any]:
        """The trust document."""
        out = []
        for key_id, text in sorted(self.keys.items()):
            entry: dict[str, Any] = {
                "id": key_id,
                "public_key": text,
                "purposes": sorted(self.purposes_of(key_id)),
            }
            if self.builders.get(key_id):
                entry["builders"] = list(self.builders[key_id])
            out.append(entry)
        return {"keys": out}


def _purposes(value: Any, where: str, errors: list[str]) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        errors.append(f"{where}.purposes: must be a non-empty list of {', '.join(PURPOSES)}")
        return frozenset()
    bad = [v for v in value if v not in PURPOSES]
    if bad:
        errors.append(f"{where}.purposes: {str(bad[0])[:40]!r} is not one of {', '.join(PURPOSES)}")
    return frozenset(v for v in value if v in PURPOSES)


def _builders(
    value: Any, purposes: frozenset[str], where: str, errors: list[str]
) -> tuple[str, ...]:
    if value is None:
        if "provenance" in purposes:
            errors.append(f"{where}.builders: a provenance key lists the builder ids it may attest")
        return ()
    if "provenance" not in purposes:
        errors.append(f"{where}.builders: only for keys with purpose provenance")
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(b, str) and b for b in value):
        errors.append(f"{where}.builders: must be a non-empty list of builder ids")
        return ()
    return tuple(value)


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
    message: bytes,
    entry: Mapping[str, Any],
    trust: TrustStore,
    where: str,
    purpose: str | None = None,
) -> tuple[str | None, str | None]:
    key_id, sig = entry.get("keyid"), entry.get("sig")
    if not isinstance(key_id, str) or not isinstance(sig, str):
        return None, f"{where}: needs string fields keyid and sig"
    if key_id not in trust.keys:
        return None, f"{where}: key {key_id[:60]!r} is not in the trust file"
    key = trust.public_key(key_id, purpose=purpose)
    if key is None:
        allowed = ", ".join(sorted(trust.purposes_of(key_id))) or "nothing"
        return None, (
            f"{where}: key {key_id!r} is not trusted for {purpose} signatures (it signs: {allowed})"
        )
    try:
        key.verify(base64.b64decode(sig, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return None, f"{where}: signature by {key_id!r} does not verify"
    return key_id, None


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


def intoto_statement(
    subjects: Sequence[Mapping[str, Any]], predicate_type: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """An in-toto Statement v1 (``subject``: ``[{"name", "digest": {"sha256": hex}}]``)."""
    return {
        "_type": INTOTO_STATEMENT_V1,
        "subject": [dict(s) for s in subjects],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def sign_statement(
    statement: Mapping[str, Any], *, purpose: str, private_key: Ed25519PrivateKey, key_id: str
) -> dict[str, Any]:
    """A DSSE envelope over ``statement`` with the payload type of ``purpose``.

    Examples
    --------
    >>> key = Ed25519PrivateKey.generate()
    >>> trust = TrustStore.from_dict({"keys": [{"id": "v", "public_key": public_key_text(key),
    ...                                          "purposes": ["verdict"]}]})
    >>> st = intoto_statement([{"name": "m@v1", "digest": {"sha256": "0" * 64}}], "x", {})
    >>> env = sign_statement(st, purpose="verdict", private_key=key, key_id="v")
    >>> open_envelope(env, trust, purpose="verdict").verified
    True
    >>> open_envelope(env, trust, purpose="policy").problems[0][:38]
    "payloadType: 'application/vnd.canaryki"
    """
    if purpose not in PAYLOAD_TYPES:
        raise InvalidInputError(
            f"purpose: must be one of {', '.join(PAYLOAD_TYPES)}, got {purpose!r}"
        )
    payload_type = PAYLOAD_TYPES[purpose]
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    sig = private_key.sign(dsse_pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": check_key_id(key_id), "sig": base64.b64encode(sig).decode("ascii")}
        ],
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvelopeCheck:
    """A DSSE envelope opened for one purpose: its statement and whether it verifies."""

    present: bool
    verified: bool
    statement: dict[str, Any] | None = None
    key_ids: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (also the Rego input form; the statement is left out)."""
        return {
            "present": self.present,
            "verified": self.verified,
            "key_ids": list(self.key_ids),
            "problems": list(self.problems),
        }


def open_envelope(
    envelope: Mapping[str, Any] | None, trust: TrustStore | None, *, purpose: str
) -> EnvelopeCheck:
    """Verify a DSSE envelope for ``purpose``: its payload type, an in-toto Statement v1 inside,
    and every signature by a key trusted for that purpose (one bad signature fails it)."""
    if envelope is None:
        return EnvelopeCheck(present=False, verified=False, problems=("no envelope supplied",))
    if not isinstance(envelope, Mapping):
        return EnvelopeCheck(present=True, verified=False, problems=("envelope: not an object",))
    expected = PAYLOAD_TYPES.get(purpose)
    problems: list[str] = []
    payload_type = envelope.get("payloadType")
    try:
        payload = base64.b64decode(str(envelope.get("payload", "")), validate=True)
        statement = parse_document(decode_text(payload, where="payload"), where="payload")
    except (binascii.Error, ValueError):
        return EnvelopeCheck(
            present=True, verified=False, problems=("payload: not base64-encoded JSON",)
        )
    if payload_type != expected:
        problems.append(
            f"payloadType: {str(payload_type)[:60]!r} is not the {purpose} type {expected!r}"
        )
    if not isinstance(statement, dict) or statement.get("_type") != INTOTO_STATEMENT_V1:
        problems.append(f"statement._type: expected {INTOTO_STATEMENT_V1!r}")
        statement = statement if isinstance(statement, dict) else None
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
            key_id, problem = _verify_one(message, entry, trust, f"signatures[{index}]", purpose)
            good += [key_id] if key_id else []
            problems += [problem] if problem else []
    return EnvelopeCheck(
        present=True,
        verified=bool(good) and not problems,
        statement=statement,
        key_ids=tuple(good),
        problems=tuple(problems),
    )


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def verify_dsse(
    envelope: Mapping[str, Any] | None, digest: str, trust: TrustStore | None
) -> AttestationCheck:
    """Check build provenance: a DSSE envelope signed by a ``provenance`` key, holding an
    in-toto Statement v1 with the SLSA v1 predicate, whose subject is the artifact and whose
    builder id is one the signing key is trusted for."""
    if envelope is None:
        return AttestationCheck(present=False, verified=False, subject_matches=False)
    opened = open_envelope(envelope, trust, purpose="provenance")
    if opened.statement is None and any(p.startswith("payload:") for p in opened.problems):
        return AttestationCheck(
            present=True, verified=False, subject_matches=False, problems=opened.problems
        )
    problems = list(opened.problems)
    statement = opened.statement or {}
    predicate_type = statement.get("predicateType")
    if predicate_type != SLSA_PROVENANCE_V1:
        problems.append(
            f"statement.predicateType: {str(predicate_type)[:60]!r} is not SLSA provenance v1 "
            f"({SLSA_PROVENANCE_V1})"
        )
    builder_id = _dig(statement, "predicate", "runDetails", "builder", "id")
    allowed = {b for k in opened.key_ids for b in (trust.builders.get(k, ()) if trust else ())}
    if opened.key_ids and builder_id not in allowed:
        problems.append(
            f"predicate.runDetails.builder.id: {str(builder_id)[:80]!r} is not a builder the "
            f"signing key is trusted for ({', '.join(sorted(allowed)) or 'none'})"
        )
    hexdigest = digest.removeprefix("sha256:")
    subjects = statement.get("subject")
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
        verified=bool(opened.key_ids) and not problems,
        subject_matches=matches,
        predicate_type=predicate_type if isinstance(predicate_type, str) else None,
        key_ids=opened.key_ids,
        problems=tuple(problems),
    )
