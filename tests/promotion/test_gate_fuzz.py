"""Mutating any single fact of an allowed gate input never yields an unreadable decision, and
mutations that break a required fact deny (regopy quirks must not turn into silent allows)."""

from __future__ import annotations

import copy
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promotion_world import MODEL, make_world

from canarykit.promotion import gates, session, startup_actions
from canarykit.promotion.gates import evaluate_gate


@lru_cache(maxsize=1)
def allowed_inputs() -> tuple[tuple[str, Any], ...]:
    """Facts of every gate that allowed something during a full seed flow."""
    seen: list[tuple[str, Any]] = []

    def recorder(gate: str, facts: Any) -> Any:
        decision = gates.evaluate_gate(gate, facts)
        if decision.allow:
            seen.append((gate, copy.deepcopy(dict(facts))))
        return decision

    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as mp:
        mp.setattr(session, "evaluate_gate", recorder)
        mp.setattr(startup_actions, "evaluate_gate", recorder)
        with make_world(Path(folder)) as world:
            world.approved("v1")
            chg = world.chg("CHG-A", ["v1"], type="Standard")
            world.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)
            world.promotion.check_startup(
                MODEL, policy_digest=world.policy_digest, artifact=world.artifact("v1")
            )
            world.promotion.release(
                MODEL,
                "v1",
                out=Path(folder) / "release",
                signing_key=world.key,
                key_id="release-key",
                actor="olga",
            )
    return tuple(seen)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, (*prefix, k))] or [prefix]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _paths(v, (*prefix, i))]
    return [prefix]


def _set(doc: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def test_recorded_inputs_cover_every_gate() -> None:
    assert {gate for gate, _ in allowed_inputs()} == {
        "staging",
        "approved",
        "alias",
        "startup",
        "release",
    }


junk = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.text(max_size=5)
    | st.just('"')
    | st.lists(st.text(max_size=3), max_size=2)
    | st.just({"<error>": 1})
)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), value=junk)
def test_single_fact_mutations_stay_readable(data: st.DataObject, value: Any) -> None:
    gate, facts = data.draw(st.sampled_from(allowed_inputs()))
    mutated = copy.deepcopy(facts)
    path = data.draw(st.sampled_from([p for p in _paths(mutated) if p]))
    _set(mutated, path, value)
    decision = evaluate_gate(gate, mutated)
    for reason in decision.reasons:
        assert "not readable" not in reason
        assert "policy evaluation failed" not in reason


@pytest.mark.parametrize(
    ("gate", "path", "value"),
    [
        ("staging", ("signature", "verified"), "true"),
        ("staging", ("signature", "trust_configured"), 1),
        ("staging", ("sbom", "present"), None),
        ("staging", ("policy_digest",), "sha256:short"),
        ("staging", ("audit", "ok"), "yes"),
        ("staging", ("clock", "monotonic"), False),
        ("approved", ("verdict", "decision"), "proceed"),
        ("approved", ("verdict", "policy_digest"), None),
        ("approved", ("revalidate_by_ns",), "2099-01-01"),
        ("approved", ("guardrails",), "latency"),
        ("approved", ("change", "type"), "standard"),
        ("approved", ("calendar", "configured"), None),
        ("alias", ("cas", "checked"), None),
        ("alias", ("target", "revoked"), None),
        ("startup", ("version", "revoked"), None),
        ("startup", ("expected_policy_digest",), None),
        ("startup", ("artifact", "checked"), None),
        ("release", ("version", "stage"), "approved"),
        ("release", ("version", "revoked"), None),
        ("release", ("version", "revalidate_by_ns"), "2099-01-01"),
        ("release", ("audit", "ok"), "yes"),
        ("release", ("policy", "digest"), None),
        ("release", ("policy", "signature", "verified"), 1),
        ("release", ("release_key", "purposes"), ["artifact"]),
        ("release", ("release_key", "trusted"), "true"),
    ],
)
def test_breaking_a_required_fact_denies(gate: str, path: tuple, value: Any) -> None:
    facts = copy.deepcopy(next(f for g, f in allowed_inputs() if g == gate))
    assert evaluate_gate(gate, facts).allow
    _set(facts, path, value)
    decision = evaluate_gate(gate, facts)
    assert not decision.allow
    assert decision.reasons
