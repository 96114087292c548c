"""Model cards and decision records as evidence for → Approved (issue 12).

Every attempt is refused with the message of its rule and leaves a ``gate_denied`` event:
Approved without a model card, with a model card of another verdict, with a card whose metrics
were edited, without an ADR; a card of another version, evidence by someone off the roster and
evidence swapped after the approval cannot even be recorded. The happy path records both (with
``evidence`` audit events) and the release links them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from promotion_world import MODEL, World, make_verdict

from canarykit.cli.main import main
from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion.evidence_records import evidence_links
from canarykit.promotion.model_card import build_model_card
from canarykit.promotion.verdicts import verdict_digest

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


# -- the Approved gate --------------------------------------------------------------------------
def _staged_and_approved_by_people(world: World, version: str = "v1") -> str:
    world.submit(version)
    world.to_staging(version)
    world.approvals(version)
    return world.chg(f"CHG-{version[1:]}", [version])


def _adr(world: World, name: str = "ADR-0007.md", text: str = "# Promote v1\n") -> Path:
    path = world.tmp / name
    path.write_text(text)
    return path


def _card(world: World, verdict: dict[str, Any], name: str = "card.cdx.json") -> Path:
    path = world.tmp / name
    path.write_text(json.dumps(build_model_card(verdict)))
    return path


def no_model_card(world: World) -> None:
    chg = _staged_and_approved_by_people(world)
    world.promotion.add_evidence(MODEL, "v1", actor="olga", decision_record=_adr(world))
    world.to_approved("v1", chg, documents=False)


def model_card_of_another_verdict(world: World) -> None:
    chg = _staged_and_approved_by_people(world)
    other = make_verdict("v1", world.policy_digest)
    other["data_digest"] = "sha256:" + "9" * 64  # another run: a PROCEED nobody promotes
    world.documents("v1", other)
    world.to_approved("v1", chg, documents=False)


def model_card_with_edited_metrics(world: World) -> None:
    chg = _staged_and_approved_by_people(world)
    card = build_model_card(make_verdict("v1", world.policy_digest))
    metrics = card["components"][0]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    metrics[0]["confidenceInterval"]["upperBound"] = "-1.0"  # a nicer interval than measured
    path = world.tmp / "card.cdx.json"
    path.write_text(json.dumps(card))
    world.promotion.add_evidence(
        MODEL, "v1", actor="olga", model_card=path, decision_record=_adr(world)
    )
    world.to_approved("v1", chg, documents=False)


def no_decision_record(world: World) -> None:
    chg = _staged_and_approved_by_people(world)
    card = _card(world, make_verdict("v1", world.policy_digest))
    world.promotion.add_evidence(MODEL, "v1", actor="olga", model_card=card)
    world.to_approved("v1", chg, documents=False)


def model_card_of_another_version(world: World) -> None:
    _staged_and_approved_by_people(world)
    card = _card(world, make_verdict("v2", world.policy_digest))
    world.promotion.add_evidence(MODEL, "v1", actor="olga", model_card=card)


def evidence_by_a_stranger(world: World) -> None:
    world.submit("v1")
    world.promotion.add_evidence(MODEL, "v1", actor="mallory", decision_record=_adr(world))


def evidence_swapped_after_approval(world: World) -> None:
    world.approved("v1")
    world.promotion.add_evidence(
        MODEL, "v1", actor="olga", decision_record=_adr(world, "ADR-9999.md")
    )


ATTEMPTS: list[tuple[str, Callable[[World], None], str]] = [
    ("Approved without a model card", no_model_card, "model card: none recorded for"),
    (
        "a model card of another verdict",
        model_card_of_another_verdict,
        "model card: the recorded card describes verdict sha256:",
    ),
    (
        "a model card with edited metrics",
        model_card_with_edited_metrics,
        "lacks or alters 1 of the verdict's metrics (e.g. latency_p95 (overall))",
    ),
    ("Approved without an ADR", no_decision_record, "decision record: no ADR/SCDR recorded"),
    (
        "a model card of another version",
        model_card_of_another_version,
        "model card: card.cdx.json describes risk-default v2, not risk-default v1",
    ),
    ("evidence by someone off the roster", evidence_by_a_stranger, "roster: mallory holds none"),
    (
        "evidence swapped after approval",
        evidence_swapped_after_approval,
        "stage: risk-default v1 is Approved; evidence is recorded before Approved",
    ),
]


@pytest.mark.parametrize(
    ("attempt", "expected"), [pytest.param(f, e, id=i) for i, f, e in ATTEMPTS]
)
def test_attempt_is_denied_and_audited(
    world: World, attempt: Callable[[World], None], expected: str
) -> None:
    with pytest.raises(GateDeniedError) as caught:
        attempt(world)
    assert expected in str(caught.value)
    last = world.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert any(expected in reason for reason in last.payload["reasons"])


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("notes.md", "# Promote v1\nno id", "names no ADR-… or SCDR-… id"),
        ("ADR-1.md", "", "is empty"),
        ("ADR-2.md", b"\xff\xfe", "is not UTF-8 text"),
    ],
)
def test_a_decision_record_must_be_a_text_naming_its_id(
    world: World, name: str, text: str | bytes, problem: str
) -> None:
    world.submit("v1")
    path = world.tmp / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(InvalidInputError, match=problem):
        world.promotion.add_evidence(MODEL, "v1", actor="olga", decision_record=path)


def test_a_card_that_is_not_a_model_card_cannot_be_recorded(world: World) -> None:
    world.submit("v1")
    path = world.tmp / "sbom.cdx.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}))
    with pytest.raises(InvalidInputError, match="model card: components: required"):
        world.promotion.add_evidence(MODEL, "v1", actor="olga", model_card=path)


def test_happy_path_records_both_with_events_and_links_them(world: World) -> None:
    chg = _staged_and_approved_by_people(world)
    verdict = make_verdict("v1", world.policy_digest)
    card, adr = _card(world, verdict), _adr(world, "ADR-0042-promote-v1.md")
    documents = world.promotion.add_evidence(
        MODEL, "v1", actor="olga", model_card=card, decision_record=adr
    )
    assert [d.kind for d in documents] == ["model_card", "decision_record"]
    assert documents[1].reference == "ADR-0042"
    events = [e for e in world.promotion.events() if e.kind == "evidence"]
    assert [e.payload["name"] for e in events] == ["card.cdx.json", "ADR-0042-promote-v1.md"]
    assert all(DIGEST.fullmatch(e.payload["digest"]) for e in events)
    assert events[0].payload["verdict_digest"] == verdict_digest(verdict)
    assert world.to_approved("v1", chg, documents=False).to_stage == "Approved"
    links = evidence_links(world.promotion.store.conn, MODEL, "v1")
    assert links == {
        "model_card": {
            "name": "card.cdx.json",
            "digest": documents[0].digest,
            "verdict_digest": verdict_digest(verdict),
        },
        "decision_record": {
            "name": "ADR-0042-promote-v1.md",
            "digest": documents[1].digest,
            "reference": "ADR-0042",
        },
    }
    shown = world.promotion.evidence(MODEL, "v1")
    assert [d["kind"] for d in shown["documents"]] == ["model_card", "decision_record"]


def test_the_release_manifest_links_the_model_card_and_the_adr(world: World) -> None:
    world.approved("v1")
    links = evidence_links(world.promotion.store.conn, MODEL, "v1")
    assert set(links) == {"model_card", "decision_record"}
    documents = {d["kind"]: d for d in world.promotion.evidence(MODEL, "v1")["documents"]}
    assert links["model_card"]["digest"] == documents["model_card"]["digest"]
    assert links["decision_record"]["reference"] == documents["decision_record"]["reference"]
    out = world.tmp / "rel"
    release = world.promotion.release(
        MODEL, "v1", out=out, signing_key=world.key, key_id="release-key", actor="olga"
    )
    manifest = json.loads((out / "release_manifest.json").read_text())
    assert manifest["evidence_links"] == links == release.manifest["evidence_links"]
    notes = (out / "release_notes.md").read_text()
    assert f"- model card: `{links['model_card']['digest']}`" in notes
    assert f"- decision record: `{links['decision_record']['digest']}`" in notes
    verified = world.promotion.verify_release(out, artifact=world.artifact("v1"))
    assert verified.ok, verified.to_text()
    world.promotion.store.conn.execute(  # the registry's record edited after the release
        "UPDATE evidence_documents SET digest = ? WHERE kind = 'decision_record'",
        ("sha256:" + "0" * 64,),
    )
    tampered = world.promotion.verify_release(out, artifact=world.artifact("v1"))
    assert not tampered.ok
    assert "evidence_links: the release says" in tampered.to_text()


def test_evidence_commands(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.submit("v1")
    verdict = world.tmp / "verdict.json"
    verdict.write_text(json.dumps(make_verdict("v1", world.policy_digest)))
    card, adr = world.tmp / "card.cdx.json", _adr(world)
    del monkeypatch  # the registry takes the system clock (its events lie in the past)
    common = ["--registry", str(world.tmp / "registry.sqlite")]
    assert main(["model-card", str(verdict), "--out", str(card)]) == 0
    add = ["evidence", "add", MODEL, "v1", "--model-card", str(card), "--decision-record", str(adr)]
    assert main([*add, "--actor", "olga", *common]) == 0
    assert "recorded decision record ADR-0007.md" in capsys.readouterr().out
    assert main(["evidence", "show", MODEL, "v1", "--format", "json", *common]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [d["kind"] for d in shown["documents"]] == ["model_card", "decision_record"]
    assert main([*add, "--actor", "mallory", *common]) == 4
    assert "roster: mallory holds none of the roles" in capsys.readouterr().err
    assert main(["evidence", "add", MODEL, "v1", "--actor", "olga", *common]) == 2
