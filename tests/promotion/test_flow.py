"""The whole seed flow, end to end (issue 6): submit → Staging → PROCEED verdict → approvals →
Approved → alias → release artifacts → revoke → startup check fails → rollback."""

from __future__ import annotations

import json
from pathlib import Path

from promotion_world import MODEL, ROSTER, SignedPromotion, World, pem

from canarykit.promotion import facts as F
from canarykit.promotion.evidence import TrustStore, public_key_text
from canarykit.promotion.release import verify_policy_snapshot
from canarykit.promotion.schema_check import load_schema, validate


def test_seed_flow_end_to_end(world: World) -> None:
    p = world.promotion
    # v1 goes all the way and becomes production.
    world.approved("v1")
    chg1 = world.chg("CHG-100", ["v1"], type="Standard")
    p.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg1)

    # v2: submit → Staging → PROCEED verdict → approvals → Approved → alias.
    world.submit("v2")
    staged = world.to_staging("v2")
    assert staged.to_stage == "Staging"
    assert p.version(MODEL, "v2").policy_digest == world.policy_digest
    world.approvals("v2")
    chg2 = world.chg("CHG-200", ["v2"])
    approved = world.to_approved("v2", chg2)
    assert approved.to_stage == "Approved"
    state = p.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg2)
    assert (state.version, state.generation) == ("v2", 2)

    # Release artifacts.
    out = world.tmp / "release-v2"
    result = p.release(
        MODEL,
        "v2",
        out=out,
        signing_key=pem(world.key, world.tmp / "k.pem"),
        key_id="release-key",
        policy=world.policy_dir,
        actor="olga",
    )
    manifest = json.loads((out / "release_manifest.json").read_text())
    assert validate(manifest, load_schema("release_manifest.schema.json")) == []
    assert manifest["rollback"] == {"alias": "production", "current": "v2", "target": "v1"}
    assert manifest["policy_digest"] == world.policy_digest
    reviewed = {a["verdict_digest"] for a in manifest["approvals"] if a["stage"] == "Approved"}
    assert reviewed == {manifest["canary"]["verdict_digest"]}
    assert {t["id"] for t in manifest["tickets"]} == {"CHG-200"}
    assert {(a["role"], a["actor"]) for a in manifest["approvals"]} >= {
        ("security", "sue"),
        ("product", "pat"),
    }
    assert "release_notes.md" in result.files
    notes = (out / "release_notes.md").read_text()
    for section in ("## Changes", "## Risks", "## Limitations", "## Verdict summary"):
        assert section in notes
    assert "PROCEED" in notes
    assert p.verify_release(out, artifact=world.artifact("v2")).ok
    trust = F.load_trust(p.store.conn)
    snapshot = out / "policy_snapshot"
    assert verify_policy_snapshot(snapshot, trust, expected_digest=world.policy_digest) == []
    # The snapshot's signature counts only for its purpose (policy), never as an artifact key's.
    artifact_only = TrustStore.from_dict(
        {"keys": [{"id": "policy-key", "public_key": public_key_text(world.policy_key)}]}
    )
    assert verify_policy_snapshot(snapshot, artifact_only, expected_digest=world.policy_digest)
    ok = p.check_startup(MODEL, policy_digest=world.policy_digest, artifact=world.artifact("v2"))
    assert (ok.ok, ok.exit_code, ok.version) == (True, 0, "v2")

    # Revoke v2: production rolls back to v1 and says so.
    revoked = p.revoke(MODEL, "v2", actor="sam", reason="data leak found in features")
    assert "production rolled back from v2 to v1" in revoked.message
    assert p.show_alias(MODEL).version == "v1"

    # Startup check of v2 now fails: pinned version is revoked; v2's file is not production's.
    pinned = p.check_startup(
        MODEL,
        version="v2",
        alias=None,
        policy_digest=world.policy_digest,
        artifact=world.artifact("v2"),
    )
    assert (pinned.ok, pinned.exit_code) == (False, 11)
    assert "revoked" in pinned.hint.lower() or "Do not start" in pinned.hint
    stale = p.check_startup(MODEL, policy_digest=world.policy_digest, artifact=world.artifact("v2"))
    assert (stale.ok, stale.exit_code) == (False, 13)
    good = p.check_startup(MODEL, policy_digest=world.policy_digest, artifact=world.artifact("v1"))
    assert good.ok

    # Rollback: the history shows it, and an explicit rollback has nowhere further to go.
    kinds = [h.kind for h in p.alias_history(MODEL)]
    assert kinds == ["alias_update", "alias_update", "revocation"]
    assert [e.kind for e in p.events(MODEL, kind="rollback")] == ["rollback"]
    assert p.audit_verify().ok


def test_revoking_the_only_production_version_blocks_the_alias(world: World) -> None:
    p = world.promotion
    world.approved("v1")
    p.set_alias(
        MODEL, "v1", expected=None, actor="olga", chg_id=world.chg("CHG-1", ["v1"], type="Standard")
    )
    result = p.revoke(MODEL, "v1", actor="olga", reason="bad")
    assert result.aliases[0].action == "blocked"
    assert "BLOCKED" in result.message
    check = p.check_startup(MODEL, policy_digest=world.policy_digest, artifact=world.artifact("v1"))
    assert (check.ok, check.exit_code) == (False, 10)
    assert p.events()[-1].kind == "gate_denied"


def test_explicit_rollback_returns_to_previous_approved(world: World) -> None:
    p = world.promotion
    world.approved("v1")
    world.approved("v2")
    std = world.chg("CHG-9", ["v1", "v2"], type="Standard")
    p.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=std)
    p.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=std)
    state = p.rollback(MODEL, actor="olga", chg_id=std)
    assert state.version == "v1"
    history = p.alias_history(MODEL)
    assert [(h.kind, h.from_version, h.to_version) for h in history][-1] == ("rollback", "v2", "v1")


def test_events_written_under_an_injected_clock_say_so(world: World) -> None:
    world.submit("v1")
    event = world.promotion.events()[-1]
    assert event.payload["clock"].startswith("FixedClock(")
    assert world.promotion.audit_verify().ok


def test_events_under_the_system_clock_carry_no_clock_note(tmp_path: Path) -> None:
    with SignedPromotion(tmp_path / "r.sqlite") as p:
        p.configure(actor="sam", roster=ROSTER)
        p.submit(MODEL, "v1", artifact_digest="sha256:" + "0" * 64, actor="ann")
        assert p.events()[-1].kind == "submission"
        assert all("clock" not in e.payload for e in p.events())
        assert all("drill" not in e.payload for e in p.events())
