"""``canarykit attest VERDICT.json --key KEY.pem --key-id ID [--artifact-digest D] --out FILE``.

Signs a canary verdict for the promotion gates: writes a DSSE envelope (payload type
``application/vnd.canarykit.verdict.v1+json``) holding an in-toto Statement whose subject is the
candidate's artifact digest (``--artifact-digest sha256:<hex>``) or, without it,
``model@candidate`` with the verdict's own digest, and whose predicate is the verdict contract
with its rollout look and engine versions (see :mod:`canarykit.promotion.verdict_attestation`).
``promote --to Approved --verdict`` and ``approve --verdict`` accept only such envelopes,
signed by a key the trust file lists for purpose ``verdict``.

``canarykit evaluate ... --sign-key KEY.pem --key-id ID [--artifact-digest D]`` signs the verdict
it computes the same way (:func:`add_sign_options`, :func:`signer_from`): the envelope goes to
``--attest-out FILE``, or beside ``--out VERDICT.json`` as ``VERDICT.dsse.json``; the key is read
before anything is evaluated, so a bad key writes nothing.

Exit status: 0 signed; 2 bad input or usage (a file that is not a verdict, a key that is not an
unencrypted Ed25519 PEM private key, a malformed key id or digest), one line on stderr.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from canarykit.cli.common import EXIT_OK, add_format, emit, to_json, write_output

DESCRIPTION = (
    "Sign a canary verdict (purpose verdict): a DSSE envelope over an in-toto Statement whose "
    "subject is the candidate's artifact digest (--artifact-digest) or model@candidate with the "
    "verdict digest, and whose predicate is the verdict, its rollout look and engine versions. "
    "promote --to Approved --verdict and approve --verdict accept only such envelopes. Exit "
    "status: 0 signed, 2 bad input or usage, 70 internal error."
)


def register(subparsers: Any) -> None:
    """Add the ``attest`` command."""
    p = subparsers.add_parser(
        "attest",
        help="sign a verdict (DSSE, purpose verdict) for promote/approve --verdict",
        description=DESCRIPTION,
    )
    p.add_argument("verdict", metavar="VERDICT.json", help="the verdict to sign")
    p.add_argument("--key", required=True, metavar="KEY.pem", help="Ed25519 private key (PEM)")
    p.add_argument("--key-id", required=True, metavar="ID", help="its id in the trust file")
    p.add_argument(
        "--artifact-digest",
        metavar="sha256:HEX",
        help="the candidate's artifact digest: the statement's subject",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="VERDICT.dsse.json",
        help="envelope to write ('-' for stdout)",
    )
    add_format(p)
    p.set_defaults(func=_attest)


def add_sign_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--sign-key``, ``--key-id``, ``--artifact-digest`` and ``--attest-out`` (evaluate)."""
    group = parser.add_argument_group(
        "signing the verdict (purpose verdict, for promote/approve --verdict)"
    )
    group.add_argument("--sign-key", metavar="KEY.pem", help="also sign the verdict with this key")
    group.add_argument("--key-id", metavar="ID", help="the signing key's id in the trust file")
    group.add_argument(
        "--artifact-digest", metavar="sha256:HEX", help="the candidate's artifact digest (subject)"
    )
    group.add_argument(
        "--attest-out",
        metavar="FILE",
        help="where the signed verdict goes (default: beside --out FILE.json as FILE.dsse.json)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Signer:
    """A verdict signer read from the command line before anything is evaluated."""

    key: Any
    key_id: str
    artifact_digest: str | None
    out: str

    def write(self, verdict: dict[str, Any]) -> str:
        """Sign ``verdict`` and write the envelope; returns where it went."""
        from canarykit.promotion.verdict_attestation import attest_verdict

        envelope = attest_verdict(
            verdict, self.key, self.key_id, artifact_digest=self.artifact_digest
        )
        return write_output(self.out, to_json(envelope) + "\n", what="--attest-out")


def attestation_path(out: str | None) -> str | None:
    """The default envelope file beside a verdict file (``v.json`` → ``v.dsse.json``).

    Examples
    --------
    >>> attestation_path("out/verdict.json"), attestation_path("v"), attestation_path("-")
    ('out/verdict.dsse.json', 'v.dsse.json', None)
    """
    if out is None or out == "-":
        return None
    return (out[: -len(".json")] if out.endswith(".json") else out) + ".dsse.json"


def signer_from(args: argparse.Namespace) -> Signer | None:
    """The signer ``evaluate`` asked for (None without ``--sign-key``), checked up front.

    Raises
    ------
    InvalidInputError
        An option without ``--sign-key`` (or ``--sign-key`` without ``--key-id``), no place to
        write the envelope, an unusable key or a malformed key id or digest.
    """
    from canarykit.errors import InvalidInputError

    if args.sign_key is None:
        for option in ("key_id", "artifact_digest", "attest_out"):
            if getattr(args, option) is not None:
                name = "--" + option.replace("_", "-")
                raise InvalidInputError(f"{name}: only with --sign-key (signing the verdict)")
        return None
    # the promotion layer (and its cryptography) only for a signed verdict
    from canarykit.promotion.evidence import check_key_id, load_private_key
    from canarykit.promotion.verdict_attestation import check_artifact_digest

    if args.key_id is None:
        raise InvalidInputError("--key-id: required with --sign-key (the id the trust file lists)")
    out = args.attest_out or attestation_path(args.out)
    if out is None:
        raise InvalidInputError(
            "--attest-out: say where the signed verdict goes (or give --out FILE.json: it is"
            " written beside it as FILE.dsse.json)"
        )
    if out == args.out:
        raise InvalidInputError("--attest-out: must not be the verdict file --out")
    digest = None if args.artifact_digest is None else check_artifact_digest(args.artifact_digest)
    return Signer(
        key=load_private_key(args.sign_key),
        key_id=check_key_id(args.key_id),
        artifact_digest=digest,
        out=out,
    )


def _attest(args: argparse.Namespace) -> int:
    from canarykit.promotion.evidence import check_key_id
    from canarykit.promotion.verdict_attestation import attest_verdict

    envelope = attest_verdict(
        args.verdict, args.key, check_key_id(args.key_id), artifact_digest=args.artifact_digest
    )
    where = write_output(args.out, to_json(envelope) + "\n")
    if args.out != "-":
        emit(
            args,
            {
                "verdict": args.verdict,
                "key_id": args.key_id,
                "out": where,
                "artifact_digest": args.artifact_digest,
            },
            f"signed verdict {args.verdict} with key {args.key_id} → {where}",
        )
    return EXIT_OK
