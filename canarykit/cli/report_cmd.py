"""``canarykit report``: one self-contained HTML page for a verdict, with its plots."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from canarykit.cli.common import add_format, emit, write_output
from canarykit.errors import InvalidInputError, shorten

DESCRIPTION = (
    "Write the report page of VERDICT (a verdict JSON): decision, reasons, every check, the "
    "digests, the rollout step and the plots, embedded in one HTML file. The plots are "
    "recomputed from SOURCE with the verdict's selection (model, versions, window end). "
    "A verdict whose decision does not follow from its own checks (e.g. edited from STOP to "
    "PROCEED) is refused. Exit status: 0 written, 2 bad input or usage, 70 internal error."
)


def register(subparsers: Any) -> None:
    """Add the ``report`` command."""
    rp = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a verdict",
        description=DESCRIPTION,
    )
    rp.add_argument(
        "verdict", metavar="VERDICT", help="verdict JSON file (canarykit evaluate --out)"
    )
    rp.add_argument(
        "source", metavar="SOURCE", help="DuckDB trace store, or Parquet/CSV file(s)/glob"
    )
    rp.add_argument(
        "--out",
        default="report.html",
        help="HTML file to write, '-' for stdout (default: %(default)s)",
    )
    rp.add_argument("--policy", help="policy file or folder (default: the verdict's snapshot)")
    rp.add_argument("--dpi", type=int, default=100, help="resolution of the embedded plots")
    add_format(rp)
    rp.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from canarykit.report.data import load_report_data
    from canarykit.report.decision import check_decision
    from canarykit.report.html import report_html
    from canarykit.verdict.replay import load_verdict

    if not 20 <= args.dpi <= 600:
        raise InvalidInputError(f"--dpi: must be between 20 and 600, got {args.dpi}")
    verdict = load_verdict(args.verdict)
    data = load_report_data(verdict, args.source, policy=args.policy)
    decision = check_decision(verdict, data.policy)
    if not decision.follows:
        raise InvalidInputError(f"{shorten(args.verdict)}: {decision.message}")
    where = write_output(args.out, report_html(verdict, data, dpi=args.dpi))
    warnings = []
    if not data.data_matches:
        warnings.append(
            f"{shorten(args.source)} no longer has the verdict's data digest; "
            "the plots show the current data (see canarykit replay)"
        )
    if not data.policy_matches:
        warnings.append(
            f"the plots use policy {data.policy.digest}, not the verdict's "
            f"{shorten(verdict.policy_digest)} (pass --policy)"
        )
    for warning in warnings:
        print(f"canarykit: warning: {warning}", file=sys.stderr)
    summary = f"{where}: {verdict.decision} report for {verdict.model} {verdict.candidate}"
    if args.out == "-":  # stdout holds the page: the summary goes to stderr
        print(summary, file=sys.stderr)
        return 0
    emit(
        args,
        {
            "out": where,
            "decision": verdict.decision,
            "decision_follows": decision.follows,
            "model": verdict.model,
            "candidate": verdict.candidate,
            "warnings": warnings,
        },
        summary,
    )
    return 0
