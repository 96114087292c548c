"""The promotion gates accept a verdict made by the verdict engine itself (not hand-built)."""

from __future__ import annotations

import pytest

from canarykit.errors import GateDeniedError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.verdict import evaluate
from canarykit.verdict.policy import default_policy_path, load_policy
from tests.promotion.promotion_world import make_world


@pytest.fixture
def world_with_shipped_policy(tmp_path):
    with make_world(tmp_path) as world:  # its policy: the shipped one, signed by a policy key
        assert world.policy_digest == load_policy(default_policy_path()).digest
        yield world


def _verdict(scenario: str, policy_dir) -> dict:
    with TraceStore() as store:
        store.ingest(generate_traces(scenario, n_requests=120_000, canary_share=0.25, seed=41))
        return evaluate(store, policy=policy_dir).to_dict()


def test_engine_proceed_verdict_opens_the_approved_gate(world_with_shipped_policy):
    world = world_with_shipped_policy
    verdict = _verdict("identical", world.policy_dir)
    assert verdict["decision"] == "PROCEED"
    assert verdict["policy_digest"] == world.policy_digest
    version = verdict["candidate"]
    world.submit(version)
    world.to_staging(version)
    world.approvals(version, verdict)
    result = world.to_approved(version, world.chg("CHG-7001", [version]), verdict=verdict)
    assert world.promotion.version("risk-default", version).stage == "Approved"
    assert result is not None


def test_engine_stop_verdict_is_denied(world_with_shipped_policy):
    world = world_with_shipped_policy
    verdict = _verdict("error_regression", world.policy_dir)
    assert verdict["decision"] == "STOP"
    version = verdict["candidate"]
    world.submit(version)
    world.to_staging(version)
    world.approvals(version, verdict)
    with pytest.raises(GateDeniedError, match="PROCEED"):
        world.to_approved(version, world.chg("CHG-7002", [version]), verdict=verdict)
