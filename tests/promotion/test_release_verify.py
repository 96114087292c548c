"""Releases you can verify (issue 12): the signed manifest, the release gate, ``release verify``.

Each finding of the issue is an attempt here, with the message that stops it and, where a gate
stops it, the ``gate_denied`` audit event:

- the manifest was unsigned and nothing verified it → ``release_manifest.dsse.json`` (purpose
  ``release``) and ``release verify``, which fails on any single-byte change to the manifest,
  the notes, a snapshot file or the artifact;
- a policy-snapshot signature also passed as an artifact signature → purposes and DSSE payload
  types keep them apart, both ways;
- another release's (weaker) signed snapshot and an extra ``.rego`` passed
  ``verify_policy_snapshot`` → it checks against the bound digest and exactly the signed files;
- ``release`` ran no gate → Approved and not revoked, ``revalidate_by`` not lapsed, audit chain
  intact, a ``release`` key.
"""

from __future__ import annotations

import base64
import json
import random
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import MODEL, World, make_verdict, pem, sign_policy_folder

from canarykit.cli.main import main
from canarykit.cli.release_cmds import EXIT_NOT_VERIFIED
from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion import facts as F
from canarykit.promotion.evidence import (
    PAYLOAD_TYPES,
    TrustStore,
    digest_bytes,
    digest_file,
    sign_digest,
    sign_statement,
)
from canarykit.promotion.release import verify_policy_snapshot
from canarykit.promotion.release_format import (
    MANIFEST_PREDICATE_TYPE,
    json_bytes,
    manifest_statement,
    read_json_bytes,
    snapshot_meta,
)
from canarykit.promotion.release_verify import (
    CHECKS,
    EXIT_VERIFY_FAILED,
    ReleaseVerification,
    verify_release,
)
from canarykit.promotion.sanctioned_policy import sign_policy_files
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

# Every file of a release, and the artifact: each must make verify fail on any one-byte change.
RELEASE_FILES = (
    "release_manifest.json",
    "release_manifest.dsse.json",
    "release_notes.md",
    "policy_snapshot/canary.yaml",
    "policy_snapshot/decision.rego",
    "policy_snapshot/snapshot.json",
    "policy_snapshot/snapshot.dsse.json",
)


def _release(world: World, version: str = "v1", out: str = "rel", **kw: Any) -> Path:
    args: dict[str, Any] = {
        "out": world.tmp / out,
        "signing_key": world.key,
        "key_id": "release-key",
        "actor": "olga",
    }
    args.update(kw)
    world.promotion.release(MODEL, version, **args)
    return world.tmp / out


def _trust(world: World) -> TrustStore:
    trust = F.load_trust(world.promotion.store.conn)
    assert trust is not None
    return trust


def _verify(world: World, folder: Path, **kw: Any) -> ReleaseVerification:
    return verify_release(folder, trust=_trust(world), **kw)


def _failed(result: ReleaseVerification) -> dict[str, str]:
    return {c.name: c.message for c in result.failures}


def _denied(world: World, match: str, **kw: Any) -> GateDeniedError:
    """Release is refused with ``match``; a gate_denied event says so and nothing is written."""
    out = world.tmp / "denied"
    with pytest.raises(GateDeniedError, match=re.escape(match)) as caught:
        _release(world, out="denied", **kw)
    event = world.promotion.events()[-1]
    assert (event.kind, event.payload["action"]) == ("gate_denied", f"release {MODEL} v1")
    assert any(match in r for r in event.payload["reasons"])
    assert not out.exists()
    return caught.value


@pytest.fixture
def released(world: World) -> Path:
    """v1 Approved and released to ``rel``."""
    world.approved("v1")
    return _release(world)


# -- the release and its formats --------------------------------------------------------------


