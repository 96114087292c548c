"""``canarykit change create | approve | show``: change tickets and their CAB approvals.

``create`` and ``approve`` are the actor's signed acts: ``--key FILE`` (or ``$CANARYKIT_KEY``),
the Ed25519 private key whose public half the roster lists for ``--actor``.

Exit status: 0 done; 2 bad input or usage; 4 refused (e.g. the requester approving their own
change), with the reasons on stderr (and as JSON on stdout with ``--format json``) and a
``gate_denied`` audit event.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import EXIT_HELP, EXIT_OK, act_key, add_common, emit
from canarykit.cli.common import open_registry as _open

TICKET_HELP = (
    "ticket file (YAML/JSON): id (CHG-...), type (Standard|Normal|Emergency), "
    "scope {model, versions}, risk (low|medium|high), impact, window {start, end}, steps, "
    "backout_plan, post_change_validation, owners"
)


def register(subparsers: Any) -> None:
    """Add ``change`` with its actions."""
    change = subparsers.add_parser("change", help="change tickets (CHG-ID) and CAB approvals")
    actions = change.add_subparsers(dest="change_command", metavar="ACTION", required=True)

    p = actions.add_parser("create", help="register a change ticket", epilog=EXIT_HELP)
    p.add_argument("file", help=TICKET_HELP)
    add_common(p, key=True)
    p.set_defaults(func=_create)

    p = actions.add_parser(
        "approve",
        help="approve a change (CAB member, or executive for Emergency)",
        epilog=EXIT_HELP,
    )
    p.add_argument("chg_id")
    p.add_argument(
        "--role", required=True, choices=("security", "product", "operations", "executive")
    )
    add_common(p, key=True)
    p.set_defaults(func=_approve)

    p = actions.add_parser("show", help="show a change ticket and its approvals")
    p.add_argument("chg_id")
    add_common(p, actor=False)
    p.set_defaults(func=_show)


def _create(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        key = act_key(args, promotion, "change create")
        ticket = promotion.create_change(args.file, actor=args.actor, key=key)
    emit(
        args,
        ticket.to_dict(),
        f"{ticket.chg_id}: {ticket.type} change for {ticket.model}"
        f" {', '.join(ticket.versions)} registered",
    )
    return EXIT_OK


def _approve(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        key = act_key(args, promotion, "change approve")
        approval = promotion.approve_change(args.chg_id, actor=args.actor, role=args.role, key=key)
    emit(
        args, approval.to_dict(), f"{approval.actor} approved {approval.chg_id} as {approval.role}"
    )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    with _open(args) as promotion:
        status = promotion.show_change(args.chg_id)
    ticket = status.ticket.to_dict()
    lines = [
        f"{ticket['id']} ({ticket['type']}, risk {ticket['risk']}) requested by {status.requester}",
        f"scope: {ticket['scope']['model']} {', '.join(ticket['scope']['versions'])}",
        f"window: {ticket['window']['start']} → {ticket['window']['end']}",
        f"impact: {ticket['impact']}",
        *[f"step: {step}" for step in ticket["steps"]],
        f"backout: {ticket['backout_plan']}",
        *[f"validate: {v}" for v in ticket["post_change_validation"]],
        f"owners: {', '.join(ticket['owners'])}",
        *[f"approved by {a.actor} ({a.role})" for a in status.approvals],
    ]
    emit(args, status.to_dict(), "\n".join(lines))
    return EXIT_OK
