"""Spark ``local[2]`` vs DuckDB on the same Parquet file: time ratio and equality of the checks.

Called by ``benchmarks/run.py`` (``make bench``) through :func:`spark_section`, which runs the
measurement in a subprocess (its own JVM and memory) and returns a Markdown section — empty
when pyspark is not installed. Standalone: ``python benchmarks/spark_bench.py --rows 2000000``.

Timings: DuckDB evaluates the Parquet file in place (median of 3); Spark's session start is
reported on its own line, then one warm-up evaluation (JIT, file listing), then the median of 3.
Equality: the largest absolute difference over every check's estimate, interval bounds and
p-value, and whether every status, count and decision is identical.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

ROWS = 2_000_000
REPEATS = 3


def _timed(run: Any, repeats: int = REPEATS) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def measure(rows: int, data: Path) -> dict[str, Any]:
    """Time both engines on ``rows`` generated traces and compare their verdicts."""
    from pyspark.sql import SparkSession

    from benchmarks.data import trace_parquet
    from canarykit.verdict.evaluate import evaluate

    parquet = str(trace_parquet(rows, data))
    duck_s, duck = _timed(lambda: evaluate(parquet, log=False))
    start = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("canarykit-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    startup_s = time.perf_counter() - start
    start = time.perf_counter()
    evaluate(parquet, log=False, engine="spark", spark=spark)
    first_s = time.perf_counter() - start
    spark_s, on_spark = _timed(lambda: evaluate(parquet, log=False, engine="spark", spark=spark))
    spark.stop()
    worst, same = 0.0, duck.decision == on_spark.decision
    for d, s in zip(duck.checks, on_spark.checks, strict=True):
        dd, sd = d.to_dict(), s.to_dict()
        same &= all(dd[k] == sd[k] for k in ("status", "n_control", "n_candidate"))
        for key in ("estimate", "ci_low", "ci_high", "pvalue"):
            if isinstance(dd[key], float) and isinstance(sd[key], float):
                worst = max(worst, abs(dd[key] - sd[key]))
            else:
                same &= dd[key] == sd[key]
    return {
        "rows": rows,
        "duckdb_s": duck_s,
        "spark_startup_s": startup_s,
        "spark_first_s": first_s,
        "spark_s": spark_s,
        "max_abs_diff": worst,
        "identical_status": bool(same),
        "decision": duck.decision,
        "checks": len(duck.checks),
    }


def markdown(r: dict[str, Any]) -> str:
    """The bench section for ``RESULTS.md``."""
    return "\n".join(
        [
            "",
            "## Spark engine (`--engine spark`, local[2]) vs DuckDB",
            "",
            f"Same Parquet file, {r['rows']:,} rows, default policy ({r['checks']} checks, "
            f"decision {r['decision']}).",
            "",
            "| engine | seconds | × DuckDB |",
            "|---|---:|---:|",
            f"| DuckDB (Parquet in place) | {r['duckdb_s']:.2f} | 1.0 |",
            f"| Spark local[2], warm | {r['spark_s']:.2f} | {r['spark_s'] / r['duckdb_s']:.1f} |",
            f"| Spark, first evaluation | {r['spark_first_s']:.2f} | "
            f"{r['spark_first_s'] / r['duckdb_s']:.1f} |",
            f"| Spark session start | {r['spark_startup_s']:.2f} | |",
            "",
            f"Equality: statuses, counts and decision identical: **{r['identical_status']}**; "
            f"largest |Δ| over every estimate, interval bound and p-value: "
            f"**{r['max_abs_diff']:.1e}**. The data digests differ by design (engine-specific "
            "row hash).",
            "",
        ]
    )


def spark_section(data: Path, rows: int = ROWS) -> str:
    """Run :func:`measure` in a subprocess; ``""`` when pyspark is missing or the run fails."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        return "\n(Spark engine not measured: pyspark is not installed.)\n"
    done = subprocess.run(
        [sys.executable, __file__, "--rows", str(rows), "--data", str(data), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"\n(Spark engine run failed: {done.stderr.strip().splitlines()[-1:]})\n"
    return markdown(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "canarykit-bench"))
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    result = measure(ns.rows, Path(ns.data))
    print(json.dumps(result) if ns.json else markdown(result))


if __name__ == "__main__":
    main()
