"""Turn check results into PROCEED / STOP / CONTINUE with the policy's Rego rules (regopy).

Python computes the check results; Rego decides (``policies/decision.rego``). The engine is
treated as untrusted for the permissive direction: a PROCEED is accepted only when no check
fails and every required check passes (rules can make a decision stricter, never looser). A
policy the engine cannot evaluate — a module that does not parse, an undefined result, an
``<error>`` value, a malformed result — is a :class:`~canarykit.errors.PolicyError` (exit 2),
never a decision; its message says what the checks alone would give.

Examples
--------
>>> checks = [{"name": "error_rate", "kind": "error_rate", "status": "pass", "required": True,
...            "summary": "0.10% (CI 0.05%..0.20%) is within 0.50%"}]
>>> from canarykit.verdict.policy import load_policy
>>> decide(checks, policy=load_policy(), context={"model": "m", "mode": "canary"})
('PROCEED', ('all 1 required checks pass',))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from canarykit.errors import PolicyError
from canarykit.verdict.policy import Policy
from canarykit.verdict.rego import evaluate_decision_rules

__all__ = ["builtin_decision", "decide"]

_STRICTNESS = {"PROCEED": 0, "CONTINUE": 1, "STOP": 2}


def builtin_decision(checks: Sequence[Mapping[str, Any]]) -> str:
    """The decision rule of DESIGN.md §4, used to bound what Rego may return."""
    if any(c["status"] == "fail" for c in checks):
        return "STOP"
    if checks and all(c["status"] == "pass" or not c["required"] for c in checks):
        return "PROCEED"
    return "CONTINUE"


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
        decision, reasons = evaluate_decision_rules(policy.rego_modules, payload)
    except PolicyError as err:  # never a decision: the policy is broken (exit 2)
        raise PolicyError(f"{err} (the checks alone would give {ceiling})") from None
    except Exception as err:  # anything else from the engine is a policy error too
        raise PolicyError(
            f"decision policy: the Rego engine failed ({type(err).__name__}: "
            f"{' '.join(str(err).split())[:120]}); the checks alone would give {ceiling}"
        ) from None
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
