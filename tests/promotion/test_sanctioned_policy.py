"""Sanctioned policies (issue 12): Staging binds only a policy snapshot signed for purpose
``policy`` whose signed file list is exactly the folder's; the registry keeps the bound files.

Every refused attempt is: attempt → the expected denial message → a ``gate_denied`` audit event
carrying it. The table in ``docs/security.md`` ("Evidence: verdicts and policies") lists them.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from promotion_world import (
    MODEL,
    World,
    make_verdict,
    pem,
    shipped_policy,
    sign_policy_folder,
)

from canarykit.cli.main import main
from canarykit.errors import GateDeniedError, PolicyError
from canarykit.promotion.evidence import TrustStore, public_key_text, sign_statement
from canarykit.promotion.sanctioned_policy import (
    POLICY_PREDICATE_TYPE,
    POLICY_SIGNATURE_FILE,
    bound_policy,
    check_policy_signature,
    policy_statement,
    sign_policy,
)
from canarykit.promotion.verdict_attestation import verdict_statement
from canarykit.verdict import evaluate
from canarykit.verdict.policy import load_policy
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
LOOSE_RULE = "    max: 1.10                  # candidate p99 / control p99"


def loose_policy(folder: Path) -> Path:
    """A home-made loose policy: the shipped one with the p99 ratio limit raised to 2.0."""
    shipped_policy(folder)
    text = (folder / "canary.yaml").read_text()
    assert LOOSE_RULE in text
    (folder / "canary.yaml").write_text(text.replace(LOOSE_RULE, "    max: 2.0"))
    return folder


def _staging_denied(w: World, folder: Path, expected: str, **overrides: object) -> None:
    w.submit("v1")
    with pytest.raises(GateDeniedError) as caught:
        w.to_staging("v1", policy=folder, **overrides)
    assert expected in str(caught.value)
    last = w.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert any(expected in reason for reason in last.payload["reasons"])
    assert w.promotion.version(MODEL, "v1").stage == "Candidate"
    assert bound_policy(w.promotion.store.conn, MODEL, "v1") is None


# -- the attempts -----------------------------------------------------------------------------
def loose_policy_unsigned(w: World) -> tuple[Path, dict]:
    return loose_policy(w.tmp / "loose"), {}


def loose_policy_signed_by_a_verdict_key(w: World) -> tuple[Path, dict]:
    folder = loose_policy(w.tmp / "loose")
    sign_policy_folder(folder, w.verdict_key, "verdict-key")
    return folder, {}


def loose_policy_signed_by_an_artifact_key(w: World) -> tuple[Path, dict]:
    folder = loose_policy(w.tmp / "loose")
    sign_policy_folder(folder, w.artifact_key, "artifact-key")
    return folder, {}


def loose_policy_signed_by_an_unknown_key(w: World) -> tuple[Path, dict]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder = loose_policy(w.tmp / "loose")
    sign_policy_folder(folder, Ed25519PrivateKey.generate(), "policy-key")
    return folder, {}


def loose_yaml_under_the_shipped_signature(w: World) -> tuple[Path, dict]:
    folder = w.tmp / "edited"
    shutil.copytree(w.policy_dir, folder)  # the sanctioned folder, signature included ...
    loose = loose_policy(w.tmp / "loose")
    shutil.copy(loose / "canary.yaml", folder / "canary.yaml")  # ... with a loosened YAML
    return folder, {}


def extra_rego_dropped_in(w: World) -> tuple[Path, dict]:
    folder = w.tmp / "extra"
    shutil.copytree(w.policy_dir, folder)
    (folder / "override.rego").write_text(
        "package canarykit.decision\n\nimport rego.v1\n\nhold_reasons contains x if {\n"
        '\tx := "never"\n\tfalse\n}\n'
    )
    return folder, {}


def signed_file_missing(w: World) -> tuple[Path, dict]:
    folder = w.tmp / "missing"
    shutil.copytree(w.policy_dir, folder)
    (folder / "decision.rego").unlink()
    return folder, {}


def another_snapshots_signature(w: World) -> tuple[Path, dict]:
    other = loose_policy(w.tmp / "other-release")  # another (weaker) snapshot, sanctioned too
    signature = sign_policy_folder(other, w.policy_key, name="other-release")
    return w.policy_dir, {"policy_signature": signature}


def verdict_envelope_as_policy_signature(w: World) -> tuple[Path, dict]:
    verdict = make_verdict("v1", w.policy_digest)
    envelope = sign_statement(
        verdict_statement(verdict), purpose="verdict", private_key=w.policy_key, key_id="policy-key"
    )
    return w.policy_dir, {"policy_signature": envelope}


def policy_statement_for_another_purpose(w: World) -> tuple[Path, dict]:
    statement = policy_statement(load_snapshot_files(w.policy_dir), name="risk-policy")
    envelope = sign_statement(
        statement, purpose="release", private_key=w.policy_key, key_id="policy-key"
    )
    return w.policy_dir, {"policy_signature": envelope}


ATTEMPTS: list[tuple[str, Callable[[World], tuple[Path, dict]], str]] = [
    (
        "home-made loose policy, unsigned",
        loose_policy_unsigned,
        "policy: the policy snapshot is not signed: sign it with `canarykit policy sign DIR",
    ),
    (
        "loose policy signed by a verdict key",
        loose_policy_signed_by_a_verdict_key,
        "key 'verdict-key' is not trusted for policy signatures (it signs: verdict)",
    ),
    (
        "loose policy signed by an artifact key",
        loose_policy_signed_by_an_artifact_key,
        "key 'artifact-key' is not trusted for policy signatures (it signs: artifact)",
    ),
    (
        "loose policy signed by an unknown key under a trusted id",
        loose_policy_signed_by_an_unknown_key,
        "signature by 'policy-key' does not verify",
    ),
    (
        "loosened YAML under the sanctioned signature",
        loose_yaml_under_the_shipped_signature,
        "changed file canary.yaml (bytes differ from the signed sha256)",
    ),
    (
        "extra .rego dropped into the folder",
        extra_rego_dropped_in,
        "extra file override.rego (not signed)",
    ),
    (
        "signed file missing from the folder",
        signed_file_missing,
        "missing file decision.rego (signed, not in the folder)",
    ),
    (
        "another snapshot's signature",
        another_snapshots_signature,
        "the signature is for other-release sha256:",
    ),
    (
        "a verdict envelope as the policy signature",
        verdict_envelope_as_policy_signature,
        "is not the policy type 'application/vnd.canarykit.policy-snapshot.v1+json'",
    ),
    (
        "a policy statement signed with the release payload type",
        policy_statement_for_another_purpose,
        "payloadType: 'application/vnd.canarykit.release-manifest.v1+json' is not the policy type",
    ),
]


@pytest.mark.parametrize(
    ("attempt", "expected"), [pytest.param(f, e, id=i) for i, f, e in ATTEMPTS]
)
def test_an_unsanctioned_policy_is_not_bound(
    world: World, attempt: Callable[[World], tuple[Path, dict]], expected: str
) -> None:
    folder, overrides = attempt(world)
    _staging_denied(world, folder, expected, **overrides)


def test_the_loose_policy_would_have_turned_a_stop_into_proceed(world: World) -> None:
    """Why it matters: the latency_tail sample STOPs under the shipped policy, PROCEEDs under
    the home-made one (the issue's finding)."""
    sample = SAMPLES / "latency_tail.parquet"
    assert evaluate(sample, policy=world.policy_dir, log=False).decision == "STOP"
    loose = loose_policy(world.tmp / "loose")
    assert evaluate(sample, policy=loose, log=False).decision == "PROCEED"
    _staging_denied(world, loose, "policy: the policy snapshot is not signed")


def test_a_difference_is_named_file_by_file(world: World) -> None:
    files = load_snapshot_files(world.policy_dir)
    envelope = json.loads((world.policy_dir / POLICY_SIGNATURE_FILE).read_text())
    trust = TrustStore.from_dict(
        {
            "keys": [
                {
                    "id": "policy-key",
                    "public_key": public_key_text(world.policy_key),
                    "purposes": ["policy"],
                }
            ]
        }
    )
    assert check_policy_signature(files, envelope, trust).verified
    edited = {
        **files,
        "canary.yaml": files["canary.yaml"] + b"\n",
        "x.rego": files["decision.rego"],
    }
    del edited["decision.rego"]
    problems = check_policy_signature(edited, envelope, trust).problems
    assert len(problems) == 1
    assert problems[0].startswith(
        "the signed snapshot differs from the folder: extra file x.rego (not signed); missing file"
        " decision.rego (signed, not in the folder); changed file canary.yaml"
    )
    assert f"the folder's snapshot is {snapshot_digest(edited)}" in problems[0]


def test_a_sanctioned_policy_is_bound_and_kept_in_the_registry(world: World) -> None:
    world.submit("v1")
    result = world.to_staging("v1")
    assert result.to_stage == "Staging"
    conn = world.promotion.store.conn
    bound = bound_policy(conn, MODEL, "v1")
    assert bound is not None
    assert (bound.name, bound.digest, bound.key_ids) == (
        "risk-policy",
        world.policy_digest,
        ("policy-key",),
    )
    assert dict(bound.files) == load_snapshot_files(world.policy_dir)
    assert bound.intact
    assert bound.envelope["payloadType"] == "application/vnd.canarykit.policy-snapshot.v1+json"
    event = world.promotion.events(MODEL, kind="promotion")[-1]
    assert event.payload["policy_name"] == "risk-policy"
    assert event.payload["policy_signed_by"] == ["policy-key"]
    # status shows the sanctioned policy's name and digest
    report = world.promotion.status(MODEL)
    assert f"policy risk-policy ({world.policy_digest[:19]}…)" in report.to_text()
    assert report.to_dict()["policies"][0]["digest"] == world.policy_digest
    # the folder may change afterwards: the gates use the bound bytes, not the folder
    (world.policy_dir / "canary.yaml").write_text("schema: nonsense\n")
    world.approvals("v1")
    assert world.to_approved("v1", world.chg("CHG-1", ["v1"])).to_stage == "Approved"


def test_an_edited_bound_policy_row_closes_the_approved_gate(world: World) -> None:
    world.submit("v1")
    world.to_staging("v1")
    loose = load_snapshot_files(loose_policy(world.tmp / "loose"))
    swapped = {n: base64.b64encode(b).decode() for n, b in loose.items()}
    with world.promotion.store.transaction() as conn:  # someone with SQL access to the registry
        conn.execute("UPDATE bound_policies SET files_json = ?", (json.dumps(swapped),))
    world.approvals("v1")
    expected = "the stored policy files no longer hash to the bound digest"
    with pytest.raises(GateDeniedError, match=expected):
        world.to_approved("v1", world.chg("CHG-1", ["v1"]))
    last = world.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert any(expected in r for r in last.payload["reasons"])


def test_a_version_without_a_stored_sanctioned_policy_is_not_approved(world: World) -> None:
    world.submit("v1")
    world.to_staging("v1")
    with world.promotion.store.transaction() as conn:
        conn.execute("DELETE FROM bound_policies")
    world.approvals("v1")
    with pytest.raises(GateDeniedError, match="no sanctioned policy snapshot is stored"):
        world.to_approved("v1", world.chg("CHG-1", ["v1"]))
    assert world.promotion.events()[-1].kind == "gate_denied"


def test_a_policy_key_removed_from_trust_closes_the_approved_gate(world: World) -> None:
    world.submit("v1")
    world.to_staging("v1")
    trust = world.promotion.store.config_get("trust")
    keys = [k for k in json.loads(trust)["keys"] if k["id"] != "policy-key"]
    world.promotion.configure(actor="sam", trust={"keys": keys})
    world.approvals("v1")
    with pytest.raises(GateDeniedError, match="the stored signature no longer holds"):
        world.to_approved("v1", world.chg("CHG-1", ["v1"]))


def test_an_explicit_signature_file_is_used(world: World) -> None:
    elsewhere = world.tmp / "sanctioned.dsse.json"
    (world.policy_dir / POLICY_SIGNATURE_FILE).rename(elsewhere)
    world.submit("v1")
    assert world.to_staging("v1", policy_signature=elsewhere).to_stage == "Staging"


def test_signing_refuses_an_incomplete_or_invalid_policy(tmp_path: Path, world: World) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(world.policy_dir / "canary.yaml", lone / "canary.yaml")
    with pytest.raises(PolicyError, match=r"no decision rules \(\*\.rego\) beside the YAML"):
        sign_policy(lone, world.policy_key, "policy-key")
    broken = shipped_policy(tmp_path / "broken")
    (broken / "canary.yaml").write_text("schema: canarykit.policy/1\nchecks: 5\n")
    with pytest.raises(PolicyError, match="checks: must be a non-empty mapping"):
        sign_policy(broken, world.policy_key, "policy-key")
    with pytest.raises(PolicyError, match="not a policy folder"):
        sign_policy(broken / "canary.yaml", world.policy_key, "policy-key")


def test_policy_sign_on_the_command_line(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shipped_policy(tmp_path / "risk")
    key = pem(world.policy_key, tmp_path / "policy.pem")
    code = main(["policy", "sign", str(folder), "--key", str(key), "--key-id", "policy-key"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    digest = load_policy(folder).digest
    assert out.strip() == (
        f"signed policy risk ({digest}) with key policy-key → {folder / POLICY_SIGNATURE_FILE}"
    )
    envelope = json.loads((folder / POLICY_SIGNATURE_FILE).read_text())
    trust = TrustStore.from_dict(
        {
            "keys": [
                {
                    "id": "policy-key",
                    "public_key": public_key_text(world.policy_key),
                    "purposes": ["policy"],
                }
            ]
        }
    )
    check = check_policy_signature(load_snapshot_files(folder), envelope, trust)
    assert (check.verified, check.name, check.digest) == (True, "risk", digest)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicateType"] == POLICY_PREDICATE_TYPE
    assert statement["subject"] == [{"name": "risk", "digest": {"sha256": digest[7:]}}]
    assert [f["name"] for f in statement["predicate"]["files"]] == ["canary.yaml", "decision.rego"]
    # --out - prints the envelope; --format json describes what was written
    assert (
        main(["policy", "sign", str(folder), "--key", str(key), "--key-id", "k", "--out", "-"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["payloadType"].endswith("policy-snapshot.v1+json")
    assert (
        main(
            [
                "policy",
                "sign",
                str(folder),
                "--key",
                str(key),
                "--key-id",
                "k",
                "--name",
                "r-1",
                "--out",
                str(tmp_path / "s.json"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["name"] == "r-1"
    # bad input: one line, exit 2, nothing written
    for argv, message in (
        (
            ["policy", "sign", str(tmp_path / "nope"), "--key", str(key), "--key-id", "k"],
            "not a policy folder",
        ),
        (
            ["policy", "sign", str(folder), "--key", str(folder / "canary.yaml"), "--key-id", "k"],
            "not a PEM private key",
        ),
        (
            ["policy", "sign", str(folder), "--key", str(key), "--key-id", "k", "--name", "a b"],
            "--name: 'a b' must be",
        ),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err
        assert err.count("\n") == 1
