"""The promotion commands end to end through ``canarykit.cli.main.main`` (exit codes, output)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.cli.main import main
from canarykit.promotion.evidence import digest_file, public_key_text, sign_digest
from canarykit.verdict.policy import default_policy_path
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

MODEL = "risk-default"


def pem_file(key: Ed25519PrivateKey, path: Path) -> Path:
    """Write ``key`` as an unencrypted PKCS#8 PEM file."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def public_text(pem: Path) -> str:
    """The trust-file form of the public half of the key in ``pem``."""
    return public_key_text(serialization.load_pem_private_key(pem.read_bytes(), password=None))


class Cli:
    """Runs canarykit commands against one registry, with a fixed clock."""

    def __init__(self, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp, self.capsys = tmp, capsys
        self.registry = str(tmp / "reg.sqlite")
        self.clock = "2026-11-25T10:00:00Z"
        self.key = Ed25519PrivateKey.generate()
        self.verdict_pem = pem_file(Ed25519PrivateKey.generate(), tmp / "verdict.pem")
        self.policy_pem = pem_file(Ed25519PrivateKey.generate(), tmp / "policy.pem")
        self.policy = tmp / "policy"  # the shipped policy, sanctioned in setup()
        shutil.copytree(
            default_policy_path(), self.policy, ignore=shutil.ignore_patterns("promotion")
        )
        self.digest = snapshot_digest(load_snapshot_files(self.policy))

    def __call__(self, *argv: str, actor: str | None = "olga") -> tuple[int, str, str]:
        args = [*argv, "--registry", self.registry, "--clock", self.clock]
        if actor is not None:
            args += ["--actor", actor]
        code = main(args)
        out, err = self.capsys.readouterr()
        return code, out, err

    def file(self, name: str, data: object) -> str:
        path = self.tmp / name
        text = yaml.safe_dump(data) if name.endswith(".yaml") else json.dumps(data)
        path.write_text(text)
        return str(path)

    def artifact(self, version: str) -> str:
        path = self.tmp / f"{version}.bin"
        path.write_bytes(f"weights {version}".encode())
        return str(path)

    def setup(self) -> None:
        roster = {
            "people": {
                "ann": ["product"],
                "sam": ["security"],
                "sue": ["security"],
                "pat": ["product"],
                "olga": ["operations"],
                "otto": ["operations"],
                "eve": ["executive"],
            }
        }
        calendar = {
            "windows": [
                {
                    "name": "weekdays",
                    "weekly": {
                        "days": ["mon", "tue", "wed", "thu", "fri"],
                        "start": "08:00",
                        "end": "18:00",
                    },
                }
            ],
            "freezes": [{"name": "month-end close", "monthly": {"last_days": 3}}],
        }
        trust = {
            "keys": [
                {
                    "id": "release-key",
                    "public_key": public_key_text(self.key),
                    "purposes": ["artifact", "release"],  # signs artifacts and releases
                }
            ]
        }
        assert self("config", "set-roster", self.file("roster.yaml", roster), actor="admin")[0] == 0
        trust["keys"] += [  # issue 12: verdicts and policies are signed by keys for that purpose
            {
                "id": "verdict-key",
                "public_key": public_text(self.verdict_pem),
                "purposes": ["verdict"],
            },
            {
                "id": "policy-key",
                "public_key": public_text(self.policy_pem),
                "purposes": ["policy"],
            },
        ]
        assert self("config", "set-trust", self.file("trust.yaml", trust), actor="sam")[0] == 0
        sign = ("policy", "sign", str(self.policy), "--key", str(self.policy_pem))
        assert main([*sign, "--key-id", "policy-key", "--name", "risk-policy"]) == 0
        assert self("config", "set-calendar", self.file("cal.yaml", calendar), actor="olga")[0] == 0

    def ticket(self, chg: str, versions: list[str], kind: str = "Normal") -> str:
        return self.file(
            f"{chg}.yaml",
            {
                "id": chg,
                "type": kind,
                "scope": {"model": MODEL, "versions": versions},
                "risk": "low",
                "impact": "scoring",
                "steps": ["go"],
                "backout_plan": "rollback",
                "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-11-27T18:00:00Z"},
                "post_change_validation": ["check-startup"],
                "owners": ["olga"],
            },
        )

    def to_approved(self, version: str) -> None:
        artifact = self.artifact(version)
        assert self("submit", MODEL, version, "--artifact", artifact, actor="ann")[0] == 0
        assert (
            self(
                "approve", MODEL, version, "--role", "security", "--stage", "Staging", actor="sam"
            )[0]
            == 0
        )
        sig = self.file(
            f"{version}.sig.json",
            {"signatures": [sign_digest(self.key, "release-key", digest_file(artifact))]},
        )
        sbom = self.file(
            f"{version}.cdx.json",
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "components": [{"type": "library", "name": "numpy", "version": "2.0.0"}],
                "vulnerabilities": [],
            },
        )
        code, out, err = self(
            "promote",
            MODEL,
            version,
            "--to",
            "Staging",
            "--signature",
            sig,
            "--sbom",
            sbom,
            "--policy",
            str(self.policy),
            "--artifact",
            artifact,
        )
        assert code == 0, err
        assert "Candidate → Staging" in out
        verdict = self.file(
            f"{version}.verdict.json",
            {
                "schema": "canarykit.verdict/1",
                "decision": "PROCEED",
                "model": MODEL,
                "baseline": "v0",
                "candidate": version,
                "mode": "canary",
                "reasons": [],
                "window": {
                    "start": "2026-11-24T00:00:00+00:00",
                    "end": "2026-11-25T00:00:00+00:00",
                },
                "checks": [
                    {"name": name, "status": "pass", "ci_low": 0.0, "ci_high": 0.0}
                    for name in ("latency_p95", "latency_p99", "error_rate", "sample_ratio")
                ],
                "policy_digest": self.digest,
                "data_digest": "sha256:" + "d" * 64,
            },
        )
        signed = str(self.tmp / f"{version}.verdict.dsse.json")  # a hand-built verdict, signed
        attest = ("attest", verdict, "--key", str(self.verdict_pem), "--key-id", "verdict-key")
        assert main([*attest, "--out", signed]) == 0
        code, out, err = self(
            "approve", MODEL, version, "--role", "product", "--verdict", verdict, actor="pat"
        )
        assert code == 4
        assert "a plain JSON verdict is not evidence: sign it with `canarykit attest" in err
        verdict = signed
        for role, who in (("security", "sue"), ("product", "pat")):
            approve = ("approve", MODEL, version, "--role", role, "--verdict", verdict)
            assert self(*approve, actor=who)[0] == 0
        chg = f"CHG-{version.replace('.', '')}"
        assert self("change", "create", self.ticket(chg, [version]))[0] == 0
        assert self("change", "approve", chg, "--role", "operations", actor="otto")[0] == 0
        assert self("change", "approve", chg, "--role", "executive", actor="eve")[0] == 0
        card = str(self.tmp / f"{version}.card.cdx.json")  # issue 12: model card and ADR
        assert main(["model-card", verdict, "--out", card]) == 0
        adr = self.tmp / f"ADR-{len(list(self.tmp.glob('ADR-*'))) + 1}.md"
        adr.write_text(f"# {adr.stem}: promote {MODEL} {version}\n")
        self.capsys.readouterr()
        add = ("evidence", "add", MODEL, version, "--model-card", card, "--decision-record")
        assert self(*add, str(adr))[0] == 0
        code, out, err = self(
            "promote",
            MODEL,
            version,
            "--to",
            "Approved",
            "--verdict",
            verdict,
            "--revalidate-by",
            "2027-01-31T00:00:00Z",
            "--chg",
            chg,
        )
        assert code == 0, err


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("CANARYKIT_ALLOW_CLOCK_OVERRIDE", "1")
    runner = Cli(tmp_path, capsys)
    runner.setup()
    return runner


