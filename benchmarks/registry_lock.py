"""Eight processes acting on one registry at once, and how long each holds the write lock.

One process promotes a version to Staging with an SBOM of ``--vulnerabilities`` entries
(default 3,000) while seven others approve, submit, stage and move the ``production`` alias
(compare-and-set, re-read when stale) on the same SQLite registry, all released by one barrier.
The write lock is held from ``BEGIN IMMEDIATE`` to ``COMMIT``
(:meth:`canarykit.promotion.registry.RegistryStore.transaction`); every process times exactly
that span for each of its transactions, and its own wall time. At the end the audit chain is
verified.

Timings are for reading, never for assertions: ``make bench`` prints them
(``benchmarks/run.py``); ``tests/promotion/test_concurrency_many.py`` runs the same workload and
asserts only the acceptance criterion of issue 13 — every process finishes, none with "registry
is locked", and the chain verifies.

Usage: ``python benchmarks/registry_lock.py [--vulnerabilities 3000] [--rounds 4] [--out FILE]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests" / "promotion"))  # the signed test world

WORKERS = (
    "promote-sbom",
    "approve-sam",
    "approve-sue",
    "approve-max",
    "alias-olga",
    "alias-otto",
    "submit",
    "stage",
)
"""The eight processes: one big SBOM promotion, three security approvers, two alias movers, one
submitter and one that takes small versions through Staging."""


def big_sbom(entries: int) -> dict[str, Any]:
    """A scanned CycloneDX SBOM of ``entries`` vulnerabilities, none blocking: low and medium
    ones, every fifth marked ``not_affected``, and one high one ``not_affected`` whose VEX
    statement the security team approved (so the VEX rule has work too)."""
    vulnerabilities: list[dict[str, Any]] = [
        {
            "id": f"CVE-2026-{i:05d}",
            "ratings": [{"severity": "low" if i % 3 else "medium"}],
            **({"analysis": {"state": "not_affected"}} if i % 5 == 0 else {}),
        }
        for i in range(max(entries - 1, 0))
    ]
    if entries:
        vulnerabilities.append(
            {
                "id": "CVE-2026-99999",
                "ratings": [{"severity": "high"}],
                "analysis": {"state": "not_affected"},
            }
        )
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"tools": {"components": [{"type": "application", "name": "grype"}]}},
        "components": [{"type": "library", "name": f"lib{i}"} for i in range(entries)],
        "vulnerabilities": vulnerabilities,
    }


def setup(folder: Path, *, entries: int, rounds: int) -> dict[str, Any]:
    """A configured registry in ``folder``: two Approved versions for the alias movers, the big
    version submitted with its Staging approval and the
    approval of its VEX statement, and the versions the approvers approve."""
    from promotion_world import MODEL, make_world

    with make_world(folder) as w:
        for version in ("a1", "a2"):
            w.submit(version)
            w.to_staging(version)
            w.approvals(version)
            w.to_approved(version, w.chg(f"CHG-{version}", [version], end="2026-11-25T18:00:00Z"))
        w.submit("big")
        w.promotion.approve(MODEL, "big", role="security", actor="sam", stage="Staging")
        bom = big_sbom(entries)
        sbom_path = folder / "big.cdx.json"
        sbom_path.write_text(json.dumps(bom))
        if entries:
            w.promotion.approve_vex(
                MODEL, "big", vulnerability="CVE-2026-99999", sbom=sbom_path, actor="sue"
            )
        for approver in ("sam", "sue", "max"):
            for i in range(rounds):
                w.submit(f"{approver}.{i}", actor="ann")
        for i in range(rounds):
            w.artifact(f"new.{i}")
            w.artifact(f"stage.{i}")
        return {
            "folder": str(folder),
            "registry": str(folder / "registry.sqlite"),
            "policy": str(w.policy_dir),
            "sbom": str(sbom_path),
            "key": w.key.private_bytes_raw(),
            "rounds": rounds,
        }


@contextlib.contextmanager
def timed_transactions(holds: list[float]) -> Iterator[None]:
    """Record how long each write transaction holds the lock (``BEGIN IMMEDIATE`` → ``COMMIT``)."""
    from canarykit.promotion.registry import RegistryStore

    original = RegistryStore.transaction

    @contextlib.contextmanager
    def timed(self: RegistryStore) -> Iterator[Any]:
        with original(self) as conn:
            start = time.perf_counter()
            try:
                yield conn
            finally:
                holds.append(time.perf_counter() - start)

    RegistryStore.transaction = timed  # type: ignore[method-assign]
    try:
        yield
    finally:
        RegistryStore.transaction = original  # type: ignore[method-assign]


def _open(spec: dict[str, Any]) -> Any:
    from promotion_world import START, SignedPromotion

    from canarykit.promotion.clock import FixedClock, parse_instant

    clock = FixedClock(parse_instant(START))
    promotion = SignedPromotion(spec["registry"], clock=clock)
    promotion.wall_clock = clock  # the world's clock is its system clock (not a drill)
    return promotion


def _signatures(spec: dict[str, Any], version: str) -> list[dict[str, str]]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from promotion_world import MODEL

    from canarykit.promotion.evidence import digest_file, sign_digest

    key = Ed25519PrivateKey.from_private_bytes(spec["key"])
    artifact = Path(spec["folder"]) / f"{MODEL}-{version}.bin"
    return [sign_digest(key, "release-key", digest_file(artifact))]


def _promote_sbom(p: Any, spec: dict[str, Any]) -> int:
    from promotion_world import MODEL

    p.promote(
        MODEL,
        "big",
        to="Staging",
        actor="olga",
        signatures=_signatures(spec, "big"),
        sbom=spec["sbom"],
        policy=spec["policy"],
    )
    return 1


def _approver(name: str) -> Callable[[Any, dict[str, Any]], int]:
    def run(p: Any, spec: dict[str, Any]) -> int:
        from promotion_world import MODEL

        for i in range(spec["rounds"]):
            p.approve(MODEL, f"{name}.{i}", role="security", actor=name, stage="Staging")
        return spec["rounds"]

    return run


CAB = {"olga": ("otto", "sam"), "otto": ("olga", "sue")}
"""Who approves an alias mover's change tickets (operations and security, never the requester)."""


