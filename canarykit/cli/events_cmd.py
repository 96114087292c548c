"""``canarykit events``: the audit log and rollout looks as one stream, printed or delivered."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from canarykit.cli.common import mark_if_drill


def register(subparsers: Any) -> None:
    """Add the events command."""
    ev = subparsers.add_parser(
        "events",
        help="registry audit events and rollout looks as one stream (jsonl or CloudEvents)",
        description="Print (or POST to --webhook) the events of the promotion registry's audit "
        "log (promotion, approval, alias_update, rollback, revocation, gate_denied, "
        "change_created with its window and impact, …) and the looks of a trace store, merged "
        "in time order, each with its CHG-ID where there is one. Every event carries the cursor "
        "after it (a<audit seq>.l<looks>); resume with --since CURSOR or --state FILE. Webhook "
        "delivery is at-least-once, in order, with retries and an Idempotency-Key header.",
    )
    ev.add_argument("--db", help="trace store (rollout looks)")
    ev.add_argument("--registry", help="promotion registry (audit log)")
    ev.add_argument("--since", help="cursor to resume after (a12.l30, or an audit seq)")
    ev.add_argument("--follow", action="store_true", help="keep polling for new events")
    ev.add_argument("--poll", type=float, default=2.0, help="seconds between polls (--follow)")
    ev.add_argument(
        "--format",
        choices=("jsonl", "json", "cloudevents"),
        default="jsonl",
        help="jsonl: one event per line (default); json: one array; cloudevents: CloudEvents "
        "1.0, one per line",
    )
    ev.add_argument("--webhook", help="POST each event here instead of printing it")
    ev.add_argument("--state", help="file keeping the delivered cursor (resume point)")
    ev.add_argument("--retries", type=int, default=8, help="attempts per event (--webhook)")
    ev.set_defaults(func=_events)


def _events(args: argparse.Namespace) -> int:
    from canarykit.errors import InvalidInputError
    from canarykit.events import deliver, follow, read_events, resume_cursor

    if args.retries < 1:
        raise InvalidInputError(f"--retries: must be >= 1, got {args.retries}")
    if args.poll <= 0:
        raise InvalidInputError(f"--poll: must be > 0 seconds, got {args.poll}")
    since = resume_cursor(args.since, args.state)
    mark_if_drill(args, args.registry)  # each event of a drill registry says "drill": true too
    where = args.db or args.registry or "canarykit"
    source = f"canarykit://{Path(where).name}"
    stream = (
        follow(db=args.db, registry=args.registry, since=since, poll_seconds=args.poll)
        if args.follow
        else iter(read_events(db=args.db, registry=args.registry, since=since))
    )
    if args.format == "json":
        if args.follow:
            raise InvalidInputError("--format json prints one array: not with --follow (use jsonl)")
        events = read_events(db=args.db, registry=args.registry, since=since)
        if args.webhook:
            report = deliver(
                events,
                args.webhook,
                source=source,
                fmt="json",
                state=args.state,
                retries=args.retries,
            )
            print(json.dumps({"delivered": report.delivered, "cursor": report.cursor}))
            return 0
        print(json.dumps([e.to_dict() for e in events], sort_keys=True))
        return 0
    delivered = 0
    try:
        for event in stream:
            if args.webhook:
                deliver(
                    [event],
                    args.webhook,
                    source=source,
                    fmt=args.format,
                    state=args.state,
                    retries=args.retries,
                )
                delivered += 1
                continue
            record = event.cloudevent(source) if args.format == "cloudevents" else event.to_dict()
            print(json.dumps(record, sort_keys=True), flush=True)
    except KeyboardInterrupt:
        pass
    if args.webhook:
        print(f"delivered {delivered} events to {args.webhook}", file=sys.stderr)
    return 0
