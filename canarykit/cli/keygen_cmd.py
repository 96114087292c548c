"""``canarykit keygen --out KEY.pem``: a new Ed25519 key pair for a person or a purpose.

Writes the private key as an unencrypted PEM (PKCS#8) file readable by its owner only (mode
0600, created exclusively: an existing file or a symbolic link is never overwritten), and prints
the public half as base64 of its 32 raw bytes — the form the roster (``people: {sam: {roles:
[security], keys: [<public key>]}}``) and the trust file (``public_key:``) take — with its
fingerprint, which names the key in signed acts. ``--public-out FILE`` also writes the public
half to a file. Everything happens offline, with ``cryptography``; no ``openssl`` needed.

Exit status: 0 written; 2 bad input or usage (the file exists, a folder is missing), one line
on stderr.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from canarykit.cli.common import EXIT_OK, add_format, emit, write_output
from canarykit.errors import StorageError, shorten

DESCRIPTION = (
    "Make a new Ed25519 key pair: the private key goes to --out (unencrypted PEM, mode 0600, "
    "never overwriting a file), the public half (base64 of its raw bytes, the form the roster "
    "and the trust file list) is printed. Give the private key to its owner only: it signs "
    "their acts (--key / $CANARYKIT_KEY) or, for a trust-file key, artifacts, verdicts, "
    "policies and releases."
)


def register(subparsers: Any) -> None:
    """Add the ``keygen`` command."""
    p = subparsers.add_parser(
        "keygen",
        help="make an Ed25519 key pair (private PEM file, public key printed)",
        description=DESCRIPTION,
    )
    p.add_argument("--out", required=True, metavar="KEY.pem", help="private key file to create")
    p.add_argument("--public-out", metavar="FILE", help="also write the public key to FILE")
    add_format(p)
    p.set_defaults(func=_keygen)


def _keygen(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from canarykit.promotion.evidence import public_key_text
    from canarykit.promotion.roster import key_fingerprint

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise StorageError(
            f"--out {shorten(args.out)}: exists; keygen never overwrites a key (name a new file)"
        ) from None
    except OSError as err:
        raise StorageError(
            f"--out {shorten(args.out)}: cannot create it ({err.strerror or type(err).__name__})"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public = public_key_text(key)
    data = {"private_key": args.out, "public_key": public, "keyid": key_fingerprint(public)}
    if args.public_out:
        data["public_out"] = write_output(args.public_out, public + "\n", what="--public-out")
    emit(args, data, f"{public}\nprivate key → {args.out} ({data['keyid']})")
    return EXIT_OK
