"""``--engine spark`` refuses a CSV file before it starts Spark (one line, no JVM warnings).

Found by a README walk-through: ``evaluate clean.csv --engine spark`` printed about six lines of
Spark and Hadoop warnings, then the right one-line error.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv

from canarykit.traces.generate import generate_traces


def test_csv_is_refused_before_spark_starts(tmp_path: Path):
    path = tmp_path / "traces.csv"
    pacsv.write_csv(generate_traces("identical", n_requests=50, seed=1), path)
    done = subprocess.run(
        [sys.executable, "-m", "canarykit", "evaluate", str(path), "--engine", "spark"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "engine spark reads Parquet" in lines[0]
