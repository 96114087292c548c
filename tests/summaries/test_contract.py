"""The public summaries contract: documents round-trip exactly (JSON and Arrow), and the
verdict from a document equals the verdict computed from the rows."""

from __future__ import annotations

import json

import pytest

from canarykit.errors import InvalidInputError
from canarykit.summaries import (
    SCHEMA,
    evaluate_summaries,
    from_arrow,
    from_dict,
    requested_ranks,
    summary_plan,
    to_arrow,
    to_dict,
)
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.traces.summaries import summarize
from canarykit.verdict.evaluate import evaluate, resolve_selection
from canarykit.verdict.policy import load_policy


@pytest.fixture(scope="module", params=["fairness_regression", "shadow"])
def case(request):
    n = 40_000 if request.param != "shadow" else 10_000
    store = TraceStore()
    store.ingest(generate_traces(request.param, n_requests=n, seed=7, canary_share=0.25))
    policy = load_policy()
    sel = resolve_selection(store, model=None, baseline=None, candidate=None, until=None)
    summaries = summarize(store, sel, summary_plan(policy, sel.mode))
    yield store, policy, summaries
    store.close()


def test_json_and_arrow_round_trips_are_exact(case) -> None:
    _, _, summaries = case
    doc = to_dict(summaries)
    assert doc["schema"] == SCHEMA
    text = json.dumps(doc, allow_nan=False)
    assert to_dict(from_dict(json.loads(text))) == doc
    assert to_dict(from_arrow(to_arrow(summaries))) == doc
    assert (doc["paired"] is not None) == (summaries.selection.mode == "shadow")


def test_the_verdict_of_a_document_is_the_verdict_of_the_rows(case) -> None:
    store, policy, summaries = case
    from_doc = evaluate_summaries(from_dict(json.loads(json.dumps(to_dict(summaries)))), policy)
    direct = evaluate(store, policy=policy, log=False)
    assert from_doc.decision == direct.decision
    # the same figures; the DeLong sums may differ in the last bits with the order of the
    # joint table's cells (an engine returns them in any order)
    for a, b in zip(from_doc.checks, direct.checks, strict=True):
        da, db = a.to_dict(), b.to_dict()
        for key, value in da.items():
            if isinstance(value, float):
                assert value == pytest.approx(db[key], rel=1e-12, abs=1e-15), (a.name, key)
            elif key != "details":
                assert value == db[key], (a.name, key)
    assert from_doc.data_digest == direct.data_digest
    assert any(c.status != "inconclusive" for c in direct.checks)


def test_a_document_without_the_ranks_the_policy_asks_for_is_refused(case) -> None:
    _, policy, summaries = case
    doc = to_dict(summaries)
    stats = doc["arms"]["candidate"]["latency_order_statistics"]
    stats["ranks"], stats["values"] = stats["ranks"][1:], stats["values"][1:]
    with pytest.raises(
        InvalidInputError, match=r"arms.candidate.latency_order_statistics: missing"
    ):
        evaluate_summaries(from_dict(doc), policy)


def test_requested_ranks_are_what_the_summaries_hold(case) -> None:
    _, policy, summaries = case
    plan = summary_plan(policy, summaries.selection.mode)
    control, candidate = requested_ranks(
        plan, summaries.control.n_latency, summaries.candidate.n_latency
    )
    assert control == summaries.control.latency_ranks.tolist()
    assert candidate == summaries.candidate.latency_ranks.tolist()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(schema="canarykit.summaries/9"), "summaries.schema: expected"),
        (lambda d: d["arms"]["control"].update(n=-1), "summaries.document.arms.control.n: must be"),
        (lambda d: d["arms"]["control"].pop("errors"), "arms.control.errors: missing"),
        (lambda d: d["selection"].update(mode="blue"), "selection.mode: must be canary or shadow"),
        (
            lambda d: d["arms"]["candidate"]["scores"].update(index=[10**9], count=[1]),
            "arms.candidate.scores: index and count",
        ),
    ],
)
def test_bad_documents_name_the_field(case, edit, message) -> None:
    _, _, summaries = case
    doc = to_dict(summaries)
    edit(doc)
    with pytest.raises(InvalidInputError, match=message):
        from_dict(doc)


def test_summarize_then_evaluate_summaries_on_the_cli(tmp_path, capsys) -> None:
    import pyarrow.parquet as pq

    from canarykit.cli.main import main

    source = tmp_path / "t.parquet"
    pq.write_table(generate_traces("error_regression", n_requests=30_000, seed=3), source)
    doc = tmp_path / "summaries.json"
    assert main(["summarize", str(source), "--out", str(doc), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bytes"] < 400_000  # kilobytes leave the data, not rows
    out = tmp_path / "verdict.json"
    code = main(["evaluate-summaries", str(doc), "--out", str(out), "--format", "json"])
    direct = evaluate(str(source), log=False)
    assert code == direct.exit_code
    verdict = json.loads(out.read_text())
    assert verdict["engine"]["name"] == "duckdb"
    assert [c["status"] for c in verdict["checks"]] == [c.status for c in direct.checks]
    assert verdict["data_digest"] == direct.data_digest
    capsys.readouterr()
    doc.write_text("{}")
    assert main(["evaluate-summaries", str(doc)]) == 2
    assert "summaries.schema: expected" in capsys.readouterr().err


def test_a_verdict_from_another_engine_reads_back_but_does_not_replay(case) -> None:
    from canarykit.verdict.replay import replay
    from canarykit.verdict.verdict import Verdict

    store, policy, summaries = case
    verdict = evaluate_summaries(summaries, policy, engine={"name": "bigquery", "version": "x"})
    again = Verdict.from_dict(json.loads(verdict.to_json()))
    assert again.engine == {"name": "bigquery", "version": "x"}
    with pytest.raises(InvalidInputError, match="computed by engine 'bigquery'"):
        replay(again, store)
