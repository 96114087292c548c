"""Looks at a recorded rollout: step windows, planned splits, carried state, latches, replay."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math

import pyarrow as pa
import pytest

from canarykit.errors import InvalidInputError, PolicyError
from canarykit.rollout import abort_rollout, rollout_status, start_rollout, step_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces import TraceStore
from canarykit.traces.rollouts import current_rollout, list_looks
from canarykit.verdict import evaluate
from canarykit.verdict.policy import load_policy
from canarykit.verdict.replay import replay
from canarykit.verdict.tuning import stop_alphas
from canarykit.verdict.verdict import Verdict

RATE = 60.0


def at(minutes: float) -> str:
    return (START + dt.timedelta(minutes=minutes)).isoformat() + "Z"


@pytest.fixture(scope="module")
def traffic() -> dict[str, pa.Table]:
    plan = load_policy().rollout
    return {name: rollout_traffic(SCENARIOS[name], plan, rate=RATE, seed=7) for name in SCENARIOS}


@pytest.fixture
def store_with(traffic):
    opened = []

    def make(name: str) -> TraceStore:
        store = TraceStore()
        store.ingest(traffic[name])
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.close()


def run_step(store: TraceStore, step: int, looks: int = 6) -> list[Verdict]:
    begin = 30.0 * (step - 1)
    if step > 1:
        step_rollout(store, model=MODEL, to=step, at=at(begin))
    return [evaluate(store, until=at(begin + 5 * k)) for k in range(1, looks + 1)]


def test_a_look_reads_its_step_window_against_the_planned_split(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    first = run_step(store, 1)
    v = first[-1]
    assert v.rollout.rollout_id == 1
    assert v.rollout.step == 1
    assert v.rollout.look == 6
    assert v.rollout.planned_split == 0.05
    assert v.selection["since"] == START.isoformat()
    assert list(v.check("sample_ratio").details["planned"]) == [0.95, 0.05]
    # the window is step 1 only: about 30 min × 60/s × 60 requests, not the baseline before
    n = v.check("error_rate").n_control + v.check("error_rate").n_candidate
    assert 0.9 * RATE * 1800 < n < 1.1 * RATE * 1800
    second = run_step(store, 2)
    v2 = second[0]
    assert v2.rollout.step == 2
    assert v2.rollout.look == 1
    assert v2.rollout.planned_split == 0.25
    assert v2.selection["since"] == (START + dt.timedelta(minutes=30)).isoformat()
    # the pooled share (≈ 10 % after the move) never reaches the SRM test: it sees step 2 only
    assert v2.check("sample_ratio").status == "pass"
    assert abs(v2.rollout.observed_split - 0.25) < 0.03


def test_tuning_is_fixed_at_the_first_look_from_traffic_before_the_step(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    v = evaluate(store, until=at(5))
    tuning = v.rollout.tuning
    assert tuning["source"] == "traffic measured before the step"
    assert tuning["rate"] == pytest.approx(RATE, rel=0.05)
    assert tuning["expected_candidate"] == pytest.approx(RATE * 1800 * 0.05, rel=0.05)
    stored = current_rollout(store, MODEL).current_step.tuning
    assert stored == tuning
    # later looks reuse it verbatim
    assert evaluate(store, until=at(10)).rollout.tuning == tuning


def test_declared_rate_wins_over_the_measured_one(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0), rate=500.0)
    v = evaluate(store, until=at(5))
    assert v.rollout.tuning["source"] == "declared"
    assert v.rollout.tuning["expected_candidate"] == pytest.approx(500 * 1800 * 0.05)


def test_error_budget_of_a_rollout_sums_to_alpha():
    policy = load_policy()
    budget = stop_alphas(policy, "canary", policy.rollout)
    assert math.isclose(sum(budget.values()), policy.alpha)
    assert {s for (_, s) in budget} == {1, 2, 3}
    at_100 = sorted(name for (name, s) in budget if s == 3)
    assert at_100 == ["error_rate", "latency_p95"]


def test_the_100_percent_step_runs_absolute_checks_only(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    run_step(store, 1, looks=1)
    run_step(store, 2, looks=1)
    v = run_step(store, 3, looks=2)[-1]
    assert [c.name for c in v.checks] == ["latency_p95", "error_rate", "sample_ratio"]
    assert v.rollout.control.startswith("none (100 % step)")
    assert "latency_p99" in v.rollout.not_applicable
    assert v.check("sample_ratio").status == "pass"  # no control traffic planned, none seen
    assert v.rollout.observed_split == 1.0


def test_a_recorded_control_window_serves_the_100_percent_step(store_with, tmp_path):
    store = store_with("aa")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "steps:\n  - {share: 0.05, window_minutes: 30}\n  - {share: 0.25, window_minutes: 30}\n"
        "  - {share: 1.0, window_minutes: 30, control_window_minutes: 30}\n"
    )
    start_rollout(store, model=MODEL, at=at(0), plan=plan)
    run_step(store, 1, looks=1)
    run_step(store, 2, looks=1)
    v = run_step(store, 3, looks=6)[-1]
    names = [c.name for c in v.checks]
    assert names == [
        "latency_p95",
        "latency_p99",
        "error_rate",
        "error_rate_delta",
        "sample_ratio",
    ]
    assert v.selection["control_window"] == [
        (START + dt.timedelta(minutes=30)).isoformat(),
        (START + dt.timedelta(minutes=60)).isoformat(),
    ]
    assert "recorded 30 minutes before the step" in v.rollout.control
    assert v.check("latency_p99").n_control > 0
    assert v.check("latency_p99").status == "pass"


def test_a_router_sending_25_percent_in_a_5_percent_step_is_a_sample_ratio_stop(store_with):
    store = store_with("router_25_at_5")
    start_rollout(store, model=MODEL, at=at(0))
    v = evaluate(store, until=at(5))
    assert v.decision == "STOP"
    assert v.check("sample_ratio").status == "fail"
    assert any(r.startswith("sample_ratio") for r in v.reasons)


def test_stop_is_latched_with_the_first_reasons_until_abort(store_with):
    store = store_with("errors_x3_at_25")
    start_rollout(store, model=MODEL, at=at(0))
    run_step(store, 1, looks=6)
    looks = run_step(store, 2)
    decisions = [v.decision for v in looks]
    first = decisions.index("STOP")
    assert all(d == "STOP" for d in decisions[first:])
    assert all(v.reasons == looks[first].reasons for v in looks[first:])
    record = current_rollout(store, MODEL)
    assert record.status == "stopped"
    assert record.stop_step == 2
    with pytest.raises(InvalidInputError, match="STOPped"):
        step_rollout(store, model=MODEL, to=3, at=at(60))
    abort_rollout(store, model=MODEL, reason="errors tripled; rolled back")
    assert current_rollout(store, MODEL) is None
    # without an open rollout evaluate is a plain evaluation again
    assert evaluate(store, until=at(60), log=False).rollout.rollout_id is None


def test_decisions_within_a_step_never_go_back(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    for step in (1, 2, 3):
        decisions = [v.decision for v in run_step(store, step)]
        if "PROCEED" in decisions:
            assert "CONTINUE" not in decisions[decisions.index("PROCEED") :]
        assert "STOP" not in decisions


def test_running_intersection_never_widens(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    looks = run_step(store, 1)
    for name in ("latency_p95", "error_rate", "error_rate_delta"):
        lows = [v.check(name).ci_low for v in looks]
        highs = [v.check(name).ci_high for v in looks]
        assert all(b >= a for a, b in itertools.pairwise(lows) if not math.isnan(a))
        assert all(b <= a for a, b in itertools.pairwise(highs) if not math.isnan(a))


def test_a_look_older_than_the_previous_one_is_refused(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    evaluate(store, until=at(10))
    with pytest.raises(InvalidInputError, match="older than the previous look"):
        evaluate(store, until=at(5))
    with pytest.raises(InvalidInputError, match="before step 1"):
        evaluate(store, until=at(-5))
    # a step change cannot start before what was already looked at
    with pytest.raises(InvalidInputError, match="before the last look"):
        step_rollout(store, model=MODEL, to=2, at=at(8))
    with pytest.raises(InvalidInputError, match="later step"):
        step_rollout(store, model=MODEL, to=1, at=at(12))
    with pytest.raises(InvalidInputError, match="later step"):
        step_rollout(store, model=MODEL, to=4, at=at(12))


def test_arguments_that_contradict_the_rollout_are_refused(store_with, tmp_path):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    with pytest.raises(InvalidInputError, match="--split"):
        evaluate(store, until=at(5), split=0.25)
    with pytest.raises(InvalidInputError, match="--since"):
        evaluate(store, until=at(5), since=at(1))
    with pytest.raises(InvalidInputError, match="--candidate"):
        evaluate(store, until=at(5), candidate="v9")
    loose = tmp_path / "loose.yaml"
    loose.write_text(
        "schema: canarykit.policy/1\nchecks:\n  latency_p95: {kind: latency_quantile, "
        "quantile: 0.95, max: 500}\n"
    )
    with pytest.raises(PolicyError, match="a rollout keeps one policy"):
        evaluate(store, until=at(5), policy=loose)
    with pytest.raises(InvalidInputError, match="still active"):
        start_rollout(store, model=MODEL, at=at(5))


def test_an_edited_policy_snapshot_is_refused(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    store.connection.execute(
        "UPDATE policy_snapshots SET content = replace(content::VARCHAR, 'max: 120.0', "
        "'max: 900.0')::BLOB WHERE name LIKE '%.yaml'"
    )
    from canarykit.verdict import evaluate as evaluate_again
    from canarykit.verdict.evaluate import _SNAPSHOT_POLICIES

    _SNAPSHOT_POLICIES.clear()
    with pytest.raises(PolicyError, match="store was edited"):
        evaluate_again(store, until=at(5))


def test_replay_rebuilds_a_look_from_looks_1_to_k(store_with, tmp_path):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    looks = run_step(store, 1, looks=4)
    k = looks[-1]
    assert k.rollout.look_untils == tuple(
        (START + dt.timedelta(minutes=5 * i)).isoformat() for i in range(1, 5)
    )
    result = replay(k, store)
    assert result.identical, result.differences
    # a look replayed from a file
    path = tmp_path / "look.json"
    path.write_text(k.to_json())
    assert replay(path, store).identical
    # dropping an earlier look changes the carried state, and replay says so
    data = json.loads(k.to_json())
    data["rollout"]["look_untils"] = data["rollout"]["look_untils"][-1:]
    tampered = replay(Verdict.from_dict(data), store)
    assert not tampered.identical


def test_looks_are_recorded_with_the_decision_log(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    evaluate(store, until=at(5))
    evaluate(store, until=at(10), log=False)  # a preview: not recorded
    evaluate(store, until=at(10))
    looks = list_looks(store, 1)
    assert [lk.look for lk in looks] == [1, 2]
    rows = store.connection.execute("SELECT count(*) FROM decision_log").fetchall()[0][0]
    assert rows == 2
    status = rollout_status(store, model=MODEL)
    assert [lk["look"] for lk in status.to_dict()["looks"]] == [1, 2]
    assert "look 2" in status.to_text()


def test_continue_carries_a_forecast(store_with):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    v = evaluate(store, until=at(5))
    assert v.decision == "CONTINUE"
    names = {f["check"] for f in v.forecast}
    assert names == {c.name for c in v.checks if c.status == "inconclusive"}
    for f in v.forecast:
        assert f["summary"].startswith(f["check"])
        if f["minutes"] is not None:
            assert f["within_step"] == (f["minutes"] <= v.rollout.minutes_left)
    assert "time to decision" in v.to_text()
    assert "time to decision" in v._repr_html_()
    assert Verdict.from_dict(v.to_dict()).to_dict() == v.to_dict()


def test_a_missing_sensitive_column_skips_fairness_with_a_note():
    from canarykit.traces.generate import generate_traces

    table = generate_traces("identical", n_requests=20_000, canary_share=0.25, seed=1)
    verdict = evaluate(table.drop_columns(["group"]), log=False)
    for name in ("fairness_selection_rate", "fairness_tpr"):
        check = verdict.check(name)
        assert check.status == "inconclusive"
        assert "column group is not in the traces" in check.note
    assert verdict.check("latency_p95").status == "pass"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["checks"][0].update(status="passed"), r"checks\[0\]\.status: must be one of"),
        (lambda d: d["checks"][1].update(n_control="7"), r"checks\[1\]\.n_control"),
        (lambda d: d.update(rollout="x"), "rollout: must be an object"),
        (lambda d: d.update(created_at=5), "created_at: must be a string"),
        (lambda d: d.update(baseline=5), "baseline: must be a string"),
        (lambda d: d["selection"].update(until=5), r"selection\.until: must be a string"),
        (lambda d: d["rollout"].update(look_untils=[1]), r"look_untils\[0\]"),
        (lambda d: d.update(decision="MAYBE"), "decision: must be one of"),
    ],
)
def test_a_malformed_verdict_names_the_field(store_with, edit, message):
    store = store_with("aa")
    start_rollout(store, model=MODEL, at=at(0))
    data = json.loads(evaluate(store, until=at(5)).to_json())
    edit(data)
    with pytest.raises(InvalidInputError, match=message):
        Verdict.from_dict(data)
