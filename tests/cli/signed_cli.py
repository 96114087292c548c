"""A signed registry driven through ``canarykit.cli.main.main``: people with keys, the system
clock (a production registry), or a drill registry with a fixed ``--clock``.

Used by the CLI tests of the signed flow (issue 13): every person gets a key from
``canarykit keygen``, the roster lists its public half, every act passes ``--key``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from canarykit.cli.main import main
from canarykit.verdict.policy import default_policy_path
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

MODEL = "risk-default"
PEOPLE = {
    "ann": "product",
    "pat": "product",
    "sam": "security",
    "sue": "security",
    "olga": "operations",
    "otto": "operations",
    "eve": "executive",
}
TRUST_KEYS = {  # trust-file keys: id -> purposes
    "release-key": ["artifact", "release"],
    "verdict-key": ["verdict"],
    "policy-key": ["policy"],
}
# commands that are a person's act (take --key)
ACTS = {
    ("submit",),
    ("approve",),
    ("waive",),
    ("revoke",),
    ("change", "create"),
    ("change", "approve"),
    ("config", "bootstrap"),
    ("config", "set-roster"),
    ("config", "set-trust"),
    ("config", "set-calendar"),
    ("config", "propose"),
    ("config", "approve"),
}


def iso(when: dt.datetime) -> str:
    """ISO 8601 UTC text with a Z."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_act(argv: tuple[str, ...]) -> bool:
    """Whether ``argv`` runs a person's act."""
    return argv[:1] in ACTS or argv[:2] in ACTS


