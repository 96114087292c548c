"""``canarykit evidence add | show``: the evidence documents the Approved gate reads.

``evidence add MODEL VERSION --model-card CARD.cdx.json --decision-record ADR.md`` records each
file's digest for the version (with the model card's verdict digest and metrics, the decision
record's ``ADR-…``/``SCDR-…`` id) and an ``evidence`` audit event per file. → Approved needs a
model card of the verdict being promoted and a decision record; the release links both.
``evidence show MODEL VERSION`` lists what is recorded, with the VEX approvals
(``approve --vex``).

Exit status: 0 done; 2 bad input or usage (an unreadable or malformed file); 4 refused (not on
the roster, the version is Approved or revoked, a card of another version), with a
``gate_denied`` audit event.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import EXIT_HELP, EXIT_OK, add_common, emit, open_registry


def register(subparsers: Any) -> None:
    """Add ``evidence add`` and ``evidence show``."""
    evidence = subparsers.add_parser(
        "evidence", help="record model cards and decision records (ADR/SCDR) of a version"
    )
    actions = evidence.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)
    p = actions.add_parser(
        "add",
        help="record a model card and/or a decision record for a version",
        description="Records the digest of each file for MODEL VERSION with an audit event. "
        "--model-card: a card written by `canarykit model-card VERDICT` (its verdict must be the "
        "one promoted to Approved). --decision-record: the ADR or SCDR of the decision, Markdown "
        "or text, naming its id (ADR-… or SCDR-…) in its file name or first heading. Recorded "
        "before → Approved; the release links both.",
        epilog=EXIT_HELP,
    )
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--model-card", metavar="CARD.cdx.json", help="CycloneDX model card")
    p.add_argument("--decision-record", metavar="ADR.md", help="the ADR/SCDR file")
    add_common(p)
    p.set_defaults(func=_add)

    p = actions.add_parser("show", help="evidence documents and VEX approvals of a version")
    p.add_argument("model")
    p.add_argument("version")
    add_common(p, actor=False)
    p.set_defaults(func=_show)


def _add(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        documents = promotion.add_evidence(
            args.model,
            args.version,
            actor=args.actor,
            model_card=args.model_card,
            decision_record=args.decision_record,
        )
    lines = [
        f"{d.model} {d.version}: recorded {d.kind.replace('_', ' ')} {d.name} ({d.digest})"
        for d in documents
    ]
    emit(args, [d.to_dict() for d in documents], "\n".join(lines))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    with open_registry(args) as promotion:
        found = promotion.evidence(args.model, args.version)
    lines = [
        f"{d['kind']}: {d['name']} {d['digest']}"
        + (f" (verdict {d['verdict_digest']})" if d["verdict_digest"] else "")
        + (f" ({d['reference']})" if d["reference"] else "")
        + f", by {d['actor']} at {d['time']}"
        for d in found["documents"]
    ]
    lines += [
        f"VEX {a['vulnerability']} {a['state']}: approved by {a['actor']} at {a['time']}"
        for a in found["vex_approvals"]
    ]
    emit(args, found, "\n".join(lines) or f"{args.model} {args.version}: no evidence recorded")
    return EXIT_OK
