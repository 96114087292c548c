"""``make bench``: side-by-side timings in one run, written as a Markdown table.

Each case runs in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its own.
Timings are for reading, never for assertions.

Usage: ``python benchmarks/run.py [--rows 10000000] [--out benchmarks/RESULTS.md]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))


def case_ingest(parquet: str, workdir: str) -> dict[str, float]:
    """Ingest the Parquet file into a new DuckDB store (validation included)."""
    from canarykit.traces import TraceStore

    db = Path(workdir) / "ingest.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    start = time.perf_counter()
    with TraceStore(db) as store:
        report = store.ingest(parquet)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": report.rows_ingested}


CASES = {"ingest": case_ingest}


def _run_case(name: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", name, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(name: str, args: list[str]) -> None:
    result = CASES[name](*args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "canarykit-bench"))
    parser.add_argument("--case")
    parser.add_argument("args", nargs="*")
    ns = parser.parse_args()
    if ns.case:
        _child(ns.case, ns.args)
        return

    from benchmarks.data import trace_parquet

    data = Path(ns.data)
    print(f"generating {ns.rows:,} rows (cached in {data}) ...", file=sys.stderr)
    parquet = trace_parquet(ns.rows, data)
    rows = []
    print("ingest ...", file=sys.stderr)
    ingest = _run_case("ingest", str(parquet), str(data))
    rows.append(("ingest Parquet → DuckDB store (validated, one transaction)", ingest))

    lines = [
        "# canarykit benchmarks",
        "",
        f"One run of `make bench` on {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{ns.rows:,} trace rows (5 % canary). Each case runs in its own process; peak RSS is "
        "that process's maximum resident set size.",
        "",
        "| case | rows | seconds | rows/s | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {int(r['rows']):,} | {r['seconds']:.2f} | "
            f"{r['rows'] / r['seconds']:,.0f} | {r['peak_rss_mb']:.0f} |"
        )
    text = "\n".join(lines) + "\n"
    Path(ns.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
