"""``make bench``: side-by-side timings in one run, written as a Markdown table.

Each case runs in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its own.
Timings are for reading, never for assertions.

Usage: ``python benchmarks/run.py [--rows 10000000] [--large-rows 100000000] [--out FILE]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))


from benchmarks.cases import CASES, peak_rss_mb  # noqa: E402
from benchmarks.report import lock_report, report  # noqa: E402


def _run_case(name: str, *args: str) -> dict[str, float]:
    print(f"  {name} {Path(args[0]).name} ...", file=sys.stderr, flush=True)
    out = subprocess.run(
        [sys.executable, __file__, "--case", name, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(name: str, args: list[str]) -> None:
    result = CASES[name](*args)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--large-rows",
        type=int,
        default=100_000_000,
        help="rows of the memory-growth run (0 to skip)",
    )
    parser.add_argument("--skip-naive", action="store_true")
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
    sizes = sorted(
        {min(1_000_000, ns.rows), ns.rows} | ({ns.large_rows} if ns.large_rows else set())
    )
    results: dict[int, dict[str, dict[str, float]]] = {}
    for rows in sizes:
        print(f"{rows:,} rows (data cached in {data})", file=sys.stderr)
        parquet = str(trace_parquet(rows, data))
        r = results[rows] = {}
        r["ingest"] = _run_case("ingest", parquet, str(data))
        r["floor"] = _run_case("floor", parquet, str(data))
        r["verdict"] = _run_case("verdict", parquet, str(data))
        if rows == ns.rows:
            trace_parquet(rows, data, scenario="shadow", requests=rows // 2)
            r["ingest_bare"] = _run_case("ingest_bare", parquet, str(data))
            for case in ("looks", "parquet", "ingest_shadow", "shadow", "models", "startup", "tea"):
                r[case] = _run_case(case, parquet, str(data))
            r["fairness"] = _run_case("fairness", parquet, str(data))
            r["primitives"] = _run_case("primitives", parquet, str(data))
            if not ns.skip_naive:
                r["naive"] = _run_case("naive", parquet, str(data))
    lock = _run_case("registry_lock", "3000")
    from benchmarks.spark_bench import spark_section  # Spark local[2] vs DuckDB (optional)

    spark = spark_section(data, rows=min(2_000_000, ns.rows))
    Path(ns.out).write_text(report(results, ns.rows) + lock_report(lock) + spark)
    print(Path(ns.out).read_text())


if __name__ == "__main__":
    main()
