"""``canarykit release``, ``release verify`` and ``canarykit audit verify | checkpoint | export``.

``release MODEL VERSION --out DIR`` runs the release gate and writes the signed release;
``release verify DIR [--artifact FILE] [--registry REG] [--trust FILE]`` checks one (one line
per check) and exits 0 when every check passes, 6 when any fails (1, 2 and 3 mean STOP, usage
and CONTINUE). The two share the ``release`` command: its first word is either a model name or
``verify`` (a model called ``verify`` is released by giving ``--out``, which verify never takes).
``audit verify [--checkpoint FILE] [--trust FILE]`` exits 0 when the log is intact and 5 when
anything is found — an edit, deletion or reordering, table rows no event backs, a signed act
that does not verify, a checkpoint the log no longer extends (each problem is printed);
``audit checkpoint --key KEY.pem --key-id ID --out FILE`` signs the log's head for an external
store; ``audit export`` writes JSON lines (checkpoint events included) to a file or, with
``--out -``, to stdout.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from canarykit.cli.common import (
    DEFAULT_REGISTRY,
    EXIT_OK,
    REGISTRY_ENV,
    add_common,
    emit,
    write_output,
)
from canarykit.cli.common import open_registry as _open
from canarykit.errors import InvalidInputError

EXIT_TAMPERED = 5
EXIT_NOT_VERIFIED = 6  # = canarykit.promotion.release_verify.EXIT_VERIFY_FAILED (a test keeps it)
RELEASE_USAGE = (
    "canarykit release MODEL VERSION --out DIR --signing-key KEY.pem --key-id ID [--policy P]"
    " [--alias A] [--registry REG] [--actor NAME]\n"
    "       canarykit release verify DIR [--artifact FILE] [--registry REG] [--trust FILE]"
    " [--format text|json]"
)
RELEASE_EPILOG = (
    "exit status (release): 0 written, 2 bad input or usage, 4 refused by the release gate "
    "(reasons on stderr; a gate_denied audit event), 70 internal error. exit status (release "
    "verify): 0 every check passed (SKIP lines are checks that need --artifact or --registry), "
    f"{EXIT_NOT_VERIFIED} a check failed (one FAIL line each), 2 bad input or usage."
)
_VERIFY_ONLY = ("artifact", "trust")
_RELEASE_ONLY = ("signing_key", "key_id", "policy")


def register(subparsers: Any) -> None:
    """Add ``release`` (and ``release verify``) and ``audit``."""
    p = subparsers.add_parser(
        "release",
        help="write the signed release of an Approved version, or verify one",
        usage=RELEASE_USAGE,
        description="release MODEL VERSION: the release gate allows only an Approved, unrevoked "
        "version whose revalidate_by has not lapsed, while the audit chain is intact, for the "
        "policy snapshot bound at Staging signed by a policy key, with a --key-id the trust file "
        "lists for purpose release. It writes DIR/release_manifest.json (schema-validated), "
        "DIR/release_manifest.dsse.json (DSSE, in-toto Statement: subject the artifact, "
        "predicate the manifest), DIR/policy_snapshot/ (policy files, snapshot.json, "
        "snapshot.dsse.json) and DIR/release_notes.md. DIR must be a new or empty folder and "
        "not a symbolic link. release verify DIR: checks the manifest signature (a release key), "
        "the manifest, notes and policy snapshot byte for byte, the snapshot's policy-key "
        "signature, with --artifact the artifact digest and with --registry the version's "
        "stage, digests, approvals and audit log; one line per check.",
        epilog=RELEASE_EPILOG,
    )
    p.add_argument("model", metavar="MODEL|verify", help="the model, or `verify`")
    p.add_argument("version", metavar="VERSION|DIR", help="the version, or the release folder")
    p.add_argument(
        "--out", help="output folder: new or empty, not a symbolic link (a release is written once)"
    )
    p.add_argument("--signing-key", help="Ed25519 private key, PEM (PKCS#8), of a release key")
    p.add_argument("--key-id", help="its id in the trust file (listed for purpose release)")
    p.add_argument(
        "--policy",
        help="policy folder bound at Staging (default: the sanctioned snapshot the registry"
        " stored at Staging; must be that snapshot when given)",
    )
    p.add_argument("--alias", default="production")
    p.add_argument("--artifact", help="verify: the artifact file to compare with the release")
    p.add_argument(
        "--trust",
        help="verify: trust file with the release and policy keys (default: the --registry's)",
    )
    add_common(p)
    # --registry is optional for verify (the registry checks run only when it is given).
    p.set_defaults(func=_release, registry=None)

    audit = subparsers.add_parser("audit", help="verify or export the hash-chained audit log")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = actions.add_parser(
        "verify",
        help="detect edited, deleted, forged or truncated events and rows no event backs",
        description="Checks the hash chain, the log's start (rows but no events, a misplaced "
        "registry_init, signed acts naming another first event), every signed act against the "
        "roster of its time, every table row against the events (rows no event backs are "
        "ignored by the gates and listed here), future-dated events, the checkpoints the log "
        "records and each --checkpoint given: the chain recomputed from genesis must reach its "
        "head hash at its event. Without a checkpoint held outside the registry, a forged event "
        "with recomputed hashes passes the chain.",
        epilog="exit status: 0 intact, 5 tampering detected, 2 bad input",
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a signed checkpoint (canarykit audit checkpoint --out); repeatable",
    )
    p.add_argument(
        "--trust",
        metavar="FILE",
        help="trust file listing the checkpoint keys (default: the registry's own; give one held"
        " outside the registry)",
    )
    add_common(p, actor=False)
    p.set_defaults(func=_verify)
    p = actions.add_parser(
        "checkpoint",
        help="sign the log's head (sequence, hash, time, registry) for an external store",
        description="Signs a DSSE checkpoint (purpose checkpoint) of the audit log's last event "
        "and records it as a checkpoint event; keep --out where the registry's writers cannot "
        "reach (WORM bucket, ticket) and give it to audit verify --checkpoint.",
        epilog="exit status: 0 written, 2 bad input, 4 refused (the key is not trusted for "
        "checkpoint, or the chain does not verify; a gate_denied event)",
    )
    p.add_argument("--key", required=True, metavar="KEY.pem", help="the checkpoint private key")
    p.add_argument("--key-id", required=True, help="its id in the trust file (purpose checkpoint)")
    p.add_argument("--out", required=True, help="output file ('-' for stdout)")
    add_common(p)
    p.set_defaults(func=_checkpoint)
    p = actions.add_parser(
        "export", help="write every event (checkpoint events included) as a JSON line"
    )
    p.add_argument("--out", required=True, help="output file ('-' for stdout)")
    add_common(p, actor=False)
    p.set_defaults(func=_export)


def _release(args: argparse.Namespace) -> int:
    if args.model == "verify" and args.out is None:
        return _verify_release(args)
    given = [f"--{name.replace('_', '-')}" for name in _VERIFY_ONLY if getattr(args, name)]
    if given:
        raise InvalidInputError(f"{', '.join(given)}: only for `canarykit release verify DIR`")
    missing = [
        option
        for option, value in (
            ("--out", args.out),
            ("--signing-key", args.signing_key),
            ("--key-id", args.key_id),
        )
        if value is None
    ]
    if missing:
        raise InvalidInputError(
            f"release: the following arguments are required: {', '.join(missing)}"
        )
    if args.registry is None:
        args.registry = os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY
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


def _verify_release(args: argparse.Namespace) -> int:
    given = [f"--{name.replace('_', '-')}" for name in _RELEASE_ONLY if getattr(args, name)]
    if given:
        raise InvalidInputError(f"{', '.join(given)}: not an option of `canarykit release verify`")
    from canarykit.promotion.evidence import TrustStore
    from canarykit.promotion.release_verify import verify_release

    trust = None if args.trust is None else TrustStore.from_file(args.trust)
    if args.registry is None:
        if trust is None:
            raise InvalidInputError(
                "release verify: give --trust FILE (the trust file listing the release and policy"
                " keys) or --registry REG (its trust file is used)"
            )
        result = verify_release(args.version, trust=trust, artifact=args.artifact)
    else:
        from canarykit.promotion.facts import load_trust

        with _open(args) as promotion:
            conn = promotion.store.conn
            result = verify_release(
                args.version,
                trust=trust if trust is not None else load_trust(conn),
                artifact=args.artifact,
                registry=conn,
                now_ns=promotion.clock.now_ns(),
            )
    emit(args, result.to_dict(), result.to_text())
    return result.exit_code


def _verify(args: argparse.Namespace) -> int:
    from canarykit.promotion.evidence import TrustStore, load_json_file
    from canarykit.promotion.log_verification import verify_log

    envelopes = [load_json_file(f, what="checkpoint") for f in args.checkpoint]
    trust = None if args.trust is None else TrustStore.from_file(args.trust)
    with _open(args) as promotion:
        result = verify_log(
            promotion.store.conn,
            checkpoints=envelopes,
            sources=[f"checkpoint {f}" for f in args.checkpoint],
            trust=trust,
        )
    emit(args, result.to_dict(), result.to_text())
    return EXIT_OK if result.ok else EXIT_TAMPERED


def _checkpoint(args: argparse.Namespace) -> int:
    from canarykit.promotion.audit import canonical_json
    from canarykit.promotion.checkpoints import write_checkpoint

    with _open(args) as promotion:
        found = write_checkpoint(
            promotion, signing_key=args.key, key_id=args.key_id, actor=args.actor
        )
    where = write_output(args.out, canonical_json(dict(found.envelope)) + "\n", what="--out")
    if args.out != "-":
        emit(
            args,
            {**found.to_dict(), "out": where},
            f"checkpoint of event {found.seq} ({found.head_hash}) signed by {found.key_id},"
            f" recorded as event {found.recorded_seq}, written to {where}",
        )
    return EXIT_OK


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
