"""``canarykit rollout start|step|status|abort`` and ``evaluate`` as a look, from the shell."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from canarykit.cli.main import main
from canarykit.simulate.rollout import SCENARIOS, rollout_traffic
from canarykit.verdict.policy import load_policy


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rollout-cli") / "traffic.parquet"
    pq.write_table(rollout_traffic(SCENARIOS["aa"], load_policy().rollout, rate=40.0, seed=3), path)
    return path


@pytest.fixture
def db(trace_file, tmp_path):
    path = tmp_path / "store.duckdb"
    assert main(["ingest", str(trace_file), "--db", str(path)]) == 0
    return str(path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "canarykit", *args], capture_output=True, text=True, check=False
    )


def test_a_rollout_from_the_command_line(db, capsys):
    assert (
        main(["rollout", "start", db, "--model", "risk-default", "--at", "2026-03-02T09:00Z"]) == 0
    )
    assert "step 1 of 3 at 5%" in capsys.readouterr().out
    codes = [
        main(["evaluate", db, "--until", f"2026-03-02T09:{m:02d}:00Z", "--format", "json"])
        for m in (5, 10)
    ]
    assert all(c in (0, 3) for c in codes)
    look = json.loads(capsys.readouterr().out.split("\n}\n")[-2] + "\n}")
    assert look["rollout"]["step"] == 1
    assert look["rollout"]["look"] == 2
    assert (
        main(
            [
                "rollout",
                "step",
                db,
                "--model",
                "risk-default",
                "--to",
                "2",
                "--at",
                "2026-03-02T09:30Z",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["rollout", "status", db, "--model", "risk-default", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["current_step"] == 2
    assert status["steps"][1]["share"] == 0.25
    assert status["looks"] == []
    assert main(["rollout", "abort", db, "--model", "risk-default", "--reason", "drill over"]) == 0
    assert "aborted: drill over" in capsys.readouterr().out
    assert main(["log", "--db", db]) == 0
    log = capsys.readouterr().out
    assert log.startswith("rollout 1  risk-default v2.2.4 → v2.3.0  aborted")
    assert "  step 1  5%" in log
    assert "    look 2 " in log


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["rollout", "start", "{db}", "--model", "nope", "--at", "2026-03-02T09:00Z"],
            "no control traffic",
        ),
        (["rollout", "start", "{db}", "--model", "risk-default", "--at", "yesterday"], "--at"),
        (["rollout", "start", "{db}", "--model", "risk-default", "--rate", "-3"], "--rate"),
        (
            ["rollout", "start", "{db}", "--model", "risk-default", "--plan", "missing.yaml"],
            "no such plan",
        ),
        (["rollout", "step", "{db}", "--model", "risk-default", "--to", "2"], "no open rollout"),
        (["rollout", "status", "{db}", "--model", "risk-default"], "no open rollout"),
        (
            ["rollout", "abort", "{db}", "--model", "risk-default", "--reason", "x"],
            "no open rollout",
        ),
        (["rollout", "status", "nothere.duckdb", "--model", "m"], "no such DuckDB trace store"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(db, args, message):
    result = run(*[a.replace("{db}", db) for a in args])
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_refusals_during_a_rollout_exit_2(db):
    assert (
        run(
            "rollout", "start", db, "--model", "risk-default", "--at", "2026-03-02T09:00Z"
        ).returncode
        == 0
    )
    assert run("evaluate", db, "--until", "2026-03-02T09:10:00Z").returncode in (0, 3)
    for args, message in [
        (("evaluate", db, "--until", "2026-03-02T09:05:00Z"), "older than the previous look"),
        (("evaluate", db, "--split", "0.25"), "--split"),
        (
            (
                "rollout",
                "step",
                db,
                "--model",
                "risk-default",
                "--to",
                "2",
                "--at",
                "2026-03-02T09:07Z",
            ),
            "before the last look",
        ),
        (("rollout", "step", db, "--model", "risk-default", "--to", "9"), "later step"),
        (("rollout", "start", db, "--model", "risk-default"), "still active"),
        (("rollout", "abort", db, "--model", "risk-default", "--reason", " "), "--reason"),
    ]:
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_two_processes_on_one_store_never_lose_a_look(db):
    """DuckDB lets one process write: the second command fails cleanly (exit 2) or waits its
    turn; every look that reported success is in the store."""
    assert (
        run(
            "rollout", "start", db, "--model", "risk-default", "--at", "2026-03-02T09:00Z"
        ).returncode
        == 0
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "canarykit",
                "evaluate",
                db,
                "--until",
                f"2026-03-02T09:{m:02d}:00Z",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in (10, 10)
    ]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    ok = sum(code in (0, 1, 3) for code, _ in results)
    assert all(code in (0, 1, 2, 3) for code, _ in results)
    assert all("Traceback" not in err for _, err in results)
    status = run("rollout", "status", db, "--model", "risk-default", "--format", "json")
    assert len(json.loads(status.stdout)["looks"]) == ok
