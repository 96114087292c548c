"""Release artifacts (manifest schema, signed snapshot, notes) and the startup check codes."""

from __future__ import annotations

import json
import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import MODEL, World, pem

from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion.evidence import TrustStore, public_key_text
from canarykit.promotion.release import verify_policy_snapshot
from canarykit.promotion.schema_check import load_schema, validate


def _release(world: World, version: str, out: str = "rel", **kw: object) -> object:
    args: dict = {
        "out": world.tmp / out,
        "signing_key": world.key,
        "key_id": "release-key",
        "policy": world.policy_dir,
        "actor": "olga",
    }
    args.update(kw)
    return world.promotion.release(MODEL, version, **args)


def test_release_of_a_staging_version_is_denied_and_audited(world: World) -> None:
    world.submit("v1")
    world.to_staging("v1")
    with pytest.raises(GateDeniedError, match="only Approved is released"):
        _release(world, "v1")
    assert world.promotion.events()[-1].kind == "gate_denied"
    assert not (world.tmp / "rel").exists()


def test_release_with_another_policy_or_untrusted_key_is_denied(world: World) -> None:
    world.approved("v1")
    other = world.tmp / "other-policy"
    other.mkdir()
    (other / "canary.yaml").write_text("latency_p95: {max_ms: 999}\n")
    with pytest.raises(GateDeniedError, match="not the bound"):
        _release(world, "v1", policy=other)
    with pytest.raises(GateDeniedError, match="is not the trusted key"):
        _release(world, "v1", signing_key=Ed25519PrivateKey.generate())


def test_release_is_written_once_and_snapshot_tampering_is_detected(world: World) -> None:
    world.approved("v1")
    _release(world, "v1", signing_key=pem(world.key, world.tmp / "key.pem"))
    with pytest.raises(InvalidInputError, match="already holds a release"):
        _release(world, "v1")
    trust = TrustStore.from_dict(
        {
            "keys": [
                {"id": "policy-key", "public_key": public_key_text(world.policy_key)},
            ]
        }
    )
    snapshot = world.tmp / "rel" / "policy_snapshot"
    digest = world.policy_digest
    # The snapshot's sanction counts only for purpose policy (this trust lists the key for
    # artifacts, the default) ...
    assert any(
        "not trusted for policy signatures" in p
        for p in verify_policy_snapshot(snapshot, trust, expected_digest=digest)
    )
    trust = TrustStore.from_dict({"keys": [{**trust.to_dict()["keys"][0], "purposes": ["policy"]}]})
    assert verify_policy_snapshot(snapshot, trust, expected_digest=digest) == []
    (snapshot / "canary.yaml").write_bytes((snapshot / "canary.yaml").read_bytes() + b"#\n")
    problems = verify_policy_snapshot(snapshot, trust, expected_digest=digest)
    assert any(p.startswith("digest: the snapshot's files have digest") for p in problems)


def test_manifest_schema_reports_every_problem_with_its_path(world: World) -> None:
    world.approved("v1")
    manifest = json.loads(json.dumps(_release(world, "v1").manifest))  # type: ignore[attr-defined]
    assert validate(manifest, load_schema("release_manifest.schema.json")) == []
    manifest["artifact_digest"] = "md5:abc"
    manifest["canary"]["decision"] = "MAYBE"
    manifest["approvals"][0]["role"] = "intern"
    del manifest["rollback"]["target"]
    manifest["extra"] = 1
    problems = validate(manifest, load_schema("release_manifest.schema.json"))
    for part in (
        "artifact_digest: 'md5:abc' does not match",
        "canary.decision: 'MAYBE'",
        "approvals[0].role: 'intern'",
        "rollback.target: required",
        "extra: unexpected property",
    ):
        assert any(part in p for p in problems), problems


def test_schema_validator_refuses_keywords_it_does_not_implement() -> None:
    assert validate(1, {"oneOf": []}) == ["(root): schema uses unsupported keywords ['oneOf']"]


def test_startup_codes(world: World) -> None:
    p = world.promotion
    world.submit("v1")
    artifact = world.artifact("v1")
    assert (
        p.check_startup(
            MODEL, version="v1", alias=None, policy_digest=world.policy_digest, artifact=artifact
        ).exit_code
        == 12
    )
    assert (
        p.check_startup(
            MODEL, version="v9", alias=None, policy_digest=world.policy_digest, artifact=artifact
        ).exit_code
        == 10
    )
    world.to_staging("v1")
    staged = p.check_startup(
        MODEL, version="v1", alias=None, policy_digest=world.policy_digest, artifact=artifact
    )
    assert (staged.ok, staged.exit_code) == (True, 0)
    # Trust rotated to another key: the stored signature no longer verifies.
    p.configure(
        actor="sam",
        trust={
            "keys": [{"id": "new", "public_key": public_key_text(Ed25519PrivateKey.generate())}]
        },
    )
    rotated = p.check_startup(
        MODEL, version="v1", alias=None, policy_digest=world.policy_digest, artifact=artifact
    )
    assert rotated.exit_code == 14
    assert "escalate to security" in rotated.hint


def test_stage_written_behind_the_gates_back_fails_startup(world: World) -> None:
    world.submit("v1")
    world.to_staging("v1")
    conn = sqlite3.connect(world.tmp / "registry.sqlite")
    conn.execute("UPDATE versions SET stage = 'Approved' WHERE version = 'v1'")
    conn.execute("INSERT INTO aliases VALUES (?, 'production', 'v1', 1, 0)", (MODEL,))
    conn.commit()
    conn.close()
    check = world.promotion.check_startup(
        MODEL, policy_digest=world.policy_digest, artifact=world.artifact("v1")
    )
    assert check.exit_code == 16
    assert any("the audit log says Staging" in p for p in check.problems)
    assert any("the audit log says None" in p for p in check.problems)


def test_an_undecidable_startup_gate_refuses_with_its_own_code(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from canarykit.promotion import gates

    world.submit("v1")
    world.to_staging("v1")
    monkeypatch.setattr(gates, "_policy_files", lambda: (("x.rego", "package broken {"),))
    check = world.promotion.check_startup(
        MODEL,
        version="v1",
        alias=None,
        policy_digest=world.policy_digest,
        artifact=world.artifact("v1"),
    )
    assert (check.ok, check.exit_code) == (False, 17)
    assert "policy evaluation failed" in check.problems[0]


def test_malformed_expected_digest_is_bad_input(world: World) -> None:
    with pytest.raises(InvalidInputError, match="policy_digest"):
        world.promotion.check_startup(MODEL, policy_digest="sha256:00")
