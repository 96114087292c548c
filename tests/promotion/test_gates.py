"""Gate evaluation fails closed: undefined, <error>, exceptions and odd shapes are DENY."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import regopy

from canarykit.promotion import gates
from canarykit.promotion.gates import GATES, evaluate_gate


class _FakeOutput:
    def __init__(self, text: str) -> None:
        self.text = text

    def ok(self) -> bool:
        return True

    def __str__(self) -> str:
        return self.text


def _fake(monkeypatch: pytest.MonkeyPatch, text: str | Exception) -> None:
    class Interpreter:
        def add_module(self, name: str, source: str) -> None: ...

        def set_input(self, value: Any) -> None: ...

        def query(self, q: str) -> _FakeOutput:
            if isinstance(text, Exception):
                raise text
            return _FakeOutput(text)

        def build(self, q: Any, entrypoints: Any) -> Any:
            return entrypoints

        def query_bundle_entrypoint(self, bundle: Any, entrypoint: str) -> _FakeOutput:
            """The entrypoint form of the output: ``{"expressions": [<decision>]}``."""
            out = self.query(entrypoint)
            try:
                doc = json.loads(out.text)
            except ValueError:
                return out
            if "bindings" not in doc:
                return out
            return _FakeOutput(json.dumps({"expressions": [doc["bindings"]["x"]]}))

    monkeypatch.setattr(regopy, "Interpreter", Interpreter)
    gates._compiled.cache_clear()  # compiled with the fake engine, and cleared after the test
    monkeypatch.setattr(gates, "_compiled", functools.lru_cache(gates._compiled.__wrapped__))


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("undefined", "undefined"),
        (
            '{"expressions":[true], "bindings":{"x":{"allow":true, "deny":[<error>]}}}',
            "error value",
        ),
        ('{"expressions":[true], "bindings":{"x":{"allow":true}}}', "no list of deny reasons"),
        ('{"expressions":[true], "bindings":{"x":{"allow":"true", "deny":[]}}}', "gave no reason"),
        ('{"expressions":[true], "bindings":{"x":{"allow":true, "deny":["nope"]}}}', "nope"),
        ('{"expressions":[true]}', "not readable"),
        ("not json", "not readable"),
        (RuntimeError("engine crashed"), "engine crashed"),
    ],
)
def test_anything_but_a_clean_allow_is_deny(
    monkeypatch: pytest.MonkeyPatch, output: str | Exception, reason: str
) -> None:
    _fake(monkeypatch, output)
    decision = evaluate_gate("staging", {})
    assert decision.allow is False
    assert any(reason in r for r in decision.reasons)


def test_clean_allow_is_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(monkeypatch, '{"expressions":[true], "bindings":{"x":{"allow":true, "deny":[]}}}')
    assert evaluate_gate("staging", {}).allow is True


def test_unknown_gate_is_deny() -> None:
    assert evaluate_gate("everything", {}).reasons == ("gate: unknown gate 'everything'",)


def test_policy_without_decision_is_undefined_and_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    files = (("x.rego", "package canarykit.promotion.staging\nimport rego.v1\nother := 1\n"),)
    monkeypatch.setattr(gates, "_policy_files", lambda: files)
    decision = evaluate_gate("staging", {})
    assert not decision.allow
    assert "undefined" in decision.reasons[0]


def test_broken_policy_is_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    files = (("x.rego", "package canarykit.promotion.staging\nallow if {"),)
    monkeypatch.setattr(gates, "_policy_files", lambda: files)
    decision = evaluate_gate("staging", {})
    assert not decision.allow
    assert "policy evaluation failed" in decision.reasons[0]


@pytest.mark.parametrize("gate", GATES)
def test_empty_input_denies_with_readable_reasons(gate: str) -> None:
    decision = evaluate_gate(gate, {})
    assert not decision.allow
    assert not any("policy evaluation failed" in r or "not readable" in r for r in decision.reasons)


def test_type_confusion_does_not_allow() -> None:
    facts = {
        "now_ns": 10,
        "clock": {"monotonic": True},
        "audit": {"ok": True},
        "from_stage": "Candidate",
        "policy_digest": "sha256:" + "a" * 64,
        "version": {"submitter": "ann", "version": "v1"},
        "signature": {"trust_configured": "true", "present": True, "verified": "true"},
        "attestation": {"present": False},
        "sbom": {"present": True, "valid": True, "vulnerabilities": [{"ref": "x", "id": "X"}]},
        "approvals": [{"stage": "Staging", "role": "security", "actor": "sam"}],
        "waivers": [{"check": "X", "expires_ns": "99", "created_by": "sam", "version": None}],
    }
    decision = evaluate_gate("staging", facts)
    assert not decision.allow
    assert any(r.startswith("signature:") for r in decision.reasons)
    assert any(r.startswith("sbom:") for r in decision.reasons)