def test_a_release_verifies_offline_and_against_the_registry(world: World, released: Path) -> None:
    offline = _verify(world, released)
    assert offline.ok
    assert offline.exit_code == 0
    assert [c.name for c in offline.checks] == list(CHECKS)
    assert {c.name for c in offline.checks if c.status == "SKIP"} == {
        "artifact",
        "registry-version",
        "registry-digests",
        "registry-approvals",
        "registry-audit",
    }
    full = world.promotion.verify_release(released, artifact=world.artifact("v1"))
    assert (full.ok, [c.status for c in full.checks]) == (True, ["OK"] * len(CHECKS))
    text = full.to_text().splitlines()
    assert text[1] == "OK    signature: signed by release-key (trusted for release)"
    assert text[-1] == f"release {released}: VERIFIED (13 passed, 0 skipped)"
    assert next(c for c in full.checks if c.name == "checkpoint").message.endswith(
        "signed by release-key (trusted for checkpoint)"
    )


def test_the_manifest_is_signed_and_records_verdict_policy_and_checkpoint(
    world: World, released: Path
) -> None:
    manifest_bytes = (released / "release_manifest.json").read_bytes()
    manifest = json.loads(manifest_bytes)
    envelope = json.loads((released / "release_manifest.dsse.json").read_text())
    assert envelope["payloadType"] == PAYLOAD_TYPES["release"]
    assert [s["keyid"] for s in envelope["signatures"]] == ["release-key"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicateType"] == MANIFEST_PREDICATE_TYPE
    assert statement["predicate"] == manifest
    assert json_bytes(statement["predicate"]) == manifest_bytes
    hexdigest = digest_file(world.artifact("v1")).removeprefix("sha256:")
    assert statement["subject"] == [{"name": f"{MODEL}@v1", "digest": {"sha256": hexdigest}}]

    record = world.promotion.version(MODEL, "v1")
    assert manifest["schema"] == "canarykit.release_manifest/2"
    assert manifest["verdict_digest"] == manifest["canary"]["verdict_digest"]
    assert manifest["policy_snapshot"]["digest"] == manifest["policy_digest"]
    assert manifest["policy_snapshot"]["name"] == "risk-policy"
    assert manifest["policy_snapshot"]["signed_by"] == ["policy-key"]
    assert manifest["policy_snapshot"]["files"] == {
        name: digest_bytes(data) for name, data in load_snapshot_files(world.policy_dir).items()
    }
    assert manifest["policy_digest"] == record.policy_digest
    notes = (released / "release_notes.md").read_bytes()
    assert manifest["release_notes_digest"] == digest_bytes(notes)
    assert "(risk-policy)" in notes.decode()
    # The checkpoint is the chain head the gate verified; the release event extends it.
    release_event = world.promotion.events(kind="release")[-1]
    checkpoint = manifest["audit_checkpoint"]
    assert checkpoint["kind"] == "chain_head"
    # The release key is trusted for checkpoints too: the release signs a checkpoint of that head.
    signed = checkpoint["signed_checkpoint"]
    assert (signed["seq"], signed["head_hash"]) == (checkpoint["seq"], checkpoint["head_hash"])
    assert (release_event.seq, release_event.prev_hash) == (
        checkpoint["seq"] + 1,
        checkpoint["head_hash"],
    )
    assert release_event.payload["manifest_digest"] == digest_bytes(manifest_bytes)
    assert isinstance(manifest["evidence_links"], dict)


# -- single-byte changes ----------------------------------------------------------------------


def _positions(size: int, seed: int) -> list[int]:
    fixed = {0, 1, size // 3, size // 2, (2 * size) // 3, size - 2, size - 1}
    return sorted(fixed | set(random.Random(seed).sample(range(size), min(size, 6))))


@pytest.mark.parametrize("name", RELEASE_FILES)
def test_any_single_byte_change_to_a_release_file_fails_verify(
    world: World, released: Path, name: str, tmp_path: Path
) -> None:
    original = (released / name).read_bytes()
    for i, position in enumerate(_positions(len(original), seed=len(name))):
        copy = tmp_path / f"copy{i}"
        shutil.copytree(released, copy)
        data = bytearray(original)
        data[position] ^= 0x01
        (copy / name).write_bytes(bytes(data))
        result = _verify(world, copy, artifact=world.artifact("v1"))
        assert result.exit_code == EXIT_VERIFY_FAILED, (name, position, result.to_text())
        shutil.rmtree(copy)


@pytest.mark.parametrize(
    "name", [n for n in RELEASE_FILES if n.endswith(".json")], ids=lambda n: n.split("/")[-1]
)
def test_a_change_that_keeps_the_json_equal_still_fails(
    world: World, released: Path, name: str
) -> None:
    """A space turned into a tab parses to the same value: still not the signed bytes."""
    path = released / name
    data = path.read_bytes()
    assert read_json_bytes(data.replace(b"  ", b"\t ", 1), where=name) == json.loads(data)
    path.write_bytes(data.replace(b"  ", b"\t ", 1))
    assert _verify(world, released).exit_code == EXIT_VERIFY_FAILED


def test_any_single_byte_change_to_the_artifact_fails_verify(world: World, released: Path) -> None:
    artifact = world.artifact("v1")
    original = artifact.read_bytes()
    for position in _positions(len(original), seed=7):
        data = bytearray(original)
        data[position] = (data[position] + 1) % 256
        artifact.write_bytes(bytes(data))
        failed = _failed(_verify(world, released, artifact=artifact))
        assert list(failed) == ["artifact"]
        assert "the release is for sha256:" in failed["artifact"]
    artifact.write_bytes(original)
    assert _verify(world, released, artifact=artifact).ok


def test_an_added_or_a_removed_snapshot_file_fails_verify(world: World, released: Path) -> None:
    snapshot = released / "policy_snapshot"
    (snapshot / "loose.rego").write_text("package canarykit.decision\nimport rego.v1\n")
    failed = _failed(_verify(world, released))
    assert "'loose.rego' is not part of the snapshot (an extra file)" in failed["policy-snapshot"]
    assert "extra file loose.rego (not signed)" in failed["policy-signature"]
    (snapshot / "loose.rego").unlink()
    assert _verify(world, released).ok
    (snapshot / "decision.rego").unlink()
    failed = _failed(_verify(world, released))
    assert "'decision.rego' is missing from the snapshot" in failed["policy-snapshot"]
    assert "missing file decision.rego" in failed["policy-signature"]


def test_an_extra_file_or_link_in_the_release_folder_fails_verify(
    world: World, released: Path
) -> None:
    (released / "README.txt").write_text("trust me")
    assert "README.txt is not part of a release" in _failed(_verify(world, released))["files"]
    (released / "README.txt").unlink()
    notes = released / "release_notes.md"
    notes.rename(released / "notes.bak")
    notes.symlink_to(released / "notes.bak")
    failed = _failed(_verify(world, released))
    assert "release_notes.md is a symbolic link" in failed["files"]


# -- signatures and purposes ------------------------------------------------------------------


def test_an_unsigned_manifest_fails_verify(world: World, released: Path) -> None:
    (released / "release_manifest.dsse.json").unlink()
    result = _verify(world, released)
    assert result.exit_code == EXIT_VERIFY_FAILED
    failed = _failed(result)
    assert failed["signature"] == "release_manifest.dsse.json is missing: the manifest is unsigned"
    assert failed["manifest"] == "there is no signed manifest to compare it with"
    assert "release_manifest.dsse.json is missing" in failed["files"]


@pytest.mark.parametrize(
    ("key_id", "purposes"), [("policy-key", "policy"), ("artifact-key", "artifact")]
)
def test_a_manifest_signed_by_a_key_not_listed_for_release_fails_verify(
    world: World, released: Path, key_id: str, purposes: str
) -> None:
    manifest = json.loads((released / "release_manifest.json").read_text())
    key = world.policy_key if key_id == "policy-key" else world.artifact_key
    envelope = sign_statement(
        manifest_statement(manifest), purpose="release", private_key=key, key_id=key_id
    )
    (released / "release_manifest.dsse.json").write_bytes(json_bytes(envelope))
    failed = _failed(_verify(world, released))
    assert failed["signature"] == (
        f"signatures[0]: key {key_id!r} is not trusted for release signatures (it signs:"
        f" {purposes})"
    )


def test_a_manifest_signed_for_another_purpose_fails_verify(world: World, released: Path) -> None:
    """release-key may sign policies too; its policy-type envelope is not a release signature."""
    manifest = json.loads((released / "release_manifest.json").read_text())
    envelope = sign_statement(
        manifest_statement(manifest), purpose="policy", private_key=world.key, key_id="release-key"
    )
    (released / "release_manifest.dsse.json").write_bytes(json_bytes(envelope))
    failed = _failed(_verify(world, released))
    assert failed["signature"].startswith(
        f"payloadType: {PAYLOAD_TYPES['policy']!r} is not the release type"
    )


def test_a_forged_manifest_with_a_forged_signature_fails_verify(
    world: World, released: Path
) -> None:
    """An attacker re-signs an edited manifest with a key of their own of the same id."""
    manifest = json.loads((released / "release_manifest.json").read_text())
    manifest["approvals"] = manifest["approvals"][:1]
    mallory = Ed25519PrivateKey.generate()
    envelope = sign_statement(
        manifest_statement(manifest), purpose="release", private_key=mallory, key_id="release-key"
    )
    (released / "release_manifest.json").write_bytes(json_bytes(manifest))
    (released / "release_manifest.dsse.json").write_bytes(json_bytes(envelope))
    failed = _failed(world.promotion.verify_release(released))
    assert failed["signature"] == "signatures[0]: signature by 'release-key' does not verify"
    assert (
        "was recorded before the release but is not in the manifest"
        in (failed["registry-approvals"])
    )
    assert "the audit log records no release of this manifest" in failed["registry-audit"]


def _crafted_artifact(world: World, version: str) -> str:
    """An artifact whose sha256 is the policy snapshot's digest (the canonical snapshot text)."""
    files = load_snapshot_files(world.policy_dir)
    text = "".join(f"{n}\0{digest_bytes(files[n])[7:]}\n" for n in sorted(files))
    world.artifact(version).write_bytes(text.encode())
    assert digest_file(world.artifact(version)) == world.policy_digest
    return world.policy_digest


def test_a_snapshot_signature_is_never_an_artifact_signature(world: World, released: Path) -> None:
    digest = _crafted_artifact(world, "v9")
    world.submit("v9")
    envelope = json.loads((released / "policy_snapshot" / "snapshot.dsse.json").read_text())
    files = load_snapshot_files(world.policy_dir)
    by_release_key = sign_policy_files(files, world.key, "release-key", name="risk-policy")
    attempts = [
        # the old bare signature of a snapshot digest, by a policy key
        (sign_digest(world.policy_key, "policy-key", digest), "not trusted for artifact"),
        # the DSSE signature of the released snapshot, by the policy key
        (envelope["signatures"][0], "not trusted for artifact"),
        # a snapshot sanctioned by a key that may also sign artifacts: DSSE is not a digest text
        (by_release_key["signatures"][0], "signature by 'release-key' does not verify"),
    ]
    for signature, reason in attempts:
        with pytest.raises(GateDeniedError, match=reason):
            world.to_staging("v9", signatures=[signature])
        event = world.promotion.events()[-1]
        assert event.kind == "gate_denied"
        assert any(r.startswith("signature:") and reason in r for r in event.payload["reasons"])
    assert world.promotion.version(MODEL, "v9").stage == "Candidate"


def test_an_artifact_signature_is_never_a_snapshot_signature(world: World, released: Path) -> None:
    snapshot = released / "policy_snapshot"
    signature = sign_digest(world.key, "release-key", world.policy_digest)  # artifact-style
    (snapshot / "snapshot.dsse.json").write_bytes(json_bytes({"signatures": [signature]}))
    failed = _failed(_verify(world, released))
    assert "policy-signature" in failed
    assert "not the envelope the manifest records" in failed["policy-signature"]
    assert verify_policy_snapshot(snapshot, _trust(world), expected_digest=world.policy_digest)


# -- foreign snapshots ------------------------------------------------------------------------


def _weaker_snapshot(world: World, folder: Path) -> Path:
    """A sanctioned snapshot of a looser policy, written in release form into ``folder``."""
    loose = world.tmp / "loose-policy"
    shutil.copytree(world.policy_dir, loose)
    (loose / "policy.dsse.json").unlink()
    yaml_path = loose / "canary.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("max: 120.0", "max: 1200.0", 1))
    envelope = json.loads(sign_policy_folder(loose, world.policy_key, name="loose").read_text())
    files = load_snapshot_files(loose)
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    hashes = {n: digest_bytes(b) for n, b in files.items()}
    meta = snapshot_meta(name="loose", digest=snapshot_digest(files), files=hashes)
    (folder / "snapshot.json").write_bytes(json_bytes(meta))
    (folder / "snapshot.dsse.json").write_bytes(json_bytes(envelope))
    return folder


def test_another_releases_signed_snapshot_fails(world: World, released: Path) -> None:
    foreign = _weaker_snapshot(world, world.tmp / "foreign")
    trust = _trust(world)
    foreign_digest = snapshot_digest(load_snapshot_files(foreign))
    assert foreign_digest != world.policy_digest
    # It is a perfectly valid sanctioned snapshot of its own ...
    assert verify_policy_snapshot(foreign, trust, expected_digest=foreign_digest) == []
    # ... but not of the version this release is for.
    problems = verify_policy_snapshot(foreign, trust, expected_digest=world.policy_digest)
    assert any(p.startswith("digest: the snapshot's files have digest") for p in problems)
    assert any(f"sanctions snapshot {foreign_digest}, not the bound" in p for p in problems)
    shutil.rmtree(released / "policy_snapshot")
    shutil.copytree(foreign, released / "policy_snapshot")
    failed = _failed(_verify(world, released))
    assert {"policy-snapshot", "policy-signature"} <= set(failed)
    assert "another release's snapshot" in failed["policy-signature"]


def test_an_extra_rego_dropped_into_a_snapshot_fails(world: World, released: Path) -> None:
    snapshot = released / "policy_snapshot"
    (snapshot / "zz_allow.rego").write_text(
        'package canarykit.decision\nimport rego.v1\ndecision := "PROCEED"\n'
    )
    problems = verify_policy_snapshot(snapshot, _trust(world), expected_digest=world.policy_digest)
    assert any("extra file zz_allow.rego (not signed)" in p for p in problems)
    assert any(p.startswith("digest:") for p in problems)


# -- the release gate -------------------------------------------------------------------------


def test_release_of_a_version_whose_revalidate_by_lapsed_is_denied(world: World) -> None:
    world.approved("v1")
    world.clock.advance(days=100)  # revalidate_by is 2027-02-25; now 2027-03-05
    _denied(world, "revalidate_by: the approval lapsed at 2027-02-25T00:00:00+00:00")


def test_release_while_the_audit_chain_is_broken_is_denied(world: World) -> None:
    world.approved("v1")
    conn = sqlite3.connect(world.tmp / "registry.sqlite")
    conn.executescript(
        "DROP TRIGGER events_append_only_update;UPDATE events SET actor = 'mallory' WHERE seq = 3;"
    )
    conn.close()
    _denied(world, "audit: the audit log failed verification (seq 3: hash does not match")


def test_release_of_a_revoked_version_is_denied(world: World) -> None:
    world.approved("v1")
    world.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    error = _denied(world, "revoked: risk-default v1 has been revoked")
    assert any(r.startswith("stage: risk-default v1 is Revoked") for r in error.reasons)


@pytest.mark.parametrize(
    ("key_id", "message"),
    [
        (
            "artifact-key",
            "'artifact-key' is not trusted for release signatures (it signs: artifact)",
        ),
        ("policy-key", "'policy-key' is not trusted for release signatures (it signs: policy)"),
        ("nobody", "'nobody' is not in the trust file"),
    ],
)
def test_release_needs_a_key_the_trust_file_lists_for_release(
    world: World, key_id: str, message: str
) -> None:
    world.approved("v1")
    key = {"artifact-key": world.artifact_key, "policy-key": world.policy_key}.get(
        key_id, Ed25519PrivateKey.generate()
    )
    _denied(world, f"signing key: {message}", signing_key=key, key_id=key_id)


def test_release_refuses_a_policy_that_is_not_the_bound_snapshot(world: World) -> None:
    world.approved("v1")
    loose = _weaker_snapshot(world, world.tmp / "loose-release")
    _denied(world, "policy: the policy given has digest", policy=loose)


def test_release_of_an_unsanctioned_binding_is_denied(world: World) -> None:
    """A version bound before sanctioned policies (no stored snapshot) with an unsigned folder."""
    world.approved("v1")
    conn = sqlite3.connect(world.tmp / "registry.sqlite")
    conn.execute("DELETE FROM bound_policies")
    conn.commit()
    conn.close()
    (world.policy_dir / "policy.dsse.json").unlink()
    _denied(world, "policy signature: the policy snapshot is not signed", policy=world.policy_dir)


# -- verify against the registry --------------------------------------------------------------


def test_a_release_of_a_version_revoked_since_fails_verify_against_the_registry(
    world: World, released: Path
) -> None:
    world.promotion.revoke(MODEL, "v1", actor="sam", reason="data leak found in features")
    assert _verify(world, released, artifact=world.artifact("v1")).ok  # offline: unchanged
    result = world.promotion.verify_release(released, artifact=world.artifact("v1"))
    assert result.exit_code == EXIT_VERIFY_FAILED
    assert _failed(result) == {"registry-version": "risk-default v1 has been revoked"}


def test_verify_notices_a_lapsed_approval_and_edited_registry_rows(
    world: World, released: Path
) -> None:
    world.clock.advance(days=100)
    failed = _failed(world.promotion.verify_release(released))
    assert failed == {
        "registry-version": "its revalidate_by is lapsed at 2027-02-25T00:00:00+00:00"
    }
    world.clock.advance(days=-100)
    conn = sqlite3.connect(world.tmp / "registry.sqlite")
    conn.execute("DELETE FROM approvals WHERE actor = 'pat'")
    conn.commit()
    conn.close()
    failed = _failed(world.promotion.verify_release(released))
    assert "product pat at 2026-11-25T10:00:00+00:00 is not recorded in the registry" in (
        failed["registry-approvals"].replace("Approved ", "")
    )


def test_verify_against_another_registry_fails(
    world: World, released: Path, tmp_path: Path
) -> None:
    """The same version released from another registry: not the release this registry logged."""
    from promotion_world import make_world

    with make_world(tmp_path / "other") as other:
        other.promotion.configure(actor="sam", trust=_trust(world).to_dict())
        result = other.promotion.verify_release(released)
    failed = _failed(result)
    assert set(failed) == {
        "registry-version",
        "registry-digests",
        "registry-approvals",
        "registry-audit",
    }
    assert failed["registry-version"].startswith("the registry has no risk-default v1")


def test_the_embedded_checkpoint_needs_a_checkpoint_key(world: World, released: Path) -> None:
    """A release key the trust file no longer lists for checkpoint: its checkpoint fails."""
    entries = _trust(world).to_dict()
    for key in entries["keys"]:
        key["purposes"] = [p for p in key.get("purposes", ["artifact"]) if p != "checkpoint"]
    result = verify_release(released, trust=TrustStore.from_dict(entries))
    failed = _failed(result)
    assert set(failed) == {"checkpoint"}
    assert failed["checkpoint"].startswith("signature: ")


def test_a_log_rewritten_before_the_embedded_checkpoint_fails_registry_audit(
    world: World, released: Path
) -> None:
    """An event at or before the release's signed checkpoint rewritten with recomputed hashes
    (triggers dropped, audit_head fixed): the chain alone is intact, the checkpoint is not."""
    from test_checkpoints import rewrite

    first_promotion = next(e.seq for e in world.promotion.events() if e.kind == "promotion")
    rewrite(world, first_promotion, reason="nothing happened here")
    failed = _failed(world.promotion.verify_release(released))
    assert "the log was rewritten at or before the checkpoint" in failed["registry-audit"]


# -- the command line -------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI on the system clock (the world's registry is a production registry, which
    takes no --clock; its events lie in the past)."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_release_verify_on_the_command_line(
    world: World, released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = str(world.tmp / "registry.sqlite")
    trust = world.tmp / "trust.json"
    trust.write_text(json.dumps(_trust(world).to_dict()))
    artifact = str(world.artifact("v1"))
    code, out, _ = _cli(capsys, "release", "verify", str(released), "--trust", str(trust))
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == len(CHECKS) + 1
    assert lines[7] == "SKIP  artifact: not checked (give --artifact FILE)"
    assert lines[-1].endswith("VERIFIED (8 passed, 5 skipped)")

    code, out, _ = _cli(
        capsys, "release", "verify", str(released), "--artifact", artifact, "--registry", registry
    )
    assert (code, out.splitlines()[-1]) == (
        0,
        f"release {released}: VERIFIED (13 passed, 0 skipped)",
    )

    (released / "release_notes.md").write_text("# Release notes, improved\n")
    code, out, _ = _cli(
        capsys, "release", "verify", str(released), "--registry", registry, "--format", "json"
    )
    document = json.loads(out)
    assert (code, document["ok"], document["exit_code"]) == (EXIT_NOT_VERIFIED, False, 6)
    assert [c["check"] for c in document["checks"] if c["status"] == "FAIL"] == ["notes"]
    assert EXIT_NOT_VERIFIED == EXIT_VERIFY_FAILED == 6


def test_release_verify_usage_errors_exit_2(
    world: World, released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(capsys, "release", "verify", str(released))
    assert code == 2
    assert "give --trust FILE" in err
    code, _, err = _cli(
        capsys, "release", "verify", str(released), "--trust", "t.yaml", "--key-id", "k"
    )
    assert (code, "--key-id: not an option of `canarykit release verify`" in err) == (2, True)
    code, _, err = _cli(capsys, "release", "verify", str(world.tmp / "nope"), "--trust", "t.yaml")
    assert code == 2
    code, _, err = _cli(capsys, "release", MODEL, "v1", "--registry", "r.sqlite")
    assert code == 2
    assert "the following arguments are required: --out, --signing-key, --key-id" in err
    with pytest.raises(InvalidInputError, match="not a release folder"):
        verify_release(world.tmp / "nope", trust=None)


def test_release_through_the_cli_writes_a_release_that_verifies(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.submit("v1")
    world.to_staging("v1")
    world.approvals("v1")
    # released on the system clock: an approval that stays current whenever the test runs
    world.to_approved("v1", world.chg("CHG-1", ["v1"]), revalidate_by="2099-01-01T00:00:00Z")
    key = pem(world.key, world.tmp / "release.pem")
    registry = str(world.tmp / "registry.sqlite")
    out = world.tmp / "cli-release"
    code, text, err = _cli(
        capsys,
        "release",
        MODEL,
        "v1",
        "--out",
        str(out),
        "--signing-key",
        str(key),
        "--key-id",
        "release-key",
        "--registry",
        registry,
        "--actor",
        "olga",
    )
    assert code == 0, err
    assert "release_manifest.dsse.json" in text
    assert world.promotion.verify_release(out, artifact=world.artifact("v1")).ok
    manifest = read_json_bytes((out / "release_manifest.json").read_bytes(), where="m")
    assert manifest["policy_snapshot"]["name"] == "risk-policy"
    verdict = make_verdict("v1", world.policy_digest)
    assert manifest["canary"]["decision"] == verdict["decision"]
