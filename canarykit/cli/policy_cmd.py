"""``canarykit policy sign DIR --key KEY.pem --key-id ID [--name NAME] [--out FILE]``.

Sanctions a canary policy folder: writes a DSSE envelope (payload type
``application/vnd.canarykit.policy-snapshot.v1+json``) over an in-toto Statement whose subject
is the folder's snapshot digest — the digest every verdict evaluated under the folder carries —
and whose predicate lists the policy's name and every policy file with its sha256 (see
:mod:`canarykit.promotion.sanctioned_policy`). ``promote --to Staging --policy DIR`` binds the
folder only with such a signature by a key the trust file lists for purpose ``policy``, and
only while the folder holds exactly the signed files.

The folder must be a complete policy: one valid YAML file and its ``*.rego`` decision rules
(copy the shipped ``decision.rego`` beside your YAML). Without ``--out`` the envelope is written
to ``DIR/policy.dsse.json``, where Staging looks for it by default; ``--out -`` prints it.

Exit status: 0 signed; 2 bad input or usage (a folder that is not a complete valid policy, a
key that is not an unencrypted Ed25519 PEM private key, a malformed key id or name), one line
on stderr.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from canarykit.cli.common import EXIT_OK, add_format, emit, to_json, write_output

DESCRIPTION = (
    "Sanction a canary policy folder: sign its snapshot (every *.yaml/*.yml/*.rego file and its "
    "sha256, and the snapshot digest verdicts carry) with an Ed25519 key the trust file lists "
    "for purpose policy. promote --to Staging binds the folder only with this signature and only "
    "while the folder holds exactly the signed files. Default --out: DIR/policy.dsse.json (where "
    "Staging looks for it). Exit status: 0 signed, 2 bad input or usage, 70 internal error."
)


def register(subparsers: Any) -> None:
    """Add the ``policy`` command group (``policy sign``)."""
    group = subparsers.add_parser(
        "policy", help="sanctioned canary policies (policy sign)", description=DESCRIPTION
    )
    actions = group.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    p = actions.add_parser(
        "sign",
        help="sign a policy folder's snapshot (purpose policy) for promote --to Staging",
        description=DESCRIPTION,
    )
    p.add_argument("folder", metavar="DIR", help="the policy folder (its YAML and *.rego)")
    p.add_argument("--key", required=True, metavar="KEY.pem", help="Ed25519 private key (PEM)")
    p.add_argument("--key-id", required=True, metavar="ID", help="its id in the trust file")
    p.add_argument("--name", help="the policy's name (default: the folder's name)")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="envelope to write, '-' for stdout (default: DIR/policy.dsse.json)",
    )
    add_format(p)
    p.set_defaults(func=_sign)


def _sign(args: argparse.Namespace) -> int:
    from canarykit.promotion.evidence import check_key_id
    from canarykit.promotion.sanctioned_policy import default_signature_path, sign_policy
    from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

    envelope = sign_policy(args.folder, args.key, check_key_id(args.key_id), name=args.name)
    out = args.out if args.out is not None else str(default_signature_path(args.folder))
    where = write_output(out, to_json(envelope) + "\n")
    if out != "-":
        digest = snapshot_digest(load_snapshot_files(args.folder))
        name = args.name if args.name is not None else Path(args.folder).resolve().name
        emit(
            args,
            {
                "folder": args.folder,
                "name": name,
                "digest": digest,
                "key_id": args.key_id,
                "out": where,
            },
            f"signed policy {name} ({digest}) with key {args.key_id} → {where}",
        )
    return EXIT_OK
