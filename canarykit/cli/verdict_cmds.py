"""``canarykit evaluate``, ``canarykit replay`` and ``canarykit log``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from canarykit.cli.attest_cmd import add_sign_options, signer_from
from canarykit.cli.common import add_format, to_json, write_output

EXIT_CODES = "exit status: 0 PROCEED, 1 STOP, 3 CONTINUE, 2 bad input or usage, 70 internal error"


def register(subparsers: Any) -> None:
    """Add the verdict commands."""
    ev = subparsers.add_parser(
        "evaluate",
        help="compare candidate and control traces: PROCEED / STOP / CONTINUE",
        description="Evaluate a canary or shadow model against control. " + EXIT_CODES,
        epilog=EXIT_CODES,
    )
    ev.add_argument(
        "source",
        metavar="SOURCE",
        help="DuckDB trace store, or Parquet/CSV file(s)/glob/Delta table read in place "
        "(--engine spark: Parquet/Delta paths or a Spark table name)",
    )
    ev.add_argument("--policy", help="policy file or folder (default: the shipped policy)")
    ev.add_argument("--model", help="model name (inferred when SOURCE holds one)")
    ev.add_argument("--baseline", help="control version (inferred when unique)")
    ev.add_argument("--candidate", help="candidate version (inferred when unique)")
    ev.add_argument("--until", help="window end, exclusive, ISO-8601 UTC")
    ev.add_argument("--since", help="window start, inclusive, ISO-8601 UTC (not during a rollout)")
    ev.add_argument("--split", type=float, help="planned canary share of traffic (0..1)")
    ev.add_argument(
        "--by",
        help="segment columns, e.g. region or region,route: adds per-segment checks with "
        "e-BH across segments and checks (the policy's segments: section)",
    )
    ev.add_argument("--out", help="write the verdict JSON here ('-' for stdout)")
    add_format(ev, extra=("markdown",))
    ev.add_argument("--no-log", action="store_true", help="do not append to the decision log")
    ev.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="what computes the summaries (spark: the active or a local Spark session; "
        "needs pip install 'canarykit[spark]'; nothing is logged)",
    )
    add_sign_options(ev)
    ev.set_defaults(func=_evaluate)

    rp = subparsers.add_parser(
        "replay",
        help="recompute a verdict and check that it is identical",
        description="Recompute VERDICT from SOURCE with the policy snapshot named by its digest. "
        "Exit 0 when identical, 1 when different, 2 on bad input, 70 internal error. The "
        "DuckDB and regopy versions a verdict records are not compared: a warning says when "
        "they differ from the running ones. A verdict computed by Spark is replayed by Spark "
        "(its data digest is engine-specific): SOURCE is then what --engine spark reads.",
    )
    rp.add_argument("verdict", metavar="VERDICT", help="verdict JSON file")
    rp.add_argument("source", metavar="SOURCE", help="DuckDB trace store or Parquet/CSV files")
    rp.add_argument("--policy", help="policy whose digest matches the verdict's")
    add_format(rp)
    rp.set_defaults(func=_replay)

    lg = subparsers.add_parser(
        "log",
        help="list past decisions recorded in a store",
        description="Rollout looks grouped by rollout and step, then decisions made outside "
        "rollouts. --format json lists every logged verdict, newest first.",
    )
    lg.add_argument("--db", required=True, help="DuckDB trace store")
    lg.add_argument("--model")
    lg.add_argument("--limit", type=int, default=20)
    add_format(lg)
    lg.set_defaults(func=_log)


def _evaluate(args: argparse.Namespace) -> int:
    from canarykit.safe_io import check_output_path
    from canarykit.stats._special import prefetch
    from canarykit.verdict.evaluate import evaluate

    prefetch()  # scipy.special (0.1 s) loads while DuckDB opens and reads the store
    signer = signer_from(args)  # a bad key or option fails before anything is evaluated
    # an output that cannot be written fails before the verdict is logged or a look recorded
    for path, what in ((args.out, "--out"), (signer.out if signer else None, "--attest-out")):
        if path is not None:
            check_output_path(path, what=what)
    verdict = evaluate(
        args.source,
        policy=args.policy,
        model=args.model,
        baseline=args.baseline,
        candidate=args.candidate,
        until=args.until,
        since=args.since,
        split=args.split,
        log=not args.no_log and args.engine == "duckdb",
        engine=args.engine,
        by=args.by,
    )
    text = verdict.to_json()
    if args.out:
        write_output(args.out, text + "\n")
    if signer is not None:
        where = signer.write(verdict.to_dict())
        print(f"canarykit: signed verdict (key {signer.key_id}) → {where}", file=sys.stderr)
    if args.out != "-":  # with --out - stdout holds exactly the verdict JSON
        shown = {"json": text, "markdown": verdict.to_markdown()}
        print(
            shown.get(args.format, verdict.to_text())
            if args.format != "text"
            else verdict.to_text()
        )
    return verdict.exit_code


def _replay(args: argparse.Namespace) -> int:
    from canarykit.verdict.replay import replay

    result = replay(args.verdict, args.source, policy=args.policy)
    for warning in result.warnings:
        print(f"canarykit: warning: {warning}", file=sys.stderr)
    if args.format == "json":
        print(
            to_json(
                {
                    "identical": result.identical,
                    "differences": list(result.differences),
                    "decision": result.original.decision,
                    "replayed_decision": result.replayed.decision,
                    "engines": dict(result.original.engines),
                    "engine": dict(result.original.engine),
                    "replayed_engines": dict(result.replayed.engines),
                    "warnings": list(result.warnings),
                }
            )
        )
    else:
        print(result)
    return 0 if result.identical else 1


def _log(args: argparse.Namespace) -> int:
    from canarykit.traces.decision_log import list_decisions
    from canarykit.traces.rollouts import list_looks, list_rollouts
    from canarykit.traces.store import TraceStore

    with TraceStore(args.db, read_only=True) as store:
        records = list_decisions(store, model=args.model, limit=args.limit)
        rollouts = list_rollouts(store, model=args.model)
        looks = {r.rollout_id: list_looks(store, r.rollout_id) for r in rollouts}
    if args.format == "json":
        print(json.dumps([json.loads(r.verdict_json) for r in records], indent=2))
        return 0
    plain = [r for r in records if not _is_look(r.verdict_json)]
    if not records and not rollouts:
        print(f"{args.db}: no decisions logged")
        return 0
    for rollout in rollouts:
        print(
            f"rollout {rollout.rollout_id}  {rollout.model} {rollout.baseline} → "
            f"{rollout.candidate}  {rollout.status}  started {rollout.started_at:%Y-%m-%d %H:%M:%S}"
            f"  policy {rollout.policy_digest[:19]}…"
            + (f"  ({rollout.end_reason})" if rollout.end_reason else "")
        )
        by_step: dict[int, list[Any]] = {}
        for look in looks[rollout.rollout_id]:
            by_step.setdefault(look.step, []).append(look)
        for step in rollout.steps:
            print(
                f"  step {step.step}  {step.share:.0%}  from {step.started_at:%Y-%m-%d %H:%M:%S}"
                f"  ({len(by_step.get(step.step, []))} looks)"
            )
            for look in by_step.get(step.step, []):
                reasons = json.loads(look.verdict_json).get("reasons") or [""]
                print(
                    f"    look {look.look:<3} until {look.until:%Y-%m-%d %H:%M:%S}  "
                    f"{look.decision:<8}  {reasons[0]}"
                )
    if plain and rollouts:
        print("decisions outside rollouts:")
    for r in plain:
        print(
            f"{r.created_at:%Y-%m-%d %H:%M:%S}  {r.decision:<8}  {r.model} {r.baseline} → "
            f"{r.candidate} ({r.mode})  window {r.window_start} .. {r.window_end}  "
            f"data {r.data_digest[:19]}…  policy {r.policy_digest[:19]}…",
            file=sys.stdout,
        )
    return 0


def _is_look(verdict_json: str) -> bool:
    rollout = json.loads(verdict_json).get("rollout") or {}
    return rollout.get("rollout_id") is not None
