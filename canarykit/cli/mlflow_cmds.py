"""``canarykit mlflow sync | verify``: canarykit's decisions in an MLflow Model Registry.

Models whose versions were submitted with ``canarykit submit MODEL VERSION --from-mlflow
models:/NAME/N`` are mirrored into MLflow after every decision (``canarykit.*`` version tags,
``@alias`` aliases, a version description). ``mlflow verify MODEL`` compares MLflow with the
state canarykit's verified audit log gives the model and names every difference (drift: an
alias or tag changed outside canarykit); ``mlflow sync MODEL`` writes canarykit's state
into MLflow again (idempotent). The tracking URI is ``--mlflow-uri``, else
``$MLFLOW_TRACKING_URI``, else the one recorded at submission. The MLflow client is an extra:
``pip install 'canarykit[mlflow]'``.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import EXIT_OK, STARTUP_EXIT_CODES, add_common, emit, open_registry

EXIT_DRIFT = STARTUP_EXIT_CODES["mlflow"]
HELP = (
    f"exit status: 0 MLflow shows canarykit's state; {EXIT_DRIFT} drift (a difference is named"
    " per line) or MLflow cannot be read; 2 bad input or usage"
)


def add_mlflow_uri(parser: argparse.ArgumentParser) -> None:
    """Add ``--mlflow-uri`` (default ``$MLFLOW_TRACKING_URI``, else the recorded one)."""
    parser.add_argument(
        "--mlflow-uri",
        metavar="URI",
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI, else the one recorded when the"
        " version was submitted from MLflow)",
    )


def register(subparsers: Any) -> None:
    """Add ``mlflow sync`` and ``mlflow verify``."""
    group = subparsers.add_parser(
        "mlflow", help="mirror canarykit's decisions into MLflow and detect drift"
    )
    actions = group.add_subparsers(dest="mlflow_command", metavar="ACTION", required=True)
    p = actions.add_parser(
        "verify",
        help="name every way MLflow differs from canarykit's verified state (drift)",
        epilog=HELP,
    )
    p.add_argument("model")
    add_mlflow_uri(p)
    add_common(p, actor=False)
    p.set_defaults(func=_verify)
    p = actions.add_parser(
        "sync",
        help="write canarykit's state into MLflow again (tags, aliases, description)",
        description="Re-applies what canarykit decided: sets or removes canarykit.* tags and"
        " managed aliases and rewrites the descriptions that differ, then checks again. Safe to"
        " repeat; records an mlflow_mirror audit event when it changed something or failed.",
        epilog=HELP,
    )
    p.add_argument("model")
    add_mlflow_uri(p)
    add_common(p)
    p.set_defaults(func=_sync)


def _verify(args: argparse.Namespace) -> int:
    from canarykit.integrations.mlflow import desired_state, verify

    with open_registry(args) as promotion:
        desired = desired_state(promotion.store.conn, args.model)
    _require_linked(desired)
    report = verify(desired, uri=args.mlflow_uri)
    emit(args, report.to_dict(), report.to_text())
    return EXIT_OK if report.ok else EXIT_DRIFT


def _sync(args: argparse.Namespace) -> int:
    from canarykit.integrations.mlflow.after_action import sync_model
    from canarykit.promotion.session import check_actor

    actor = check_actor(args.actor)
    with open_registry(args) as promotion:
        report = sync_model(promotion, args.model, actor=actor, uri=args.mlflow_uri)
    emit(args, report.to_dict(), report.to_text())
    return EXIT_OK if report.ok else EXIT_DRIFT


def _require_linked(desired: Any) -> None:
    from canarykit.errors import InvalidInputError

    if not desired.linked:
        raise InvalidInputError(
            f"model: no version of {desired.model} was submitted from MLflow (canarykit submit"
            f" {desired.model} VERSION --from-mlflow models:/NAME/N): nothing is mirrored"
        )
