"""``canarykit alias set | show | history``, ``rollback`` and ``check-startup``.

``alias set`` is a compare-and-set: ``--expect`` names the version you last saw (``none`` when
the alias was never set); if someone moved the alias since, nothing changes and the command
exits 4. ``rollback`` returns the alias to the previous Approved, unrevoked version.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import EXIT_HELP, EXIT_OK, STARTUP_EXIT_CODES, add_common, emit
from canarykit.cli.common import open_registry as _open

STARTUP_EPILOG = (
    "exit status: 0 may start; "
    + "; ".join(f"{code} {kind}" for kind, code in STARTUP_EXIT_CODES.items())
    + "; 2 bad input or usage. "
    "resolve = no such model/version, alias never set or BLOCKED; revoked = version revoked; "
    "stage = not Staging/Approved; artifact = file digest differs from the registered one; "
    "signature = no trust, no signature or it does not verify; policy = bound policy digest "
    "differs from --policy-digest; audit = the audit log is broken or does not record the "
    "version's stage or the alias target; undecided = the gate could not be evaluated (fails "
    "closed); degraded = every other check passed but --no-artifact-check was given, so the "
    "artifact file was NOT checked (a startup_degraded audit event records it); drill = the "
    "registry is a drill registry (config init --drill), a rehearsal: nothing from it starts in "
    "production; mlflow = (--mlflow) MLflow differs from canarykit's verified state or "
    "cannot be read. Each failure "
    "prints a runbook hint."
)


def register(subparsers: Any) -> None:
    """Add ``alias``, ``rollback`` and ``check-startup``."""
    alias = subparsers.add_parser("alias", help="the production alias: set, show, history")
    actions = alias.add_subparsers(dest="alias_command", metavar="ACTION", required=True)

    p = actions.add_parser(
        "set", help="point the alias at an Approved version (compare-and-set)", epilog=EXIT_HELP
    )
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument(
        "--expect",
        required=True,
        metavar="VERSION",
        help="the version the alias points to now, as you read it ('none' if unset)",
    )
    p.add_argument("--chg", required=True, help="change ticket id (Standard is enough)")
    p.add_argument("--alias", default="production")
    add_common(p)
    p.set_defaults(func=_set)

    for name, helptext, func in (
        ("show", "where the alias points", _show),
        ("history", "every move of the alias", _history),
    ):
        p = actions.add_parser(name, help=helptext)
        p.add_argument("model")
        p.add_argument("--alias", default="production")
        add_common(p, actor=False)

        p.set_defaults(func=func)

    p = subparsers.add_parser(
        "rollback", help="move the alias back to the previous Approved version", epilog=EXIT_HELP
    )
    p.add_argument("model")
    p.add_argument("--chg", required=True, help="change ticket id")
    p.add_argument("--alias", default="production")
    p.add_argument("--expect", metavar="VERSION", help="compare-and-set on the current version")
    add_common(p)
    p.set_defaults(func=_rollback)

    p = subparsers.add_parser(
        "check-startup",
        help="may this model version start / be downloaded now?",
        description="Exits 0 only when the version the alias (or --version) names is in Staging "
        "or Approved, not revoked, its signature verifies against the trust file, the --artifact "
        "file has the registered digest and its bound policy digest is --policy-digest. "
        "--artifact is required; --no-artifact-check instead runs every other check, prints that "
        "the artifact was NOT checked, records a startup_degraded audit event and exits 18 even "
        "when everything else passes.",
        epilog=STARTUP_EPILOG,
    )
    p.add_argument("model")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--alias", default="production")
    target.add_argument("--version", help="check a pinned version instead of an alias")
    p.add_argument("--policy-digest", required=True, help="policy digest the service expects")
    artifact = p.add_mutually_exclusive_group(required=True)
    artifact.add_argument("--artifact", help="the artifact file about to be started (required)")
    artifact.add_argument(
        "--no-artifact-check",
        action="store_true",
        help="do not check the artifact file: degraded, never 0 (exit 18 when all else passes)",
    )
    p.add_argument(
        "--mlflow",
        action="store_true",
        help="also check that MLflow shows canarykit's state for the model (aliases, canarykit.*"
        " tags): any drift, or an MLflow that cannot be read, exits 20",
    )
    p.add_argument(
        "--mlflow-uri",
        metavar="URI",
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI, else the recorded one)",
    )
    add_common(p)
    p.set_defaults(func=_check_startup)


def _set(args: argparse.Namespace) -> int:
    expected = None if args.expect.lower() == "none" else args.expect
    with _open(args) as promotion:
        state = promotion.set_alias(
            args.model,
            args.version,
            expected=expected,
            actor=args.actor,
            chg_id=args.chg,
            alias=args.alias,
        )
    emit(
        args,
        state.to_dict(),
        f"{state.alias} of {state.model} → {state.version} (generation {state.generation})",
    )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        state = promotion.show_alias(args.model, args.alias)
    if state is None:
        emit(args, None, f"{args.alias} of {args.model} is not set")
    else:
        where = state.version or "BLOCKED (no version may start)"
        emit(
            args,
            state.to_dict(),
            f"{state.alias} of {state.model} → {where}"
            f" (generation {state.generation}, {state.to_dict()['updated_at']})",
        )
    return EXIT_OK


def _history(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        history = promotion.alias_history(args.model, args.alias)
    lines = [
        f"{h.to_dict()['time']}  {h.kind:<12} {h.from_version or '-'} → "
        f"{h.to_version or 'BLOCKED'}  {h.chg_id or ''}  by {h.actor}"
        for h in history
    ]
    emit(args, [h.to_dict() for h in history], "\n".join(lines) or "(no history)")
    return EXIT_OK


def _rollback(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        state = promotion.rollback(
            args.model, actor=args.actor, chg_id=args.chg, alias=args.alias, expected=args.expect
        )
    emit(args, state.to_dict(), f"{state.alias} of {state.model} rolled back to {state.version}")
    return EXIT_OK


def _check_startup(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        result = promotion.check_startup(
            args.model,
            policy_digest=args.policy_digest,
            alias=None if args.version else args.alias,
            version=args.version,
            artifact=args.artifact,
            no_artifact_check=args.no_artifact_check,
            actor=args.actor,
            mlflow=args.mlflow,
            mlflow_uri=args.mlflow_uri,
        )
    emit(args, result.to_dict(), result.to_text())
    return result.exit_code
