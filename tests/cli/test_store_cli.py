"""The store commands: exit codes, one-line errors, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq

from canarykit.cli.main import main
from canarykit.traces.generate import generate_traces, split_late_labels
from tests.conftest import valid_frame


def test_ingest_info_and_labels(tmp_path, capsys):
    traces, labels = split_late_labels(generate_traces("shadow", n_requests=200, seed=1))
    pq.write_table(traces, tmp_path / "t.parquet")
    pq.write_table(labels, tmp_path / "labels.parquet")
    db = str(tmp_path / "s.duckdb")
    assert main(["ingest", str(tmp_path / "t.parquet"), "--db", db]) == 0
    assert "ingested 400 of 400 rows" in capsys.readouterr().out
    assert main(["ingest-labels", str(tmp_path / "labels.parquet"), "--db", db]) == 0
    assert "labelled 400 rows from 200 labels" in capsys.readouterr().out
    assert main(["info", "--db", db, "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 400
    assert {g["arm"] for g in info["groups"]} == {"control", "shadow"}
    assert all(g["label_coverage"] == 1.0 for g in info["groups"])


def test_reingest_exit_2_then_skip_existing(tmp_path, capsys):
    path = tmp_path / "t.csv"
    valid_frame().to_csv(path, index=False)
    db = str(tmp_path / "s.duckdb")
    assert main(["ingest", str(path), "--db", db]) == 0
    assert main(["ingest", str(path), "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "must not already be in the store" in err
    assert main(["ingest", str(path), "--db", db, "--skip-existing"]) == 0
    assert "skipped 6 already stored" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    assert _run(["ingest"]).returncode == 2
    assert main(["info", "--db", "/nonexistent/store.duckdb"]) == 2
    assert "no such trace store" in capsys.readouterr().err


def test_bad_file_gives_one_line_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    df = valid_frame()
    df.loc[1, "arm"] = "treatment"
    df.to_csv(bad, index=False)
    result = _run(["ingest", str(bad), "--db", str(tmp_path / "s.duckdb")])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert (
        "bad.csv: column arm: must be one of control, canary, shadow (1 row, first: row 2)"
        in result.stderr
    )


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "canarykit", *args], capture_output=True, text=True, check=False
    )
