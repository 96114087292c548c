"""``canarykit summarize`` and ``canarykit evaluate-summaries``: the summaries contract on the CLI.

``summarize`` computes the ``canarykit.summaries/1`` document of a window where the rows are
(DuckDB, or ``--engine spark`` on a cluster); ``evaluate-summaries`` gives its verdict wherever
the document was shipped (exit 0 PROCEED, 1 STOP, 3 CONTINUE, 2 bad input).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from canarykit.cli.common import add_format, to_json, write_output
from canarykit.errors import InvalidInputError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the summaries commands."""
    sm = subparsers.add_parser(
        "summarize",
        help="compute the summaries document a verdict needs (only it leaves the data)",
        description="Write the canarykit.summaries/1 document of SOURCE's window: what "
        "evaluate-summaries turns into the verdict elsewhere.",
    )
    sm.add_argument("source", metavar="SOURCE", help="as for evaluate (with --engine)")
    sm.add_argument("--policy", help="policy file or folder (default: the shipped policy)")
    sm.add_argument("--model")
    sm.add_argument("--baseline")
    sm.add_argument("--candidate")
    sm.add_argument("--since", help="window start, inclusive, ISO-8601 UTC")
    sm.add_argument("--until", help="window end, exclusive, ISO-8601 UTC")
    sm.add_argument("--split", type=float, help="planned canary share (tunes the ranks)")
    sm.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    sm.add_argument("--out", required=True, help="document file (JSON; '-' for stdout)")
    add_format(sm)
    sm.set_defaults(func=_summarize)

    ev = subparsers.add_parser(
        "evaluate-summaries",
        help="the verdict of a summaries document (PROCEED / STOP / CONTINUE)",
        description="Evaluate a canarykit.summaries/1 document under a policy; exit 0 PROCEED, "
        "1 STOP, 3 CONTINUE, 2 bad input.",
    )
    ev.add_argument("document", metavar="DOCUMENT", help="summaries document (JSON)")
    ev.add_argument("--policy", help="policy file or folder (default: the shipped policy)")
    ev.add_argument("--split", type=float, help="planned canary share of traffic (0..1)")
    ev.add_argument("--out", help="write the verdict JSON here ('-' for stdout)")
    add_format(ev)
    ev.set_defaults(func=_evaluate_summaries)


def _summarize(args: argparse.Namespace) -> int:
    from canarykit.summaries.compute import summarize_source

    doc = summarize_source(
        args.source,
        args.policy,
        model=args.model,
        baseline=args.baseline,
        candidate=args.candidate,
        since=args.since,
        until=args.until,
        split=args.split,
        engine=args.engine,
    )
    text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    write_output(args.out, text + "\n")
    if args.out == "-":
        return 0
    arms = doc["arms"]
    report = {
        "out": args.out,
        "bytes": len(text) + 1,
        "engine": doc["engine"],
        "model": doc["selection"]["model"],
        "control_rows": arms["control"]["n"],
        "candidate_rows": arms["candidate"]["n"],
    }
    if args.format == "json":
        print(to_json(report))
    else:
        print(
            f"summaries of {report['model']} ({report['control_rows']} control, "
            f"{report['candidate_rows']} candidate rows; {doc['engine']['name']}) → {args.out} "
            f"({report['bytes']:,} bytes)"
        )
    return 0


def _evaluate_summaries(args: argparse.Namespace) -> int:
    from canarykit.summaries import evaluate_summaries, from_dict

    try:
        data = json.loads(Path(args.document).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{args.document}: no such summaries document") from None
    except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as err:
        raise InvalidInputError(f"{args.document}: not a JSON summaries document ({err})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{args.document}: not a JSON summaries document")
    try:
        summaries = from_dict(data)
    except InvalidInputError as err:
        raise InvalidInputError(f"{args.document}: {err}") from None
    engine = data.get("engine")
    verdict = evaluate_summaries(
        summaries,
        args.policy,
        split=args.split,
        engine={str(k): str(v) for k, v in engine.items()} if isinstance(engine, dict) else None,
    )
    text = verdict.to_json()
    if args.out:
        write_output(args.out, text + "\n")
    if args.out != "-":
        print(text if args.format == "json" else verdict.to_text(), file=sys.stdout)
    return verdict.exit_code
