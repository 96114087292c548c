"""``canarykit report VERDICT.json SOURCE --out report.html``: one file, exit 0; bad input exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from canarykit.cli.main import main
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A Parquet source and the verdict JSON ``canarykit evaluate`` wrote for it."""
    folder = tmp_path_factory.mktemp("report_cli")
    source = folder / "fairness.parquet"
    pq.write_table(
        generate_traces("fairness_regression", n_requests=12_000, canary_share=0.25, seed=9), source
    )
    verdict = folder / "verdict.json"
    assert main(["evaluate", str(source), "--out", str(verdict), "--format", "json"]) == 1
    return source, verdict


def test_report_writes_one_self_contained_page(evaluated, tmp_path, capsys):
    source, verdict = evaluated
    capsys.readouterr()
    out = tmp_path / "nested" / "report.html"
    assert main(["report", str(verdict), str(source), "--out", str(out), "--dpi", "40"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"{out}: STOP report for risk-default v2.3.0"
    assert captured.err == ""
    page = out.read_text(encoding="utf-8")
    assert page.count("<img ") == 5
    assert page.count("data:image/png;base64,") == 5
    assert "latency_p99" in page
    assert "roll back" in page
    assert json.loads(verdict.read_text())["data_digest"] in page
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary left


def test_report_from_a_duckdb_store_uses_its_policy_snapshot(tmp_path, capsys):
    db = tmp_path / "traces.duckdb"
    with TraceStore(db) as store:
        store.ingest(generate_traces("identical", n_requests=6_000, canary_share=0.25, seed=2))
    verdict = tmp_path / "v.json"
    main(["evaluate", str(db), "--out", str(verdict)])
    out = tmp_path / "r.html"
    assert main(["report", str(verdict), str(db), "--out", str(out), "--dpi", "30"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert "Latency quantiles of both arms" in out.read_text()


def test_report_warns_when_the_source_no_longer_matches(evaluated, tmp_path, capsys):
    _, verdict = evaluated
    other = tmp_path / "other.parquet"
    pq.write_table(
        generate_traces("fairness_regression", n_requests=12_000, canary_share=0.25, seed=10), other
    )
    out = tmp_path / "r.html"
    assert main(["report", str(verdict), str(other), "--out", str(out), "--dpi", "30"]) == 0
    assert "no longer has the verdict's data digest" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing_verdict", "no such verdict file"),
        ("not_json", "not a JSON verdict"),
        ("wrong_schema", "schema: expected 'canarykit.verdict/1'"),
        ("missing_source", "no such file"),
        ("other_model", "no traces of risk-default"),
        ("bad_dpi", "--dpi: must be between 20 and 600"),
        ("out_is_a_directory", "cannot write"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(evaluated, tmp_path, capsys, case, message):
    source, verdict = evaluated
    args = [str(verdict), str(source), "--out", str(tmp_path / "r.html")]
    if case == "missing_verdict":
        args[0] = str(tmp_path / "nope.json")
    elif case == "not_json":
        (tmp_path / "bad.json").write_text("{not json")
        args[0] = str(tmp_path / "bad.json")
    elif case == "wrong_schema":
        (tmp_path / "v.json").write_text(json.dumps({"schema": "other/1"}))
        args[0] = str(tmp_path / "v.json")
    elif case == "missing_source":
        args[1] = str(tmp_path / "nope.parquet")
    elif case == "other_model":
        other = tmp_path / "other.parquet"
        pq.write_table(generate_traces("identical", n_requests=2_000, seed=1, model="x"), other)
        args[1] = str(other)
    elif case == "bad_dpi":
        args += ["--dpi", "5"]
    elif case == "out_is_a_directory":
        (tmp_path / "r.html").mkdir()
    capsys.readouterr()
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("canarykit: error: ")
    assert message in err


def test_no_traceback_from_the_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "canarykit", "report", str(tmp_path / "v.json"), "x.parquet"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"canarykit: error: {tmp_path / 'v.json'}: no such verdict file"


def test_report_warns_when_the_policy_is_not_the_verdicts(evaluated, tmp_path, capsys):
    source, verdict = evaluated
    from canarykit.verdict.policy import default_policy_path

    stricter = tmp_path / "stricter.yaml"
    text = (default_policy_path() / "canary.yaml").read_text()
    stricter.write_text(text.replace("max: 120.0", "max: 100.0"))
    out = tmp_path / "r.html"
    args = [str(verdict), str(source), "--out", str(out), "--policy", str(stricter), "--dpi", "30"]
    assert main(["report", *args]) == 0
    assert "not the verdict's" in capsys.readouterr().err
    assert "not the verdict's own policy" in out.read_text()
