"""``canarykit release`` and ``canarykit audit verify | export``.

``audit verify`` exits 0 when the hash chain is intact and 5 when any edit, deletion or
reordering is detected (each problem is printed); ``audit export`` writes JSON lines to a file
or, with ``--out -``, to stdout.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import (
    DEFAULT_POLICY,
    EXIT_HELP,
    EXIT_OK,
    add_common,
    emit,
    write_output,
)
from canarykit.cli.common import open_registry as _open
from canarykit.errors import InvalidInputError

EXIT_TAMPERED = 5


def register(subparsers: Any) -> None:
    """Add ``release`` and ``audit``."""
    p = subparsers.add_parser(
        "release",
        help="write release artifacts of an Approved version",
        description="Writes DIR/release_manifest.json (schema-validated), DIR/policy_snapshot/ "
        "(policy files, digest, Ed25519 signature) and DIR/release_notes.md. DIR must be a new "
        "or empty folder and not a symbolic link; an existing file, link or release is refused. "
        "The --key-id must name the signing key's public half in the trust file (base64 or PEM).",
        epilog=EXIT_HELP,
    )
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument(
        "--out",
        required=True,
        help="output folder: new or empty, not a symbolic link (a release is written once)",
    )
    p.add_argument("--signing-key", required=True, help="Ed25519 private key, PEM (PKCS#8)")
    p.add_argument("--key-id", required=True, help="its id in the trust file")
    p.add_argument(
        "--policy",
        default=DEFAULT_POLICY,
        help="policy folder/file bound at Staging (default: the shipped policy)",
    )
    p.add_argument("--alias", default="production")
    add_common(p)
    p.set_defaults(func=_release)

    audit = subparsers.add_parser("audit", help="verify or export the hash-chained audit log")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = actions.add_parser(
        "verify",
        help="detect edited, deleted or reordered events",
        epilog="exit status: 0 intact, 5 tampering detected, 2 bad input",
    )
    add_common(p, actor=False)
    p.set_defaults(func=_verify)
    p = actions.add_parser("export", help="write every event as a JSON line")
    p.add_argument("--out", required=True, help="output file ('-' for stdout)")
    add_common(p, actor=False)
    p.set_defaults(func=_export)


def _release(args: argparse.Namespace) -> int:
    if args.out == "-":
        raise InvalidInputError(
            "--out -: a release is a folder (manifest, policy snapshot, notes); name a folder"
        )
    from pathlib import Path

    from canarykit.promotion.release import check_release_dir

    check_release_dir(Path(args.out))  # before the registry is even opened
    with _open(args) as promotion:
        result = promotion.release(
            args.model,
            args.version,
            out=args.out,
            signing_key=args.signing_key,
            key_id=args.key_id,
            policy=args.policy,
            actor=args.actor,
            alias=args.alias,
        )
    emit(
        args,
        result.to_dict(),
        "\n".join([f"released {args.model} {args.version} to {result.out_dir}:", *result.files]),
    )
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        result = promotion.audit_verify()
    text = (
        f"audit log intact: {result.events} events, head {result.head_hash}"
        if result.ok
        else "\n".join(["AUDIT LOG TAMPERED:", *[f"  - {p}" for p in result.problems]])
    )
    emit(args, result.to_dict(), text)
    return EXIT_OK if result.ok else EXIT_TAMPERED


def _export(args: argparse.Namespace) -> int:
    from canarykit.promotion.audit import canonical_json

    with _open(args) as promotion:
        events = promotion.events()
    lines = "".join(canonical_json(event.to_dict()) + "\n" for event in events)
    where = write_output(args.out, lines)
    if args.out != "-":
        emit(
            args,
            {"events": len(events), "out": where},
            f"{len(events)} events written to {where}",
        )
    return EXIT_OK
