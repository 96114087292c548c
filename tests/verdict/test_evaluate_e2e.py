"""End to end: generated scenarios → verdicts (DESIGN.md §4 decision rule)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.replay import replay
from canarykit.verdict.verdict import Verdict


def test_large_identical_arms_proceed(store_of):
    v = evaluate(store_of("identical"))
    assert v.decision == "PROCEED", v.to_text()
    assert all(c.status == "pass" for c in v.checks if c.required)
    assert v.rollout.step == 2
    assert v.rollout.next_action == "advance"
    assert v.exit_code == 0


@pytest.mark.parametrize(
    ("scenario", "failing"),
    [
        ("error_regression", "error_rate_delta"),
        ("latency_tail", "latency_p99"),
        ("auc_drop", "auc_delta"),
        ("fairness_regression", "fairness_selection_rate"),
        ("sample_ratio", "sample_ratio"),
    ],
)
def test_each_injected_regression_stops_with_the_right_check(store_of, scenario, failing):
    v = evaluate(store_of(scenario))
    assert v.decision == "STOP", v.to_text()
    assert v.check(failing).status == "fail"
    assert any(r.startswith(f"{failing}: ") for r in v.reasons)
    assert v.rollout.next_action == "roll back"
    assert v.exit_code == 1


def test_identical_arms_fail_nothing(store_of):
    v = evaluate(store_of("identical"))
    assert [c.name for c in v.checks if c.status == "fail"] == []


def test_too_little_data_continues_never_proceeds(store_of):
    v = evaluate(store_of("too_little_data"))
    assert v.decision == "CONTINUE"
    assert v.exit_code == 3
    assert all(c.status != "pass" for c in v.checks if c.required)
    # every check still reports its estimate and interval fields
    for c in v.to_dict()["checks"]:
        assert {
            "estimate",
            "ci_low",
            "ci_high",
            "confidence_level",
            "n_control",
            "n_candidate",
            "method",
        } <= set(c)


def test_shadow_mode_runs_paired_checks(store_of):
    v = evaluate(store_of("shadow"))
    assert v.mode == "shadow"
    names = [c.name for c in v.checks]
    assert "shadow_agreement" in names
    assert "sample_ratio" not in names
    assert v.check("shadow_agreement").status == "pass"
    assert "paired" in v.check("auc_delta").method
    assert v.decision == "PROCEED"
    assert v.rollout.next_action == "start canary"


def test_same_decision_from_duckdb_store_and_parquet(tmp_path, scenario_tables):
    table = scenario_tables["latency_tail"]
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(str(path))
    from_store = evaluate(str(db))
    from_file = evaluate(str(path))
    a, b = from_store.to_dict(), from_file.to_dict()
    for key in ("created_at",):
        a.pop(key), b.pop(key)
    assert a == b


def test_replay_identical_then_different_on_changed_data(tmp_path, scenario_tables):
    table = scenario_tables["identical"]
    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(table)
    verdict = evaluate(str(db))
    path = tmp_path / "verdict.json"
    path.write_text(verdict.to_json())
    assert replay(path, str(db)).identical
    # change one stored latency: same window, different data
    changed = table.to_pandas()
    changed.loc[changed.index[-1], "latency_ms"] = 5000.0
    other = tmp_path / "changed.parquet"
    changed.to_parquet(other)
    result = replay(path, str(other))
    assert not result.identical
    assert any(d.startswith("data_digest") for d in result.differences)


def test_replay_after_more_data_arrives_is_still_identical(tmp_path, scenario_tables):
    table = scenario_tables["identical"]
    db = tmp_path / "s.duckdb"
    early, late = table.slice(0, 60_000), table.slice(60_000)
    with TraceStore(db) as store:
        store.ingest(early)
    verdict = evaluate(str(db))
    with TraceStore(db) as store:
        store.ingest(late)
    assert replay(verdict, str(db)).identical


def test_until_restricts_the_window(store_of):
    store = store_of("identical")
    v = evaluate(store, until="2026-01-01T00:10:00Z")
    full = evaluate(store)
    assert v.check("latency_p95").n_candidate < full.check("latency_p95").n_candidate
    assert v.window["end"] < "2026-01-01T00:10:00Z"


def test_verdict_json_contract_round_trips(store_of):
    v = evaluate(store_of("auc_drop"))
    data = json.loads(v.to_json())
    assert {
        "schema",
        "decision",
        "reasons",
        "model",
        "baseline",
        "candidate",
        "mode",
        "window",
        "checks",
        "policy_digest",
        "data_digest",
        "canarykit_version",
        "created_at",
    } <= set(data)
    assert data["schema"] == "canarykit.verdict/1"
    assert data["policy_digest"].startswith("sha256:")
    assert Verdict.from_dict(data).to_dict() == data


def test_evaluation_is_deterministic(store_of):
    store = store_of("fairness_regression")
    a, b = evaluate(store).to_dict(), evaluate(store).to_dict()
    a.pop("created_at"), b.pop("created_at")
    assert a == b


def test_ambiguous_source_asks_for_model(tmp_path, scenario_tables):
    with TraceStore() as store:
        store.ingest([scenario_tables["identical"], scenario_tables["auc_drop"]])
        with pytest.raises(InvalidInputError, match=r"several models .* pass --model"):
            evaluate(store)
        assert evaluate(store, model="auc_drop").decision == "STOP"
        with pytest.raises(InvalidInputError, match=r"--candidate 'v9': no canary"):
            evaluate(store, model="auc_drop", candidate="v9")


def test_decision_log_records_every_store_evaluation(tmp_path, scenario_tables):
    from canarykit.traces.decision_log import list_decisions

    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(scenario_tables["too_little_data"])
    evaluate(str(db))
    evaluate(str(db), log=False)
    evaluate(str(db))
    with TraceStore(db, read_only=True) as store:
        records = list_decisions(store)
    assert [r.decision for r in records] == ["CONTINUE", "CONTINUE"]
    assert json.loads(records[0].verdict_json)["model"] == "tiny"


def test_fixed_horizon_check_decides_only_at_the_end_of_the_window(tmp_path, store_of):
    import yaml

    from canarykit.verdict.policy import default_policy_path, load_policy

    doc = yaml.safe_load((default_policy_path() / "canary.yaml").read_text())
    doc["checks"]["latency_p95"]["evaluation"] = "once"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    policy = load_policy(tmp_path / "p.yaml")
    store = store_of("identical")
    early = evaluate(store, policy=policy, until="2026-01-01T00:10:00Z").check("latency_p95")
    assert early.status == "inconclusive"
    assert "decides once the 30-minute window has run" in early.note
    final = evaluate(store, policy=policy).check("latency_p95")
    assert final.status == "pass"
    assert "fixed-horizon" in final.method