def ticket(p: Any, chg_id: str, requester: str) -> str:
    """A Normal change ticket for one alias move between a1 and a2, approved by the CAB."""
    from promotion_world import MODEL

    p.create_change(
        {
            "id": chg_id,
            "type": "Normal",
            "scope": {"model": MODEL, "versions": ["a1", "a2"]},
            "risk": "low",
            "impact": "moves the production alias between a1 and a2",
            "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-11-25T18:00:00Z"},
            "steps": ["move production alias"],
            "backout_plan": "move it back",
            "post_change_validation": ["canarykit check-startup"],
            "owners": [requester],
        },
        actor=requester,
    )
    operations, security = CAB[requester]
    p.approve_change(chg_id, actor=operations, role="operations")
    p.approve_change(chg_id, actor=security, role="security")
    return chg_id


def _alias_mover(actor: str) -> Callable[[Any, dict[str, Any]], int]:
    def run(p: Any, spec: dict[str, Any]) -> int:
        from promotion_world import MODEL

        from canarykit.errors import GateDeniedError

        retries = 0
        for i in range(spec["rounds"]):
            chg_id = ticket(p, f"CHG-{actor.upper()}-{i}", actor)
            while True:  # read, then compare-and-set; a stale read is refused, so re-read
                state = p.show_alias(MODEL)
                current = None if state is None else state.version
                target = "a2" if current == "a1" else "a1"
                try:
                    p.set_alias(MODEL, target, expected=current, actor=actor, chg_id=chg_id)
                    break
                except GateDeniedError as err:
                    if "compare-and-set" not in str(err):
                        raise
                    retries += 1
        return retries

    return run


def _submit(p: Any, spec: dict[str, Any]) -> int:
    from promotion_world import MODEL

    for i in range(spec["rounds"]):
        artifact = Path(spec["folder"]) / f"{MODEL}-new.{i}.bin"
        p.submit(MODEL, f"new.{i}", artifact=artifact, actor="pat")
    return spec["rounds"]


def _stage(p: Any, spec: dict[str, Any]) -> int:
    from promotion_world import MODEL, sbom

    for i in range(spec["rounds"]):
        version = f"stage.{i}"
        artifact = Path(spec["folder"]) / f"{MODEL}-{version}.bin"
        p.submit(MODEL, version, artifact=artifact, actor="ann")
        p.approve(MODEL, version, role="security", actor="sam", stage="Staging")
        p.promote(
            MODEL,
            version,
            to="Staging",
            actor="olga",
            signatures=_signatures(spec, version),
            sbom=sbom(("CVE-2026-1000", "low", None)),
            policy=spec["policy"],
        )
    return spec["rounds"]


ACTIONS: dict[str, Callable[[Any, dict[str, Any]], int]] = {
    "promote-sbom": _promote_sbom,
    "approve-sam": _approver("sam"),
    "approve-sue": _approver("sue"),
    "approve-max": _approver("max"),
    "alias-olga": _alias_mover("olga"),
    "alias-otto": _alias_mover("otto"),
    "submit": _submit,
    "stage": _stage,
}


