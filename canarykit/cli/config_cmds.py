"""``canarykit config init | bootstrap | set-* | propose | approve | proposals | show``.

Configuration is under four eyes: ``config init`` creates a registry (``--drill`` for a
rehearsal); ``config bootstrap`` (or the first ``config set-roster``) puts its first roster,
trust file and calendar in force; afterwards ``config propose KIND FILE`` (or ``config set-*``)
records a proposal that takes effect when a second person with the role approves it
(``config approve CFG-n``). The changes are signed acts (``--key FILE`` or ``$CANARYKIT_KEY``);
a registry that does not exist yet is no drill registry, so bootstrapping it without a key
stops before the file is created.

Registered by :mod:`canarykit.cli.promotion_cmds` (the ``config`` command belongs to its group
in ``--help``); options, exit statuses and the drill registry as described there.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import (
    EXIT_HELP,
    EXIT_OK,
    act_key,
    add_common,
    drill_banner,
    emit,
    fixed_clock,
    open_registry,
)

CONFIG_KINDS = ("roster", "trust", "calendar")
CONFIG_WHAT = {
    "trust": "trusted Ed25519 keys (YAML/JSON)",
    "roster": "who holds which role, with their public keys (YAML/JSON)",
    "calendar": "change windows and freezes (YAML/JSON)",
}


def register(subparsers: Any) -> None:
    """Add ``config`` with its actions (called by :mod:`canarykit.cli.promotion_cmds`)."""
    config = subparsers.add_parser(
        "config",
        help="registry creation; roster, trust file and calendar under four eyes",
        description="init creates a registry (--drill: a rehearsal registry); bootstrap puts the"
        " first roster (and trust file and calendar) in force, signed by a security person on"
        " it; afterwards every change is a proposal (propose, or set-*) that takes effect when a"
        " second person with the role (security: roster, trust; operations: calendar) approves"
        " it (approve CFG-n).",
    )
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    p = actions.add_parser(
        "init",
        help="create a registry (--drill: a rehearsal registry)",
        description="Create a new registry and write its first audit event, which marks it a"
        " drill registry (--drill) or not, once and for good. A drill registry accepts --clock"
        " and unsigned acts of people listed without keys, says DRILL in every output, and"
        " check-startup refuses it (exit 19).",
        epilog=EXIT_HELP,
    )
    p.add_argument("registry_path", nargs="?", metavar="REGISTRY", help="the new registry file")
    p.add_argument("--drill", action="store_true", help="a drill registry (rehearsals, tests)")
    add_common(p)
    p.set_defaults(func=_config_init)

    p = actions.add_parser(
        "bootstrap",
        help="put a new registry's first roster (and trust file, calendar) in force",
        epilog=EXIT_HELP,
    )
    p.add_argument("--roster", required=True, help=f"the roster: {CONFIG_WHAT['roster']}")
    p.add_argument("--trust", help=f"the trust file: {CONFIG_WHAT['trust']}")
    p.add_argument("--calendar", help=f"the calendar: {CONFIG_WHAT['calendar']}")
    add_common(p, key=True)
    p.set_defaults(func=_config_bootstrap)

    for kind in CONFIG_KINDS:
        p = actions.add_parser(
            f"set-{kind}",
            help=f"the {kind}, {CONFIG_WHAT[kind]}: bootstraps a new registry, else proposes",
            epilog=EXIT_HELP,
        )
        p.add_argument("file")
        add_common(p, key=True)
        p.set_defaults(func=_config_set, config_key=kind)

    p = actions.add_parser(
        "propose",
        help="propose a new roster, trust file or calendar (a second person approves it)",
        epilog=EXIT_HELP,
    )
    p.add_argument("kind", choices=CONFIG_KINDS)
    p.add_argument("file")
    add_common(p, key=True)
    p.set_defaults(func=_config_propose)

    p = actions.add_parser(
        "approve",
        help="approve a configuration proposal as the second person: it takes effect",
        epilog=EXIT_HELP,
    )
    p.add_argument("proposal", metavar="PROPOSAL-ID", help="CFG-n (config proposals lists them)")
    add_common(p, key=True)
    p.set_defaults(func=_config_approve)

    p = actions.add_parser("proposals", help="configuration proposals and what became of them")
    p.add_argument("--pending", action="store_true", help="only those still waiting")
    add_common(p, actor=False)
    p.set_defaults(func=_config_proposals)

    p = actions.add_parser("show", help="show the configuration")
    add_common(p, actor=False)
    p.set_defaults(func=_config_show)


def _config_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from canarykit.errors import InvalidInputError
    from canarykit.promotion.api import Promotion

    path = args.registry_path or args.registry
    clock = fixed_clock(args)
    if clock is not None and not args.drill:
        raise InvalidInputError(
            "--clock: only for drill registries (config init --drill); any other registry takes"
            " the system clock"
        )
    if str(path) != ":memory:" and Path(path).exists() and Path(path).stat().st_size:
        with Promotion(path, create=False) as existing:
            count = len(existing.events())
        if count:
            raise InvalidInputError(
                f"config init: {path} exists and holds {count} audit event(s); a registry is"
                " created once (name a new file)"
            )
    with Promotion(path, clock=clock) as promotion:
        drill = promotion.init_registry(actor=args.actor, drill=args.drill)
        first = promotion.events()[0]
    if drill:
        drill_banner(args, path)
    kind = "DRILL registry" if drill else "registry"
    emit(
        args,
        {"registry": str(path), "drill": drill, "actor": first.actor, "event_seq": first.seq},
        f"{kind} {path} created by {first.actor} (audit event {first.seq})"
        + ("; --clock and unsigned acts allowed, check-startup refuses it" if drill else ""),
    )
    return EXIT_OK


def _configured(promotion: Any) -> bool:
    """Whether the registry's configuration changes by proposal (bootstrap happened)."""
    roster = promotion.config_document("roster")
    if roster is None:
        return False
    from canarykit.promotion.roster import Roster

    return bool(Roster.from_dict(roster).keys) or bool(promotion.drill)