def test_seed_flow_through_the_cli(cli: Cli) -> None:
    cli.to_approved("v1")
    std = cli.ticket("CHG-STD", ["v1"], kind="Standard")
    assert cli("change", "create", std)[0] == 0
    code, out, _ = cli("change", "show", "CHG-STD", actor=None)
    assert code == 0
    assert "CHG-STD (Standard" in out
    code, out, err = cli("alias", "set", MODEL, "v1", "--expect", "none", "--chg", "CHG-STD")
    assert code == 0, err
    assert "production of risk-default → v1 (generation 1)" in out
    code, out, _ = cli("status", MODEL, "--format", "json", actor=None)
    assert json.loads(out)["aliases"][0]["version"] == "v1"

    pem = cli.tmp / "release.pem"
    pem.write_bytes(
        cli.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    out_dir = cli.tmp / "rel"
    code, out, err = cli(
        "release",
        MODEL,
        "v1",
        "--out",
        str(out_dir),
        "--signing-key",
        str(pem),
        "--key-id",
        "release-key",
        "--policy",
        str(cli.policy),
    )
    assert code == 0, err
    assert (out_dir / "release_manifest.json").is_file()
    assert (out_dir / "policy_snapshot" / "snapshot.dsse.json").is_file()
    code, out, err = cli(
        "release", "verify", str(out_dir), "--artifact", str(cli.tmp / "v1.bin"), actor=None
    )
    assert code == 0, out + err
    assert out.splitlines()[-1].endswith("VERIFIED (12 passed, 0 skipped)")

    code, out, _ = cli(
        "check-startup", MODEL, "--policy-digest", cli.digest, "--artifact", str(cli.tmp / "v1.bin")
    )
    assert (code, out.splitlines()[0]) == (0, "OK risk-default v1 (production): may start")
    v1_bin = str(cli.tmp / "v1.bin")
    code, out, _ = cli(
        "check-startup", MODEL, "--policy-digest", "sha256:" + "0" * 64, "--artifact", v1_bin
    )
    assert code == 15
    assert "runbook:" in out

    code, out, _ = cli("revoke", MODEL, "v1", "--reason", "leak", actor="sam")
    assert code == 0
    assert "production BLOCKED" in out
    code, out, _ = cli("check-startup", MODEL, "--policy-digest", cli.digest, "--artifact", v1_bin)
    assert code == 10
    code, out, _ = cli(
        "check-startup",
        MODEL,
        "--version",
        "v1",
        "--policy-digest",
        cli.digest,
        "--artifact",
        v1_bin,
    )
    assert code == 11
    assert "FAIL risk-default v1" in out
    code, out, _ = cli("alias", "history", MODEL, actor=None)
    assert "revocation" in out
    assert "BLOCKED" in out

    code, out, _ = cli("audit", "verify", actor=None)
    assert code == 0
    assert "audit log intact" in out
    export = cli.tmp / "audit.jsonl"
    assert cli("audit", "export", "--out", str(export), actor=None)[0] == 0
    kinds = [json.loads(line)["kind"] for line in export.read_text().splitlines()]
    for kind in ("promotion", "approval", "alias_update", "revocation", "release", "gate_denied"):
        assert kind in kinds


def test_denials_exit_4_with_reasons_and_audit_event(cli: Cli) -> None:
    assert cli("submit", MODEL, "v1", "--artifact", cli.artifact("v1"), actor="ann")[0] == 0
    code, _, err = cli("approve", MODEL, "v1", "--role", "product", actor="ann")
    assert code == 4
    assert "four-eyes: ann submitted risk-default v1" in err
    code, out, _ = cli("audit", "export", "--out", "-", actor=None)
    assert json.loads(out.splitlines()[-1])["kind"] == "gate_denied"


def test_stale_compare_and_set_exits_4(cli: Cli) -> None:
    cli.to_approved("v1")
    cli.to_approved("v2")
    assert cli("change", "create", cli.ticket("CHG-S", ["v1", "v2"], kind="Standard"))[0] == 0
    assert cli("alias", "set", MODEL, "v1", "--expect", "none", "--chg", "CHG-S")[0] == 0
    code, _, err = cli("alias", "set", MODEL, "v2", "--expect", "none", "--chg", "CHG-S")
    assert code == 4
    assert "compare-and-set: production is v1" in err
    assert cli("alias", "set", MODEL, "v2", "--expect", "v1", "--chg", "CHG-S")[0] == 0
    code, out, _ = cli("rollback", MODEL, "--chg", "CHG-S")
    assert code == 0
    assert "rolled back to v1" in out


def test_tampered_audit_log_exits_5(cli: Cli) -> None:
    conn = sqlite3.connect(cli.registry)
    conn.executescript(
        "DROP TRIGGER events_append_only_update;UPDATE events SET actor = 'mallory' WHERE seq = 1;"
    )
    conn.close()
    code, out, _ = cli("audit", "verify", actor=None)
    assert code == 5
    assert "seq 1: hash does not match" in out


def test_fixed_clock_needs_explicit_permission(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANARYKIT_ALLOW_CLOCK_OVERRIDE")
    code, _, err = cli("status", actor=None)
    assert code == 2
    assert "CANARYKIT_ALLOW_CLOCK_OVERRIDE=1" in err


def test_missing_registry_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["status", "--registry", str(tmp_path / "nope.sqlite")])
    assert code == 2
    assert "registry does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nope.sqlite").exists()


def test_bad_ticket_file_lists_every_field_error(cli: Cli) -> None:
    code, _, err = cli("change", "create", cli.file("bad.yaml", {"id": "CHG-1", "type": "Big"}))
    assert code == 2
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    for field in ("type: 'Big'", "scope: required", "window: required", "owners: required"):
        assert field in err


def test_check_startup_help_documents_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check-startup", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code in (
        "0 may start",
        "10 resolve",
        "11 revoked",
        "12 stage",
        "13 artifact",
        "14 signature",
        "15 policy",
        "16 audit",
        "17 undecided",
        "18 degraded",
    ):
        assert code in text
