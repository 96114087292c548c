"""A store whose rows were edited by SQL into values no ingest accepts is refused in one line.

Found by a README walk-through: ``UPDATE traces SET latency_ms = -5`` on one row made
``evaluate`` crash with an IndexError (exit 70); NaN or inf latencies a DuckDB conversion error
(exit 70). A negative score would have been counted silently in a wrapped-around bin.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from canarykit.cli.main import main
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as s:
        s.ingest(generate_traces("identical", n_requests=3000, seed=2))
    return db


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("latency_ms", "-5", "must be >= 0 and finite"),
        ("latency_ms", "'nan'", "must be >= 0 and finite"),
        ("latency_ms", "'inf'", "must be >= 0 and finite"),
        ("latency_ms", "'-inf'", "must be >= 0 and finite"),
        ("score", "2.0", "must be in [0, 1]"),
        ("score", "-0.5", "must be in [0, 1]"),
        ("score", "'nan'", "must be in [0, 1]"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "info"])
def test_a_value_written_by_sql_is_refused_in_one_line(store, column, value, rule, command, capsys):
    con = duckdb.connect(str(store))
    rid = con.execute("SELECT request_id FROM traces ORDER BY ts LIMIT 1 OFFSET 17").fetchall()
    con.execute(
        f"UPDATE traces SET {column} = CAST({value} AS DOUBLE) WHERE request_id = ?", [rid[0][0]]
    )
    con.close()
    argv = (
        ["evaluate", str(store), "--no-log"]
        if command == "evaluate"
        else ["info", "--db", str(store)]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"column {column}: {rule}" in err
    assert str(rid[0][0]) in err
