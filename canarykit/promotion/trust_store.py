"""The trust file: which Ed25519 public keys are believed, and for what.

Keys come from a *trust file* (YAML or JSON)::

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
(SLSA build provenance, for the builder ids listed). :class:`TrustStore` holds the file, and
one signature entry ``{"keyid", "sig"}`` is checked against it for a purpose here; signature
files and DSSE envelopes are read by :mod:`~canarykit.promotion.evidence` and
:mod:`~canarykit.promotion.dsse_envelopes`.

Examples
--------
>>> TrustStore.from_dict({"keys": [{"id": "k", "public_key": "AAAA", "purposes": ["x"]}]})
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: trust: keys[0].public_key: not a base64 raw Ed25519 public key (32 bytes) or PEM text
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.documents import load_document_file

__all__ = ["DEFAULT_PURPOSES", "PURPOSES", "TrustStore"]


PURPOSES = ("artifact", "verdict", "policy", "release", "checkpoint", "provenance")
"""What a trusted key's signatures may count for (a key lists its own)."""


DEFAULT_PURPOSES = ("artifact",)
"""Purposes of a key whose trust entry lists none (trust files written before purposes)."""


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
    >>> from canarykit.promotion.signing_keys import public_key_text
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
        return cls.from_dict(load_document_file(path, what="trust file"), source=str(path))

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
