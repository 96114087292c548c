"""A fully configured promotion world for tests: keys, trust, roster, calendar, evidence.

Every person of the roster has an Ed25519 key (:data:`PEOPLE_KEYS`, derived from their name so
that :data:`ROSTER` is a constant), and the world's registry is a :class:`SignedPromotion`: it
signs each person's acts with their key unless a call passes ``key=`` itself (``key=None``
acts unsigned) — one process holding everyone's keys, which only a test does.

(A uniquely named helper module rather than ``conftest`` so that ``from ... import`` never
picks up another folder's conftest.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.errors import CanaryError
from canarykit.promotion.api import Promotion
from canarykit.promotion.approvals import person_key
from canarykit.promotion.clock import FixedClock, parse_instant
from canarykit.promotion.config_changes import CONFIG_ROLES
from canarykit.promotion.evidence import digest_file, dsse_pae, public_key_text, sign_digest
from canarykit.promotion.model_card import build_model_card, load_verdict
from canarykit.promotion.sanctioned_policy import default_signature_path, sign_policy
from canarykit.promotion.verdict_attestation import attest_verdict, is_envelope
from canarykit.promotion.verdicts import verdict_digest
from canarykit.verdict.policy import default_policy_path, load_policy
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

MODEL = "risk-default"
# Wednesday 25 November 2026, 10:00 UTC: inside the weekday window, before the month-end freeze.
START = "2026-11-25T10:00:00Z"
BUILDER_ID = "https://ci.example/builder@v1"

ROLES_OF = {
    "ann": ["product"],
    "sam": ["security"],
    "sue": ["security"],
    "pat": ["product"],
    "olga": ["operations"],
    "otto": ["operations"],
    "eve": ["executive"],
    "max": ["product", "security"],
}


def person_private_key(name: str) -> Ed25519PrivateKey:
    """The test key of ``name``: derived from the name, so the roster is a constant."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"canarykit test key of {name}".encode()).digest()
    )


PEOPLE_KEYS = {name: person_private_key(name) for name in ROLES_OF}
ROSTER = {
    "people": {
        name: {"roles": roles, "keys": [public_key_text(PEOPLE_KEYS[name])]}
        for name, roles in ROLES_OF.items()
    }
}
_KEYRING: Any = object()  # "sign with the keyring's key for the actor"


