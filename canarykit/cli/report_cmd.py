"""``canarykit report``: one self-contained HTML page for a verdict, with its plots."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from canarykit.errors import StorageError

DESCRIPTION = (
    "Write the report page of VERDICT (a verdict JSON): decision, reasons, every check, the "
    "digests, the rollout step and the plots, embedded in one HTML file. The plots are "
    "recomputed from SOURCE with the verdict's selection (model, versions, window end). "
    "Exit status: 0 written, 2 bad input or usage."
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
        "--out", default="report.html", help="HTML file to write (default: %(default)s)"
    )
    rp.add_argument("--policy", help="policy file or folder (default: the verdict's snapshot)")
    rp.add_argument("--dpi", type=int, default=100, help="resolution of the embedded plots")
    rp.set_defaults(func=_report)


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # an archived page is readable like any written file
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as err:
        raise StorageError(f"--out {path}: cannot write ({err.strerror})") from None


def _report(args: argparse.Namespace) -> int:
    from canarykit.errors import InvalidInputError
    from canarykit.report.data import load_report_data
    from canarykit.report.html import report_html
    from canarykit.verdict.replay import load_verdict

    if not 20 <= args.dpi <= 600:
        raise InvalidInputError(f"--dpi: must be between 20 and 600, got {args.dpi}")
    verdict = load_verdict(args.verdict)
    data = load_report_data(verdict, args.source, policy=args.policy)
    out = Path(args.out)
    _write_atomically(out, report_html(verdict, data, dpi=args.dpi))
    if not data.data_matches:
        print(
            f"canarykit: warning: {args.source} no longer has the verdict's data digest; "
            "the plots show the current data (see canarykit replay)",
            file=sys.stderr,
        )
    if not data.policy_matches:
        print(
            f"canarykit: warning: the plots use policy {data.policy.digest}, not the verdict's "
            f"{verdict.policy_digest} (pass --policy)",
            file=sys.stderr,
        )
    print(f"{out}: {verdict.decision} report for {verdict.model} {verdict.candidate}")
    return 0
