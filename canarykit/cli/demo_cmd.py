"""``canarykit demo``: the main job on the bundled samples.

Builds an embedded DuckDB store from ``data/samples/`` (late labels included), evaluates a clean
canary (PROCEED) and a regressed one (STOP), prints both verdicts, writes their JSON next to the
store and replays one of them to show it is reproducible. Then it runs the job the product is
for: a recorded rollout 5 % → 25 % → 100 % (simulated traffic at 100 requests/s, seeded) with
a look every 5 minutes, and prints its decision timeline and status. Last, the promotion of the
PROCEED version through the signed flow: the demo makes its own Ed25519 keys (one per person,
one per purpose; never downloaded, written with mode 0600 under ``OUT/promotion/keys``), creates a
production registry, puts its roster (with the people's public keys), trust file and calendar in
force, and walks the version Candidate → Staging → Approved → ``production`` → signed release →
startup check, every person's act signed with their own key (and one act signed with somebody
else's key, denied).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from canarykit.cli.common import add_format, to_json
from canarykit.errors import InvalidInputError
from canarykit.safe_io import write_file

# (model in the samples, what the demo expects) — the model column is the sample's name
DEMO_CANARIES = (("clean-canary", "PROCEED"), ("latency-tail", "STOP"))


def register(subparsers: Any) -> None:
    """Add the demo command."""
    demo = subparsers.add_parser("demo", help="run the main job on the bundled sample data")
    demo.add_argument("--samples", default="data/samples", help="folder of sample Parquet files")
    demo.add_argument("--out", default="demo_out", help="output folder (store and verdicts)")
    add_format(demo)
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from canarykit.traces.store import TraceStore, remove_store_files
    from canarykit.verdict.evaluate import evaluate
    from canarykit.verdict.replay import replay

    text = args.format == "text"

    def say(*lines: str) -> None:
        if text:
            print(*lines, sep="\n")

    folder = Path(args.samples)
    samples = sorted(p for p in folder.glob("*.parquet") if not p.name.endswith("_labels.parquet"))
    if not samples:
        raise InvalidInputError(f"{args.samples}: no sample Parquet files (run `make samples`)")
    if args.out == "-":
        raise InvalidInputError("--out -: the demo writes a folder (stores, verdicts); name one")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.duckdb"
    remove_store_files(db)
    summary: dict[str, Any] = {"store": str(db), "verdicts": []}
    with TraceStore(db) as store:
        say(f"{db}: {store.ingest([str(p) for p in samples])}")
        for labels in sorted(folder.glob("*_labels.parquet")):
            say(f"{db}: {store.ingest_labels(str(labels))} ({labels.name}, late labels)")
        say("", store.info().to_text())
        for model, expected in DEMO_CANARIES:
            verdict = evaluate(store, model=model)
            path = out / f"verdict-{model}.json"
            write_file(path, verdict.to_json() + "\n")  # never through a symbolic link
            say(
                f"\n== canarykit evaluate {db} --model {model}   (expected {expected})",
                verdict.to_text(),
                f"-> {path} (exit status {verdict.exit_code})",
            )
            summary["verdicts"].append(
                {
                    "model": model,
                    "expected": expected,
                    "decision": verdict.decision,
                    "file": str(path),
                }
            )
        result = replay(out / f"verdict-{DEMO_CANARIES[0][0]}.json", store)
        say(f"\n== canarykit replay {out}/verdict-{DEMO_CANARIES[0][0]}.json {db}\n{result}")
        summary["replay"] = {"verdict": DEMO_CANARIES[0][0], "identical": result.identical}
    summary["rollout"] = _rollout_demo(out, say)
    summary["promotion"] = _promotion_demo(out, say)
    if not text:
        print(to_json(summary))
    return 0


def _rollout_demo(out: Path, say: Callable[..., None]) -> dict[str, Any]:
    """A recorded rollout with a look every 5 minutes (simulated traffic, seeded)."""
    import datetime as dt

    from canarykit.rollout import rollout_status, start_rollout, step_rollout
    from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
    from canarykit.traces.store import TraceStore, remove_store_files
    from canarykit.verdict.evaluate import evaluate
    from canarykit.verdict.policy import load_policy

    db = out / "rollout.duckdb"
    remove_store_files(db)
    plan = load_policy().rollout
    looks: list[dict[str, Any]] = []
    with TraceStore(db) as store:
        store.ingest(rollout_traffic(SCENARIOS["aa"], plan, rate=100.0, seed=2026))
        say(f"\n== canarykit rollout start {db} --model {MODEL} --at {START.isoformat()}Z")
        start_rollout(store, model=MODEL, at=START)
        begin = START
        for step, planned in enumerate(plan, start=1):
            if step > 1:
                step_rollout(store, model=MODEL, to=step, at=begin)
                say(f"== canarykit rollout step {db} --model {MODEL} --to {step}")
            for minute in range(5, int(planned.window_minutes) + 1, 5):
                until = begin + dt.timedelta(minutes=minute)
                v = evaluate(store, until=until.isoformat())
                say(
                    f"   look at {until:%H:%M} (step {step}, {planned.share:.0%}): "
                    f"{v.decision:<8} {v.reasons[0] if v.reasons else ''}"[:150]
                )
                looks.append({"step": step, "until": until.isoformat(), "decision": v.decision})
            begin += dt.timedelta(minutes=planned.window_minutes)
        status = rollout_status(store, model=MODEL)
        say(f"\n== canarykit rollout status {db} --model {MODEL}", status.to_text())
    return {"store": str(db), "looks": looks, "status": status.to_dict()}


PEOPLE = {"dana": "product", "pat": "product", "sam": "security", "sue": "security",
          "olga": "operations", "otto": "operations"}  # fmt: skip


def _promotion_demo(out: Path, say: Callable[..., None]) -> dict[str, Any]:
    """The PROCEED version through the signed promotion flow, on a new production registry."""
    import datetime as dt
    import json
    import os
    import shutil

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from canarykit.errors import GateDeniedError
    from canarykit.promotion.api import Promotion
    from canarykit.promotion.evidence import digest_file, public_key_text, sign_digest
    from canarykit.promotion.model_card import build_model_card
    from canarykit.promotion.sanctioned_policy import sign_policy
    from canarykit.promotion.verdict_attestation import attest_verdict
    from canarykit.verdict.policy import default_policy_path

    work = out / "promotion"
    shutil.rmtree(work, ignore_errors=True)
    (work / "keys").mkdir(parents=True, mode=0o700)

    def keygen(name: str) -> Ed25519PrivateKey:  # as `canarykit keygen --out keys/NAME.pem`
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(work / "keys" / f"{name}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return key

    people = {name: keygen(name) for name in PEOPLE}
    keys = {name: keygen(f"{name}-key") for name in ("release", "verdict", "policy")}
    verdict = json.loads((out / f"verdict-{DEMO_CANARIES[0][0]}.json").read_text("utf-8"))
    model, version = str(verdict["model"]), str(verdict["candidate"])
    artifact = work / "model.bin"
    write_file(artifact, f"the weights of {model} {version}".encode())  # never through a link
    now = dt.datetime.now(dt.UTC)

    def at(**delta: float) -> str:
        return (now + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")

    say(f"\n== promotion of {model} {version}: signed acts, four eyes, a signed release")
    say(f"   keys made for {', '.join(PEOPLE)} and the release, verdict and policy keys")
    registry = Promotion(work / "registry.sqlite")
    with registry:
        registry.init_registry(actor="sam", drill=False)
        roster = {
            name: {"roles": [role], "keys": [public_key_text(people[name])]}
            for name, role in PEOPLE.items()
        }
        trust = [
            {"id": f"{name}-key", "public_key": public_key_text(key), "purposes": purposes}
            for (name, key), purposes in zip(
                keys.items(), (["artifact", "release"], ["verdict"], ["policy"]), strict=True
            )
        ]
        always = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
        registry.bootstrap(
            actor="sam",
            key=people["sam"],
            roster={"people": roster},
            trust={"keys": trust},
            calendar={
                "windows": [{"name": "any time", "weekly": {**always, "start": "00:00",
                                                            "end": "24:00"}}],
                "freezes": [],
            },
        )  # fmt: skip
        say(f"   registry {work / 'registry.sqlite'}: roster, trust file and calendar in force")

        def act(method: Callable[..., Any], *args: Any, actor: str, **kwargs: Any) -> Any:
            return method(*args, actor=actor, key=people[actor], **kwargs)

        policy = default_policy_path()
        signed = attest_verdict(
            verdict, keys["verdict"], "verdict-key", artifact_digest=digest_file(artifact)
        )
        act(registry.submit, model, version, artifact=artifact, actor="dana")
        act(registry.approve, model, version, role="security", actor="sam", stage="Staging")
        sbom = {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "components": [{"type": "library", "name": "numpy", "version": "2.1.0"}],
            "vulnerabilities": [{"id": "CVE-2099-0001", "ratings": [{"severity": "low"}]}],
        }
        registry.promote(
            model,
            version,
            to="Staging",
            actor="olga",
            signatures=[sign_digest(keys["release"], "release-key", digest_file(artifact))],
            sbom=sbom,
            policy=policy,
            policy_signature=sign_policy(policy, keys["policy"], "policy-key", name="demo"),
            artifact=artifact,
        )
        say(f"   {model} {version}: Candidate → Staging (signed artifact, SBOM, sanctioned policy)")
        try:  # pat's approval signed with sam's key
            registry.approve(
                model, version, role="product", actor="pat", verdict=signed, key=people["sam"]
            )
        except GateDeniedError as denied:
            denial = str(denied)
            say(f"   denied as it should be: {denial}"[:200])
        for role, person in (("security", "sue"), ("product", "pat")):
            act(registry.approve, model, version, role=role, actor=person, verdict=signed)
        chg = "CHG-1"
        ticket = {
            "id": chg,
            "type": "Normal",
            "scope": {"model": model, "versions": [version]},
            "risk": "medium",
            "impact": f"scoring traffic of {model} moves to {version}",
            "window": {"start": at(hours=-1), "end": at(days=2)},
            "steps": ["promote", "move the production alias"],
            "backout_plan": f"canarykit rollback {model} --chg {chg}",
            "post_change_validation": [f"canarykit check-startup {model}"],
            "owners": ["olga"],
        }
        act(registry.create_change, ticket, actor="olga")
        act(registry.approve_change, chg, actor="otto", role="operations")
        act(registry.approve_change, chg, actor="sam", role="security")
        card = work / "model-card.cdx.json"
        write_file(card, json.dumps(build_model_card(verdict), indent=2))
        adr = work / "ADR-1.md"
        write_file(adr, f"# ADR-1: {model} {version} to production on its canary verdict\n")
        registry.add_evidence(model, version, actor="olga", model_card=card, decision_record=adr)
        registry.promote(
            model,
            version,
            to="Approved",
            actor="olga",
            verdict=signed,
            revalidate_by=at(days=90),
            chg_id=chg,
        )
        registry.set_alias(model, version, expected=None, actor="olga", chg_id=chg)
        say(f"   {model} {version}: Staging → Approved (sue and pat approved it), production → it")
        release = registry.release(
            model,
            version,
            out=work / "release",
            signing_key=keys["release"],
            key_id="release-key",
            actor="olga",
        )
        verified = registry.verify_release(work / "release", artifact=artifact)
        startup = registry.check_startup(
            model, policy_digest=str(verdict["policy_digest"]), artifact=artifact
        )
        audit = registry.audit_verify()
        signed_acts = sum(
            1 for e in registry.events() if (e.payload.get("act") or {}).get("signed") is True
        )
    say(
        f"   release → {work / 'release'} ({len(release.files)} files),"
        f" verify: {'OK' if verified.ok else 'FAILED'}",
        f"   check-startup: exit {startup.exit_code}; audit log"
        f" {'intact' if audit.ok else 'BROKEN'}, {signed_acts} signed acts",
    )
    return {
        "registry": str(work / "registry.sqlite"),
        "keys": str(work / "keys"),
        "model": model,
        "version": version,
        "denied": denial,
        "release": str(work / "release"),
        "release_verified": verified.ok,
        "startup_exit_code": startup.exit_code,
        "audit_ok": audit.ok,
        "signed_acts": signed_acts,
    }
