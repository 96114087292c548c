"""Offline evidence: Ed25519 signatures, DSSE/in-toto/SLSA envelopes, CycloneDX SBOMs."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import InvalidInputError
from canarykit.promotion.evidence import (
    TrustStore,
    digest_bytes,
    dsse_pae,
    public_key_text,
    sign_digest,
    verify_dsse,
    verify_signatures,
)
from canarykit.promotion.sbom import evaluate_sbom

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
TRUST = TrustStore.from_dict({"keys": [{"id": "k1", "public_key": public_key_text(KEY)}]})
BUILDER = "https://ci.example/builder@v1"
PROVENANCE_TRUST = TrustStore.from_dict(
    {
        "keys": [
            {
                "id": "k1",
                "public_key": public_key_text(KEY),
                "purposes": ["provenance"],
                "builders": [BUILDER],
            }
        ]
    }
)
DIGEST = digest_bytes(b"weights")


def test_pem_public_keys_are_accepted() -> None:
    pem = (
        KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    trust = TrustStore.from_dict({"keys": [{"id": "k1", "public_key": pem}]})
    assert verify_signatures(DIGEST, [sign_digest(KEY, "k1", DIGEST)], trust).verified


def test_trust_file_errors_are_collected_with_paths() -> None:
    with pytest.raises(InvalidInputError) as caught:
        TrustStore.from_dict(
            {
                "keys": [
                    {"id": "a", "public_key": "not base64!"},
                    {"public_key": public_key_text(KEY)},
                    {"id": "b", "public_key": public_key_text(KEY)},
                    {"id": "b", "public_key": public_key_text(KEY)},
                ]
            }
        )
    message = str(caught.value)
    for part in ("keys[0].public_key", "keys[1].id: required", "keys[3].id: duplicate"):
        assert part in message


@pytest.mark.parametrize(
    ("signatures", "trust", "problem"),
    [
        ([], TRUST, "no signature supplied although trust is configured"),
        ([sign_digest(KEY, "k1", DIGEST)], None, "no trust file configured"),
        ([sign_digest(OTHER, "k1", DIGEST)], TRUST, "signature by 'k1' does not verify"),
        ([sign_digest(KEY, "k9", DIGEST)], TRUST, "key 'k9' is not in the trust file"),
        ([sign_digest(KEY, "k1", digest_bytes(b"other"))], TRUST, "does not verify"),
        (
            [sign_digest(KEY, "k1", DIGEST), sign_digest(OTHER, "k1", DIGEST)],
            TRUST,
            "signatures[1]: signature by 'k1' does not verify",
        ),
        ([{"keyid": "k1"}], TRUST, "needs string fields keyid and sig"),
        ([{"keyid": "k1", "sig": "%%%"}], TRUST, "does not verify"),
    ],
)
def test_signature_failures(signatures: list, trust: TrustStore | None, problem: str) -> None:
    check = verify_signatures(DIGEST, signatures, trust)
    assert not check.verified
    assert any(problem in p for p in check.problems)


def _envelope(statement: dict, *, key: Ed25519PrivateKey = KEY, kind: str | None = None) -> dict:
    kind = kind or "application/vnd.in-toto+json"
    payload = json.dumps(statement).encode()
    sig = base64.b64encode(key.sign(dsse_pae(kind, payload))).decode()
    return {
        "payloadType": kind,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "k1", "sig": sig}],
    }


STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "model.bin", "digest": {"sha256": DIGEST.removeprefix("sha256:")}}],
    "predicateType": "https://slsa.dev/provenance/v1",
    "predicate": {"runDetails": {"builder": {"id": BUILDER}}},
}


def test_valid_dsse_envelope() -> None:
    check = verify_dsse(_envelope(STATEMENT), DIGEST, PROVENANCE_TRUST)
    assert (check.verified, check.subject_matches, check.key_ids) == (True, True, ("k1",))


def test_provenance_needs_a_provenance_key_and_one_of_its_builders() -> None:
    artifact_key_only = verify_dsse(_envelope(STATEMENT), DIGEST, TRUST)
    assert not artifact_key_only.verified
    assert any("not trusted for provenance" in p for p in artifact_key_only.problems)
    other_builder = {**STATEMENT, "predicate": {"runDetails": {"builder": {"id": "https://evil"}}}}
    check = verify_dsse(_envelope(other_builder), DIGEST, PROVENANCE_TRUST)
    assert not check.verified
    assert any("is not a builder the signing key is trusted for" in p for p in check.problems)
    old_slsa = {**STATEMENT, "predicateType": "https://slsa.dev/provenance/v0.2"}
    assert not verify_dsse(_envelope(old_slsa), DIGEST, PROVENANCE_TRUST).verified


@pytest.mark.parametrize(
    ("envelope", "problem"),
    [
        (
            _envelope({**STATEMENT, "subject": [{"digest": {"sha256": "0" * 64}}]}),
            "statement.subject",
        ),
        (
            _envelope({**STATEMENT, "predicateType": "https://example.com/other"}),
            "is not SLSA provenance",
        ),
        (_envelope({**STATEMENT, "_type": "https://in-toto.io/Statement/v0.1"}), "statement._type"),
        (_envelope(STATEMENT, key=OTHER), "does not verify"),
        (_envelope(STATEMENT, kind="text/plain"), "payloadType"),
        ({**_envelope(STATEMENT), "signatures": []}, "the envelope is not signed"),
        ({"payloadType": "application/vnd.in-toto+json", "payload": "@@"}, "not base64"),
    ],
)
def test_dsse_failures(envelope: dict, problem: str) -> None:
    check = verify_dsse(envelope, DIGEST, PROVENANCE_TRUST)
    assert not check.verified
    assert any(problem in p for p in check.problems)


def test_sbom_severity_and_analysis() -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "vulnerabilities": [
            {"id": "CVE-1", "ratings": [{"severity": "unknown"}]},
            {
                "id": "CVE-2",
                "ratings": [{"severity": "medium"}],
                "analysis": {"state": "exploitable"},
            },
            {
                "id": "CVE-3",
                "ratings": [{"severity": "critical"}],
                "analysis": {"state": "resolved"},
            },
            {"id": "CVE-4"},
        ],
    }
    check = evaluate_sbom(bom)
    assert [(v.id, v.rank) for v in check.vulnerabilities] == [
        ("CVE-1", 5),
        ("CVE-2", 3),
        ("CVE-3", 5),
        ("CVE-4", 5),
    ]
    assert check.max_open_severity == "critical"  # unrated counts as critical, resolved does not
    assert check.valid


@pytest.mark.parametrize(
    ("bom", "problem"),
    [
        (None, "no SBOM supplied"),
        ({"bomFormat": "SPDX"}, "bomFormat"),
        ({"bomFormat": "CycloneDX", "vulnerabilities": {}}, "vulnerabilities: must be a list"),
        ({"bomFormat": "CycloneDX", "vulnerabilities": [{"ratings": []}]}, "vulnerabilities[0].id"),
    ],
)
def test_unusable_sboms(bom: object, problem: str) -> None:
    check = evaluate_sbom(bom)
    assert not check.valid
    assert any(problem in p for p in check.problems)
