"""The report refuses a verdict whose decision does not follow from its own checks (issue 11).

A verdict file edited from STOP to PROCEED still shows the failing check in its table: the
report recomputes the decision from the checks (with the verdict's policy when its digest
matches, else the built-in rule as a bound) and refuses to draw it (exit 2, one line).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from canarykit.cli.main import main
from canarykit.errors import InvalidInputError
from canarykit.report.decision import check_decision
from canarykit.report.html import report_html, write_report
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.policy import load_policy
from canarykit.verdict.verdict import Rollout, Verdict


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Verdict]:
    """A Parquet source, its STOP verdict file (a fairness check fails) and the verdict."""
    folder = tmp_path_factory.mktemp("decision")
    source = folder / "fairness.parquet"
    pq.write_table(
        generate_traces("fairness_regression", n_requests=12_000, canary_share=0.25, seed=9), source
    )
    path = folder / "verdict.json"
    assert main(["evaluate", str(source), "--out", str(path), "--no-log"]) == 1
    return source, path, Verdict.from_dict(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def proceeded() -> Verdict:
    traces = generate_traces("identical", n_requests=20_000, canary_share=0.25, seed=5)
    verdict = evaluate(traces, log=False)
    assert verdict.decision == "PROCEED"
    return verdict


def _edited(path: Path, tmp_path: Path, **fields: object) -> Path:
    data = {**json.loads(path.read_text()), **fields}
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(data))
    return out


def test_an_honest_verdict_is_drawn(
    stopped: tuple[Path, Path, Verdict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, path, verdict = stopped
    assert any(c.status == "fail" for c in verdict.checks)
    result = check_decision(verdict, load_policy())
    assert (result.follows, result.exact, result.derived) == (True, True, "STOP")
    out = tmp_path / "r.html"
    assert main(["report", str(path), str(source), "--out", str(out), "--dpi", "20"]) == 0
    assert "DOES NOT FOLLOW" not in out.read_text()
    capsys.readouterr()


@pytest.mark.parametrize("decision", ["PROCEED", "CONTINUE", "MAYBE"])
def test_a_verdict_edited_away_from_stop_is_refused(
    stopped: tuple[Path, Path, Verdict],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    decision: str,
) -> None:
    source, path, _ = stopped
    edited = _edited(path, tmp_path, decision=decision)
    out = tmp_path / "r.html"
    capsys.readouterr()
    assert main(["report", str(edited), str(source), "--out", str(out), "--dpi", "20"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert len(err) <= 301
    assert err.startswith("canarykit: error: ")
    assert "does not follow" in err or "must be one of" in err
    assert not out.exists()


def test_the_message_names_the_failing_check_and_the_derived_decision(
    stopped: tuple[Path, Path, Verdict],
) -> None:
    _, _, verdict = stopped
    failing = [c.name for c in verdict.checks if c.status == "fail"]
    result = check_decision(replace(verdict, decision="PROCEED"), load_policy())
    assert not result.follows
    assert result.derived == "STOP"
    assert failing[0] in result.message
    assert "its policy gives STOP" in result.message


def test_without_the_verdicts_policy_the_built_in_rule_bounds_the_decision(
    stopped: tuple[Path, Path, Verdict], proceeded: Verdict
) -> None:
    _, _, verdict = stopped
    # no policy: PROCEED over a failing check never follows ...
    loose = check_decision(replace(verdict, decision="PROCEED"))
    assert (loose.follows, loose.exact, loose.derived) == (False, False, "STOP")
    assert "the built-in rule gives STOP" in loose.message
    # ... but a stricter decision may come from rules we cannot see
    strict = check_decision(replace(proceeded, decision="STOP"))
    assert (strict.follows, strict.exact) == (True, False)
    # with the verdict's own policy, a decision stricter than its rules is refused too
    exact = check_decision(replace(proceeded, decision="STOP"), load_policy())
    assert (exact.follows, exact.exact, exact.derived) == (False, True, "PROCEED")


def test_looks_may_carry_a_latched_stop_or_a_held_proceed(proceeded: Verdict) -> None:
    policy = load_policy()
    look = Rollout(
        observed_split=0.25,
        planned_split=0.25,
        step=2,
        steps=3,
        next_action="hold",
        next_split=None,
        rollout_id=1,
        look=4,
    )
    latched = replace(
        proceeded,
        decision="STOP",
        rollout=replace(look, stopped={"step": 1, "look": 2, "reasons": ["error_rate fails"]}),
    )
    assert check_decision(latched, policy).follows
    unlatched = replace(proceeded, decision="STOP", rollout=look)
    assert not check_decision(unlatched, policy).follows
    # a PROCEED holds for the rest of its step while no check fails
    pending = replace(
        proceeded,
        checks=tuple(
            replace(c, status="inconclusive") if c.required else c for c in proceeded.checks
        ),
    )
    assert check_decision(pending, policy).derived == "CONTINUE"
    held = replace(pending, rollout=replace(look, proceeded_look=2))
    assert check_decision(held, policy).follows
    assert not check_decision(replace(pending, rollout=look), policy).follows
    failing = replace(
        held,
        checks=(replace(held.checks[0], status="fail"), *held.checks[1:]),
    )
    assert not check_decision(failing, policy).follows


def test_the_python_api_flags_or_refuses_the_same_verdict(
    stopped: tuple[Path, Path, Verdict], tmp_path: Path
) -> None:
    source, _, verdict = stopped
    edited = replace(verdict, decision="PROCEED")
    page = report_html(edited)
    assert "THIS DECISION DOES NOT FOLLOW FROM THE CHECKS BELOW" in page
    assert "THIS DECISION DOES NOT FOLLOW" not in report_html(verdict)
    out = tmp_path / "api.html"
    with pytest.raises(InvalidInputError, match="does not follow"):
        write_report(edited, str(source), out, dpi=20)
    assert not out.exists()
