"""Segment verdicts end to end: where a regression lives, small segments, JSON, CLI, replay."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from canarykit.cli.main import main
from canarykit.errors import PolicyError
from canarykit.report.decision import check_decision
from canarykit.report.html import report_html
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.policy import load_policy, parse_policy
from canarykit.verdict.replay import replay
from canarykit.verdict.segment_rows import SegmentVerdict
from canarykit.verdict.verdict import Verdict

BIG = {"n_requests": 180_000, "canary_share": 0.25, "segments": True}
# a regression in one of 8 regions needs about 300 requests/s over a 30-minute 25 % step to be
# found with high probability (docs/validation.md): the regression tables have that traffic
LOUD = {**BIG, "n_requests": 540_000}


@pytest.fixture(scope="module")
def tables():
    return {
        "aa": generate_traces("identical", seed=41, **BIG),
        "errors": generate_traces(
            "error_regression", seed=3, affected={"region": "br-south"}, **LOUD
        ),
        "latency": generate_traces("latency_tail", seed=5, affected={"region": "br-south"}, **LOUD),
    }


@pytest.fixture(scope="module")
def verdicts(tables):
    return {name: evaluate(t, by="region,route", log=False) for name, t in tables.items()}


def test_aa_has_no_discovery_and_keeps_its_decision(tables, verdicts):
    v = verdicts["aa"]
    plain = evaluate(tables["aa"], log=False)
    assert v.segments is not None
    assert v.segments.discoveries == 0
    assert v.decision == plain.decision
    assert v.segments.segments == 16
    assert v.segments.hypotheses == 16 * 5
    assert "segments" not in plain.to_dict()  # verdicts without --by keep their exact form


@pytest.mark.parametrize("scenario", ["errors", "latency"])
def test_regression_in_one_region_is_found_there_and_stops(tables, scenario):
    t = tables[scenario]
    v = evaluate(t, by="region", log=False)
    assert v.decision == "STOP"
    assert {r.segment for r in v.segments.failed} == {("br-south",)}
    assert v.segments.rows[0].segment_label == "region=br-south"
    assert any("segment region=br-south" in r for r in v.reasons)
    assert v.rollout.next_action == "roll back"
    assert check_decision(v, load_policy()).follows


def test_on_fail_flag_reports_without_stopping(tables, tmp_path):
    folder = tmp_path / "policy"
    folder.mkdir()
    text = (load_policy().files["canary.yaml"]).decode()
    (folder / "canary.yaml").write_text(text + "segments:\n  on_fail: flag\n")
    v = evaluate(tables["errors"], by="region", policy=folder, log=False)
    plain = evaluate(tables["errors"], policy=folder, log=False)
    assert v.segments.on_fail == "flag"
    assert v.segments.failed
    assert v.decision == plain.decision
    assert any("flagged" in r for r in v.reasons)


def test_a_small_segment_is_inconclusive_never_pass(tables):
    t = tables["aa"]
    region = pc.field("region")
    keep = pc.invert(pc.equal(t.column("region"), "af-south"))
    small = t.filter(pc.equal(t.column("region"), "af-south")).slice(0, 50)
    v = evaluate(pa.concat_tables([t.filter(keep), small]), by=["region"], log=False)
    rows = [r for r in v.segments.rows if r.segment == ("af-south",)]
    assert rows
    assert all(r.status == "inconclusive" for r in rows)
    assert all("too little data" in r.note for r in rows)
    assert any(r.status == "pass" for r in v.segments.rows if r.segment != ("af-south",))
    del region


def test_json_round_trip_frame_text_html_and_plot(verdicts):
    v = verdicts["latency"]
    data = json.loads(v.to_json())
    seg = data["segments"]
    assert seg["by"] == ["region", "route"]
    assert seg["rows"][0]["status"] == "fail"
    assert set(seg["rows"][0]) >= {
        "segment",
        "check",
        "estimate",
        "ci_low",
        "ci_high",
        "e_value",
        "adjusted_pvalue",
        "status",
    }
    back = Verdict.from_dict(data)
    assert back.to_dict() == v.to_dict()
    frame = v.segments.to_frame()
    assert list(frame.columns[:3]) == ["region", "route", "segment"]
    assert len(frame) == v.segments.hypotheses
    assert "e-BH" in v.to_text()
    assert "region=br-south" in v.to_text()
    assert "Where" in v._repr_html_()
    assert "| region=br-south" in v.to_markdown()
    page = report_html(v)
    assert "<h2>Where</h2>" in page
    assert "heatmap" in page
    fig = v.segments.plot()
    assert fig.axes
    assert "where" in fig.axes[0].get_title()
    assert isinstance(SegmentVerdict.from_dict(seg), SegmentVerdict)


def test_replay_is_identical_with_segments(tables, tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(tables["latency"], path)
    v = evaluate(path, by="region", log=False)
    result = replay(v, path)
    assert result.identical, result.differences


def test_cli_by_exit_codes(tables, tmp_path, capsys):
    path = tmp_path / "t.parquet"
    pq.write_table(tables["errors"], path)
    out = tmp_path / "v.json"
    assert main(["evaluate", str(path), "--by", "region", "--out", str(out), "--no-log"]) == 1
    assert json.loads(out.read_text())["segments"]["discoveries"] >= 1
    assert "region=br-south" in capsys.readouterr().out
    assert main(["replay", str(out), str(path)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(path), "--by", "zone"]) == 2
    err = capsys.readouterr().err
    assert "--by zone: not a column of the traces" in err
    assert "Traceback" not in err
    assert main(["evaluate", str(path), "--by", "request_id"]) == 2


def test_too_many_segments_exit_2(tmp_path, capsys):
    t = generate_traces("identical", n_requests=3000, seed=2)
    t = t.append_column("customer", pa.array([f"c{i % 300}" for i in range(t.num_rows)]))
    path = tmp_path / "c.parquet"
    pq.write_table(t, path)
    assert main(["evaluate", str(path), "--by", "customer"]) == 2
    assert "more than 64 segments" in capsys.readouterr().err


def test_rollout_looks_with_segments_latch_the_stop(tables, tmp_path):
    from canarykit.rollout import start_rollout

    db = tmp_path / "r.duckdb"
    with TraceStore(db) as store:
        store.ingest(tables["latency"])
    from canarykit.verdict.policy import RolloutStep

    plan = (RolloutStep(share=0.25, window_minutes=30), RolloutStep(share=1.0, window_minutes=30))
    start_rollout(db, model="risk-default", plan=plan, at="2026-01-01T00:00:00", rate=100.0)
    first = evaluate(db, by="region", until="2026-01-01T00:15:00")
    second = evaluate(db, by="region", until="2026-01-01T00:30:00")
    assert second.decision == "STOP"
    assert second.segments.failed
    assert second.rollout.stopped is not None
    # e-values carried across steps (no alpha / steps split): e-BH at the policy's level
    assert second.segments.alpha == pytest.approx(load_policy().segments.alpha)
    assert second.segments.carried_from_step is None  # the first step carries nothing in
    assert replay(second, db).identical
    del first


def test_segment_table_multiplies_carried_e_values_in():
    from canarykit.traces.segment_summaries import SegmentArm, SegmentSummaries
    from canarykit.verdict.segments import segment_table

    policy = load_policy()
    arm_c, arm_t = SegmentArm(n=9_000, errors=18), SegmentArm(n=3_000, errors=20)
    summ = SegmentSummaries(
        by=("region",), segments={("a",): (arm_c, arm_t), ("b",): (arm_c, arm_t)}, n_bins=100
    )
    specs = [policy.checks["error_rate_delta"], policy.checks["error_rate"]]
    plain = segment_table(policy, summ, share=0.25, specs=specs)
    carried = ((("a",), "error_rate_delta", 2.5), (("z",), "error_rate", -1.0))
    table = segment_table(
        policy, summ, share=0.25, specs=specs, carried=carried, carried_from_step=1
    )
    before = {(r.segment, r.check): r.log_e_value for r in plain.rows}
    after = {(r.segment, r.check): r.log_e_value for r in table.rows}
    assert after[(("a",), "error_rate_delta")] == before[(("a",), "error_rate_delta")] + 2.5
    assert all(after[k] == before[k] for k in before if k != (("a",), "error_rate_delta"))
    # the next step carries every row's value, and keeps hypotheses absent from this step
    carry = dict(((seg, check), v) for seg, check, v in table.carry())
    assert carry[(("z",), "error_rate")] == -1.0
    assert carry[(("a",), "error_rate_delta")] == after[(("a",), "error_rate_delta")]
    assert SegmentVerdict.from_dict(json.loads(json.dumps(table.to_dict()))) == table
    assert "carried" not in plain.to_dict()  # verdicts without a carry keep their form


def test_a_later_step_carries_the_earlier_steps_e_values_and_replays(tmp_path):
    """Step 2's segment e-values are step 2's times step 1's on its whole window (bit for bit).

    Step 1 is looked at *without* ``--by``: what is carried is step 1's e-process at the moment
    the rollout advanced (a stopping time), not a value picked from the looks that asked for it.
    """
    from canarykit.rollout import start_rollout, step_rollout
    from canarykit.traces.summaries import Selection
    from canarykit.verdict.policy import RolloutStep
    from canarykit.verdict.segments import evaluate_segments

    common = {"segments": True, "affected": {"region": "br-south"}, "duration_minutes": 30}
    step1 = generate_traces(
        "error_regression", n_requests=90_000, canary_share=0.05, seed=7, **common
    )
    step2 = generate_traces(
        "error_regression",
        n_requests=90_000,
        canary_share=0.25,
        seed=8,
        start="2026-01-01T00:30:00",
        **common,
    )
    db = tmp_path / "steps.duckdb"
    with TraceStore(db) as store:
        store.ingest(step1)
        store.ingest(step2)
    plan = (
        RolloutStep(share=0.05, window_minutes=30),
        RolloutStep(share=0.25, window_minutes=30),
        RolloutStep(share=1.0, window_minutes=30),
    )
    start_rollout(db, model="risk-default", plan=plan, at="2026-01-01T00:00:00", rate=50.0)
    evaluate(db, until="2026-01-01T00:20:00")  # no --by in step 1
    step_rollout(db, model="risk-default", to=2, at="2026-01-01T00:30:00")
    look = evaluate(db, by="region", until="2026-01-01T00:45:00")
    assert look.rollout.step == 2
    seg = look.segments
    assert seg.carried_from_step == 1
    assert seg.carried_windows == ((1, "2026-01-01T00:00:00", "2026-01-01T00:30:00"),)
    with TraceStore(db) as store:
        whole = evaluate_segments(
            store,
            load_policy(),
            Selection(
                model="risk-default",
                baseline="v2.2.4",
                candidate="v2.3.0",
                mode="canary",
                since="2026-01-01T00:00:00",
                until="2026-01-01T00:30:00",
            ),
            by=["region"],
            share=0.05,
        )
    assert seg.carried == whole.carry()
    assert any("carried from earlier steps" in r.note for r in seg.rows)
    assert replay(look, db).identical
    # the windows are an input of the replay: a different one is a different verdict
    forged = Verdict.from_dict(
        {
            **look.to_dict(),
            "segments": {
                **seg.to_dict(),
                "carried": {
                    **seg.to_dict()["carried"],
                    "windows": [[1, "2026-01-01T00:00:00", "2026-01-01T00:20:00"]],
                },
            },
        }
    )
    assert not replay(forged, db).identical


def test_policy_segments_section_is_validated():
    base = {"schema": "canarykit.policy/1", "checks": {"e": {"kind": "error_rate", "max": 0.01}}}
    p = parse_policy({**base, "segments": {"alpha": 0.1, "checks": ["e"], "max_segments": 16}})
    assert (p.segments.alpha, p.segments.checks, p.segments.max_segments) == (0.1, ("e",), 16)
    with pytest.raises(PolicyError, match=r"segments\.checks: 'x' is not a check"):
        parse_policy({**base, "segments": {"checks": ["x"]}})
    with pytest.raises(PolicyError, match=r"segments\.colour: unknown field"):
        parse_policy({**base, "segments": {"colour": 1}})


def test_a_zero_e_value_stays_zero_through_json():
    import math

    from canarykit.verdict.segments import LOG_E_FLOOR, _finite_log_e

    assert _finite_log_e(-math.inf) == LOG_E_FLOOR  # e = 0, not raised to e = 1
    assert math.exp(_finite_log_e(-math.inf)) == 0.0
    assert _finite_log_e(math.inf) == math.inf
    assert _finite_log_e(math.nan) == 0.0
