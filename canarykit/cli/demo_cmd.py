"""``canarykit demo``: build a store from the bundled samples and show what it holds."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.traces.store import TraceStore, remove_store_files


def register(subparsers: Any) -> None:
    """Add the demo command."""
    demo = subparsers.add_parser("demo", help="run the main job on the bundled sample data")
    demo.add_argument("--samples", default="data/samples", help="folder of sample Parquet files")
    demo.add_argument("--out", default="demo_out", help="output folder (store and verdicts)")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    folder = Path(args.samples)
    samples = sorted(p for p in folder.glob("*.parquet") if not p.name.endswith("_labels.parquet"))
    if not samples:
        raise InvalidInputError(f"{args.samples}: no sample Parquet files (run `make samples`)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.duckdb"
    remove_store_files(db)
    with TraceStore(db) as store:
        report = store.ingest([str(p) for p in samples])
        print(f"{db}: {report}")
        for labels in sorted(folder.glob("*_labels.parquet")):
            print(f"{db}: {store.ingest_labels(str(labels))} ({labels.name}, late labels)")
        print(store.info().to_text())
    return 0
