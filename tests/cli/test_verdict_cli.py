"""``canarykit evaluate / replay / log``: exit codes 0/1/3/2, JSON contract, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from canarykit.cli.main import main
from canarykit.traces.generate import generate_traces


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    out = {}
    for name, kw in {
        "identical": {"n_requests": 120_000, "canary_share": 0.25},
        "error_regression": {"n_requests": 120_000, "canary_share": 0.25},
        "too_little_data": {},
    }.items():
        out[name] = folder / f"{name}.parquet"
        pq.write_table(generate_traces(name, seed=31, **kw), out[name])
    return out


@pytest.mark.parametrize(
    ("scenario", "code", "decision"),
    [
        ("identical", 0, "PROCEED"),
        ("error_regression", 1, "STOP"),
        ("too_little_data", 3, "CONTINUE"),
    ],
)
def test_exit_codes_and_json(files, tmp_path, capsys, scenario, code, decision):
    out = tmp_path / "v.json"
    assert main(["evaluate", str(files[scenario]), "--out", str(out), "--format", "json"]) == code
    printed = json.loads(capsys.readouterr().out)
    stored = json.loads(out.read_text())
    assert printed["decision"] == stored["decision"] == decision
    assert stored["schema"] == "canarykit.verdict/1"


def test_text_output_shows_decision_and_checks(files, capsys):
    assert main(["evaluate", str(files["error_regression"])]) == 1
    text = capsys.readouterr().out
    assert text.startswith("STOP")
    assert "error_rate_delta" in text
    assert "latency_p95" in text


def test_replay_identical_exit_0_and_different_exit_1(files, tmp_path, capsys):
    out = tmp_path / "v.json"
    main(["evaluate", str(files["identical"]), "--out", str(out)])
    assert main(["replay", str(out), str(files["identical"])]) == 0
    assert "identical" in capsys.readouterr().out
    data = json.loads(out.read_text())
    data["checks"][0]["estimate"] = 1.0  # a tampered verdict no longer replays
    out.write_text(json.dumps(data))
    assert main(["replay", str(out), str(files["identical"])]) == 1
    assert "checks[latency_p95].estimate" in capsys.readouterr().out


def test_log_lists_store_decisions(files, tmp_path, capsys):
    db = str(tmp_path / "s.duckdb")
    assert main(["ingest", str(files["too_little_data"]), "--db", db]) == 0
    assert main(["evaluate", db]) == 3
    capsys.readouterr()
    assert main(["log", "--db", db, "--format", "json"]) == 0
    logged = json.loads(capsys.readouterr().out)
    assert [v["decision"] for v in logged] == ["CONTINUE"]


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "missing.parquet"],
        ["evaluate", "missing.duckdb"],
        ["evaluate", "{f}", "--split", "1.5"],
        ["evaluate", "{f}", "--until", "not-a-time"],
        ["evaluate", "{f}", "--policy", "/nonexistent/policy"],
        ["evaluate", "{f}", "--model", "nope"],
        ["replay", "missing.json", "{f}"],
        ["evaluate"],
    ],
)
def test_bad_input_exit_2_one_line_no_traceback(files, args):
    argv = [a.replace("{f}", str(files["too_little_data"])) for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "canarykit", *argv], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 or argv == ["evaluate"]


def test_out_file_not_written_on_error(files, tmp_path):
    out = tmp_path / "v.json"
    assert (
        main(["evaluate", str(files["too_little_data"]), "--model", "nope", "--out", str(out)]) == 2
    )
    assert not out.exists()
