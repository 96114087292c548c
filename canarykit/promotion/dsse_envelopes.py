"""DSSE envelopes holding in-toto statements: signing one, opening one, build provenance.

Every DSSE envelope carries an in-toto Statement v1 and a payload type of its own per purpose
(:data:`PAYLOAD_TYPES`), so a statement signed for one purpose can never be presented as
another. Its signatures are checked over the DSSE pre-authentication encoding
(:func:`dsse_pae`) against the trust file (:mod:`~canarykit.promotion.trust_store`), by keys
trusted for that purpose (:func:`open_envelope`).

A *provenance* envelope's statement has a ``subject[].digest.sha256`` that must match the
artifact and a ``predicateType`` that is SLSA provenance v1, from a builder id the signing key
is trusted for (:func:`verify_dsse`).

Examples
--------
>>> dsse_pae("t", b"ab")
b'DSSEv1 1 t 2 ab'
>>> open_envelope(None, None, purpose="release").problems
('no envelope supplied',)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.documents import decode_text, parse_document
from canarykit.promotion.signing_keys import check_key_id
from canarykit.promotion.trust_store import TrustStore, _verify_one

__all__ = [
    "INTOTO_STATEMENT_V1",
    "PAYLOAD_TYPES",
    "SLSA_PROVENANCE_V1",
    "AttestationCheck",
    "EnvelopeCheck",
    "dsse_pae",
    "intoto_statement",
    "open_envelope",
    "sign_statement",
    "verify_dsse",
]


INTOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1"


INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


SLSA_PROVENANCE_PREFIX = "https://slsa.dev/provenance/"


SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"


PAYLOAD_TYPES = {
    "verdict": "application/vnd.canarykit.verdict.v1+json",
    "policy": "application/vnd.canarykit.policy-snapshot.v1+json",
    "release": "application/vnd.canarykit.release-manifest.v1+json",
    "checkpoint": "application/vnd.canarykit.audit-checkpoint.v1+json",
    "provenance": INTOTO_PAYLOAD_TYPE,
}
"""DSSE payload type per purpose: every envelope holds an in-toto Statement v1, and the type
binds it to one purpose (provenance keeps the standard in-toto type that builders emit)."""


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
    >>> from canarykit.promotion.signing_keys import public_key_text
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
