"""Ed25519 signing keys on the signer's side: reading one, naming it, its public text.

A private key is an ``Ed25519PrivateKey`` object or an unencrypted PEM (PKCS#8) file
(:func:`load_private_key`); the trust file lists its public half as :func:`public_key_text`
under a key id (:func:`check_key_id`); :func:`sign_digest` signs an artifact digest text for a
signature file. Verifying is the trust file's side (:mod:`~canarykit.promotion.trust_store`).

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> key = Ed25519PrivateKey.generate()
>>> len(public_key_text(key)), sorted(sign_digest(key, "k1", "sha256:00"))
(44, ['keyid', 'sig'])
>>> check_key_id("release-2026")
'release-2026'
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import InvalidInputError

__all__ = ["check_key_id", "load_private_key", "public_key_text", "sign_digest"]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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
