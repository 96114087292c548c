"""The Approved gate re-derives a verdict's decision under the bound policy.

A signed verdict says who computed it, not that its decision follows from its checks. Before
the Approved gate believes a PROCEED it runs the bound (sanctioned) policy's own decision —
its Rego rules, the organisation's ``stop_reasons``/``hold_reasons`` included, through
:func:`canarykit.verdict.decide.decide` — over the verdict's checks, twice:

- **plain**: the checks as the verdict states them. Any STOP here denies: stop reasons, the
  organisation's included, are never waived.
- **waived**: each check named by an unexpired waiver is marked ``waived: true`` and its status
  becomes ``"pass"`` *for the re-derivation only* (the verdict is not changed); the quality
  gates in :data:`UNWAIVABLE_CHECKS` keep their status. The gate requires PROCEED here.

The re-derivation input takes each check's ``kind`` and ``required`` from the bound policy,
never those the verdict states (a verdict cannot make its own failing check optional). A
required check of the policy (for the verdict's mode, at its rollout step) that the verdict lacks enters as
``inconclusive`` with summary ``"missing from the verdict"``.

Contradictions are listed as problems, each a denial: no checks at all; a check the bound
policy does not have (or does not run in the verdict's mode); a name given twice; a ``fail``
under a PROCEED decision; a ``pass`` whose interval does not pass the policy's threshold
(``ci_high <= max`` / ``ci_low >= min``, the rule of :func:`canarykit.verdict.checks.status_of`).

Examples
--------
>>> from canarykit.verdict.policy import load_policy
>>> policy = load_policy()
>>> checks = [{"name": n, "status": "pass", "ci_low": 0.0, "ci_high": 0.0}
...           for n in ("latency_p95", "latency_p99", "error_rate", "sample_ratio")]
>>> verdict = {"decision": "PROCEED", "mode": "canary", "model": "m", "candidate": "v2",
...            "checks": checks}
>>> r = rederive(verdict, policy, waived=())
>>> r.decision, r.plain_decision, r.problems
('PROCEED', 'PROCEED', ())
>>> failing = [dict(c, status="fail") for c in checks]
>>> r = rederive({**verdict, "checks": failing}, policy, waived=("latency_p99",))
>>> r.plain_decision, r.problems[0]
('STOP', 'latency_p95: status fail under decision PROCEED')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from canarykit.errors import PolicyError
from canarykit.promotion.approvals import person_key
from canarykit.promotion.waivers import Waiver
from canarykit.verdict.decide import decide
from canarykit.verdict.policy import MODES, CheckSpec, Policy, RolloutStep
from canarykit.verdict.tuning import applicable_checks

__all__ = ["UNWAIVABLE_CHECKS", "Rederivation", "active_waived_checks", "rederive"]

UNWAIVABLE_CHECKS = frozenset({"sample_ratio"})
"""Quality gates: they say the experiment itself is broken, so no waiver lifts them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rederivation:
    """The bound policy's decision over a verdict's checks (see the module docstring)."""

    decision: str | None
    reasons: tuple[str, ...] = ()
    plain_decision: str | None = None
    plain_reasons: tuple[str, ...] = ()
    waived: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the Rego input ``verdict.rederived``)."""
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "plain_decision": self.plain_decision,
            "plain_reasons": list(self.plain_reasons),
            "waived": list(self.waived),
            "missing": list(self.missing),
            "problems": list(self.problems),
            "error": self.error,
        }


def active_waived_checks(
    waivers: Iterable[Waiver], *, now_ns: int, version: str, submitter: str
) -> tuple[str, ...]:
    """Check names lifted by waivers that hold at ``now_ns`` (the rule of ``common.rego``:
    unexpired, for this version or every version, not granted by the submitter).

    Examples
    --------
    >>> w = Waiver(waiver_id="SCDR-1", model="m", version=None, check="auc_delta", reason="r",
    ...            owner="o", expires_ns=10, created_by="sue", created_at_ns=0)
    >>> active_waived_checks([w], now_ns=5, version="v1", submitter="ann")
    ('auc_delta',)
    >>> active_waived_checks([w], now_ns=10, version="v1", submitter="ann")
    ()
    """
    names = {
        w.check
        for w in waivers
        if w.expires_ns > now_ns
        and w.version in (None, version)
        and person_key(w.created_by) != person_key(submitter)
    }
    return tuple(sorted(names))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _interval_passes(spec: CheckSpec, check: Mapping[str, Any]) -> bool:
    low, high = _number(check.get("ci_low")), _number(check.get("ci_high"))
    if spec.bound == "max":
        return high is not None and low is not None and high <= spec.threshold
    return low is not None and high is not None and low >= spec.threshold


def _step(rollout: Any) -> tuple[RolloutStep | None, str | None]:
    """The rollout step a look verdict was made at (None outside a recorded rollout)."""
    if not isinstance(rollout, Mapping) or rollout.get("rollout_id") is None:
        return None, None
    step, plan = rollout.get("step"), rollout.get("plan")
    try:
        if not isinstance(plan, list) or not isinstance(step, int) or step < 1:
            raise TypeError
        entry = plan[step - 1]
        if not isinstance(entry, Mapping):
            raise TypeError
        control = entry.get("control_window_minutes")
        return (
            RolloutStep(
                share=float(entry["share"]),
                window_minutes=float(entry.get("window_minutes") or 0.0),
                control_window_minutes=None if control is None else float(control),
            ),
            None,
        )
    except (TypeError, ValueError, KeyError, IndexError):
        return None, "rollout: the look's step is not a step of its plan"


def _context(verdict: Mapping[str, Any], mode: str) -> dict[str, Any]:
    context: dict[str, Any] = {
        "model": verdict.get("model"),
        "baseline": verdict.get("baseline"),
        "candidate": verdict.get("candidate"),
        "mode": mode,
    }
    rollout = verdict.get("rollout")
    if isinstance(rollout, Mapping) and rollout.get("rollout_id") is not None:
        context["rollout"] = {
            "step": rollout.get("step"),
            "steps": rollout.get("steps"),
            "share": rollout.get("planned_split"),
        }
    return context


def rederive(verdict: Mapping[str, Any], policy: Policy, *, waived: Iterable[str]) -> Rederivation:
    """Re-run ``policy``'s decision over ``verdict``'s checks (plain, and with ``waived``).

    Parameters
    ----------
    verdict : mapping
        A verdict read by :func:`canarykit.promotion.verdicts.read_verdict`.
    policy : Policy
        The bound policy, rebuilt from its stored snapshot
        (:func:`canarykit.verdict.policy.policy_from_files`).
    waived : iterable of str
        Check names lifted by unexpired waivers (:func:`active_waived_checks`).

    Returns
    -------
    Rederivation
        Both decisions, the checks lifted, the required checks missing and every
        contradiction. A policy the engine cannot evaluate gives ``decision=None`` and
        ``error`` (the gate denies).
    """
    mode = verdict.get("mode", "canary")
    problems: list[str] = []
    if mode not in MODES:
        return Rederivation(
            decision=None, problems=(f"mode: {str(mode)[:20]!r} is not one of canary, shadow",)
        )
    step, step_problem = _step(verdict.get("rollout"))
    problems += [step_problem] if step_problem else []
    required = {s.name for s in applicable_checks(policy, mode, step) if s.required}
    proceed = verdict.get("decision") == "PROCEED"
    checks = list(verdict.get("checks") or [])
    if not checks:
        problems.append("the verdict has no checks")
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for check in checks:
        name, status = str(check.get("name")), check.get("status")
        spec = policy.checks.get(name)
        if name in seen:
            problems.append(f"{name}: listed twice")
            continue
        seen.add(name)
        if spec is None or not spec.applies_to(mode):
            problems.append(f"{name[:60]}: not a check of the bound policy in {mode} mode")
            continue
        if proceed and status == "fail":
            problems.append(f"{name}: status fail under decision PROCEED")
        if status == "pass" and spec.kind != "sample_ratio" and not _interval_passes(spec, check):
            problems.append(
                f"{name}: status pass, but its interval {check.get('ci_low')}..."
                f"{check.get('ci_high')} does not pass the bound policy's {spec.bound}"
                f" {spec.threshold:g}"
            )
        entries.append(
            {
                **check,
                "kind": spec.kind,
                "required": spec.required,
                "summary": str(check.get("summary") or status),
                "waived": False,
            }
        )
    missing = sorted(required - seen)
    entries += [
        {
            "name": name,
            "kind": policy.checks[name].kind,
            "status": "inconclusive",
            "required": True,
            "summary": "missing from the verdict",
            "waived": False,
        }
        for name in missing
    ]
    lifted = set(waived) - UNWAIVABLE_CHECKS
    relaxed = [
        {
            **e,
            "status": "pass",
            "waived": True,
            "waived_status": e["status"],
            "summary": f"waived ({e['summary']})",
        }
        if e["name"] in lifted and e["status"] != "pass"
        else e
        for e in entries
    ]
    applied = tuple(sorted(e["name"] for e in relaxed if e.get("waived")))
    context = _context(verdict, mode)
    try:
        plain, plain_reasons = decide(entries, policy=policy, context=context)
        decision, reasons = (
            decide(relaxed, policy=policy, context=context) if applied else (plain, plain_reasons)
        )
    except PolicyError as err:
        return Rederivation(
            decision=None,
            waived=applied,
            missing=tuple(missing),
            problems=tuple(problems),
            error=str(err),
        )
    return Rederivation(
        decision=decision,
        reasons=tuple(reasons),
        plain_decision=plain,
        plain_reasons=tuple(plain_reasons),
        waived=applied,
        missing=tuple(missing),
        problems=tuple(problems),
    )
