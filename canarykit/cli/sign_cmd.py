"""``canarykit sign ARTIFACT --key KEY.pem --key-id ID [--out SIG.json]``: sign an artifact.

Writes the signature document ``promote --to Staging --signature`` and ``check-startup``
verify::

    {"signatures": [{"keyid": "<ID>", "sig": "<base64 Ed25519 signature>"}]}

The signature is Ed25519 over the UTF-8 bytes of the artifact's digest text
``"sha256:<hex>"``, with an unencrypted PEM (PKCS#8) private key — the key whose public half the
trust file lists under ``ID`` (``canarykit config set-trust``). Without ``--out`` (or with
``--out -``) the document goes to stdout. No network, no ``openssl`` needed.

Exit status: 0 signed; 2 bad input or usage (an unreadable artifact, a key that is not an
unencrypted Ed25519 PEM private key, a malformed key id), one line on stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import EXIT_OK, add_format, emit, to_json, write_output

DESCRIPTION = (
    "Sign ARTIFACT with an Ed25519 private key (unencrypted PEM, PKCS#8) and write the "
    'signature document {"signatures": [{"keyid": ID, "sig": BASE64}]} that '
    "`promote --to Staging --signature` verifies against the trust file: the signature is over "
    'the artifact digest text "sha256:<hex>". Exit status: 0 signed, 2 bad input or usage, '
    "70 internal error."
)


def register(subparsers: Any) -> None:
    """Add the ``sign`` command."""
    p = subparsers.add_parser(
        "sign",
        help="sign a model artifact (Ed25519) for promote --signature",
        description=DESCRIPTION,
    )
    p.add_argument(
        "artifact", metavar="ARTIFACT", help="the artifact file (or model folder) to sign"
    )
    p.add_argument("--key", required=True, metavar="KEY.pem", help="Ed25519 private key (PEM)")
    p.add_argument("--key-id", required=True, metavar="ID", help="its id in the trust file")
    p.add_argument(
        "--out",
        default="-",
        metavar="SIG.json",
        help="signature file to write, '-' for stdout (default: stdout)",
    )
    add_format(p)
    p.set_defaults(func=_sign)


def _sign(args: argparse.Namespace) -> int:
    from canarykit.promotion.evidence import sign_artifact

    document = sign_artifact(args.artifact, args.key, args.key_id)
    where = write_output(args.out, to_json(document) + "\n")
    if args.out != "-":
        emit(
            args,
            {"artifact": args.artifact, "key_id": args.key_id, "out": where, **document},
            f"signed {args.artifact} with key {args.key_id} → {where}",
        )
    return EXIT_OK
