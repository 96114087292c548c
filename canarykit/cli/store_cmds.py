"""``canarykit ingest``, ``canarykit ingest-labels`` and ``canarykit info``: the trace store."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Any

from canarykit.cli.common import add_format, emit

DEFAULT_DB = "canarykit.duckdb"


def register(subparsers: Any) -> None:
    """Add the store commands."""
    ingest = subparsers.add_parser(
        "ingest",
        help="validate traces and add them to a store (all or nothing)",
        description="Validate Parquet/CSV trace files (paths or globs) and add them to a DuckDB "
        "store in one transaction. A rejected ingest leaves the store as it was.",
    )
    ingest.add_argument("sources", nargs="+", metavar="SOURCE", help="Parquet/CSV file or glob")
    ingest.add_argument("--db", default=DEFAULT_DB, help=f"DuckDB store (default {DEFAULT_DB})")
    ingest.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip rows identical to stored ones instead of rejecting the ingest",
    )
    add_format(ingest)
    ingest.set_defaults(func=_ingest)

    labels = subparsers.add_parser(
        "ingest-labels",
        help="set late labels on stored traces by request_id (+ arm)",
        description="Set the label of stored traces from a file with request_id, label and "
        "optionally arm. Stored labels are never overwritten with another value.",
    )
    labels.add_argument("sources", nargs="+", metavar="SOURCE", help="Parquet/CSV file or glob")
    labels.add_argument("--db", default=DEFAULT_DB, help=f"DuckDB store (default {DEFAULT_DB})")
    labels.add_argument(
        "--skip-unknown",
        action="store_true",
        help="skip labels whose request is not in the store instead of rejecting",
    )
    add_format(labels)
    labels.set_defaults(func=_ingest_labels)

    info = subparsers.add_parser("info", help="list what a store holds")
    info.add_argument("--db", default=DEFAULT_DB, help=f"DuckDB store (default {DEFAULT_DB})")
    add_format(info)
    info.set_defaults(func=_info)


class _Progress:
    """Progress lines on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr)


def _ingest(args: argparse.Namespace) -> int:
    from canarykit.traces.store import ingest_new_or_existing

    # a new store is built privately and published atomically: a failed first ingest leaves
    # no file, and concurrent ingests creating the same store never delete each other's rows
    report = ingest_new_or_existing(
        args.db,
        args.sources,
        progress=_Progress(),
        on_existing="skip" if args.skip_existing else "error",
    )
    emit(args, {"db": args.db, **dataclasses.asdict(report)}, f"{args.db}: {report}")
    return 0


def _ingest_labels(args: argparse.Namespace) -> int:
    from canarykit.traces.store import TraceStore

    with TraceStore(args.db, read_only=False) as store:
        report = store.ingest_labels(
            args.sources, progress=_Progress(), on_unknown="skip" if args.skip_unknown else "error"
        )
    emit(args, {"db": args.db, **dataclasses.asdict(report)}, f"{args.db}: {report}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from canarykit.traces.store import TraceStore

    with TraceStore(args.db, read_only=True) as store:
        info = store.info()
    emit(args, info.to_dict(), info.to_text())
    return 0