class Cli:
    """Runs canarykit commands against one registry.

    ``drill=False``: a production registry on the system clock (calendar and ticket windows
    around now). ``drill=True``: a drill registry with the fixed clock ``2026-11-25T10:00:00Z``.
    An act passes ``--key KEYS/<actor>.pem`` unless ``key=None`` (or another file is given).
    """

    def __init__(self, tmp: Path, capsys: pytest.CaptureFixture[str], *, drill: bool) -> None:
        self.tmp, self.capsys, self.drill = tmp, capsys, drill
        self.registry = str(tmp / ("drill.sqlite" if drill else "reg.sqlite"))
        self.keys = tmp / "keys"
        self.keys.mkdir(exist_ok=True)
        self.public: dict[str, str] = {}
        for name in [*PEOPLE, *TRUST_KEYS]:
            self.public[name] = self.keygen(name)
        self.now = (
            dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC) if drill else dt.datetime.now(dt.UTC)
        )
        self.clock = iso(self.now) if drill else None
        self.policy = tmp / "policy"  # the shipped policy, sanctioned in setup()
        if not self.policy.exists():
            shutil.copytree(
                default_policy_path(), self.policy, ignore=shutil.ignore_patterns("promotion")
            )
        self.digest = snapshot_digest(load_snapshot_files(self.policy))

    def keygen(self, name: str) -> str:
        """Make ``KEYS/name.pem`` with ``canarykit keygen``; the public key text."""
        path = self.keys / f"{name}.pem"
        if not path.exists():
            assert main(["keygen", "--out", str(path), "--format", "json"]) == 0
            (self.keys / f"{name}.pub").write_text(
                json.loads(self.capsys.readouterr().out)["public_key"]
            )
        return (self.keys / f"{name}.pub").read_text()

    def pem(self, name: str) -> str:
        return str(self.keys / f"{name}.pem")

    def __call__(
        self, *argv: str, actor: str | None = "olga", key: str | None = "", clock: bool = True
    ) -> tuple[int, str, str]:
        args = [*argv, "--registry", self.registry]
        if self.clock is not None and clock:
            args += ["--clock", self.clock]
        if actor is not None:
            args += ["--actor", actor]
            if is_act(argv) and key is not None:
                args += ["--key", key or self.pem(actor)]
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

    # -- configuration --------------------------------------------------------------------
    def roster(self, **extra: Any) -> dict[str, Any]:
        people: dict[str, Any] = {
            name: {"roles": [role], "keys": [self.public[name]]} for name, role in PEOPLE.items()
        }
        people.update(extra)
        return {"people": people}

    def trust(self) -> dict[str, Any]:
        return {
            "keys": [
                {"id": name, "public_key": self.public[name], "purposes": purposes}
                for name, purposes in TRUST_KEYS.items()
            ]
        }

    def calendar(self) -> dict[str, Any]:
        if self.drill:
            return {
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
        start, end = self.now - dt.timedelta(days=1), self.now + dt.timedelta(days=30)
        return {"windows": [{"name": "open", "start": iso(start), "end": iso(end)}]}

    def setup(self) -> None:
        init = ("config", "init", "--actor", "sam", *(("--drill",) if self.drill else ()))
        code, _, err = self(*init, actor=None)
        assert code == 0, err
        code, _, err = self(
            "config",
            "bootstrap",
            "--roster",
            self.file("roster.yaml", self.roster()),
            "--trust",
            self.file("trust.yaml", self.trust()),
            "--calendar",
            self.file("cal.yaml", self.calendar()),
            actor="sam",
        )
        assert code == 0, err
        sign = ("policy", "sign", str(self.policy), "--key", self.pem("policy-key"))
        assert main([*sign, "--key-id", "policy-key", "--name", "risk-policy"]) == 0
        self.capsys.readouterr()

    # -- the seed flow ----------------------------------------------------------------------
    def ticket(self, chg: str, versions: list[str], kind: str = "Normal") -> str:
        start, end = self.now - dt.timedelta(hours=2), self.now + dt.timedelta(days=2)
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
                "window": {"start": iso(start), "end": iso(end)},
                "post_change_validation": ["check-startup"],
                "owners": ["olga"],
            },
        )

    def verdict(self, version: str) -> str:
        """A hand-built PROCEED verdict for ``version``, signed with the verdict key."""
        end = self.now - dt.timedelta(hours=1)
        plain = self.file(
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
                    "start": (end - dt.timedelta(days=1)).isoformat(),
                    "end": end.isoformat(),
                },
                "checks": [
                    {"name": name, "status": "pass", "ci_low": 0.0, "ci_high": 0.0}
                    for name in ("latency_p95", "latency_p99", "error_rate", "sample_ratio")
                ],
                "policy_digest": self.digest,
                "data_digest": "sha256:" + "d" * 64,
            },
        )
        signed = str(self.tmp / f"{version}.verdict.dsse.json")
        attest = ("attest", plain, "--key", self.pem("verdict-key"), "--key-id", "verdict-key")
        assert main([*attest, "--out", signed]) == 0
        self.capsys.readouterr()
        return signed

    def to_staging(self, version: str) -> None:
        artifact = self.artifact(version)
        code, _, err = self("submit", MODEL, version, "--artifact", artifact, actor="ann")
        assert code == 0, err
        approve = ("approve", MODEL, version, "--role", "security", "--stage", "Staging")
        code, _, err = self(*approve, actor="sam")
        assert code == 0, err
        sig = str(self.tmp / f"{version}.sig.json")
        sign = ("sign", artifact, "--key", self.pem("release-key"), "--key-id", "release-key")
        assert main([*sign, "--out", sig]) == 0
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
            *("promote", MODEL, version, "--to", "Staging", "--signature", sig, "--sbom", sbom),
            *("--policy", str(self.policy), "--artifact", artifact),
        )
        assert code == 0, err
        assert "Candidate → Staging" in out

    def to_approved(self, version: str) -> str:
        """Submit, stage and approve ``version``; returns the change ticket id."""
        self.to_staging(version)
        verdict = self.verdict(version)
        for role, who in (("security", "sue"), ("product", "pat")):
            code, _, err = self(
                "approve", MODEL, version, "--role", role, "--verdict", verdict, actor=who
            )
            assert code == 0, err
        chg = f"CHG-{version.replace('.', '')}"
        code, _, err = self("change", "create", self.ticket(chg, [version]))
        assert code == 0, err
        for role, who in (("operations", "otto"), ("executive", "eve")):
            code, _, err = self("change", "approve", chg, "--role", role, actor=who)
            assert code == 0, err
        card = str(self.tmp / f"{version}.card.cdx.json")
        assert main(["model-card", verdict, "--out", card]) == 0
        adr = self.tmp / f"ADR-{len(list(self.tmp.glob('ADR-*'))) + 1}.md"
        adr.write_text(f"# {adr.stem}: promote {MODEL} {version}\n")
        self.capsys.readouterr()
        add = ("evidence", "add", MODEL, version, "--model-card", card, "--decision-record")
        code, _, err = self(*add, str(adr))
        assert code == 0, err
        revalidate = iso(self.now + dt.timedelta(days=60))
        code, _, err = self(
            *("promote", MODEL, version, "--to", "Approved", "--verdict", verdict),
            *("--revalidate-by", revalidate, "--chg", chg),
        )
        assert code == 0, err
        return chg
