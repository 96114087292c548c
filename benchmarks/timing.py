"""Timing helpers shared by the bench's cases: medians, side-by-side ratios, peak memory.

Ratios are taken side by side in one process (:func:`interleaved`), so both timings of a
ratio see the same machine load.
"""

from __future__ import annotations

import resource
import statistics
import time
from pathlib import Path
from typing import Any

REPEATS = 3


def peak_rss_mb() -> float:
    """This process's peak RSS. ``VmHWM`` starts afresh at exec, unlike ``ru_maxrss``, which a
    child inherits from its parent's high-water mark on Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def store_path(parquet: str, workdir: str) -> Path:
    """The DuckDB store ``case_ingest`` builds from ``parquet``."""
    return Path(workdir) / (Path(parquet).stem + ".duckdb")


def median_seconds(run: object, repeats: int = REPEATS) -> float:
    """Median wall time of ``repeats`` calls of ``run``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(runs: dict[str, Any], repeats: int = REPEATS) -> dict[str, float]:
    """Median seconds of each callable, run in turn ``repeats`` times (after one warm-up each),
    so that every ratio compares timings taken under the same machine load."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}
