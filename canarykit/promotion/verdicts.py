"""Reading canary verdicts (DESIGN.md §4) by their contract keys, for the Approved gate.

Only the keys the promotion layer relies on are checked; every problem is reported with its
path, all together.

Examples
--------
>>> v = read_verdict({"schema": "canarykit.verdict/1", "decision": "PROCEED", "model": "m",
...     "baseline": "v1", "candidate": "v2", "policy_digest": "sha256:" + "a" * 64,
...     "data_digest": "sha256:" + "b" * 64, "window": {"start": "s", "end": "e"},
...     "checks": [{"name": "latency_p95", "status": "pass"}], "reasons": []})
>>> v["decision"], gate_facts(v)["checks"]
('PROCEED', [{'name': 'latency_p95', 'status': 'pass'}])
>>> read_verdict({"schema": "x"})
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: verdict: schema: 'x' is not 'canarykit.verdict/1'; decision: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import canonical_json
from canarykit.promotion.evidence import digest_bytes, load_json_file

__all__ = ["VERDICT_SCHEMA", "gate_facts", "read_verdict", "verdict_digest"]

VERDICT_SCHEMA = "canarykit.verdict/1"
_DECISIONS = ("PROCEED", "STOP", "CONTINUE")
_STATUSES = ("pass", "fail", "inconclusive")


def read_verdict(source: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """Validate a verdict dict (or JSON file) by its contract keys and return it as a dict."""
    where = "verdict"
    if isinstance(source, (str, Path)):
        where = str(source)
        source = load_json_file(source, what="verdict")
    if not isinstance(source, Mapping):
        raise InvalidInputError(f"{where}: must be a JSON object")
    errors: list[str] = []
    if source.get("schema") != VERDICT_SCHEMA:
        errors.append(f"schema: {source.get('schema')!r} is not {VERDICT_SCHEMA!r}")
    decision = source.get("decision")
    if decision is None:
        errors.append("decision: required")
    elif decision not in _DECISIONS:
        errors.append(f"decision: {decision!r} is not one of {', '.join(_DECISIONS)}")
    for key in ("model", "candidate", "policy_digest"):
        if not isinstance(source.get(key), str) or not source.get(key):
            errors.append(f"{key}: required string")
    checks = source.get("checks")
    if not isinstance(checks, list):
        errors.append("checks: required list")
        checks = []
    for index, check in enumerate(checks):
        if not isinstance(check, Mapping):
            errors.append(f"checks[{index}]: must be an object")
            continue
        if not isinstance(check.get("name"), str):
            errors.append(f"checks[{index}].name: required string")
        if check.get("status") not in _STATUSES:
            errors.append(
                f"checks[{index}].status: {check.get('status')!r} is not one of"
                f" {', '.join(_STATUSES)}"
            )
    if errors:
        raise InvalidInputError(f"{where}: " + "; ".join(errors))
    return dict(source)


def verdict_digest(verdict: Mapping[str, Any]) -> str:
    """``"sha256:<hex>"`` of the verdict's canonical JSON (independent of file formatting).

    Examples
    --------
    >>> verdict_digest({"b": 1, "a": 2}) == verdict_digest({"a": 2, "b": 1})
    True
    """
    return digest_bytes(canonical_json(dict(verdict)).encode("utf-8"))


def gate_facts(verdict: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Rego input form of a (validated) verdict, or ``{"present": False}``."""
    if verdict is None:
        return {"present": False}
    return {
        "present": True,
        "digest": verdict_digest(verdict),
        "schema": verdict.get("schema"),
        "decision": verdict.get("decision"),
        "model": verdict.get("model"),
        "candidate": verdict.get("candidate"),
        "baseline": verdict.get("baseline"),
        "policy_digest": verdict.get("policy_digest"),
        "checks": [
            {"name": c.get("name"), "status": c.get("status")} for c in verdict.get("checks", [])
        ],
    }
