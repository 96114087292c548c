"""Hypothesis laws: a transition never leaves the table; to_dict/from_dict round-trips."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promotion_world import CALENDAR, MODEL, ROSTER, START, make_verdict, sbom, world_registry

from canarykit.errors import GateDeniedError
from canarykit.promotion.approvals import ROLES, Approval
from canarykit.promotion.audit import GENESIS_HASH, AuditEvent
from canarykit.promotion.changes import CHANGE_TYPES, RISKS, ChangeApproval, ChangeTicket
from canarykit.promotion.evidence import digest_bytes, public_key_text, sign_digest
from canarykit.promotion.states import TRANSITIONS, Stage, check_transition
from canarykit.promotion.versions import VersionRecord
from canarykit.promotion.waivers import Waiver
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

stages = st.sampled_from(list(Stage))
# Instants in 1970..2200, whole microseconds (the registry's time resolution).
instants = st.integers(0, 7_258_118_400_000_000).map(lambda us: us * 1_000)
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
texts = st.text(min_size=1, max_size=30).filter(str.strip)


@given(stages, stages)
def test_check_transition_agrees_with_the_table(source: Stage, target: Stage) -> None:
    try:
        pair = check_transition(source, target)
    except GateDeniedError:
        assert (source, target) not in TRANSITIONS
    else:
        assert pair in TRANSITIONS


ACTIONS = st.lists(
    st.sampled_from(["staging", "staging_unsigned", "approve_all", "approved", "revoke"]),
    min_size=1,
    max_size=7,
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("walk")
    (folder / "canary.yaml").write_text("alpha: 0.05\n")
    return {"policy": folder, "digest": snapshot_digest(load_snapshot_files(folder))}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_random_walk_never_leaves_the_table(setup: dict[str, Any], actions: list[str]) -> None:
    """Whatever is attempted, in whatever order, every recorded stage change is in the table."""
    key = Ed25519PrivateKey.generate()
    digest = digest_bytes(b"artifact")
    with world_registry(":memory:") as p:
        p.configure(
            actor="sam",
            roster=ROSTER,
            calendar=CALENDAR,
            trust={"keys": [{"id": "k", "public_key": public_key_text(key)}]},
        )
        p.submit(MODEL, "v1", artifact_digest=digest, actor="ann")
        p.create_change(
            {
                "id": "CHG-1",
                "type": "Emergency",
                "scope": {"model": MODEL, "versions": ["v1"]},
                "risk": "low",
                "impact": "x",
                "steps": ["x"],
                "backout_plan": "x",
                "window": {"start": START, "end": "2026-11-26T00:00:00Z"},
                "post_change_validation": ["x"],
                "owners": ["olga"],
            },
            actor="olga",
        )
        p.approve_change("CHG-1", actor="eve", role="executive")  # Emergency: always an executive
        verdict = make_verdict("v1", setup["digest"])
        attempts = {
            "staging": lambda: p.promote(
                MODEL,
                "v1",
                to="Staging",
                actor="olga",
                signatures=[sign_digest(key, "k", digest)],
                sbom=sbom(),
                policy=setup["policy"],
            ),
            "staging_unsigned": lambda: p.promote(
                MODEL, "v1", to="Staging", actor="olga", sbom=sbom(), policy=setup["policy"]
            ),
            "approve_all": lambda: [
                p.approve(MODEL, "v1", role="security", actor="sam", stage="Staging"),
                p.approve(MODEL, "v1", role="security", actor="sue", verdict=verdict),
                p.approve(MODEL, "v1", role="product", actor="pat", verdict=verdict),
            ],
            "approved": lambda: p.promote(
                MODEL,
                "v1",
                to="Approved",
                actor="olga",
                chg_id="CHG-1",
                revalidate_by="2027-01-01T00:00:00Z",
                verdict=verdict,
            ),
            "revoke": lambda: p.revoke(MODEL, "v1", actor="sam", reason="walk"),
        }
        for action in actions:
            with contextlib.suppress(GateDeniedError):
                attempts[action]()
        stage = Stage.CANDIDATE
        for event in p.events(MODEL):
            if event.kind in ("promotion", "revocation"):
                target = Stage(event.payload.get("to", "Revoked"))
                assert (stage, target) in TRANSITIONS
                stage = target
        assert p.version(MODEL, "v1").stage == stage.value
        assert p.audit_verify().ok


@given(
    st.builds(
        Approval,
        model=names,
        version=names,
        stage=st.sampled_from(["Staging", "Approved"]),
        role=st.sampled_from(ROLES),
        actor=names,
        time_ns=instants,
        note=st.text(),
        verdict_digest=st.none() | st.just("sha256:" + "5" * 64),
    )
)
def test_approval_round_trips(approval: Approval) -> None:
    assert Approval.from_dict(approval.to_dict()) == approval


@given(
    st.builds(
        Waiver,
        waiver_id=names,
        model=names,
        version=st.none() | names,
        check=texts,
        reason=texts,
        owner=names,
        expires_ns=instants,
        created_by=names,
        created_at_ns=instants,
    )
)
def test_waiver_round_trips(waiver: Waiver) -> None:
    assert Waiver.from_dict(waiver.to_dict()) == waiver


@given(
    st.builds(
        ChangeApproval, chg_id=names, actor=names, role=st.sampled_from(ROLES), time_ns=instants
    )
)
def test_change_approval_round_trips(approval: ChangeApproval) -> None:
    assert ChangeApproval.from_dict(approval.to_dict()) == approval


json_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=10)
payloads = st.dictionaries(
    st.text(max_size=8), json_scalars | st.lists(json_scalars, max_size=3), max_size=4
)


@given(
    st.builds(
        AuditEvent,
        seq=st.integers(1, 10**6),
        time_ns=instants,
        kind=st.sampled_from(["promotion", "gate_denied", "rollback"]),
        actor=names,
        model=st.none() | names,
        version=st.none() | names,
        chg_id=st.none() | names,
        payload=payloads,
        prev_hash=st.just(GENESIS_HASH),
        hash=st.just("sha256:" + "1" * 64),
    )
)
def test_audit_event_round_trips(event: AuditEvent) -> None:
    again = AuditEvent.from_dict(event.to_dict())
    assert again == event
    assert again.computed_hash() == event.computed_hash()


@given(
    st.builds(
        VersionRecord,
        model=names,
        version=names,
        artifact_digest=st.just("sha256:" + "2" * 64),
        submitter=names,
        submitted_at_ns=instants,
        stage=st.sampled_from([s.value for s in Stage]),
        updated_at_ns=instants,
        policy_digest=st.none() | st.just("sha256:" + "3" * 64),
        evidence=payloads,
        verdict=st.none() | payloads,
        revalidate_by_ns=st.none() | instants,
        guardrails=st.lists(names, max_size=3).map(tuple),
    )
)
def test_version_record_round_trips(record: VersionRecord) -> None:
    assert VersionRecord.from_dict(record.to_dict()) == record


@st.composite
def tickets(draw: st.DrawFn) -> ChangeTicket:
    start = draw(instants)
    return ChangeTicket(
        chg_id="CHG-" + draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,10}", fullmatch=True)),
        type=draw(st.sampled_from(CHANGE_TYPES)),
        model=draw(names),
        versions=tuple(draw(st.lists(names, min_size=1, max_size=3))),
        risk=draw(st.sampled_from(RISKS)),
        impact=draw(texts),
        window_start_ns=start,
        window_end_ns=start + draw(st.integers(1, 10**6)) * 1_000,
        steps=tuple(draw(st.lists(texts, min_size=1, max_size=3))),
        backout_plan=draw(texts),
        post_change_validation=tuple(draw(st.lists(texts, min_size=1, max_size=2))),
        owners=tuple(draw(st.lists(names, min_size=1, max_size=2))),
    )


@given(tickets())
def test_change_ticket_round_trips(ticket: ChangeTicket) -> None:
    assert ChangeTicket.from_dict(ticket.to_dict()) == ticket


def test_round_trip_paths_are_exact(tmp_path: Path) -> None:
    """The registry stores what to_dict shows (a concrete, non-generated check)."""
    with world_registry(tmp_path / "r.sqlite") as p:
        p.configure(actor="sam", roster=ROSTER)
        record = p.submit(MODEL, "v1", artifact_digest="sha256:" + "4" * 64, actor="ann")
        assert VersionRecord.from_dict(record.to_dict()) == p.version(MODEL, "v1")
