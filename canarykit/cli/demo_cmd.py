"""``canarykit demo``: the main job on the bundled samples.

Builds an embedded DuckDB store from ``data/samples/`` (late labels included), evaluates a clean
canary (PROCEED) and a regressed one (STOP), prints both verdicts, writes their JSON next to the
store and replays one of them to show it is reproducible. Then it runs the job the product is
for: a recorded rollout 5 % → 25 % → 100 % (simulated traffic at 100 requests/s, seeded) with
a look every 5 minutes, and prints its decision timeline and status.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from canarykit.cli.common import add_format, to_json
from canarykit.errors import InvalidInputError

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
            path.write_text(verdict.to_json() + "\n", encoding="utf-8")
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
