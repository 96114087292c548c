"""``canarykit submit | promote | approve | waive | revoke | status | config``: promotion.

Every command takes ``--registry PATH`` (default ``$CANARYKIT_REGISTRY`` or
``canarykit-registry.sqlite``) and acts as ``--actor NAME`` (default ``$CANARYKIT_ACTOR`` or the
login name), and prints text or, with ``--format json``, one JSON document. Exit status: 0
done; 2 bad input or usage; 4 refused by a gate — the reasons are printed one per line on
stderr (with ``--format json`` also ``{"allowed": false, "reasons": [...]}`` on stdout) and a
``gate_denied`` event is written to the audit log.

A person's acts — ``submit``, ``approve`` (also ``--vex``), ``waive``, ``revoke`` and the
``config`` changes — are signed with their Ed25519 private key: ``--key FILE`` or
``$CANARYKIT_KEY`` (``--key`` wins), whose public half the roster lists under ``--actor``
(``canarykit keygen`` makes a pair). Without a key the command stops with exit 2, except on a
drill registry, which accepts unsigned acts of people the roster lists without keys.

``--clock TIME`` (a fixed ISO 8601 instant) is accepted only on a *drill* registry
(``canarykit config init --drill``); every other registry takes the system clock, and the old
``CANARYKIT_ALLOW_CLOCK_OVERRIDE`` variable has no effect. Every output of a drill registry says
DRILL (a ``DRILL registry: ...`` line on stderr, ``"drill": true`` in JSON), and
``check-startup`` refuses it (exit 19).

Configuration is under four eyes: ``config init`` creates a registry (``--drill`` for a
rehearsal); ``config bootstrap`` (or the first ``config set-roster``) puts its first roster,
trust file and calendar in force; afterwards ``config propose KIND FILE`` (or ``config set-*``)
records a proposal that takes effect when a second person with the role approves it
(``config approve CFG-n``).
The ``config`` actions live in :mod:`canarykit.cli.config_cmds` (registered from here, with
``CONFIG_KINDS`` and ``CONFIG_WHAT`` importable from both); ``change``, ``alias``/``rollback``
and ``release``/``check-startup``/``audit`` have their own modules too.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli import config_cmds
from canarykit.cli.common import (
    DEFAULT_POLICY,
    EXIT_HELP,
    EXIT_OK,
    act_key,
    add_common,
    emit,
    open_registry,
)
from canarykit.cli.config_cmds import CONFIG_KINDS as CONFIG_KINDS
from canarykit.cli.config_cmds import CONFIG_WHAT as CONFIG_WHAT


def register(subparsers: Any) -> None:
    """Add submit, promote, approve, waive, revoke, status, config — and, from their own
    modules, change, alias, rollback, check-startup, release and audit."""
    _register_own(subparsers)
    from canarykit.cli import alias_cmds, change_cmds, release_cmds

    change_cmds.register(subparsers)
    alias_cmds.register(subparsers)
    release_cmds.register(subparsers)


def _register_own(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "submit", help="register a new model version as Candidate", epilog=EXIT_HELP
    )
    p.add_argument("model")
    p.add_argument("version")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--artifact", help="artifact file or folder (its sha256 / listing digest is recorded)"
    )
    source.add_argument("--artifact-digest", help="sha256:<hex> of the artifact")
    source.add_argument(
        "--from-mlflow",
        metavar="models:/NAME/N",
        help="an MLflow registered model version: its files are downloaded and hashed (never an"
        " MLflow tag), and canarykit's decisions about it are mirrored into MLflow"
        " (pip install 'canarykit[mlflow]')",
    )
    p.add_argument(
        "--mlflow-uri",
        metavar="URI",
        help="MLflow tracking URI for --from-mlflow (default $MLFLOW_TRACKING_URI)",
    )
    add_common(p, key=True)
    p.set_defaults(func=_submit)

    p = subparsers.add_parser(
        "promote",
        help="move a version to Staging or Approved through its gate",
        description="→ Staging needs --signature, --sbom, the --policy folder to bind — sanctioned:"
        " signed by a policy key (canarykit policy sign; --policy-signature, default "
        "POLICY/policy.dsse.json) over exactly its files — a "
        "security approval (approve --stage Staging) and, if given, a DSSE --attestation. "
        "→ Approved needs --verdict (a signed verdict from canarykit attest or evaluate "
        "--sign-key, PROCEED re-derived under the bound policy), security and "
        "product approvals from two people other than the submitter, --revalidate-by and a "
        "--chg change ticket (Normal with CAB approvals, or Emergency).",
        epilog=EXIT_HELP,
    )
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--to", required=True, choices=("Staging", "Approved"))
    p.add_argument("--chg", help="change ticket id (CHG-...)")
    p.add_argument("--artifact", help="artifact file to re-hash against the submitted digest")
    p.add_argument("--signature", help="signature file (JSON {signatures: [{keyid, sig}]})")
    p.add_argument("--attestation", help="DSSE envelope with in-toto/SLSA provenance (JSON)")
    p.add_argument("--sbom", help="CycloneDX JSON SBOM")
    p.add_argument("--policy", default=DEFAULT_POLICY, help="policy folder/file to bind")
    p.add_argument(
        "--policy-signature",
        help="its signature (canarykit policy sign; default: POLICY/policy.dsse.json)",
    )
    p.add_argument(
        "--verdict", help="signed verdict, VERDICT.dsse.json from canarykit attest (→ Approved)"
    )
    p.add_argument("--revalidate-by", help="ISO 8601 time by which to revalidate (→ Approved)")
    p.add_argument("--guardrail", action="append", help="published guardrail check (repeat)")
    add_common(p)
    p.set_defaults(func=_promote)

    p = subparsers.add_parser(
        "approve", help="approve a version entering a stage, in a role", epilog=EXIT_HELP
    )
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--role", required=True, choices=("security", "product"))
    p.add_argument("--stage", default="Approved", choices=("Staging", "Approved"))
    p.add_argument(
        "--verdict",
        help="the signed canary verdict (VERDICT.dsse.json) you reviewed (required for --stage"
        " Approved: the gate counts your approval only for that verdict)",
    )
    p.add_argument("--note", default="")
    p.add_argument(
        "--vex",
        metavar="CVE-ID",
        help="approve the SBOM's VEX statement (not_affected/resolved/false_positive) on this"
        " vulnerability, as security; needs --sbom (the Staging gate counts such a state on a"
        " high or critical vulnerability only with this approval or a waiver)",
    )
    p.add_argument("--sbom", help="the CycloneDX SBOM whose VEX statement --vex approves")
    add_common(p, key=True)
    p.set_defaults(func=_approve)

    p = subparsers.add_parser(
        "waive", help="grant a waiver (SCDR) lifting one named check", epilog=EXIT_HELP
    )
    p.add_argument("model")
    p.add_argument("--version", help="limit to one version (default: every version)")
    p.add_argument("--id", required=True, dest="waiver_id", help="waiver id, e.g. SCDR-12")
    p.add_argument("--check", required=True, help="check it lifts: CVE id or verdict check name")
    p.add_argument("--reason", required=True)
    p.add_argument("--owner", required=True)
    p.add_argument("--expires", required=True, help="ISO 8601 expiry (at most 90 days ahead)")
    add_common(p, key=True)
    p.set_defaults(func=_waive)

    p = subparsers.add_parser(
        "revoke", help="revoke a version; aliases on it roll back or are blocked", epilog=EXIT_HELP
    )
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--reason", required=True)
    p.add_argument("--chg", help="change ticket id, if any")
    add_common(p, key=True)
    p.set_defaults(func=_revoke)

    p = subparsers.add_parser("status", help="versions, stages and aliases")
    p.add_argument("model", nargs="?")
    add_common(p, actor=False)
    p.set_defaults(func=_status)

    config_cmds.register(subparsers)


def _submit(args: argparse.Namespace) -> int:
    if args.from_mlflow is not None:
        return _submit_from_mlflow(args)
    with open_registry(args) as promotion:
        record = promotion.submit(
            args.model,
            args.version,
            actor=args.actor,
            artifact=args.artifact,
            artifact_digest=args.artifact_digest,
            key=act_key(args, promotion, "submit"),
        )
    emit(
        args,
        record.to_dict(),
        f"{record.model} {record.version}: Candidate ({record.artifact_digest}),"
        f" submitted by {record.submitter}",
    )
    return EXIT_OK


def _submit_from_mlflow(args: argparse.Namespace) -> int:
    from canarykit.integrations.mlflow import submit_from_mlflow

    with open_registry(args) as promotion:
        promotion.mlflow_uri = args.mlflow_uri
        record = submit_from_mlflow(
            promotion,
            args.model,
            args.version,
            source=args.from_mlflow,
            actor=args.actor,
            key=act_key(args, promotion, "submit"),
            uri=args.mlflow_uri,
        )
    emit(
        args,
        {**record.to_dict(), "mlflow_source": args.from_mlflow},
        f"{record.model} {record.version}: Candidate ({record.artifact_digest}, the files of"
        f" {args.from_mlflow}), submitted by {record.submitter}",
    )
    return EXIT_OK


def _promote(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        result = promotion.promote(
            args.model,
            args.version,
            to=args.to,
            actor=args.actor,
            chg_id=args.chg,
            artifact=args.artifact,
            signatures=args.signature,
            attestation=args.attestation,
            sbom=args.sbom,
            policy=args.policy,
            verdict=args.verdict,
            revalidate_by=args.revalidate_by,
            guardrails=args.guardrail,
            policy_signature=args.policy_signature,
        )
    emit(
        args,
        result.to_dict(),
        f"{result.model} {result.version}: {result.from_stage} →"
        f" {result.to_stage} (audit event {result.event_seq})",
    )
    return EXIT_OK


def _approve(args: argparse.Namespace) -> int:
    if args.vex is not None or args.sbom is not None:
        return _approve_vex(args)
    with open_registry(args) as promotion:
        approval = promotion.approve(
            args.model,
            args.version,
            role=args.role,
            actor=args.actor,
            stage=args.stage,
            note=args.note,
            verdict=args.verdict,
            key=act_key(args, promotion, "approve"),
        )
    emit(
        args,
        approval.to_dict(),
        f"{approval.actor} approved {approval.model} {approval.version} entering"
        f" {approval.stage} as {approval.role}",
    )
    return EXIT_OK


def _approve_vex(args: argparse.Namespace) -> int:
    from canarykit.errors import InvalidInputError

    if args.vex is None or args.sbom is None or args.role != "security":
        raise InvalidInputError(
            "--vex: approving a VEX statement takes --vex CVE-ID, --sbom FILE and --role security"
        )
    with open_registry(args) as promotion:
        approvals = promotion.approve_vex(
            args.model,
            args.version,
            vulnerability=args.vex,
            sbom=args.sbom,
            actor=args.actor,
            note=args.note,
            key=act_key(args, promotion, "approve --vex"),
        )
    first = approvals[0]
    emit(
        args,
        [a.to_dict() for a in approvals],
        f"{first.actor} approved the VEX statement {first.vulnerability} {first.state} of"
        f" {first.model} {first.version} as security ({len(approvals)} statement(s))",
    )
    return EXIT_OK


def _waive(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        waiver = promotion.waive(
            args.model,
            waiver_id=args.waiver_id,
            check=args.check,
            reason=args.reason,
            owner=args.owner,
            expires=args.expires,
            actor=args.actor,
            version=args.version,
            key=act_key(args, promotion, "waive"),
        )
    data = waiver.to_dict()
    emit(args, data, f"waiver {waiver.waiver_id} lifts {waiver.check} until {data['expires']}")
    return EXIT_OK


def _revoke(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        result = promotion.revoke(
            args.model,
            args.version,
            actor=args.actor,
            reason=args.reason,
            chg_id=args.chg,
            key=act_key(args, promotion, "revoke"),
        )
    emit(args, result.to_dict(), result.message)
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        report = promotion.status(args.model)
    emit(args, report.to_dict(), report.to_text())
    return EXIT_OK
