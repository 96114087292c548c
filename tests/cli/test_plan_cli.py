"""``canarykit plan``: text and JSON output, --from a trace store, exit 2 with one-line errors."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from canarykit.cli.main import main
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan_cli")
    one = folder / "one.duckdb"
    store = TraceStore(one)
    store.ingest(generate_traces("identical", n_requests=40_000, seed=41))
    store.close()
    two = folder / "two.duckdb"
    store = TraceStore(two)
    store.ingest(generate_traces("identical", n_requests=2_000, seed=42, model="alpha"))
    store.ingest(generate_traces("identical", n_requests=2_000, seed=43, model="beta"))
    store.close()
    return {"one": one, "two": two}


@pytest.fixture(scope="module")
def default_json():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["plan", "--rate", "100", "--format", "json"])
    return code, json.loads(out.getvalue())


def test_json_plan_exits_0_with_the_schema(default_json):
    code, data = default_json
    assert code == 0
    assert data["schema"] == "canarykit.plan/1"
    assert data["rate"] == 100.0
    assert data["look_every_minutes"] == 5.0
    assert [s["share"] for s in data["steps"]] == [0.05, 0.25, 1.0]
    first = {c["check"]: c for c in data["steps"][0]["checks"]}
    for name in ("latency_p95", "latency_p99", "error_rate", "sample_ratio"):
        assert first[name]["minutes_to_proceed"] <= 30
    assert data["profile"]["assumed"]


def test_text_plan_shows_tables_assumptions_and_error_control(capsys):
    assert main(["plan", "--rate", "10", "--look-every", "10"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Canary rollout plan at 10 requests/s")
    assert "a look every 10 min" in text
    for words in ("step 1: 5% of traffic", "latency_p99", "minimum rate", "(assumed)"):
        assert words in text
    assert "Error control:" in text
    assert "whole rollout" in text


def test_plan_from_a_store_is_close_to_the_default(stores, default_json, capsys):
    code = main(["plan", "--rate", "100", "--from", str(stores["one"]), "--format", "json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["profile"]["assumed"] == []
    assert "control arm of risk-default" in data["profile"]["source"]
    assert data["profile"]["error_rate"] == pytest.approx(0.002, abs=1e-3)
    ours = {c["check"]: c for c in data["steps"][0]["checks"]}
    default = {c["check"]: c for c in default_json[1]["steps"][0]["checks"]}
    for name in ("latency_p95", "latency_p99", "sample_ratio"):
        assert ours[name]["detectable"] == pytest.approx(default[name]["detectable"], rel=0.1)


def test_model_is_chosen_with_model_when_the_store_holds_several(stores, capsys):
    assert main(["plan", "--rate", "50", "--from", str(stores["two"]), "--model", "beta"]) == 0
    assert "control arm of beta" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "0"], "--rate: must be a number > 0"),
        (["--rate", "-5"], "--rate: must be a number > 0"),
        (["--rate", "nan"], "--rate: must be a number > 0"),
        (["--rate", "10", "--look-every", "0"], "--look-every: must be a number > 0"),
        (["--rate", "10", "--look-every", "45"], "--look-every: must not exceed"),
        (
            ["--rate", "10", "--from", "missing.duckdb"],
            "--from missing.duckdb: no such trace store",
        ),
        (["--rate", "10", "--model", "risk-default"], "--model: only with --from DB"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plan", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("canarykit: error: ")
    assert message in lines[0]


def test_store_errors_exit_2_with_one_line(stores, capsys):
    assert main(["plan", "--rate", "10", "--from", str(stores["two"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "canarykit: error: --model: required when --from holds several models (alpha, beta)"
    ]
    assert main(["plan", "--rate", "10", "--from", str(stores["one"]), "--model", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--model nope: not in" in err[0]
    assert "risk-default" in err[0]


def test_missing_rate_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["plan"])
    assert exit_info.value.code == 2
    assert "--rate" in capsys.readouterr().err
