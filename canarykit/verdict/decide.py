"""Turn check results into PROCEED / STOP / CONTINUE with the policy's Rego rules (regopy).

Python computes the check results; Rego decides (``policies/decision.rego``). The engine is
treated as untrusted for the permissive direction: an undefined result, an ``<error>`` value,
an exception or a malformed result never yields PROCEED, and a PROCEED is accepted only when
no check fails and every required check passes (rules can make a decision stricter, never
looser). When the engine cannot decide, the built-in rule is applied with PROCEED capped to
CONTINUE and the reason says why.

Examples
--------
>>> checks = [{"name": "error_rate", "kind": "error_rate", "status": "pass", "required": True,
...            "summary": "0.10% (CI 0.05%..0.20%) is within 0.50%"}]
>>> from canarykit.verdict.policy import load_policy
>>> decide(checks, policy=load_policy(), context={"model": "m", "mode": "canary"})
('PROCEED', ('all 1 required checks pass',))
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from canarykit.verdict.policy import Policy

__all__ = ["builtin_decision", "decide"]

DECISIONS = ("PROCEED", "STOP", "CONTINUE")
_STRICTNESS = {"PROCEED": 0, "CONTINUE": 1, "STOP": 2}


def builtin_decision(checks: Sequence[Mapping[str, Any]]) -> str:
    """The decision rule of DESIGN.md §4, used to bound what Rego may return."""
    if any(c["status"] == "fail" for c in checks):
        return "STOP"
    if checks and all(c["status"] == "pass" or not c["required"] for c in checks):
        return "PROCEED"
    return "CONTINUE"


_UNSAFE = str.maketrans({'"': "\u201d", "\\": "\u2216", **{chr(c): " " for c in range(32)}})


def _safe_strings(value: Any) -> Any:
    """Replace ``"``, ``\\`` and control characters in strings: regopy does not escape them
    in strings that rules build with ``sprintf``/``concat``, which would corrupt its JSON."""
    if isinstance(value, str):
        return value.translate(_UNSAFE)
    if isinstance(value, dict):
        return {_safe_strings(k): _safe_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe_strings(v) for v in value]
    return value


def _evaluate_rego(policy: Policy, payload: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Run the Rego rules; raise ``ValueError`` with a reason when the result is unusable."""
    import regopy

    interpreter = regopy.Interpreter()
    for name, text in policy.rego_modules:
        interpreter.add_module(name, text)
    interpreter.set_input(_safe_strings(json.loads(json.dumps(payload))))
    output = interpreter.query("x := data.canarykit.decision.result")
    text = str(output)
    if not output.ok():
        raise ValueError(f"evaluation failed: {' '.join(text.split())[:200]}")
    if text.strip() == "undefined" or "<error>" in text:
        raise ValueError("result is undefined or holds an error value")
    result = json.loads(text)["bindings"]["x"]
    decision, reasons = result.get("decision"), result.get("reasons")
    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise ValueError("reasons are not a list of strings")
    return decision, tuple(reasons)


def decide(
    checks: Sequence[Mapping[str, Any]], *, policy: Policy, context: Mapping[str, Any]
) -> tuple[str, tuple[str, ...]]:
    """Decision and reasons for ``checks`` (dicts with name, kind, status, required, summary).

    Parameters
    ----------
    checks : sequence of mapping
        One entry per evaluated check.
    policy : Policy
        Supplies the Rego modules.
    context : mapping
        Extra input for the rules (``model``, ``mode``, ``baseline``, ``candidate``).
    """
    payload = {**context, "checks": [dict(c) for c in checks]}
    ceiling = builtin_decision(checks)
    try:
        decision, reasons = _evaluate_rego(policy, payload)
    except Exception as err:  # fail closed: anything from the engine is a non-decision
        fallback = "STOP" if ceiling == "STOP" else "CONTINUE"
        return fallback, (
            f"decision policy could not be evaluated ({err}); "
            f"built-in rule applied without PROCEED",
        )
    if _STRICTNESS[ceiling] > _STRICTNESS[decision]:
        held = [
            f"{c['name']}: {c.get('summary', c['status'])}"
            for c in checks
            if c["status"] == "fail" or (c["required"] and c["status"] != "pass")
        ]
        return ceiling, (
            *reasons,
            *held,
            f"decision policy returned {decision}, which the check "
            f"results do not allow; the built-in rule gives {ceiling}",
        )
    return decision, reasons