def worker(name: str, spec: dict[str, Any], barrier: Any, out: Any) -> None:
    """Run one process's actions after the barrier; report wall time, lock holds, outcome."""
    sys.path.insert(0, str(HERE.parent / "tests" / "promotion"))
    from canarykit.promotion.gates import prepare_gates

    prepare_gates()  # every process compiles its gate policies before the start (as a CLI does)
    holds: list[float] = []
    result: dict[str, Any] = {"worker": name}
    with _open(spec) as p:
        barrier.wait(timeout=120)
        start = time.perf_counter()
        try:
            with timed_transactions(holds):
                result["count"] = ACTIONS[name](p, spec)
            result["outcome"] = "ok"
        except Exception as err:  # report, do not hide: "registry is locked" is the finding
            result["outcome"] = f"{type(err).__name__}: {err}"
            result["traceback"] = traceback.format_exc()
        result["seconds"] = time.perf_counter() - start
    result["transactions"] = len(holds)
    result["longest_lock_hold_seconds"] = max(holds, default=0.0)
    result["lock_held_seconds"] = sum(holds)
    out.put(result)


def _context() -> Any:
    """New processes that start fast: forked from a server that imported canarykit once
    (``forkserver``, where the platform has it), else spawned. Never a plain ``fork`` of this
    process, which may hold open registry connections or threads."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["canarykit.promotion.api", "benchmarks.registry_lock"])
        return context
    return multiprocessing.get_context("spawn")


def run(folder: Path, *, entries: int = 3000, rounds: int = 4, timeout: float = 300.0) -> dict:
    """Set up a registry in ``folder``, run the eight processes on it, verify the chain.

    Returns
    -------
    dict
        ``wall_seconds`` (barrier to the last process done), ``workers`` (one result each:
        ``outcome``, ``seconds``, ``transactions``, ``longest_lock_hold_seconds``),
        ``audit_ok``, ``events`` and the setup's size.
    """
    from promotion_world import MODEL

    spec = setup(folder, entries=entries, rounds=rounds)
    context = _context()
    barrier, out = context.Barrier(len(WORKERS) + 1), context.Queue()
    processes = [
        context.Process(target=worker, args=(name, spec, barrier, out), name=name)
        for name in WORKERS
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    results = []
    try:
        for _ in processes:
            results.append(out.get(timeout=timeout))
    finally:
        wall = time.perf_counter() - start
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    with _open(spec) as p:
        chain = p.audit_verify()
        stages = {v.version: v.stage for v in p.status(MODEL).versions}
    return {
        "vulnerabilities": entries,
        "rounds": rounds,
        "processes": len(WORKERS),
        "wall_seconds": wall,
        "workers": sorted(results, key=lambda r: r["worker"]),
        "exit_codes": {p.name: p.exitcode for p in processes},
        "audit_ok": chain.ok,
        "audit_problems": list(chain.problems),
        "events": chain.events,
        "big_stage": stages.get("big"),
    }


def solo(entries: int = 3000) -> dict[str, Any]:
    """The big promotion alone (no other process): its wall time and how long it holds the lock."""
    from canarykit.promotion.gates import prepare_gates

    prepare_gates()
    with tempfile.TemporaryDirectory() as tmp:
        spec = setup(Path(tmp), entries=entries, rounds=0)
        holds: list[float] = []
        with _open(spec) as p, timed_transactions(holds):
            start = time.perf_counter()
            _promote_sbom(p, spec)
            seconds = time.perf_counter() - start
    return {"vulnerabilities": entries, "promote_seconds": seconds, "lock_hold_seconds": max(holds)}


def measure(entries: int = 3000, rounds: int = 4) -> dict[str, Any]:
    """:func:`run` in a temporary folder, with a summary of the lock holds."""
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp), entries=entries, rounds=rounds)
    workers = result["workers"]
    result["longest_lock_hold_seconds"] = max(w["longest_lock_hold_seconds"] for w in workers)
    result["sbom_promotion_lock_hold_seconds"] = next(
        w["longest_lock_hold_seconds"] for w in workers if w["worker"] == "promote-sbom"
    )
    result["failures"] = [w["outcome"] for w in workers if w["outcome"] != "ok"]
    for w in workers:
        w.pop("traceback", None)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vulnerabilities", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", help="append the result as a JSON line to this file")
    args = parser.parse_args()
    result = measure(args.vulnerabilities, args.rounds)
    result["alone"] = solo(args.vulnerabilities)
    line = json.dumps(result, sort_keys=True)
    print(line)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
