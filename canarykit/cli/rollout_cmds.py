"""``canarykit rollout start|step|status|abort``: the rollout record of a trace store.

While a model has an open rollout, ``canarykit evaluate DB`` is a look at its current step.
Bad input (an unknown model, a step out of the plan, a time before the step) exits 2 with one
line on stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import add_format, emit

HELP = (
    "A rollout is recorded in the trace store: the plan (the policy's rollout.steps or --plan) "
    "and, for each step, when traffic moved and the planned split. While it is open, "
    "`canarykit evaluate DB` evaluates the current step's window against its planned split, "
    "carries the sequential state from look to look and latches a STOP."
)


def register(subparsers: Any) -> None:
    """Add ``rollout`` and its sub-commands."""
    rollout = subparsers.add_parser(
        "rollout", help="start, step, inspect or abort a recorded rollout", description=HELP
    )
    actions = rollout.add_subparsers(dest="action", metavar="ACTION", required=True)

    start = actions.add_parser("start", help="start a rollout: step 1 begins at --at (now)")
    start.add_argument("db", metavar="DB", help="DuckDB trace store")
    start.add_argument("--model", required=True)
    start.add_argument("--baseline", help="control version (inferred when unique)")
    start.add_argument("--candidate", help="candidate version (inferred when unique)")
    start.add_argument("--policy", help="policy file or folder (default: the shipped policy)")
    start.add_argument("--plan", help="plan file (YAML/JSON steps) instead of the policy's")
    start.add_argument("--at", help="when step 1 started, ISO-8601 UTC (default now)")
    start.add_argument(
        "--rate",
        type=float,
        help="expected requests per second, both arms (default: measured before each step)",
    )
    add_format(start)
    start.set_defaults(func=_start)

    step = actions.add_parser("step", help="record that traffic moved to plan step N")
    step.add_argument("db", metavar="DB", help="DuckDB trace store")
    step.add_argument("--model", required=True)
    step.add_argument("--to", type=int, required=True, metavar="N", help="plan step (1-based)")
    step.add_argument("--at", help="when traffic moved, ISO-8601 UTC (default now)")
    step.add_argument("--rate", type=float, help="expected requests per second for this step")
    add_format(step)
    step.set_defaults(func=_step)

    status = actions.add_parser("status", help="the open rollout, its steps and looks")
    status.add_argument("db", metavar="DB", help="DuckDB trace store")
    status.add_argument("--model")
    status.add_argument("--rollout", type=int, help="a rollout id (open or not)")
    add_format(status)
    status.set_defaults(func=_status)

    abort = actions.add_parser("abort", help="end the open rollout (keeps the reason)")
    abort.add_argument("db", metavar="DB", help="DuckDB trace store")
    abort.add_argument("--model", required=True)
    abort.add_argument("--reason", required=True)
    add_format(abort)
    abort.set_defaults(func=_abort)


def _start(args: argparse.Namespace) -> int:
    from canarykit.rollout import start_rollout

    record = start_rollout(
        args.db,
        model=args.model,
        baseline=args.baseline,
        candidate=args.candidate,
        policy=args.policy,
        plan=args.plan,
        at=args.at,
        rate=args.rate,
    )
    step = record.current_step
    emit(
        args,
        record.to_dict(),
        f"rollout {record.rollout_id} of {record.model} started: {record.baseline} → "
        f"{record.candidate}, step 1 of {len(record.plan)} at {step.share:.0%} from "
        f"{step.started_at.isoformat()}Z",
    )
    return 0


def _step(args: argparse.Namespace) -> int:
    from canarykit.rollout import step_rollout

    record = step_rollout(args.db, model=args.model, to=args.to, at=args.at, rate=args.rate)
    step = record.current_step
    emit(
        args,
        record.to_dict(),
        f"rollout {record.rollout_id} of {record.model}: step {step.step} of "
        f"{len(record.plan)} at {step.share:.0%} from {step.started_at.isoformat()}Z",
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from canarykit.rollout import rollout_status

    status = rollout_status(args.db, model=args.model, rollout_id=args.rollout)
    emit(args, status.to_dict(), status.to_text())
    return 0


def _abort(args: argparse.Namespace) -> int:
    from canarykit.rollout import abort_rollout

    record = abort_rollout(args.db, model=args.model, reason=args.reason)
    emit(
        args,
        record.to_dict(),
        f"rollout {record.rollout_id} of {record.model} aborted: {record.end_reason}",
    )
    return 0
