"""``canarykit plan``: what a rollout can show before it starts, at a declared traffic rate.

For every step of the policy's rollout plan and every check that runs there: the minutes until
a candidate as good as control PROCEEDs, the regression detected with 90 % power by the end of
the step, and the traffic below which the check can never pass within the step. The control's
traffic is the sample generator's baseline (marked *assumed*) or is measured in a trace store
(``--from DB``). Bad input (a rate ≤ 0, a missing store, an unknown model) exits 2 with one line
on stderr.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarykit.cli.common import add_format, emit
from canarykit.errors import InvalidInputError, shorten

if TYPE_CHECKING:
    from canarykit.verdict.planning import BaselineProfile

HELP = (
    "Plan a canary rollout before it starts: for each step of the policy's rollout.steps and "
    "each check, the minutes to PROCEED for a candidate as good as control, the regression "
    "detected with 90 % power by the end of the step, and the minimum traffic (requests/s) "
    "below which the check cannot pass within the step. Computed with the checks a look runs, "
    "tuned for each step at --rate."
)


def register(subparsers: Any) -> None:
    """Add the ``plan`` command.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="canarykit")
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["plan", "--rate", "50", "--look-every", "10"])
    >>> args.rate, args.look_every, args.source, args.format
    (50.0, 10.0, None, 'text')
    """
    plan = subparsers.add_parser(
        "plan",
        help="plan a rollout: time to PROCEED, detectable regressions, minimum traffic",
        description=HELP,
    )
    plan.add_argument("--policy", help="policy file or folder (default: the shipped policy)")
    plan.add_argument(
        "--rate",
        type=float,
        required=True,
        metavar="R",
        help="expected requests per second, both arms together",
    )
    plan.add_argument(
        "--from",
        dest="source",
        metavar="DB",
        help="DuckDB trace store whose control traffic gives the baseline (default: assumed)",
    )
    plan.add_argument("--model", help="model whose control arm is read (with --from)")
    plan.add_argument("--since", help="read control traffic from this time, ISO-8601 UTC")
    plan.add_argument("--until", help="read control traffic before this time, ISO-8601 UTC")
    plan.add_argument(
        "--look-every",
        type=float,
        metavar="MIN",
        help="minutes between looks (default: the policy's rollout.look_every_minutes)",
    )
    add_format(plan)
    plan.set_defaults(func=_plan)


def _positive(value: float | None, name: str, unit: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InvalidInputError(f"{name}: must be a number > 0 ({unit}), got {value:g}")


def _profile(args: argparse.Namespace) -> BaselineProfile | None:
    from canarykit.traces.store import TraceStore
    from canarykit.traces.traffic import stored_models
    from canarykit.verdict.planning import profile_from_store

    if args.source is None:
        for flag, value in (
            ("--model", args.model),
            ("--since", args.since),
            ("--until", args.until),
        ):
            if value is not None:
                raise InvalidInputError(f"{flag}: only with --from DB")
        return None
    if not Path(args.source).is_file():
        raise InvalidInputError(f"--from {shorten(args.source)}: no such trace store")
    store = TraceStore(args.source, read_only=True)
    try:
        models = stored_models(store)
        model = args.model
        if model is None:
            if len(models) != 1:
                raise InvalidInputError(
                    f"--model: required when --from holds several models "
                    f"({', '.join(models) or 'none'})"
                )
            model = models[0]
        elif model not in models:
            raise InvalidInputError(
                f"--model {shorten(model)}: not in {shorten(args.source)} "
                f"(models: {shorten(', '.join(models) or 'none')})"
            )
        return profile_from_store(store, model, since=args.since, until=args.until)
    finally:
        store.close()


def _plan(args: argparse.Namespace) -> int:
    from canarykit.verdict.planning import plan_rollout
    from canarykit.verdict.policy import load_policy

    _positive(args.rate, "--rate", "requests per second")
    _positive(args.look_every, "--look-every", "minutes")
    policy = load_policy(args.policy)
    shortest = min(s.window_minutes for s in policy.rollout)
    if args.look_every is not None and args.look_every > shortest:
        raise InvalidInputError(
            f"--look-every: must not exceed the shortest step window ({shortest:g} minutes), "
            f"got {args.look_every:g}"
        )
    report = plan_rollout(
        policy, rate=args.rate, profile=_profile(args), look_every=args.look_every
    )
    emit(args, report.to_dict(), report.to_text())
    return 0
