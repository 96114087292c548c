"""``canarykit model-card``: a verdict as a CycloneDX 1.5+ model card (issue 12).

The card's shape (required fields, metrics with their intervals, slices per group and arm for
fairness checks, fairness assessments, the verdict and policy digests), its determinism, the
shape check that names what is wrong, signed verdicts and the command.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import make_verdict

from canarykit.cli.main import main
from canarykit.errors import InvalidInputError
from canarykit.promotion.evidence import (
    TrustStore,
    intoto_statement,
    public_key_text,
    sign_statement,
)
from canarykit.promotion.model_card import (
    build_model_card,
    load_verdict,
    model_card_metrics,
    model_card_problems,
    read_model_card,
)
from canarykit.promotion.schema_check import load_schema, validate
from canarykit.promotion.verdicts import verdict_digest

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

# The fairness and latency checks of a real verdict (canarykit evaluate
# data/samples/clean_canary.parquet, rounded): the contract's estimate/interval fields and a
# fairness check's details (groups, per-arm rates).
FAIRNESS_CHECK = {
    "name": "fairness_selection_rate",
    "kind": "fairness_gap_delta",
    "status": "pass",
    "estimate": -0.0173,
    "ci_low": -0.0576,
    "ci_high": 0.0183,
    "confidence_level": 0.94375,
    "pvalue": None,
    "threshold": 0.02,
    "bound": "max",
    "n_control": 44995,
    "n_candidate": 15005,
    "method": "fairness gap delta (selection_rate)",
    "required": False,
    "summary": "growth of the selection rate gap between groups -0.0173 is within +0.0200",
    "details": {
        "groups": ["A", "B", "C"],
        "rates_candidate": {"selection_rate": [0.1365, 0.1476, 0.1633]},
        "rates_control": {"selection_rate": [0.1220, 0.1485, 0.1661]},
        "unsupported": [],
    },
}
LATENCY_CHECK = {
    "name": "latency_p95",
    "kind": "latency_quantile",
    "status": "pass",
    "estimate": 91.7,
    "ci_low": 88.7,
    "ci_high": 94.1,
    "confidence_level": 0.94375,
    "threshold": 120.0,
    "bound": "max",
    "n_control": 44995,
    "n_candidate": 15005,
    "method": "howard-ramdas quantile confidence sequence",
    "required": True,
    "summary": "candidate p95 91.7 ms is within 120.0 ms",
    "details": {},
}
INCONCLUSIVE_CHECK = {
    **LATENCY_CHECK,
    "name": "error_rate_delta",
    "kind": "error_rate_ratio",
    "status": "inconclusive",
    "estimate": 0.9158,
    "ci_low": 0.3982,
    "ci_high": 1.678,
    "summary": "candidate error rate vs control is not yet shown within +25.0%",
}


def _verdict() -> dict[str, Any]:
    verdict = make_verdict("v2.3.0", "sha256:" + "a" * 64, model="clean-canary")
    verdict["checks"] = [LATENCY_CHECK, INCONCLUSIVE_CHECK, FAIRNESS_CHECK]
    return verdict


# -- the CycloneDX shape ------------------------------------------------------------------------
def test_card_shape_required_fields_metrics_with_intervals_and_group_slices() -> None:
    verdict = _verdict()
    card = build_model_card(verdict)
    assert model_card_problems(card) == []
    assert validate(card, load_schema("model_card.schema.json")) == []
    assert card["bomFormat"] == "CycloneDX"
    assert card["specVersion"] in ("1.5", "1.6", "1.7")
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", card["serialNumber"])
    assert card["metadata"]["timestamp"] == verdict["created_at"]
    [component] = card["components"]
    assert component["type"] == "machine-learning-model"
    assert (component["name"], component["version"]) == ("clean-canary", "v2.3.0")
    properties = {p["name"]: p["value"] for p in component["properties"]}
    assert properties["canarykit:verdict_digest"] == verdict_digest(verdict)
    assert properties["canarykit:policy_digest"] == verdict["policy_digest"]
    assert properties["canarykit:decision"] == "PROCEED"
    metrics = component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    overall = {m["type"]: m for m in metrics if m["slice"] == "overall"}
    assert set(overall) == {"latency_p95", "error_rate_delta", "fairness_selection_rate"}
    for check in verdict["checks"]:  # every check: its estimate inside its interval, as text
        metric = overall[check["name"]]
        interval = metric["confidenceInterval"]
        assert float(metric["value"]) == check["estimate"]
        assert (float(interval["lowerBound"]), float(interval["upperBound"])) == (
            check["ci_low"],
            check["ci_high"],
        )
        assert (
            float(interval["lowerBound"]) <= float(metric["value"]) <= float(interval["upperBound"])
        )
    groups = {(m["type"], m["slice"]): m["value"] for m in metrics if m["slice"] != "overall"}
    assert groups == {
        ("selection_rate", f"group={g}, arm={arm}"): repr(rate)
        for arm in ("candidate", "control")
        for g, rate in zip(
            "ABC", FAIRNESS_CHECK["details"][f"rates_{arm}"]["selection_rate"], strict=True
        )
    }
    considerations = component["modelCard"]["considerations"]
    [assessment] = considerations["fairnessAssessments"]
    assert assessment["groupAtRisk"].startswith("group A (lowest selection_rate")
    assert "-0.0576..0.0183" in assessment["harms"]
    assert "at most 0.02; status pass" in assessment["mitigationStrategy"]
    assert considerations["technicalLimitations"] == [
        "error_rate_delta was inconclusive at the verdict: " + INCONCLUSIVE_CHECK["summary"]
    ]
    model_properties = {p["name"]: p["value"] for p in component["modelCard"]["properties"]}
    assert model_properties["canarykit:check:latency_p95:confidence_level"] == "0.94375"
    assert model_properties["canarykit:check:latency_p95:threshold"] == "120.0"


def test_the_same_verdict_gives_the_same_card_byte_for_byte() -> None:
    first = json.dumps(build_model_card(_verdict()), sort_keys=True)
    assert first == json.dumps(build_model_card(copy.deepcopy(_verdict())), sort_keys=True)
    named = build_model_card(_verdict(), model_name="Clean canary scorer")
    assert named["components"][0]["name"] == "Clean canary scorer"
    properties = {p["name"]: p["value"] for p in named["components"][0]["properties"]}
    assert properties["canarykit:model"] == "clean-canary"


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda c: c.update(specVersion="1.4"), "specVersion: '1.4' is not one of"),
        (lambda c: c["components"][0].pop("modelCard"), "needs exactly one machine-learning"),
        (lambda c: c["components"][0].update(type="library"), "only a machine-learning-model"),
        (
            lambda c: c["components"][0]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][
                0
            ].update(value=91.7),
            "is not of type string",
        ),
        (
            lambda c: c["components"][0]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][
                0
            ]["confidenceInterval"].pop("upperBound"),
            "needs lowerBound and upperBound",
        ),
        (
            lambda c: c["components"][0]["properties"].pop(5),  # canarykit:verdict_digest
            "needs exactly one canarykit:verdict_digest",
        ),
        (lambda c: c.update(extra=1), "extra: unexpected property"),
    ],
)
def test_the_shape_check_names_what_is_wrong(
    edit: Callable[[dict[str, Any]], Any], problem: str
) -> None:
    card = build_model_card(_verdict())
    edit(card)
    assert any(problem in p for p in model_card_problems(card)), model_card_problems(card)


def test_a_signed_verdict_is_read_from_its_envelope() -> None:
    verdict = _verdict()
    key = Ed25519PrivateKey.generate()
    trust = TrustStore.from_dict(
        {"keys": [{"id": "v", "public_key": public_key_text(key), "purposes": ["verdict"]}]}
    )
    statement = intoto_statement(
        [{"name": "clean-canary@v2.3.0", "digest": {"sha256": "0" * 64}}],
        "https://canarykit.dev/verdict/v1",
        {"verdict": verdict},
    )
    envelope = sign_statement(statement, purpose="verdict", private_key=key, key_id="v")
    assert load_verdict(envelope, trust=trust) == (verdict, ("v",))
    assert load_verdict(envelope) == (verdict, ())
    other = TrustStore.from_dict(
        {"keys": [{"id": "v", "public_key": public_key_text(Ed25519PrivateKey.generate())}]}
    )
    with pytest.raises(InvalidInputError, match="the signed verdict does not verify"):
        load_verdict(envelope, trust=other)
    card = build_model_card(verdict, signed_by=("v",))
    properties = {p["name"]: p["value"] for p in card["components"][0]["properties"]}
    assert properties["canarykit:verdict_signature"] == "verified: v"


def test_model_card_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps(_verdict()))
    out = tmp_path / "card.cdx.json"
    assert main(["model-card", str(verdict), "--out", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict_digest"] == verdict_digest(_verdict())
    card = read_model_card(out)
    assert (card.model, card.version, card.verdict_digest) == (
        "clean-canary",
        "v2.3.0",
        verdict_digest(_verdict()),
    )
    assert list(card.metrics) == model_card_metrics(_verdict())
    verdict.write_text('{"schema": "canarykit.verdict/1"}')
    assert main(["model-card", str(verdict), "--out", str(out)]) == 2
    assert "decision: required" in capsys.readouterr().err
