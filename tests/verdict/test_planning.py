"""``plan_rollout``: time to PROCEED, detectable regressions, minimum traffic, checked against
the product's own checks (expected path) and against a seeded simulation (power)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.traces.summaries import ArmSummary, Selection, Summaries, SummaryPlan
from canarykit.verdict.checks import evaluate_checks, latency_ranks
from canarykit.verdict.planning import (
    BaselineProfile,
    LatencyProfile,
    RolloutPlanReport,
    plan_rollout,
    profile_from_store,
)
from canarykit.verdict.policy import load_policy, parse_policy
from canarykit.verdict.tuning import StepTuning

REQUIRED_AT_5 = ("latency_p95", "latency_p99", "error_rate", "sample_ratio")


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture(scope="module")
def plans(policy):
    return {rate: plan_rollout(policy, rate=rate) for rate in (5.0, 10.0, 100.0)}


def _severity(check) -> float:
    """Distance of the detectable regression from the threshold (smaller: more sensitive)."""
    return abs(check.detectable - check.threshold)


# -- the brief's properties --------------------------------------------------------------------
def test_required_checks_of_the_5_percent_step_proceed_within_30_minutes_at_100(plans):
    step = plans[100.0].step(1)
    assert step.share == 0.05
    for name in REQUIRED_AT_5:
        row = step.check(name)
        assert row.required
        assert row.minutes_to_proceed is not None
        assert 0 < row.minutes_to_proceed <= 30
    assert step.minutes_to_proceed == max(step.check(n).minutes_to_proceed for n in REQUIRED_AT_5)


def test_looks_are_multiples_of_look_every(plans):
    for step in plans[100.0].steps:
        assert step.looks == (5.0, 10.0, 15.0, 20.0, 25.0, 30.0)
        for row in step.checks:
            assert row.minutes_to_proceed is None or row.minutes_to_proceed in step.looks


def test_p99_cannot_pass_in_step_1_at_5_per_second_and_minimum_rate_is_consistent(policy, plans):
    row = plans[5.0].step(1).check("latency_p99")
    assert row.minutes_to_proceed is None
    assert row.minimum_rate is not None
    assert row.minimum_rate > 5.0
    # the minimum rate is a property of the policy and the baseline, not of the planned rate
    assert row.minimum_rate == pytest.approx(
        plans[100.0].step(1).check("latency_p99").minimum_rate, rel=1e-9
    )
    above = plan_rollout(policy, rate=row.minimum_rate * 1.02).step(1).check("latency_p99")
    below = plan_rollout(policy, rate=row.minimum_rate * 0.98).step(1).check("latency_p99")
    assert above.minutes_to_proceed == 30.0
    assert below.minutes_to_proceed is None


def test_minimum_rate_brackets_every_check_on_its_last_look(plans):
    """At the minimum rate a check passes by the end of the step; at a rate below, not."""
    for step in plans[100.0].steps:
        for row in step.checks:
            assert row.minimum_rate is not None
            if row.minutes_to_proceed is None:
                assert row.minimum_rate > 100.0, row.check
            else:
                assert row.minimum_rate <= 100.0 * (1 + 1e-9), row.check


def test_detectable_regressions_shrink_as_the_rate_grows(plans):
    for number in (1, 2, 3):
        slow, fast = plans[10.0].step(number), plans[100.0].step(number)
        for row in fast.checks:
            other = slow.check(row.check)
            assert row.detectable is not None, row.check
            if other.detectable is None:  # not detectable at all at 10/s
                continue
            assert _severity(row) < _severity(other), (number, row.check)


def test_detectable_regressions_lie_beyond_their_thresholds(plans):
    for step in plans[100.0].steps:
        for row in step.checks:
            if row.kind == "sample_ratio":
                assert 0.1 * step.share < row.detectable < step.share
            elif row.bound == "max":
                assert row.detectable > row.threshold, row.check
            else:
                assert row.detectable < row.threshold, row.check


def test_100_percent_step_runs_only_the_absolute_checks(plans):
    step = plans[100.0].step(3)
    assert [c.check for c in step.checks] == ["latency_p95", "error_rate"]
    assert step.expected_control == 0.0
    assert "absolute" in step.control


def test_recorded_control_window_brings_the_relative_checks_to_100_percent():
    policy = parse_policy(
        {
            "schema": "canarykit.policy/1",
            "rollout": {
                "steps": [{"share": 1.0, "window_minutes": 30, "control_window_minutes": 30}]
            },
            "checks": {
                "latency_p99": {"kind": "latency_quantile_ratio", "quantile": 0.99, "max": 1.10},
                "error_rate_delta": {"kind": "error_rate_ratio", "max": 1.25},
            },
        }
    )
    step = plan_rollout(policy, rate=100.0).step(1)
    assert [c.check for c in step.checks] == ["latency_p99", "error_rate_delta"]
    assert "recorded" in step.control
    assert step.check("latency_p99").detectable > 1.10
    assert step.check("error_rate_delta").detectable > 1.25


# -- the store profile ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def identical_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "identical.duckdb"
    store = TraceStore(path)
    store.ingest(generate_traces("identical", n_requests=60_000, seed=17))
    store.close()
    return path


def test_profile_of_the_identical_scenario_is_close_to_the_default(identical_db):
    measured = profile_from_store(identical_db, "risk-default")
    default = BaselineProfile()
    assert measured.assumed == ()
    assert measured.error_rate == pytest.approx(default.error_rate, abs=8e-4)
    levels = [0.5, 0.95, 0.99]
    assert measured.latency.quantile(levels) == pytest.approx(
        default.latency.quantile(levels), rel=0.03
    )
    assert measured.auc == pytest.approx(default.auc, abs=0.01)
    assert measured.label_fraction == 1.0
    # the generator's prevalence is 0.20/0.25/0.30 in groups A/B/C: 0.235 overall
    assert measured.prevalence == pytest.approx(0.235, abs=0.01)
    assert [g for g, _ in measured.groups] == ["A", "B", "C"]
    assert [s for _, s in measured.groups] == pytest.approx([0.5, 0.3, 0.2], abs=0.01)
    assert measured.observed_rate == pytest.approx(60_000 / 1800, rel=0.01)


def test_plan_from_the_store_is_close_to_the_default_plan(identical_db, plans):
    report = plan_rollout(load_policy(), rate=100.0, profile=profile_from_store(identical_db, None))
    for number in (1, 2):
        ours, default = report.step(number), plans[100.0].step(number)
        for name in ("latency_p95", "latency_p99", "error_rate", "sample_ratio"):
            a, b = ours.check(name), default.check(name)
            assert abs(a.minutes_to_proceed - b.minutes_to_proceed) <= 5.0, name
            assert a.detectable == pytest.approx(b.detectable, rel=0.1), name
    assert "control arm of risk-default" in report.to_text()


def test_profile_errors_name_the_argument(identical_db, tmp_path):
    with pytest.raises(InvalidInputError, match="no such trace store"):
        profile_from_store(tmp_path / "missing.duckdb", "risk-default")
    with pytest.raises(InvalidInputError, match=r"model: 'nope' has no control traces"):
        profile_from_store(identical_db, "nope")
    store = TraceStore()
    store.ingest(generate_traces("identical", n_requests=500, seed=1, model="a"))
    store.ingest(generate_traces("identical", n_requests=500, seed=2, model="b"))
    with pytest.raises(InvalidInputError, match=r"model: required .* \(a, b\)"):
        profile_from_store(store, None)


def test_no_labels_leave_the_label_checks_without_numbers(policy):
    report = plan_rollout(policy, rate=100.0, profile=BaselineProfile(label_fraction=0.0))
    for name in ("auc_delta", "fairness_selection_rate", "fairness_tpr"):
        row = report.step(2).check(name)
        assert row.minutes_to_proceed is None
        assert row.detectable is None
        assert row.minimum_rate is None
        assert "label" in row.note


# -- simulation cross-check ------------------------------------------------------------------------
def _summaries(n_c, n_t, err_c, err_t, ranks=((), ()), values=((), ())):
    start = dt.datetime(2026, 1, 1)
    end = start + dt.timedelta(minutes=30)
    arms = [
        ArmSummary(
            arm=arm,
            n=n,
            errors=e,
            n_latency=n,
            start=start,
            end=end,
            latency_ranks=np.asarray(r, np.int64),
            latency_values=np.asarray(v, float),
        )
        for arm, n, e, r, v in zip(
            ("control", "canary"), (n_c, n_t), (err_c, err_t), ranks, values, strict=True
        )
    ]
    return Summaries(
        selection=Selection(model="m", baseline="a", candidate="b", mode="canary"),
        plan=SummaryPlan(),
        control=arms[0],
        candidate=arms[1],
        data_digest="sha256:sim",
    )


def _step_tuning(report: RolloutPlanReport, number: int, name: str) -> StepTuning:
    tuning = StepTuning.from_dict(report.step(number).tuning)
    return dataclasses.replace(tuning, checks={name: tuning.checks[name]})


@pytest.mark.simulation
def test_simulated_power_of_the_error_ratio_at_the_25_percent_step(policy, plans):
    """Errors × the reported ratio, binomial counts, 200 rollouts: STOP with power ≈ 0.9."""
    report = plans[100.0]
    ratio = report.step(2).check("error_rate_delta").detectable
    tuning = _step_tuning(report, 2, "error_rate_delta")
    rng = np.random.default_rng(2026)
    p0 = report.profile.error_rate
    fails = 0
    reps = 200
    for _ in range(reps):
        n_t = int(rng.binomial(180_000, 0.25))
        n_c = 180_000 - n_t
        s = _summaries(n_c, n_t, int(rng.binomial(n_c, p0)), int(rng.binomial(n_t, ratio * p0)))
        (out,) = evaluate_checks(policy, s, share=0.25, tuning=tuning, window_minutes=30)
        fails += out.status == "fail"
    assert 0.80 <= fails / reps <= 0.98


@pytest.mark.simulation
def test_simulated_power_of_the_p99_ratio_at_the_5_percent_step(policy, plans):
    """Latencies × the reported p99 ratio (lognormal baseline), 150 rollouts: power 0.8–0.98.

    The plan puts both arms' order statistics on their unfavourable side at once, which is
    conservative for this two-sample test (measured ≈ 0.94 here, ≈ 0.97 at the 25 % step).
    """
    report = plans[100.0]
    factor = report.step(1).check("latency_p99").detectable
    tuning = _step_tuning(report, 1, "latency_p99")
    ranks_for = latency_ranks(policy, "canary", tuning)
    rng = np.random.default_rng(7)
    n_c, n_t = 171_000, 9_000
    rc, rt = (np.asarray(r, np.int64) for r in ranks_for(n_c, n_t))
    fails = 0
    reps = 150
    for _ in range(reps):
        control = np.sort(rng.lognormal(math.log(40.0), 0.5, n_c))
        candidate = np.sort(factor * rng.lognormal(math.log(40.0), 0.5, n_t))
        s = _summaries(n_c, n_t, 0, 0, (rc, rt), (control[rc - 1], candidate[rt - 1]))
        (out,) = evaluate_checks(policy, s, share=0.05, tuning=tuning, window_minutes=30)
        fails += out.status == "fail"
    assert 0.80 <= fails / reps <= 0.98


# -- the report --------------------------------------------------------------------------------------
def test_json_round_trip(plans):
    report = plans[10.0]
    data = report.to_dict()
    assert data["schema"] == "canarykit.plan/1"
    text = json.dumps(data, allow_nan=False)
    assert RolloutPlanReport.from_dict(json.loads(text)) == report
    with pytest.raises(InvalidInputError, match="schema"):
        RolloutPlanReport.from_dict({**data, "schema": "other"})


def test_text_html_and_frame(plans):
    report = plans[10.0]
    text = report.to_text()
    for words in ("step 1: 5% of traffic", "minutes to PROCEED", "(assumed)", "α = 0.05"):
        assert words in text
    frame = report.to_frame()
    assert len(frame) == sum(len(s.checks) for s in report.steps)
    assert {"step", "check", "minutes_to_proceed", "detectable", "minimum_rate"} <= set(frame)
    odd = dataclasses.replace(
        report, profile=dataclasses.replace(report.profile, source="<script>x</script>")
    )
    page = odd._repr_html_()
    assert "&lt;script&gt;" in page
    assert "<script>" not in page


def test_bad_arguments_raise_one_line_errors(policy):
    for rate in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(InvalidInputError, match="rate: must be a number > 0"):
            plan_rollout(policy, rate=rate)
    with pytest.raises(InvalidInputError, match="look_every: must be"):
        plan_rollout(policy, rate=10.0, look_every=0.0)
    with pytest.raises(InvalidInputError, match="look_every: 45 minutes is longer"):
        plan_rollout(policy, rate=10.0, look_every=45.0)
    with pytest.raises(InvalidInputError, match="auc"):
        BaselineProfile(auc=0.4)
    with pytest.raises(InvalidInputError, match="groups"):
        BaselineProfile(groups=(("A", 0.5), ("B", 0.2)))


def test_latency_profile_forms_agree_with_the_lognormal():
    lognormal = LatencyProfile.lognormal(40.0, 0.5)
    levels = np.linspace(0.01, 0.99, 30)
    table = LatencyProfile.from_quantiles(levels, lognormal.quantile(levels))
    far = [1e-4, 0.5, 0.999, 0.99999]
    assert table.quantile(far) == pytest.approx(lognormal.quantile(far), rel=1e-6)
    assert LatencyProfile.from_dict(table.to_dict()) == table
