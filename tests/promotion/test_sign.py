"""``canarykit sign`` writes the signature document the gates verify; release takes PEM trust.

The signature document is ``{"signatures": [{"keyid": ID, "sig": BASE64}]}``, Ed25519 over the
UTF-8 bytes of the artifact digest text ``"sha256:<hex>"`` — the format
:func:`canarykit.promotion.evidence.load_signature_file` reads and ``promote --to Staging`` and
``check-startup`` verify. Ed25519 signatures are deterministic (RFC 8032 §5.1.6), so the
command's output must equal ``key.sign(digest_text)`` byte for byte.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import BUILDER_ID, MODEL, World, pem, sbom

from canarykit.cli.main import main
from canarykit.errors import GateDeniedError
from canarykit.promotion.evidence import (
    TrustStore,
    digest_file,
    load_signature_file,
    public_key_text,
    verify_signatures,
)


def _pem_public(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _sign(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sign", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_sign_writes_the_document_the_gates_verify(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = world.artifact("v1")
    key = pem(world.key, world.tmp / "release.pem")
    signature = world.tmp / "sig.json"
    code, out, err = _sign(
        capsys, str(artifact), "--key", str(key), "--key-id", "release-key", "--out", str(signature)
    )
    assert (code, err) == (0, "")
    assert out == f"signed {artifact} with key release-key → {signature}\n"
    document = json.loads(signature.read_text())
    digest = digest_file(artifact)
    expected = base64.b64encode(world.key.sign(digest.encode("utf-8"))).decode("ascii")
    assert document == {"signatures": [{"keyid": "release-key", "sig": expected}]}
    trust = TrustStore.from_dict(
        {"keys": [{"id": "release-key", "public_key": public_key_text(world.key)}]}
    )
    assert verify_signatures(digest, load_signature_file(signature), trust).verified
    # and the Staging gate takes the file as it is
    world.submit("v1")
    result = world.to_staging("v1", signatures=signature, attestation=None)
    assert result.to_stage == "Staging"


def test_sign_prints_the_document_without_out_and_json_with_format_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = Ed25519PrivateKey.generate()
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    path = pem(key, tmp_path / "k.pem")
    code, out, _ = _sign(capsys, str(artifact), "--key", str(path), "--key-id", "k")
    assert code == 0
    assert json.loads(out)["signatures"][0]["keyid"] == "k"
    code, dash, _ = _sign(capsys, str(artifact), "--key", str(path), "--key-id", "k", "--out", "-")
    assert dash == out
    code, report, _ = _sign(
        capsys,
        str(artifact),
        "--key",
        str(path),
        "--key-id",
        "k",
        "--out",
        str(tmp_path / "s.json"),
        "--format",
        "json",
    )
    assert json.loads(report)["out"] == str(tmp_path / "s.json")
    assert json.loads(report)["signatures"] == json.loads(out)["signatures"]


@pytest.mark.parametrize(
    ("key_kind", "message"),
    [
        ("public", "k.pem: signing key: is a public key; signing needs the private key"),
        ("encrypted", "k.pem: signing key: is encrypted; give an unencrypted PEM (PKCS#8) key"),
        ("ecdsa", "k.pem: signing key: not an Ed25519 key (it is an ECDSA key)"),
        ("junk", "k.pem: signing key: not a PEM private key (expected -----BEGIN PRIVATE KEY"),
        ("missing", "k.pem: signing key: cannot read it (No such file or directory)"),
    ],
)
def test_sign_refuses_a_bad_key_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_kind: str, message: str
) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "k.pem"
    if key_kind == "public":
        path.write_text(_pem_public(key))
    elif key_kind == "encrypted":
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            )
        )
    elif key_kind == "ecdsa":
        path.write_bytes(
            generate_private_key(SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    elif key_kind == "junk":
        path.write_bytes(b"\x00\xff not a key")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    out_file = tmp_path / "sig.json"
    code, out, err = _sign(
        capsys, str(artifact), "--key", str(path), "--key-id", "k", "--out", str(out_file)
    )
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert not out_file.exists()


@pytest.mark.parametrize(
    ("artifact", "key_id", "message"),
    [
        ("missing.bin", "k", "missing.bin: cannot read artifact (No such file or directory)"),
        ("empty", "k", "empty: the artifact folder holds no file"),
        ("model.bin", "", "key id: '' must be non-empty text"),
        ("model.bin", "k\x1b[2J", "must be non-empty text without control characters"),
    ],
)
def test_sign_refuses_a_bad_artifact_or_key_id_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    artifact: str,
    key_id: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.bin").write_bytes(b"weights")
    (tmp_path / "empty").mkdir()  # a folder is an artifact too (an MLflow model), not an empty one
    pem(Ed25519PrivateKey.generate(), tmp_path / "k.pem")
    code, out, err = _sign(capsys, artifact, "--key", "k.pem", "--key-id", key_id)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize("form", ["pem", "pem-in-yaml", "base64"])
def test_release_accepts_every_public_key_form_the_trust_file_allows(
    world: World, form: str
) -> None:
    """The trust format allows base64 of the raw key or PEM text; release signs with either."""
    world.approved("v1")
    text = public_key_text(world.key) if form == "base64" else _pem_public(world.key)
    policy_key = public_key_text(world.policy_key)  # the snapshot's sanction is checked too
    if form == "pem-in-yaml":
        trust_file = world.tmp / "trust.yaml"
        indented = "".join(f"      {line}\n" for line in text.splitlines())
        trust_file.write_text(
            f"keys:\n  - id: release-key\n    purposes: [release]\n    public_key: |\n{indented}"
            f"  - id: policy-key\n    purposes: [policy]\n    public_key: {policy_key}\n"
        )
        world.promotion.configure(actor="sam", trust=trust_file)
    else:
        keys = [
            {"id": "release-key", "public_key": text, "purposes": ["release"]},
            {"id": "policy-key", "public_key": policy_key, "purposes": ["policy"]},
        ]
        world.promotion.configure(actor="sam", trust={"keys": keys})
    result = world.promotion.release(
        MODEL,
        "v1",
        out=world.tmp / "release",
        signing_key=pem(world.key, world.tmp / "release.pem"),
        key_id="release-key",
        policy=world.policy_dir,
        actor="olga",
    )
    assert "release_manifest.dsse.json" in result.files
    with pytest.raises(GateDeniedError, match="is not the trusted key"):
        world.promotion.release(
            MODEL,
            "v1",
            out=world.tmp / "other",
            signing_key=Ed25519PrivateKey.generate(),
            key_id="release-key",
            policy=world.policy_dir,
            actor="olga",
        )


def test_a_signed_version_with_a_pem_trust_file_starts(world: World) -> None:
    world.promotion.configure(
        actor="sam",
        trust={
            "keys": [
                {"id": "release-key", "public_key": _pem_public(world.key)},
                {
                    "id": "ci-builder",
                    "public_key": _pem_public(world.builder_key),
                    "purposes": ["provenance"],
                    "builders": [BUILDER_ID],
                },
                {
                    "id": "policy-key",
                    "public_key": _pem_public(world.policy_key),
                    "purposes": ["policy"],
                },
            ]
        },
    )
    world.submit("v1")
    world.to_staging("v1", sbom=sbom())
    check = world.promotion.check_startup(
        MODEL, version="v1", policy_digest=world.policy_digest, artifact=world.artifact("v1")
    )
    assert check.ok, check.problems
