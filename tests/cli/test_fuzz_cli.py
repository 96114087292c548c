"""Fuzz the command line with malformed inputs, in process (issue 11, acceptance).

Seeded generators build more than 1,000 broken inputs — trace files (CSV/Parquet with wrong
types, missing columns, NaN/inf, bad arms, huge values, unicode, empty files, binary junk),
policies (YAML junk, wrong fields, broken Rego), verdict JSON (truncated, wrong schema, edited
or wrong-typed fields) and promotion inputs (bad roster/trust/calendar/ticket/SBOM/signature
files, bad arguments) — and feed each through :func:`canarykit.cli.main.main`. Every one must
end with exit 2 (4 for a gate denial; ``replay`` may say 1, "different", for a verdict whose
fields were edited but stay well-typed), one error line of at most 300 characters, no
traceback and no crash file, and a rejected write must leave the trace store and the registry
byte-identical (sha256 of their files).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canarykit.cli.main import main
from canarykit.promotion.evidence import public_key_text
from canarykit.traces.generate import generate_traces

SEED = 20261130
COUNTS = {"traces": 330, "labels": 40, "policies": 230, "verdicts": 200, "promotion": 300}
MODEL = "risk-default"
CLOCK = "2026-11-25T10:00:00Z"
REQUIRED = ("request_id", "ts", "model", "version", "arm", "latency_ms", "error")
JUNK_TEXT = [
    "",
    " ",
    "\x00\x01\x02",
    "ünïcödé ✓ 🚀",
    "‮evil",
    "a\nb\r\nc",
    "x" * 100_000,
    "'; DROP TABLE traces; --",
    '"quoted"',
    "{{ not: yaml",
    "NaN",
    "-inf",
    "1e309",
    "none",
    "\t",
]


# Findings of this fuzz test in code other engineers own (issue 11), with who picks them up. A
# failure matching one of these patterns makes the test xfail instead of fail (any other
# failure fails it); once every finding is fixed the test passes and the table can go.
KNOWN_OPEN: dict[str, str] = {}


@dataclass
class Case:
    """One malformed input and how the CLI must answer it."""

    kind: str
    what: str
    argv: list[str]
    codes: tuple[int, ...] = (2,)
    guarded: tuple[Path, ...] = ()  # files that must be byte-identical after a rejection
    absent: tuple[Path, ...] = ()  # files that must not exist afterwards


@dataclass
class Outcome:
    """Counts and failures of a fuzz run."""

    codes: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _digest(paths: tuple[Path, ...]) -> tuple[str, ...]:
    out = []
    for path in paths:
        for part in (path, Path(f"{path}-wal"), Path(f"{path}.wal")):  # SQLite, DuckDB logs
            out.append(hashlib.sha256(part.read_bytes()).hexdigest() if part.exists() else "-")
    return tuple(out)


# -- trace files ------------------------------------------------------------------------------


def _base_table(rng: random.Random, n: int = 40) -> dict[str, list[Any]]:
    return {
        "request_id": [f"r{i}" for i in range(n)],
        "ts": [f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}" for i in range(n)],
        "model": [MODEL] * n,
        "version": ["v1" if i % 2 == 0 else "v2" for i in range(n)],
        "arm": ["control" if i % 2 == 0 else "canary" for i in range(n)],
        "latency_ms": [round(rng.uniform(5, 80), 3) for _ in range(n)],
        "error": [False] * n,
        "score": [round(rng.random(), 4) for _ in range(n)],
        "label": [rng.random() < 0.3 for _ in range(n)],
        "group": [rng.choice("AB") for _ in range(n)],
    }


def _rows(rng: random.Random, n: int) -> list[int]:
    return sorted(rng.sample(range(n), rng.randint(1, min(3, n))))


def _set(cols: dict[str, list[Any]], name: str, rows: list[int], value: Any) -> None:
    column = list(cols[name])
    for r in rows:
        column[r] = value
    cols[name] = column


def _mutate(rng: random.Random, cols: dict[str, list[Any]]) -> str:
    """Break one documented rule of the trace contract; returns what was broken."""
    n = len(cols["request_id"])
    rows = _rows(rng, n)
    choice = rng.randrange(17)
    if choice == 0:
        name = rng.choice(REQUIRED)
        del cols[name]
        return f"missing {name}"
    if choice == 1:
        _set(cols, "latency_ms", rows, -rng.uniform(0.1, 1e6))
        return "negative latency"
    if choice == 2:
        _set(cols, "latency_ms", rows, rng.choice([math.nan, math.inf, -math.inf]))
        return "non-finite latency"
    if choice == 3:
        cols["latency_ms"] = [str(v) for v in cols["latency_ms"]]
        _set(cols, "latency_ms", rows, rng.choice(["abc", "12ms", "", "1,5", "∞"]))
        return "latency not a number"
    if choice == 4:
        _set(cols, "score", rows, rng.choice([1.5, -0.1, math.nan, math.inf, 1e300]))
        return "score outside [0, 1]"
    if choice == 5:
        _set(cols, "arm", rows, rng.choice([*JUNK_TEXT, "Canary", "treatment", "CONTROL"]))
        return "bad arm"
    if choice == 6:
        cols["error"] = [str(v).lower() for v in cols["error"]]
        _set(cols, "error", rows, rng.choice(["yes", "maybe", "2", "-1", "nan", "ja"]))
        return "error not boolean"
    if choice == 7:
        cols["label"] = [str(v).lower() for v in cols["label"]]
        _set(cols, "label", rows, rng.choice(["7", "x", "yes", "0.5", "-1"]))
        return "label not boolean"
    if choice == 8:
        _set(
            cols,
            "ts",
            rows,
            rng.choice(
                [
                    "not a time",
                    "10000-01-01T00:00:00",
                    "2026-01-01T00:00:00+25:00",
                    "1969-12-31T23:59:59Z",
                    "2026-13-45T99:99:99",
                    "yesterday",
                    "",
                    "1e20",
                ]
            ),
        )
        return "bad ts"
    if choice == 9:
        r = rows[0]
        dup = (r + 2) % n if n > 2 else r
        _set(cols, "request_id", [dup], cols["request_id"][r])
        _set(cols, "arm", [dup], cols["arm"][r])
        return "duplicate (request_id, arm)"
    if choice == 10:
        _set(cols, "request_id", rows, None)
        return "null request_id"
    if choice == 11:
        _set(cols, rng.choice(["model", "version", "arm"]), rows, None)
        return "null model/version/arm"
    if choice == 12:
        _set(cols, "latency_ms", rows, None)
        return "null latency without error"
    if choice == 13:
        _set(cols, "error", rows, None)
        return "null error"
    if choice == 14:
        _set(cols, "arm", rows, "x" * rng.choice([200, 10_000, 1_000_000]))
        return "huge bad arm"
    if choice == 15:
        _set(cols, "ts", rows, None)
        return "null ts"
    cols["arm"] = ["shadow"] * n
    _set(cols, "arm", rows, "\u202econtrol\x07")
    return "control character in arm"


def _write_table(path: Path, cols: dict[str, list[Any]], csv: bool) -> None:
    for name, values in cols.items():
        if len({type(v) for v in values if v is not None} | {str}) > 1 and any(
            isinstance(v, str) for v in values
        ):  # a column made text by one rule and given a number by another
            cols[name] = [None if v is None else str(v) for v in values]
    table = pa.table({k: pa.array(v) for k, v in cols.items()})
    if csv:
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)


def _list_model_table(path: Path, rng: random.Random) -> str:
    cols: dict[str, Any] = _base_table(rng)
    n = len(cols["model"])
    if rng.random() < 0.5:
        cols["model"] = [[MODEL]] * n
        what = "list model"
    else:
        cols["model"] = [{"name": MODEL}] * n
        what = "struct model"
    pq.write_table(pa.table(cols), path)
    return what


def trace_cases(rng: random.Random, folder: Path, store: Path, count: int) -> list[Case]:
    """Malformed trace files through ``ingest`` (store unchanged) and ``evaluate`` in place."""
    valid = folder / "valid_small.parquet"
    _write_table(valid, _base_table(random.Random(1)), csv=False)
    valid_bytes = valid.read_bytes()
    cases = []
    for i in range(count):
        csv = rng.random() < 0.45
        path = folder / f"t{i}.{'csv' if csv else 'parquet'}"
        kind = rng.randrange(10)
        if kind == 0:
            path.write_bytes(b"")
            what = "empty file"
        elif kind == 1:
            path.write_bytes(rng.randbytes(rng.randint(1, 4096)))
            what = "binary junk"
        elif kind == 2 and not csv:
            path.write_bytes(valid_bytes[: rng.randint(1, len(valid_bytes) - 1)])
            what = "truncated Parquet"
        elif kind == 2:
            text = rng.choice(
                [
                    'request_id,ts\n"unterminated,2026\n',
                    "a;b;c\n1;2;3\n",
                    "request_id,ts,model,version,arm,latency_ms,error\nr1,2026-01-01,m\n",
                    ",".join(REQUIRED) + "\nr1,2026-01-01,m,v1,control,1,false,extra,extra\n",
                ]
            )
            path.write_text(text)
            what = "broken CSV"
        elif kind == 3 and csv:
            path.write_bytes(
                (",".join(REQUIRED) + "\n").encode()
                + b"r1,2026-01-01,m\xff\xfe,v1,control,1,false\n"
            )
            what = "CSV with invalid UTF-8 and a short row"
        elif kind == 3:
            what = _list_model_table(path, rng)
        else:
            cols = _base_table(rng)
            what = _mutate(rng, cols)
            if rng.random() < 0.3 and all(c in cols for c in REQUIRED):  # a second rule
                what += " + " + _mutate(rng, cols)
            _write_table(path, cols, csv)
        command = rng.randrange(6)
        if command in (0, 1):
            cases.append(
                Case(
                    "traces",
                    f"ingest {what}",
                    ["ingest", str(path), "--db", str(store)],
                    guarded=(store,),
                )
            )
        elif command == 2:
            new = folder / f"new{i}.duckdb"
            cases.append(
                Case(
                    "traces",
                    f"ingest into a new store: {what}",
                    ["ingest", str(valid), str(path), "--db", str(new), "--format", "json"],
                    absent=(new, Path(f"{new}.wal")),
                )
            )
        else:
            cases.append(Case("traces", f"evaluate in place: {what}", ["evaluate", str(path)]))
    return cases


def label_cases(rng: random.Random, folder: Path, store: Path, count: int) -> list[Case]:
    """Malformed late-label files through ``ingest-labels`` (store unchanged)."""
    cases = []
    for i in range(count):
        path = folder / f"l{i}.parquet"
        kind = rng.randrange(5)
        if kind == 0:
            table = pa.table({"request_id": ["r0", "r1"], "label": ["yes", "7"]})
            what = "labels not boolean"
        elif kind == 1:
            table = pa.table({"label": [True, False]})
            what = "no request_id"
        elif kind == 2:
            table = pa.table({"request_id": ["nope-1", "nope-2"], "label": [True, False]})
            what = "unknown requests"
        elif kind == 3:
            table = pa.table(
                {"request_id": ["r0", "r0"], "arm": ["control", "control"], "label": [True, False]}
            )
            what = "conflicting labels"
        else:
            path.write_bytes(rng.randbytes(64))
            cases.append(
                Case(
                    "labels",
                    "binary junk",
                    ["ingest-labels", str(path), "--db", str(store)],
                    guarded=(store,),
                )
            )
            continue
        pq.write_table(table, path)
        cases.append(
            Case("labels", what, ["ingest-labels", str(path), "--db", str(store)], guarded=(store,))
        )
    return cases


# -- policies ---------------------------------------------------------------------------------


def _policy_document(rng: random.Random) -> tuple[Any, str]:
    base = yaml.safe_load((Path(__file__).parents[2] / "policies" / "canary.yaml").read_text())
    choice = rng.randrange(16)
    if choice == 0:
        base["alpha"] = rng.choice(["x", -1, 2, None, [0.05], 0])
        return base, "bad alpha"
    if choice == 1:
        base["checks"] = rng.choice(["x", [1, 2], 5, None])
        return base, "checks not a mapping"
    if choice == 2:
        name = rng.choice(sorted(base["checks"]))
        base["checks"][name]["kind"] = rng.choice(["latency_magic", "", 7, None])
        return base, "unknown check kind"
    if choice == 3:
        name = rng.choice([n for n in base["checks"] if "max" in base["checks"][n]])
        base["checks"][name]["max"] = rng.choice(["abc", None, [1], {"a": 1}, "1e999"])
        return base, "threshold not a number"
    if choice == 4:
        base["checks"]["latency_p95"]["quantile"] = rng.choice([1.5, -0.2, 0, 1, "p95"])
        return base, "bad quantile"
    if choice == 5:
        base["min_samples"] = rng.choice([{"control": -5, "candidate": 10}, "x", [1]])
        return base, "bad min_samples"
    if choice == 6:
        base["rollout"]["steps"] = rng.choice(
            [
                [],
                [{"share": 2.0, "window_minutes": 30}],
                [{"share": 0.5, "window_minutes": 0}],
                "x",
                [{"share": 0.5}],
                [{"share": 0.5, "window_minutes": -1}],
            ]
        )
        return base, "bad rollout steps"
    if choice == 7:
        base["schema"] = rng.choice(["canarykit.policy/99", 5, None, ""])
        return base, "bad schema"
    if choice == 8:
        base["sensitive_features"] = rng.choice([5, {"a": 1}, [[1]], [""]])
        return base, "bad sensitive_features"
    if choice == 9:
        base["decision_threshold"] = rng.choice(["x", 1.5, -1, None])
        return base, "bad decision_threshold"
    if choice == 10:
        name = rng.choice(sorted(base["checks"]))
        base["checks"][name]["required"] = rng.choice(["maybe", 3, [True]])
        return base, "required not boolean"
    if choice == 11:
        return rng.choice([[1, 2, 3], "just a string", 42, None]), "not a mapping"
    if choice == 12:
        name = rng.choice(sorted(base["checks"]))
        base["checks"][name] = rng.choice(["x", None, [1]])
        return base, "check not a mapping"
    if choice == 13:
        name = rng.choice(sorted(base["checks"]))
        base["checks"][name]["t_opt"] = rng.choice([-1, "x", 0])
        return base, "bad t_opt"
    if choice == 14:
        base["checks"]["latency_p95"].pop("max")
        return base, "threshold missing"
    base["checks"]["latency_p95"]["min"] = 5.0  # both max and min
    base["checks"]["latency_p95"]["max"] = 1.0
    return base, "max below min"


def policy_cases(rng: random.Random, folder: Path, source: Path, count: int) -> list[Case]:
    """Malformed policies through ``evaluate --policy`` and ``plan --policy``."""
    cases = []
    for i in range(count):
        path = folder / f"p{i}.yaml"
        kind = rng.randrange(8)
        if kind == 0:
            path.write_text(
                rng.choice(
                    [
                        "checks: [unclosed",
                        "alpha: 0.05\n  bad indent: x\n",
                        "\t- tab",
                        "key: value: other",
                        "{{{{",
                        "- a\nb: c",
                        "&anchor x: *missing",
                        "!!python/object/apply:os.system ['true']",
                    ]
                )
            )
            what = "YAML syntax junk"
        elif kind == 1:
            path.write_bytes(rng.randbytes(rng.randint(1, 2048)))
            what = "binary junk"
        elif kind == 2:
            path.write_text("")
            what = "empty policy"
        elif kind == 3 and i % 3 == 0:  # parsing thousands of levels is slow: a few
            depth = rng.choice([1200, 3000])  # beyond Python's recursion limit
            path.write_text("checks: " + "[" * depth + "]" * depth)
            what = f"nested {depth} deep"
        elif kind == 4:
            path = folder / f"p{i}"
            path.mkdir()
            (path / "canary.yaml").write_text(
                (Path(__file__).parents[2] / "policies" / "canary.yaml").read_text()
            )
            rego = rng.choice(
                [
                    "package canarykit.decision\nimport rego.v1\nresult := {",
                    'package canarykit.decision\nresult := "PROCEED"\n',
                    "this is not rego at all",
                    "package canarykit.decision\nimport rego.v1\n"
                    'result := {"decision": "MAYBE", "reasons": []}\n',
                ]
            )
            (path / "decision.rego").write_text(rego)
            what = "broken Rego"
        elif kind == 5:
            path = folder / f"p{i}"
            path.mkdir()
            (path / "decision.rego").write_bytes(b"package canarykit.decision\n\xff\xfe\xfd")
            what = "non-UTF-8 Rego"
        else:
            document, what = _policy_document(rng)
            path.write_text(yaml.safe_dump(document))
        if kind in (4, 5) or rng.random() < 0.2:  # only a verdict runs the Rego rules
            argv = ["evaluate", str(source), "--policy", str(path), "--no-log"]
        else:
            argv = ["plan", "--policy", str(path), "--rate", "50"]
        cases.append(Case("policies", what, argv))
    return cases


# -- verdicts ---------------------------------------------------------------------------------

_WRONG_TYPES: dict[str, list[Any]] = {
    "decision": [5, None, ["PROCEED"], {"d": 1}],
    "reasons": ["x", 5, None, {"a": 1}],
    "model": [5, None, ["m"], {"m": 1}],
    "baseline": [5, None, ["v"]],
    "candidate": [5, None, {"v": 1}],
    "mode": [5, "sideways", None, ["canary"]],
    "window": ["x", [1, 2], 5],
    "checks": ["x", 5, {"a": 1}, [1, 2], [{"name": 5}], [{"status": "pass"}]],
    "policy_digest": [5, None, ["sha256:x"]],
    "data_digest": [5, None, {"x": 1}],
    "canarykit_version": [5, None, []],
    "created_at": [5, [], {"t": 1}],
    "rollout": ["x", 5, [1], {"step": "x"}, {"planned_split": "half", "steps": 3}],
    "selection": ["x", 5, [1]],
    "forecast": [5, "x", {"a": 1}, [5]],
    "engines": ["duckdb", 5, ["duckdb"], {"duckdb": 1}],
}


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def verdict_cases(
    rng: random.Random, folder: Path, verdict: Path, source: Path, count: int
) -> list[Case]:
    """Malformed or edited verdicts through ``replay`` and ``report``."""
    text = verdict.read_text()
    data = json.loads(text)
    cases = []
    for i in range(count):
        path = folder / f"v{i}.json"
        kind = rng.randrange(9)
        replay_codes: tuple[int, ...] = (2,)
        report_codes: tuple[int, ...] = (2,)
        if kind == 0:
            path.write_text(text[: rng.randint(0, len(text) - 2)])
            what = "truncated JSON"
        elif kind == 1:
            path.write_bytes(rng.randbytes(rng.randint(1, 512)))
            what = "binary junk"
        elif kind == 2:
            path.write_text(json.dumps(rng.choice([[data], "verdict", 5, None, []])))
            what = "not a JSON object"
        elif kind == 3:
            edited = dict(data)
            edited["schema"] = rng.choice(["canarykit.verdict/2", None, 5, ""])
            path.write_text(json.dumps(edited))
            what = "wrong schema"
        elif kind == 4:
            edited = dict(data)
            key = rng.choice(
                [
                    "decision",
                    "reasons",
                    "model",
                    "baseline",
                    "candidate",
                    "mode",
                    "window",
                    "checks",
                    "policy_digest",
                    "data_digest",
                    "canarykit_version",
                    "created_at",
                ]
            )
            del edited[key]
            path.write_text(json.dumps(edited))
            what = f"missing {key}"
        elif kind == 5:
            edited = dict(data)
            key = rng.choice(sorted(_WRONG_TYPES))
            edited[key] = rng.choice(_WRONG_TYPES[key])
            path.write_text(json.dumps(edited))
            what = f"wrong type: {key}"
        elif kind == 6:
            edited = json.loads(text)
            check = rng.choice(edited["checks"])
            field_name = rng.choice(
                ["status", "estimate", "ci_low", "n_control", "required", "details", "name"]
            )
            value = rng.choice(["abc", [1], {"x": 1}, None, 7, "passed"])
            check[field_name] = value
            path.write_text(json.dumps(edited))
            what = f"wrong check field: {field_name}"
            replay_codes = (1, 2)  # may still be a readable, different verdict
            well_typed = {
                "name": isinstance(value, str),
                "estimate": value is None or isinstance(value, int | float),
                "ci_low": value is None or isinstance(value, int | float),
                "n_control": isinstance(value, int) and not isinstance(value, bool),
                "details": isinstance(value, dict),
            }.get(field_name, False)
            if well_typed:  # a readable verdict whose decision still follows from its checks
                report_codes = (0, 2)
        elif kind == 7:
            path.write_text(
                '{"schema": "canarykit.verdict/1", "selection": ' + "[" * 5000 + "]" * 5000 + "}"
            )
            what = "nested 5000 deep"
        else:
            edited = json.loads(text)
            choice = rng.randrange(5)
            if choice == 0:
                edited["decision"] = rng.choice(
                    [d for d in ("PROCEED", "STOP", "CONTINUE", "MAYBE") if d != data["decision"]]
                )
                what = "edited decision"
                replay_codes = (1, 2)
            elif choice == 1:
                edited["selection"]["model"] = rng.choice(JUNK_TEXT[1:])
                what = "selection of another model"
            elif choice == 2:
                edited["selection"]["until"] = rng.choice(["yesterday", "10000-01-01", 5, "+25:00"])
                what = "bad selection until"
            elif choice == 3:
                edited["policy_digest"] = "sha256:" + "0" * 64
                what = "unknown policy digest"
                report_codes = (0, 2)  # the report may draw with the shipped policy, warning
            else:
                edited["model"] = "m" * 1_000_000
                edited["decision"] = "MAYBE"
                what = "huge model and bad decision"
                replay_codes = (1, 2)
            path.write_text(json.dumps(edited))
        if rng.random() < 0.5:
            cases.append(
                Case(
                    "verdicts",
                    f"replay {what}",
                    ["replay", str(path), str(source)],
                    codes=replay_codes,
                )
            )
        else:
            out = folder / f"r{i}.html"
            cases.append(
                Case(
                    "verdicts",
                    f"report {what}",
                    ["report", str(path), str(source), "--out", str(out), "--dpi", "20"],
                    codes=report_codes,
                    absent=() if report_codes != (2,) else (out,),
                )
            )
    return cases


# -- promotion --------------------------------------------------------------------------------


def _bad_document(rng: random.Random, kind: str) -> Any:
    roster = [
        {"people": [["ann", "product"]]},
        {"people": {"ann": "admin"}},
        {"people": {"": ["product"]}},
        {"people": {"ann": ["pope"]}},
        {"people": {"ann": [None]}},
        {"people": {"ann": []}},
        {"people": None},
        {"people": {"x" * 100_000: ["product"]}},
        {"folks": {"ann": ["product"]}},
    ]
    trust = [
        {"keys": [{"id": "k", "public_key": "not base64 !!"}]},
        {"keys": [{"id": "", "public_key": ""}]},
        {"keys": "k"},
        {"keys": [{"public_key": "AAAA"}]},
        {"keys": [{"id": "k", "public_key": "AAAA", "purposes": 5}]},
        {"keys": [5]},
    ]
    calendar = [
        {
            "windows": [
                {"name": "w", "weekly": {"days": ["funday"], "start": "08:00", "end": "18:00"}}
            ]
        },
        {"windows": [{"name": "w", "weekly": {"days": ["mon"], "start": "25:00", "end": "18:00"}}]},
        {"windows": "always"},
        {"freezes": [{"name": "f", "monthly": {"last_days": -3}}]},
        {"freezes": [{"name": "f", "start": "2026-13-01T00:00:00Z", "end": "x"}]},
        {"windows": [{"weekly": {"days": ["mon"], "start": "08:00", "end": "07:00"}}]},
    ]
    ticket = [
        {"id": "CHG-1", "type": "Big"},
        {"id": 5, "type": "Normal"},
        {"id": "CHG-2", "type": "Normal", "scope": "everything"},
        {
            "id": "CHG-3",
            "type": "Normal",
            "scope": {"model": MODEL, "versions": [{"v": 1}]},
            "risk": "low",
            "impact": "x",
            "steps": ["go"],
            "backout_plan": "b",
            "window": {"start": "2026-11-27T00:00:00Z", "end": "2026-11-26T00:00:00Z"},
            "post_change_validation": ["x"],
            "owners": ["olga"],
        },
        {
            "id": "CHG-4",
            "type": "Normal",
            "scope": {"model": MODEL, "versions": ["v1"]},
            "risk": "extreme",
            "impact": "x",
            "steps": "go",
            "backout_plan": "b",
            "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-11-25T08:00:00Z"},
            "post_change_validation": [],
            "owners": [None],
        },
        {"id": "x" * 10_000, "type": "Emergency"},
    ]
    return rng.choice(
        {"roster": roster, "trust": trust, "calendar": calendar, "ticket": ticket}[kind]
    )


def promotion_cases(
    rng: random.Random, folder: Path, registry: Path, artifact: Path, count: int
) -> list[Case]:
    """Bad configuration files, tickets, SBOMs, signatures and arguments for the registry."""
    common = ["--registry", str(registry), "--clock", CLOCK]
    cases = []
    for i in range(count):
        kind = rng.randrange(10)
        if kind in (0, 1, 2, 3):
            key = ("roster", "trust", "calendar", "ticket")[kind]
            path = folder / f"{key}{i}.yaml"
            style = rng.randrange(5)
            if style == 0:
                path.write_bytes(rng.randbytes(rng.randint(1, 1024)))
                what = f"binary {key}"
            elif style == 1:
                path.write_text(rng.choice(["", "[unclosed", "- a\nb: c", "{{", "5"]))
                what = f"junk {key}"
            elif style == 2 and i % 3 == 0:
                path.write_text("a: " + "[" * 1200 + "]" * 1200)
                what = f"deeply nested {key}"
            else:
                path.write_text(yaml.safe_dump(_bad_document(rng, key)))
                what = f"wrong fields in {key}"
            if key == "ticket":
                argv = ["change", "create", str(path), *common, "--actor", "olga"]
            else:
                actor = {"roster": "sam", "trust": "sam", "calendar": "olga"}[key]
                argv = ["config", f"set-{key}", str(path), *common, "--actor", actor]
            cases.append(Case("promotion", what, argv, codes=(2, 4), guarded=(registry,)))
        elif kind == 4:
            name = rng.choice(["", " ", "\x00\x01", "a\nb", "\t", "none", "v1\x1b[31m", "-v"])
            version = rng.choice([name, "v1"])
            model = name if version == "v1" else MODEL
            argv = [
                "submit",
                model,
                version,
                "--artifact",
                str(artifact),
                *common,
                "--actor",
                "ann",
            ]
            if model == MODEL and version == "v1":
                argv = [
                    "submit",
                    MODEL,
                    "v1",
                    "--artifact",
                    str(artifact),
                    *common,
                    "--actor",
                    "ann",
                ]  # already submitted
            cases.append(
                Case(
                    "promotion",
                    f"submit name {name[:20]!r}",
                    argv,
                    codes=(2, 4),
                    guarded=(registry,),
                )
            )
        elif kind == 5:
            digest = rng.choice(
                ["sha256:xyz", "md5:" + "0" * 32, "", "sha256:" + "0" * 63, "sha256:" + "g" * 64]
            )
            argv = [
                "submit",
                MODEL,
                f"v{i + 100}",
                "--artifact-digest",
                digest,
                *common,
                "--actor",
                "ann",
            ]
            cases.append(Case("promotion", "bad artifact digest", argv, guarded=(registry,)))
        elif kind == 6:
            sbom = folder / f"sbom{i}.json"
            choice = rng.randrange(4)
            if choice == 0:
                sbom.write_bytes(rng.randbytes(200))
            elif choice == 1:
                sbom.write_text('{"bomFormat": "CycloneDX", "vulnerabilities": ')
            elif choice == 2:
                sbom.write_text(json.dumps({"bomFormat": "SPDX", "vulnerabilities": "none"}))
            else:
                sbom.write_text(
                    json.dumps(
                        {
                            "bomFormat": "CycloneDX",
                            "specVersion": "1.5",
                            "vulnerabilities": [{"id": 5, "ratings": "high"}],
                        }
                    )
                )
            signature = folder / f"sig{i}.json"
            signature.write_text(rng.choice(["", "{}", '{"signatures": 5}', "[1]", "\x00"]))
            argv = [
                "promote",
                MODEL,
                "v1",
                "--to",
                "Staging",
                "--sbom",
                str(sbom),
                "--signature",
                str(signature),
                *common,
                "--actor",
                "olga",
            ]
            cases.append(
                Case("promotion", "bad SBOM/signature", argv, codes=(2, 4), guarded=(registry,))
            )
        elif kind == 7:
            expires = rng.choice(
                [
                    "tomorrow",
                    "2026-13-40T00:00:00Z",
                    "2030-01-01T00:00:00Z",
                    "2026-11-24T00:00:00Z",
                    "",
                    "2026-11-26T00:00:00+25:00",
                ]
            )
            argv = [
                "waive",
                MODEL,
                "--id",
                rng.choice(["SCDR-1", "", "x" * 500]),
                "--check",
                "latency_p95",
                "--reason",
                "r",
                "--owner",
                "sam",
                "--expires",
                expires,
                *common,
                "--actor",
                "sam",
            ]
            cases.append(Case("promotion", "bad waiver", argv, codes=(2, 4), guarded=(registry,)))
        elif kind == 8:
            clock = rng.choice(
                ["yesterday", "2026-11-25T10:00:00+25:00", "", "10000-01-01", "2026-11-25"]
            )
            argv = ["status", "--registry", str(registry), "--clock", clock]
            cases.append(Case("promotion", "bad --clock", argv, guarded=(registry,)))
        else:
            argv = rng.choice(
                [
                    ["approve", MODEL, "v404", "--role", "security", *common, "--actor", "sam"],
                    [
                        "promote",
                        MODEL,
                        "v1",
                        "--to",
                        "Approved",
                        "--verdict",
                        str(artifact),
                        "--revalidate-by",
                        "soon",
                        *common,
                        "--actor",
                        "olga",
                    ],
                    [
                        "alias",
                        "set",
                        MODEL,
                        "v1",
                        "--expect",
                        "v0",
                        "--chg",
                        "CHG-404",
                        *common,
                        "--actor",
                        "olga",
                    ],
                    [
                        "change",
                        "approve",
                        "CHG-404",
                        "--role",
                        "operations",
                        *common,
                        "--actor",
                        "otto",
                    ],
                    ["revoke", MODEL, "v404", "--reason", "x", *common, "--actor", "sam"],
                    ["evaluate", str(artifact), "--split", rng.choice(["2", "nan", "-1", "x"])],
                    ["plan", "--rate", rng.choice(["0", "-5", "nan", "inf", "x"])],
                    ["info", "--db", str(artifact)],
                    ["status", "--registry", str(artifact)],
                    ["config", "show", "--registry", str(folder / "missing" / "r.sqlite")],
                ]
            )
            cases.append(
                Case(
                    "promotion",
                    f"bad arguments: {argv[0]}",
                    argv,
                    codes=(2, 4),
                    guarded=(registry,),
                )
            )
    return cases


# -- the run ----------------------------------------------------------------------------------


def _run_case(case: Case, capsys: pytest.CaptureFixture[str], outcome: Outcome) -> None:
    before = _digest(case.guarded)
    try:
        code = main(case.argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    outcome.codes[(case.kind, code)] += 1
    problems = []
    if code not in case.codes:
        problems.append(f"exit {code}")
    if "Traceback" in err or "Traceback" in out:
        problems.append("traceback")
    errors = [  # the drill registry's first line says DRILL; it is not an error
        line
        for line in err.splitlines()
        if not line.startswith(("canarykit: warning:", "DRILL registry: "))
    ]
    if code == 2:
        if len(errors) != 1 or not errors[0].startswith("canarykit: error: "):
            problems.append(f"{len(errors)} error lines")
        if out.strip():
            problems.append("output on stdout")
    if code == 4 and not any(line.startswith("canarykit: denied: ") for line in errors):
        problems.append("denial without its line")
    if any(len(line) > 300 for line in err.splitlines()):
        problems.append("line over 300 characters")
    for word in (
        "Binder Error",
        "Conversion Error",
        "Parser Error",
        "Catalog Error",
        "Invalid Input Error",
        "IO Error",
        "LINE 1:",
    ):
        if word in err:
            problems.append(f"engine wording {word!r}")
    if code == 2 and _digest(case.guarded) != before:
        problems.append("guarded file changed")
    for path in case.absent:
        if path.exists():
            problems.append(f"{path.name} left behind")
    if problems:
        first = (errors or [""])[0][:160]
        outcome.failures.append(f"{case.kind}: {case.what}: {', '.join(problems)} — {first}")


def _setup_registry(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    registry = folder / "registry.sqlite"
    common = ["--registry", str(registry), "--clock", CLOCK]
    roster = folder / "roster.yaml"
    roster.write_text(
        yaml.safe_dump(
            {
                "people": {
                    "ann": ["product"],
                    "sam": ["security"],
                    "olga": ["operations"],
                    "otto": ["operations"],
                }
            }
        )
    )
    trust = folder / "trust.yaml"
    key = Ed25519PrivateKey.generate()
    trust.write_text(yaml.safe_dump({"keys": [{"id": "k", "public_key": public_key_text(key)}]}))
    artifact = folder / "model.bin"
    artifact.write_bytes(b"weights v1")
    # a drill registry: the fixed clock and unsigned acts of people listed without keys
    for argv in (
        ["config", "init", str(registry), "--drill", "--clock", CLOCK, "--actor", "sam"],
        [
            "config",
            "bootstrap",
            "--roster",
            str(roster),
            "--trust",
            str(trust),
            *common,
            "--actor",
            "sam",
        ],
        ["submit", MODEL, "v1", "--artifact", str(artifact), *common, "--actor", "ann"],
    ):
        assert main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()
    return registry, artifact


def test_fuzz_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CANARYKIT_KEY", raising=False)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(crashes))
    rng = random.Random(SEED)

    source = tmp_path / "identical.parquet"
    pq.write_table(
        generate_traces("identical", n_requests=2_000, canary_share=0.25, seed=3), source
    )
    verdict = tmp_path / "verdict.json"
    assert main(["evaluate", str(source), "--out", str(verdict), "--no-log"]) in (0, 1, 3)
    store = tmp_path / "store.duckdb"
    assert main(["ingest", str(source), "--db", str(store)]) == 0
    registry, artifact = _setup_registry(tmp_path, capsys)
    capsys.readouterr()

    folders = {name: tmp_path / name for name in COUNTS}
    for folder in folders.values():
        folder.mkdir()
    builders: dict[str, Callable[[], list[Case]]] = {
        "traces": lambda: trace_cases(rng, folders["traces"], store, COUNTS["traces"]),
        "labels": lambda: label_cases(rng, folders["labels"], store, COUNTS["labels"]),
        "policies": lambda: policy_cases(rng, folders["policies"], source, COUNTS["policies"]),
        "verdicts": lambda: verdict_cases(
            rng, folders["verdicts"], verdict, source, COUNTS["verdicts"]
        ),
        "promotion": lambda: promotion_cases(
            rng, folders["promotion"], registry, artifact, COUNTS["promotion"]
        ),
    }
    cases = [case for build in builders.values() for case in build()]
    assert len(cases) >= 1_000

    outcome = Outcome()
    seconds: Counter[str] = Counter()
    for case in cases:
        started = time.perf_counter()
        _run_case(case, capsys, outcome)
        seconds[case.kind] += time.perf_counter() - started

    summary = ", ".join(f"{k}:{c}={n}" for (k, c), n in sorted(outcome.codes.items()))
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(seconds.items()))
    print(f"fuzz: {len(cases)} inputs; outcomes {summary}; time {timing}")
    known: Counter[str] = Counter()
    new = []
    for failure in outcome.failures:
        print(f"FUZZ-FAIL {failure}")
        pattern = next((p for p in KNOWN_OPEN if re.search(p, failure)), None)
        if pattern is None:
            new.append(failure)
        else:
            known[pattern] += 1
    assert not new, f"{len(new)} of {len(cases)} inputs misbehaved:\n" + "\n".join(new[:60])
    crashed = [p.name for p in crashes.iterdir()]
    assert known or not crashed, f"crash files were written: {crashed[:5]}"
    if known:
        pytest.xfail(
            "open findings for other owners: "
            + "; ".join(f"{KNOWN_OPEN[p]} ({n} inputs)" for p, n in known.items())
        )