class SignedPromotion(Promotion):
    """A :class:`Promotion` whose acts are signed with the actor's key from ``keyring``
    (default :data:`PEOPLE_KEYS`) unless a call passes ``key=`` itself (None: unsigned).

    ``configure`` on a configured registry is a test shortcut for a change under four eyes:
    the actor proposes it and a second person of the keyring with the right role approves.
    """

    def __init__(
        self, *args: Any, keyring: dict[str, Ed25519PrivateKey] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.keyring = dict(PEOPLE_KEYS if keyring is None else keyring)

    def _key(self, actor: Any, key: Any) -> Any:
        if key is not _KEYRING:
            return key
        return self.keyring.get(person_key(actor)) if isinstance(actor, str) else None

    def submit(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().submit(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def approve(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().approve(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def approve_vex(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().approve_vex(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def waive(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().waive(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def revoke(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().revoke(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def create_change(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().create_change(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def approve_change(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().approve_change(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def bootstrap(self, *, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().bootstrap(actor=actor, key=self._key(actor, key), **kwargs)

    def propose_config(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().propose_config(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def approve_config(self, *args: Any, actor: str, key: Any = _KEYRING, **kwargs: Any) -> Any:
        return super().approve_config(*args, actor=actor, key=self._key(actor, key), **kwargs)

    def configure(self, *, actor: str, key: Any = _KEYRING, **documents: Any) -> Any:
        """Bootstrap a new registry; on a configured one, propose each document as ``actor``
        and have a second person with the role approve it (returns the digests in force)."""
        documents = {k: v for k, v in documents.items() if v is not None}
        if self.config_document("roster") is None:
            return self.bootstrap(actor=actor, key=key, **documents)
        digests = {}
        for name, document in documents.items():
            proposal = self.propose_config(name, document, actor=actor, key=key)
            roster = self.config_document("roster") or {"people": {}}
            second = next(
                person
                for person, entry in roster["people"].items()
                if person != person_key(actor)
                and person in self.keyring
                and set(CONFIG_ROLES[name])
                & set(entry["roles"] if isinstance(entry, dict) else entry)
                and (name != "roster" or entry == proposal.document["people"].get(person))
            )
            digests[name] = self.approve_config(proposal.proposal_id, actor=second).digest
        return digests


def world_registry(path: Any, *, clock: FixedClock | None = None) -> SignedPromotion:
    """A :class:`SignedPromotion` at ``path`` whose system clock is ``clock`` (default: a
    fixed clock at :data:`START`): the world's time is the time, as in a production registry."""
    clock = clock or FixedClock(parse_instant(START))
    promotion = SignedPromotion(path, clock=clock)
    promotion.wall_clock = clock
    return promotion


CALENDAR = {
    "windows": [
        {
            "name": "weekday daytime",
            "weekly": {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "08:00",
                "end": "18:00",
            },
        }
    ],
    "freezes": [
        {"name": "month-end close", "monthly": {"last_days": 3}},
        {
            "name": "year-end holidays",
            "start": "2026-12-24T00:00:00Z",
            "end": "2027-01-02T00:00:00Z",
        },
    ],
}


def shipped_policy(folder: Path) -> Path:
    """A copy of the shipped canary policy (YAML + decision.rego) in ``folder``."""
    shutil.copytree(default_policy_path(), folder, ignore=shutil.ignore_patterns("promotion"))
    return folder


def sign_policy_folder(
    folder: Path, key: Ed25519PrivateKey, key_id: str = "policy-key", *, name: str | None = None
) -> Path:
    """Sign ``folder``'s snapshot (``canarykit policy sign``) into its default signature file."""
    path = default_signature_path(folder)
    path.write_text(json.dumps(sign_policy(folder, key, key_id, name=name)))
    return path


# The canary-mode checks of the shipped policy, with their kinds and whether they are required.
SHIPPED_CHECKS = {
    spec.name: (spec.kind, spec.required)
    for spec in load_policy().checks.values()
    if spec.applies_to("canary")
}


def make_verdict(
    candidate: str,
    policy_digest: str,
    *,
    decision: str = "PROCEED",
    model: str = MODEL,
    checks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A hand-built verdict following DESIGN.md §4 (default: every canary check of the shipped
    policy passes, intervals at 0; given checks get kind, required, summary and a 0 interval
    where they lack them)."""
    if checks is None:
        checks = [{"name": name, "status": "pass"} for name in SHIPPED_CHECKS]
    checks = [
        {
            "kind": SHIPPED_CHECKS.get(c["name"], ("unknown", True))[0],
            "required": SHIPPED_CHECKS.get(c["name"], ("unknown", True))[1],
            "estimate": 0.0,
            "ci_low": 0.0,
            "ci_high": 0.0,
            "summary": f"{c['name']} {c['status']}",
            **c,
        }
        for c in checks
    ]
    return {
        "schema": "canarykit.verdict/1",
        "decision": decision,
        "reasons": [],
        "model": model,
        "baseline": "v0",
        "candidate": candidate,
        "mode": "canary",
        "window": {"start": "2026-11-24T00:00:00+00:00", "end": "2026-11-25T00:00:00+00:00"},
        "checks": checks,
        "policy_digest": policy_digest,
        "data_digest": "sha256:" + "d" * 64,
        "canarykit_version": "0.1.0",
        "created_at": "2026-11-25T00:00:00+00:00",
    }


def sbom(*vulns: tuple[str, str, str | None]) -> dict[str, Any]:
    """A CycloneDX document with (id, severity, analysis state) vulnerabilities."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"type": "library", "name": "numpy", "version": "2.0.0"}],
        "vulnerabilities": [
            {
                "id": vid,
                "ratings": [{"severity": sev}],
                **({"analysis": {"state": state}} if state else {}),
            }
            for vid, sev, state in vulns
        ],
    }


@dataclass
class World:
    """Registry + keys + files; helpers walk a version through the seed flow."""

    promotion: Promotion
    clock: FixedClock
    tmp: Path
    key: Ed25519PrivateKey
    builder_key: Ed25519PrivateKey
    policy_dir: Path
    policy_digest: str
    verdict_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    policy_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    artifact_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def signed(
        self,
        verdict: dict[str, Any],
        *,
        key: Ed25519PrivateKey | None = None,
        key_id: str = "verdict-key",
        artifact_digest: str | None = None,
    ) -> dict[str, Any]:
        """``verdict`` as a DSSE envelope signed by the verdict key (``canarykit attest``)."""
        return attest_verdict(
            verdict, key or self.verdict_key, key_id, artifact_digest=artifact_digest
        )

    def evidence(self, verdict: Any) -> Any:
        """An envelope (or a file) as it is; a plain verdict signed by the verdict key."""
        if verdict is None or isinstance(verdict, (str, Path)) or is_envelope(verdict):
            return verdict
        return self.signed(verdict)

    def artifact(self, version: str) -> Path:
        path = self.tmp / f"{MODEL}-{version}.bin"
        if not path.exists():
            path.write_bytes(f"weights of {version}".encode())
        return path

    def signatures(self, version: str, key: Ed25519PrivateKey | None = None) -> list[dict]:
        digest = digest_file(self.artifact(version))
        return [sign_digest(key or self.key, "release-key", digest)]

    def envelope(self, version: str, *, subject_digest: str | None = None) -> dict[str, Any]:
        digest = subject_digest or digest_file(self.artifact(version)).removeprefix("sha256:")
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": f"{MODEL}-{version}.bin", "digest": {"sha256": digest}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {"buildType": "https://example.com/train/v1"},
                "runDetails": {"builder": {"id": BUILDER_ID}},
            },
        }
        payload = json.dumps(statement).encode()
        kind = "application/vnd.in-toto+json"
        sig = self.builder_key.sign(dsse_pae(kind, payload))
        return {
            "payloadType": kind,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "ci-builder", "sig": base64.b64encode(sig).decode()}],
        }

    def chg(
        self,
        chg_id: str,
        versions: list[str],
        *,
        type: str = "Normal",
        approve: bool = True,
        requester: str = "olga",
        start: str = "2026-11-25T08:00:00Z",
        end: str = "2026-12-02T08:00:00Z",
    ) -> str:
        ticket = {
            "id": chg_id,
            "type": type,
            "scope": {"model": MODEL, "versions": versions},
            "risk": "medium",
            "impact": "scoring traffic of risk-default",
            "window": {"start": start, "end": end},
            "steps": ["promote", "move production alias"],
            "backout_plan": "canarykit rollback risk-default --chg " + chg_id,
            "post_change_validation": ["canarykit check-startup risk-default"],
            "owners": [requester],
        }
        self.promotion.create_change(ticket, actor=requester)
        if approve and type == "Normal":
            self.promotion.approve_change(chg_id, actor="otto", role="operations")
            self.promotion.approve_change(chg_id, actor="sam", role="security")
        return chg_id

    def submit(self, version: str, actor: str = "ann") -> None:
        self.promotion.submit(MODEL, version, artifact=self.artifact(version), actor=actor)

    def to_staging(self, version: str, **overrides: Any) -> Any:
        self.promotion.approve(MODEL, version, role="security", actor="sam", stage="Staging")
        kwargs: dict[str, Any] = {
            "signatures": self.signatures(version),
            "attestation": self.envelope(version),
            "sbom": sbom(("CVE-2026-1000", "low", None)),
            "policy": self.policy_dir,
            "artifact": self.artifact(version),
        }
        kwargs.update(overrides)
        return self.promotion.promote(MODEL, version, to="Staging", actor="olga", **kwargs)

    def approvals(self, version: str, verdict: dict[str, Any] | None = None) -> None:
        """Security and product approve ``version`` having reviewed ``verdict`` (signed by the
        verdict key when it is a plain verdict)."""
        reviewed = self.evidence(verdict or make_verdict(version, self.policy_digest))
        self.promotion.approve(MODEL, version, role="security", actor="sue", verdict=reviewed)
        self.promotion.approve(MODEL, version, role="product", actor="pat", verdict=reviewed)

    def documents(self, version: str, verdict: Any = None, *, actor: str = "olga") -> None:
        """Record a model card of ``verdict`` (default: the PROCEED verdict) and an ADR."""
        found, _ = load_verdict(verdict or make_verdict(version, self.policy_digest))
        card = self.tmp / f"card-{version}-{verdict_digest(found)[7:19]}.cdx.json"
        card.write_text(json.dumps(build_model_card(found), indent=2))
        number = f"{len(list(self.tmp.glob('ADR-*.md'))) + 1:04d}"
        adr = self.tmp / f"ADR-{number}-{version}.md"
        adr.write_text(f"# ADR-{number}: promote {MODEL} {version}\n")
        self.promotion.add_evidence(
            MODEL, version, actor=actor, model_card=card, decision_record=adr
        )

    def to_approved(
        self, version: str, chg_id: str, *, documents: bool = True, **overrides: Any
    ) -> Any:
        """Promote to Approved; ``documents`` first records a model card of the verdict
        promoted (when it is a verdict of this version) and an ADR."""
        kwargs: dict[str, Any] = {
            "verdict": make_verdict(version, self.policy_digest),
            "revalidate_by": "2027-02-25T00:00:00Z",
            "chg_id": chg_id,
        }
        kwargs.update(overrides)
        kwargs["verdict"] = self.evidence(kwargs["verdict"])  # a plain verdict gets signed
        if documents:
            try:
                found, _ = load_verdict(kwargs["verdict"])
            except CanaryError:
                found = None
            if found is not None and (found["model"], found["candidate"]) == (MODEL, version):
                self.documents(version, found)
        return self.promotion.promote(MODEL, version, to="Approved", actor="olga", **kwargs)

    def approved(self, version: str) -> None:
        """Submit and walk ``version`` all the way to Approved."""
        self.submit(version)
        self.to_staging(version)
        self.approvals(version)
        self.to_approved(version, self.chg(f"CHG-{version.replace('.', '')}", [version]))


@contextmanager
def make_world(tmp_path: Path, *, drill: bool = False) -> Iterator[World]:
    """A configured registry in ``tmp_path``; closed on exit.

    With ``drill`` the registry is a drill registry (its fixed clock is simply its time, the
    system clock plays no part); otherwise the world's fixed clock is its system clock."""
    key = Ed25519PrivateKey.generate()
    builder_key = Ed25519PrivateKey.generate()
    verdict_key, policy_key, artifact_key = (Ed25519PrivateKey.generate() for _ in range(3))
    policy_dir = shipped_policy(tmp_path / "policy")  # sanctioned by the policy key
    sign_policy_folder(policy_dir, policy_key, name="risk-policy")
    clock = FixedClock(parse_instant(START))
    promotion = (
        SignedPromotion(tmp_path / "registry.sqlite", clock=clock, drill=True)
        if drill
        else world_registry(tmp_path / "registry.sqlite", clock=clock)
    )
    promotion.configure(
        actor="sam",
        roster=ROSTER,
        trust={
            "keys": [
                {
                    "id": "release-key",
                    "public_key": public_key_text(key),
                    "purposes": ["artifact", "verdict", "policy", "release", "checkpoint"],
                },
                {
                    "id": "ci-builder",
                    "public_key": public_key_text(builder_key),
                    "purposes": ["provenance"],
                    "builders": [BUILDER_ID],
                },
                {
                    "id": "verdict-key",
                    "public_key": public_key_text(verdict_key),
                    "purposes": ["verdict"],
                },
                {
                    "id": "policy-key",
                    "public_key": public_key_text(policy_key),
                    "purposes": ["policy"],
                },
                {
                    "id": "artifact-key",
                    "public_key": public_key_text(artifact_key),
                    "purposes": ["artifact"],
                },
            ]
        },
        calendar=CALENDAR,
    )
    try:
        yield World(
            promotion=promotion,
            clock=clock,
            tmp=tmp_path,
            key=key,
            builder_key=builder_key,
            policy_dir=policy_dir,
            policy_digest=snapshot_digest(load_snapshot_files(policy_dir)),
            verdict_key=verdict_key,
            policy_key=policy_key,
            artifact_key=artifact_key,
        )
    finally:
        promotion.close()


def pem(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path
