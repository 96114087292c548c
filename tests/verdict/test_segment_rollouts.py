"""Rollouts by segment: a plan step that targets ``route = beta``, then everything at 25 %."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from canarykit.errors import PolicyError
from canarykit.rollout import rollout_status, start_rollout, step_rollout
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.policy import RolloutStep, parse_policy, parse_steps
from canarykit.verdict.replay import replay

START = "2026-01-01T00:00:00"


def _only_in(table: pa.Table, column: str, value: str) -> pa.Table:
    """Route the canary to ``column = value`` only: elsewhere the baseline serves."""
    inside = pc.equal(table.column(column), value)
    arm = pc.if_else(inside, table.column("arm"), "control")
    version = pc.if_else(inside, table.column("version"), "v2.2.4")
    table = table.set_column(table.schema.get_field_index("arm"), "arm", arm)
    return table.set_column(table.schema.get_field_index("version"), "version", version)


@pytest.fixture(scope="module")
def store():
    s = TraceStore()
    before = generate_traces(
        "identical",
        n_requests=60_000,
        canary_share=0.0,
        seed=1,
        segments=True,
        start="2025-12-31T23:30:00",
    )
    step1 = _only_in(
        generate_traces(
            "identical", n_requests=90_000, canary_share=0.9, seed=2, segments=True, start=START
        ),
        "route",
        "beta",
    )
    step2 = generate_traces(
        "identical",
        n_requests=90_000,
        canary_share=0.25,
        seed=3,
        segments=True,
        start="2026-01-01T00:30:00",
    )
    for t in (before, step1, step2):
        s.ingest(t)
    plan = (
        RolloutStep(share=0.9, window_minutes=30, segment=(("route", ("beta",)),)),
        RolloutStep(share=0.25, window_minutes=30),
        RolloutStep(share=1.0, window_minutes=30),
    )
    start_rollout(s, model="risk-default", plan=plan, at=START)
    yield s
    s.close()


def test_a_segment_step_reads_the_segment_and_checks_its_split(store):
    v = evaluate(store, until="2026-01-01T00:29:00")
    assert v.rollout.step == 1
    assert v.rollout.planned_split == 0.9
    srm = v.check("sample_ratio")
    assert srm.status != "fail"  # 90 % of beta on the canary, as planned
    # both arms are beta rows only (about 30 % of the step's requests)
    n = srm.n_control + srm.n_candidate
    assert 0.25 * 90_000 < n < 0.35 * 90_000
    assert 0.85 < v.rollout.observed_split < 0.95
    assert v.decision != "STOP"
    assert "route=beta at 90%" in rollout_status(store, model="risk-default").to_text()
    assert replay(v, store).identical


def test_the_next_step_reads_all_traffic(store):
    step_rollout(store, model="risk-default", to=2, at="2026-01-01T00:30:00")
    v = evaluate(store, until="2026-01-01T00:59:00")
    srm = v.check("sample_ratio")
    assert v.rollout.step == 2
    assert v.rollout.planned_split == 0.25
    assert srm.n_control + srm.n_candidate > 0.9 * 90_000
    assert srm.status != "fail"


def test_segment_steps_are_validated():
    errors: list[str] = []
    steps = parse_steps(
        [
            {"share": 1.0, "window_minutes": 30, "segment": {"route": ["beta"]}},
            {
                "share": 1.0,
                "window_minutes": 30,
                "segment": {"region": "br-south"},
                "control_window_minutes": 30,
            },
            {"share": 0.25, "window_minutes": 30},
            {"share": 1.0, "window_minutes": 30},
        ],
        errors,
    )
    assert errors == []  # a segment step at 100 % may precede the 25 % step on all traffic
    assert [s.label for s in steps] == [
        "route=beta at 100%",
        "region=br-south at 100%",
        "25%",
        "100%",
    ]
    assert steps[1].to_dict()["segment"] == {"region": ["br-south"]}
    base = {"schema": "canarykit.policy/1", "checks": {"e": {"kind": "error_rate", "max": 0.01}}}
    with pytest.raises(PolicyError, match=r"segment\.ts: a column of the trace contract"):
        parse_policy(
            {
                **base,
                "rollout": {"steps": [{"share": 0.5, "window_minutes": 5, "segment": {"ts": "x"}}]},
            }
        )
    # the pairing columns canarykit adds at ingest (traces/pairing.py) are not segments either
    with pytest.raises(PolicyError, match=r"segment\.__pair_id: names starting with '__'"):
        parse_policy(
            {
                **base,
                "rollout": {
                    "steps": [{"share": 0.5, "window_minutes": 5, "segment": {"__pair_id": "1"}}]
                },
            }
        )


def test_dashboard_names_the_segment_of_the_step():
    from canarykit.dashboard.data import _segment_of

    assert _segment_of({"share": 0.9, "segment": {"route": ["beta"]}}) == "route=beta"
    assert _segment_of({"share": 0.25}) is None


def test_candidate_traffic_outside_the_segment_stops_the_rollout():
    """A router that also sends some non-beta requests to the canary breaks the segment plan."""
    s = TraceStore()
    s.ingest(
        generate_traces(
            "identical",
            n_requests=30_000,
            canary_share=0.0,
            seed=1,
            segments=True,
            start="2025-12-31T23:30:00",
        )
    )
    step = generate_traces(
        "identical", n_requests=60_000, canary_share=0.9, seed=2, segments=True, start=START
    )
    routed = _only_in(step, "route", "beta")
    # 20 requests of eu-west on the canary although the plan targets route=beta only
    leak = step.filter(
        pc.and_(pc.equal(step.column("route"), "default"), pc.equal(step.column("arm"), "canary"))
    ).slice(0, 20)
    keep = pc.invert(pc.is_in(routed.column("request_id"), leak.column("request_id")))
    s.ingest(pa.concat_tables([routed.filter(keep), leak]))
    plan = (
        RolloutStep(share=0.9, window_minutes=30, segment=(("route", ("beta",)),)),
        RolloutStep(share=1.0, window_minutes=30),
    )
    start_rollout(s, model="risk-default", plan=plan, at=START)
    v = evaluate(s, until="2026-01-01T00:20:00")
    assert v.decision == "STOP"
    assert "20 candidate requests outside route=beta" in v.reasons[0]
    assert v.rollout.stopped is not None
    later = evaluate(s, until="2026-01-01T00:25:00")
    assert later.decision == "STOP"  # latched
    assert replay(later, s).identical
    s.close()
