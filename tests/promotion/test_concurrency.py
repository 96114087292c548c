"""Two processes promoting versions and moving the production alias at the same time lose no
update (issue 6): every promotion lands, every alias move is a compare-and-set that either
wins or is told it is stale, and the alias history is one unbroken chain."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import (
    CALENDAR,
    MODEL,
    ROSTER,
    START,
    SignedPromotion,
    make_verdict,
    sbom,
    shipped_policy,
    sign_policy_folder,
)

from canarykit.errors import GateDeniedError
from canarykit.promotion.clock import FixedClock, parse_instant
from canarykit.promotion.evidence import digest_file, public_key_text, sign_digest
from canarykit.promotion.model_card import build_model_card, load_verdict
from canarykit.promotion.verdict_attestation import attest_verdict
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

ROUNDS = 4


def _registry(path: str) -> SignedPromotion:
    """The registry at the world's fixed time (which is its system clock here), with every
    person's act signed by their key."""
    clock = FixedClock(parse_instant(START))
    p = SignedPromotion(path, clock=clock)
    p.wall_clock = clock
    return p


def worker(registry: str, folder: str, key_bytes: bytes, name: str, start: Any, out: Any) -> None:
    """Submit, stage, approve and put into production ROUNDS versions; report CAS retries."""
    start.wait(timeout=60)
    key = Ed25519PrivateKey.from_private_bytes(key_bytes)
    policy = Path(folder) / "policy"
    digest = snapshot_digest(load_snapshot_files(policy))
    retries = 0
    with _registry(registry) as p:
        for i in range(ROUNDS):
            version = f"{name}.{i}"
            artifact = Path(folder) / f"{version}.bin"
            artifact.write_bytes(version.encode())
            p.submit(MODEL, version, artifact=artifact, actor="ann")
            p.approve(MODEL, version, role="security", actor="sam", stage="Staging")
            p.promote(
                MODEL,
                version,
                to="Staging",
                actor="olga",
                policy=policy,
                sbom=sbom(),
                signatures=[sign_digest(key, "release-key", digest_file(artifact))],
            )
            verdict = attest_verdict(make_verdict(version, digest), key, "release-key")
            p.approve(MODEL, version, role="security", actor="sue", verdict=verdict)
            p.approve(MODEL, version, role="product", actor="pat", verdict=verdict)
            chg = f"CHG-{name}{i}"
            p.create_change(
                {
                    "id": chg,
                    "type": "Normal",
                    "scope": {"model": MODEL, "versions": [version]},
                    "risk": "low",
                    "impact": "test",
                    "steps": ["go"],
                    "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-11-25T18:00:00Z"},
                    "backout_plan": "rollback",
                    "post_change_validation": ["check"],
                    "owners": ["olga"],
                },
                actor="olga",
            )
            p.approve_change(chg, actor="otto", role="operations")
            p.approve_change(chg, actor="eve", role="executive")
            card = Path(folder) / f"card-{version}.cdx.json"  # issue 12: model card and ADR
            card.write_text(json.dumps(build_model_card(load_verdict(verdict)[0])))
            adr = Path(folder) / f"{name}-ADR-{i}.md"
            adr.write_text(f"# ADR-{i}: promote {version}\n")
            p.add_evidence(MODEL, version, actor="olga", model_card=card, decision_record=adr)
            p.promote(
                MODEL,
                version,
                to="Approved",
                actor="olga",
                chg_id=chg,
                verdict=verdict,
                revalidate_by="2027-01-01T00:00:00Z",
            )
            while True:  # read, then compare-and-set; a stale read is refused, so re-read
                state = p.show_alias(MODEL)
                time.sleep(0.02)  # a person (or job) acting on what it read a moment ago
                try:
                    p.set_alias(
                        MODEL,
                        version,
                        expected=None if state is None else state.version,
                        actor="olga",
                        chg_id=chg,
                    )
                    break
                except GateDeniedError as err:
                    if "compare-and-set" not in str(err):
                        raise
                    retries += 1
    out.put(retries)


def test_two_processes_lose_no_update(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()  # signs artifacts, the policy and verdicts here
    sign_policy_folder(shipped_policy(tmp_path / "policy"), key, "release-key")
    registry = str(tmp_path / "registry.sqlite")
    with _registry(registry) as p:
        p.configure(
            actor="sam",
            roster=ROSTER,
            calendar=CALENDAR,
            trust={
                "keys": [
                    {
                        "id": "release-key",
                        "public_key": public_key_text(key),
                        "purposes": ["artifact", "policy", "verdict"],
                    }
                ]
            },
        )
    raw = key.private_bytes_raw()
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=worker, args=(registry, str(tmp_path), raw, name, start, out))
        for name in ("a", "b")
    ]
    for process in workers:
        process.start()
    retries = [out.get(timeout=120) for _ in workers]
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    with _registry(registry) as p:
        versions = p.status(MODEL).versions
        assert len(versions) == 2 * ROUNDS
        assert {v.stage for v in versions} == {"Approved"}
        history = p.alias_history(MODEL)
        assert len(history) == 2 * ROUNDS
        # One unbroken chain: every move starts where the previous one ended.
        assert history[0].from_version is None
        for before, after in itertools.pairwise(history):
            assert after.from_version == before.to_version
        assert {h.to_version for h in history} == {v.version for v in versions}
        state = p.show_alias(MODEL)
        assert state.generation == 2 * ROUNDS
        assert state.version == history[-1].to_version
        assert len(p.events(MODEL, kind="promotion")) == 4 * ROUNDS
        assert len(p.events(MODEL, kind="alias_update")) == 2 * ROUNDS
        assert len(p.events(kind="gate_denied")) == sum(retries)
        assert p.audit_verify().ok