def _bootstrap(args: argparse.Namespace, promotion: Any, documents: dict[str, Any]) -> int:
    digests = promotion.bootstrap(
        actor=args.actor, key=act_key(args, promotion, "config bootstrap"), **documents
    )
    data: dict[str, Any] = {"bootstrap": True, "digests": digests}
    if getattr(args, "config_key", None) is not None:  # config set-KIND on a new registry
        data.update({"set": args.config_key, "digest": digests[args.config_key]})
    emit(
        args,
        data,
        "\n".join(f"{name} set ({digest}) by bootstrap" for name, digest in digests.items()),
    )
    return EXIT_OK


def _new_registry_needs_a_key(args: argparse.Namespace, what: str) -> None:
    """A registry that does not exist yet is no drill registry: without a key, stop before the
    file is created (exit 2 writes nothing)."""
    import os
    from pathlib import Path

    from canarykit.cli.common import KEY_ENV
    from canarykit.errors import InvalidInputError

    if Path(args.registry).exists() or args.key or os.environ.get(KEY_ENV):
        return
    raise InvalidInputError(
        f"--key: {what} is a signed act: give your Ed25519 private key with --key FILE or"
        f" ${KEY_ENV} (a rehearsal without keys: canarykit config init --drill first)"
    )


def _config_bootstrap(args: argparse.Namespace) -> int:
    documents = {k: getattr(args, k) for k in CONFIG_KINDS if getattr(args, k) is not None}
    _new_registry_needs_a_key(args, "config bootstrap")
    with open_registry(args, create=True) as promotion:
        return _bootstrap(args, promotion, documents)


def _propose(args: argparse.Namespace, promotion: Any, kind: str, file: str) -> int:
    proposal = promotion.propose_config(
        kind, file, actor=args.actor, key=act_key(args, promotion, f"config propose {kind}")
    )
    emit(
        args,
        proposal.to_dict(),
        f"{proposal.to_text()}\ntakes effect when a second person with the role approves it:"
        f" canarykit config approve {proposal.proposal_id}",
    )
    return EXIT_OK


def _config_set(args: argparse.Namespace) -> int:
    from canarykit.errors import InvalidInputError

    _new_registry_needs_a_key(args, f"config set-{args.config_key}")
    with open_registry(args, create=True) as promotion:
        if _configured(promotion):
            return _propose(args, promotion, args.config_key, args.file)
        if args.config_key != "roster":
            raise InvalidInputError(
                f"config set-{args.config_key}: the registry has no roster yet; bootstrap it"
                " first (config bootstrap --roster FILE [--trust FILE] [--calendar FILE])"
            )
        return _bootstrap(args, promotion, {"roster": args.file})


def _config_propose(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        return _propose(args, promotion, args.kind, args.file)


def _config_approve(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        key = act_key(args, promotion, "config approve")
        proposal = promotion.approve_config(args.proposal, actor=args.actor, key=key)
    emit(args, proposal.to_dict(), f"{proposal.to_text()}: {proposal.key} in force")
    return EXIT_OK


def _config_proposals(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        proposals = promotion.config_proposals(pending=args.pending)
    emit(
        args,
        {"proposals": [p.to_dict() for p in proposals]},
        "\n".join(p.to_text() for p in proposals) or "(no proposals)",
    )
    return EXIT_OK


def _config_show(args: argparse.Namespace) -> int:
    import yaml

    from canarykit.promotion.facts import load_calendar, load_roster, load_trust

    with open_registry(args) as promotion:
        conn = promotion.store.conn
        trust, roster, calendar = load_trust(conn), load_roster(conn), load_calendar(conn)
    data = {
        "trust": None if trust is None else trust.to_dict(),
        "roster": None if roster is None else roster.to_dict(),
        "calendar": None if calendar is None else calendar.to_dict(),
    }
    text = yaml.safe_dump(data, sort_keys=True, allow_unicode=True, default_flow_style=False)
    emit(args, data, text.rstrip("\n"))
    return EXIT_OK
