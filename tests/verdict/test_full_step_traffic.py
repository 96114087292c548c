"""A 100 % step whose router still sends traffic to control is a sample-ratio STOP.

At 100 % the plan sends no request to control (DESIGN.md §9); control rows in the step's
window mean the router has not moved. The sample-ratio check then tests the planned 100 %
(one-sided, :func:`canarykit.stats.srm.full_step_srm_test`), the observed split is reported,
and the control rows never enter the absolute checks.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from canarykit.rollout import start_rollout, step_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.stats.srm import FULL_STEP_TOLERANCE, full_step_log_e_value, full_step_srm_test
from canarykit.traces import TraceStore
from canarykit.verdict import evaluate
from canarykit.verdict.policy import RolloutStep, load_policy
from canarykit.verdict.replay import replay
from canarykit.verdict.tuning import stop_alphas
from canarykit.verdict.verdict import Verdict

RATE = 25.0
PLAN = load_policy().rollout  # 5 % → 25 % → 100 %, 30 minutes each
STUCK = (*PLAN[:2], RolloutStep(share=0.25, window_minutes=30.0))  # the router stays at 25 %
WINDOW_PLAN = (
    "steps:\n  - {share: 0.05, window_minutes: 30}\n  - {share: 0.25, window_minutes: 30}\n"
    "  - {share: 1.0, window_minutes: 30, control_window_minutes: 30}\n"
)


def at(minutes: float) -> str:
    return (START + dt.timedelta(minutes=minutes)).isoformat() + "Z"


@pytest.fixture(scope="module")
def traffic() -> dict[str, pa.Table]:
    return {
        "clean": rollout_traffic(SCENARIOS["aa"], PLAN, rate=RATE, seed=7),
        "stuck": rollout_traffic(SCENARIOS["aa"], STUCK, rate=RATE, seed=7),
    }


@pytest.fixture
def store_with(traffic):
    opened = []

    def make(table: pa.Table | str) -> TraceStore:
        store = TraceStore()
        store.ingest(traffic[table] if isinstance(table, str) else table)
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.close()


def to_full_step(store: TraceStore, plan: str | None = None) -> None:
    """Steps 1 and 2 with one look each, then step 3 (100 %) from minute 60."""
    start_rollout(store, model=MODEL, at=at(0), plan=plan)
    evaluate(store, until=at(5))
    step_rollout(store, model=MODEL, to=2, at=at(30))
    evaluate(store, until=at(35))
    step_rollout(store, model=MODEL, to=3, at=at(60))


def full_step_looks(store: TraceStore, looks: int = 4) -> list[Verdict]:
    return [evaluate(store, until=at(60 + 5 * k)) for k in range(1, looks + 1)]


def test_control_traffic_in_a_100_percent_step_is_a_sample_ratio_stop(store_with):
    store = store_with("stuck")
    to_full_step(store)
    looks = full_step_looks(store)
    first = looks[0]
    assert first.decision == "STOP"
    srm = first.check("sample_ratio")
    assert srm.status == "fail"
    assert any(r.startswith("sample_ratio") for r in first.reasons)
    assert "mismatches the planned 100.00%" in srm.summary
    # the observed split is reported: about a quarter on the candidate
    assert first.rollout.observed_split == pytest.approx(0.25, abs=0.03)
    assert srm.estimate == pytest.approx(first.rollout.observed_split)
    assert srm.n_control > 2 * srm.n_candidate > 0
    assert first.rollout.next_action == "roll back"
    # the control rows are the sample-ratio check's only: never the absolute checks' rows
    for name in ("latency_p95", "error_rate"):
        c = first.check(name)
        assert c.n_control == 0
        assert c.n_candidate == srm.n_candidate
    assert "sample_ratio" not in first.rollout.not_applicable
    assert all(v.decision == "STOP" for v in looks)
    assert f"{srm.n_control:,} control requests" in first.rollout.control


def test_a_clean_100_percent_step_proceeds_with_the_split_observed(store_with):
    store = store_with("clean")
    to_full_step(store)
    looks = full_step_looks(store)
    assert [v.decision for v in looks] == ["PROCEED"] * 4
    last = looks[-1]
    assert [c.name for c in last.checks] == ["latency_p95", "error_rate", "sample_ratio"]
    assert last.check("sample_ratio").status == "pass"
    assert last.check("sample_ratio").pvalue == 1.0
    assert last.rollout.observed_split == 1.0
    assert last.rollout.next_action == "complete"
    assert last.rollout.control.startswith("none (100 % step)")


def test_the_100_percent_step_records_the_gate_at_the_plans_sample_ratio_level(store_with):
    store = store_with("clean")
    to_full_step(store)
    v = full_step_looks(store, looks=1)[0]
    policy = load_policy()
    budget = stop_alphas(policy, "canary", PLAN)
    ct = v.rollout.tuning["checks"]["sample_ratio"]
    assert ct["alpha_fail"] == budget[("sample_ratio", 1)] == budget[("sample_ratio", 2)]
    # not a new spend of the rollout's budget: the 100 % step's gate never fails without
    # control rows (see test_the_gate_never_fails_without_control_rows)
    assert ("sample_ratio", 3) not in budget


def test_a_handful_of_stragglers_at_the_switch_is_not_a_stop(store_with, traffic):
    table = traffic["clean"]
    switch = pa.scalar(START + dt.timedelta(minutes=60), pa.timestamp("us"))
    ts = table.column("ts").cast(pa.timestamp("us"))
    first = pc.index(pc.greater_equal(ts, switch), True).as_py()
    idx = np.arange(first, first + 5)  # five requests right after the switch go to control
    arm = np.asarray(table.column("arm").to_pylist(), dtype=object)
    version = np.asarray(table.column("version").to_pylist(), dtype=object)
    assert (arm[idx] == "canary").all()
    arm[idx], version[idx] = "control", "v2.2.4"
    names = table.column_names
    table = table.set_column(names.index("arm"), "arm", pa.array(arm.tolist(), pa.string()))
    table = table.set_column(
        names.index("version"), "version", pa.array(version.tolist(), pa.string())
    )
    store = store_with(table)
    to_full_step(store)
    looks = full_step_looks(store)
    assert [v.decision for v in looks] == ["PROCEED"] * 4
    srm = looks[0].check("sample_ratio")
    assert srm.status == "pass"
    assert srm.n_control == 5
    assert 0.999 < looks[0].rollout.observed_split < 1.0


@pytest.mark.parametrize("traffic_name", ["stuck", "clean"])
def test_the_full_step_looks_replay_identically(store_with, traffic_name):
    store = store_with(traffic_name)
    to_full_step(store)
    looks = full_step_looks(store, looks=3)
    for v in looks:
        result = replay(v, store)
        assert result.identical, result
    assert looks[0].decision == ("STOP" if traffic_name == "stuck" else "PROCEED")


def test_a_recorded_control_window_still_serves_and_the_window_control_is_counted(
    store_with, tmp_path
):
    plan = tmp_path / "plan.yaml"
    plan.write_text(WINDOW_PLAN)
    clean = store_with("clean")
    to_full_step(clean, plan=str(plan))
    v = full_step_looks(clean, looks=6)[-1]
    names = [c.name for c in v.checks]
    assert names == ["latency_p95", "latency_p99", "error_rate", "error_rate_delta", "sample_ratio"]
    assert v.check("latency_p99").n_control > 0  # the recorded window's control
    assert v.check("latency_p99").status == "pass"
    assert v.check("sample_ratio").status == "pass"
    assert v.check("sample_ratio").n_control == 0  # the step's own window has none
    assert v.rollout.observed_split == 1.0
    assert "recorded 30 minutes before the step" in v.rollout.control
    assert replay(v, clean).identical

    stuck = store_with("stuck")
    to_full_step(stuck, plan=str(plan))
    first = full_step_looks(stuck, looks=1)[0]
    assert first.decision == "STOP"
    assert first.check("sample_ratio").status == "fail"
    assert first.rollout.observed_split == pytest.approx(0.25, abs=0.03)
    assert replay(first, stuck).identical


# -- the test itself ---------------------------------------------------------------------------
def test_the_gate_never_fails_without_control_rows():
    n = np.array([0, 1, 10, 100, 10_000, 10**7])
    log_e = np.asarray(full_step_log_e_value(np.zeros_like(n), n))
    assert log_e[0] == 0.0
    assert (log_e[1:] < 0).all()
    assert full_step_srm_test(0, 10**7, alpha=1e-6).status == "pass"
    assert full_step_srm_test(0, 0).status == "inconclusive"


def test_the_gate_is_valid_under_repeated_looks_at_the_tolerance():
    """At a control share of exactly the tolerance (the null's worst case), the running
    minimum p-value over 40 looks falls below alpha in at most about alpha of the paths."""
    rng = np.random.default_rng(11)
    paths, looks, per_look, alpha = 4000, 40, 250, 0.05
    control = rng.binomial(per_look, FULL_STEP_TOLERANCE, size=(paths, looks)).cumsum(axis=1)
    candidate = per_look * np.arange(1, looks + 1) - control
    log_e = np.asarray(full_step_log_e_value(control, candidate))
    rejected = (log_e.max(axis=1) >= np.log(1 / alpha)).mean()
    assert rejected <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / paths)


def test_the_gate_detects_a_router_that_has_not_moved_and_a_partial_one():
    assert full_step_srm_test(750, 250, alpha=0.003).status == "fail"
    assert full_step_srm_test(300, 9_700, alpha=0.003).status == "fail"  # 3 % still on control
    assert full_step_srm_test(5, 9_995, alpha=0.003).status == "pass"  # stragglers


@pytest.mark.parametrize("table", ["clean", "stuck"])
def test_a_full_step_tuned_before_the_check_replays_as_recorded(store_with, monkeypatch, table):
    """Looks of a 100 % step whose tuning was recorded before the step had its sample-ratio
    check (an older canarykit) keep their old reading — no observed split, the window's
    control rows as before — so that their replay stays identical."""
    import canarykit.verdict.look as look

    store = store_with(table)
    with monkeypatch.context() as m:
        m.setattr(look, "with_full_step_srm", lambda policy, plan, planned, tuning: tuning)
        to_full_step(store)
        old = full_step_looks(store, looks=2)
    assert all("sample_ratio" not in {c.name for c in v.checks} for v in old)
    assert all(v.rollout.observed_split is None for v in old)
    for verdict in old:
        result = replay(verdict, store)
        assert result.identical, result.differences
