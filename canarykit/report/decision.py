"""Does a verdict's decision follow from its own checks? The report's guard against edits.

A verdict file is just JSON: its ``decision`` can be edited from STOP to PROCEED while its table
still shows the failing check. Before a report draws a decision, it recomputes it from the
verdict's checks with the decision rule of :mod:`canarykit.verdict.decide` — the policy's Rego
rules when the verdict's own policy is at hand (same digest), else the built-in rule, which
bounds what any policy may decide (a failing check is STOP; PROCEED needs every required check
to pass). A look at a recorded rollout may also carry a latched STOP (``rollout.stopped``) or a
PROCEED that holds for the rest of its step (``rollout.proceeded_look``).

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict.evaluate import evaluate
>>> from canarykit.verdict.verdict import Verdict
>>> traces = generate_traces("fairness_regression", n_requests=12_000, canary_share=0.25, seed=9)
>>> verdict = evaluate(traces, log=False)
>>> verdict.decision, check_decision(verdict).follows
('STOP', True)
>>> edited = Verdict.from_dict({**verdict.to_dict(), "decision": "PROCEED"})
>>> result = check_decision(edited)
>>> result.follows, result.derived
(False, 'STOP')
>>> result.message[:55]
'decision PROCEED does not follow from the checks of the'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from canarykit.verdict.policy import Policy
    from canarykit.verdict.verdict import Verdict

__all__ = ["DecisionCheck", "check_decision"]

_STRICTNESS = {"PROCEED": 0, "CONTINUE": 1, "STOP": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionCheck:
    """The decision a verdict records against the one its checks give.

    Attributes
    ----------
    recorded : str
        The verdict's ``decision`` field.
    derived : str
        The decision recomputed from the verdict's checks.
    follows : bool
        Whether ``recorded`` follows from the checks.
    exact : bool
        ``derived`` used the verdict's own policy (its Rego rules); otherwise the built-in
        rule, which only bounds the decision (a policy can make it stricter, never looser).
    message : str
        One line saying why the decision does not follow (empty when it does).
    """

    recorded: str
    derived: str
    follows: bool
    exact: bool
    message: str = ""


def _context(verdict: Verdict) -> dict[str, Any]:
    context: dict[str, Any] = {
        "model": verdict.model,
        "baseline": verdict.baseline,
        "candidate": verdict.candidate,
        "mode": verdict.mode,
    }
    rollout = verdict.rollout
    if rollout is not None and rollout.rollout_id is not None:
        context["rollout"] = {
            "step": rollout.step,
            "steps": rollout.steps,
            "share": rollout.planned_split,
        }
    return context


def _segment_stop(verdict: Verdict) -> bool:
    seg = verdict.segments
    return seg is not None and seg.on_fail == "stop" and bool(seg.failed)


def check_decision(verdict: Verdict, policy: Policy | None = None) -> DecisionCheck:
    """Recompute the decision of ``verdict`` from its checks and compare.

    Parameters
    ----------
    verdict : Verdict
        A verdict as read from a file.
    policy : Policy, optional
        The verdict's policy. Used (with its Rego rules) only when its digest is the
        verdict's ``policy_digest``; otherwise the built-in rule bounds the decision.

    Returns
    -------
    DecisionCheck
    """
    from canarykit.verdict.decide import builtin_decision, decide
    from canarykit.verdict.rego import DECISIONS

    checks = [c.to_dict() for c in verdict.checks]
    recorded = verdict.decision
    if recorded not in DECISIONS:
        return DecisionCheck(
            recorded=str(recorded),
            derived=builtin_decision(checks),
            follows=False,
            exact=False,
            message=f"decision {str(recorded)[:40]!r} is not one of {', '.join(DECISIONS)}",
        )
    exact = policy is not None and policy.digest == verdict.policy_digest
    if exact:
        assert policy is not None
        derived, _ = decide(checks, policy=policy, context=_context(verdict))
    else:
        derived = builtin_decision(checks)
    rollout = verdict.rollout
    look = rollout is not None and rollout.rollout_id is not None
    if recorded == derived:
        follows = True
    elif recorded == "STOP" and _segment_stop(verdict):
        follows = True  # a regression found in a segment (e-BH) under `on_fail: stop`
    elif look and recorded == "STOP" and rollout is not None and rollout.stopped:
        follows = True  # a STOP latched at an earlier look of the rollout
    elif (
        look
        and recorded == "PROCEED"
        and derived == "CONTINUE"
        and rollout is not None
        and rollout.proceeded_look is not None
    ):
        follows = True  # a PROCEED holds for the rest of its step unless a check fails
    elif not exact:
        # the built-in rule only bounds the decision: a policy may be stricter, never looser
        follows = _STRICTNESS[recorded] >= _STRICTNESS[derived]
    else:
        follows = False
    message = ""
    if not follows:
        failing = [c["name"] for c in checks if c["status"] == "fail"]
        open_ = [c["name"] for c in checks if c["required"] and c["status"] != "pass"]
        why = (
            f"{', '.join(failing[:3])} fail{'s' if len(failing) == 1 else ''}"
            if failing
            else f"{', '.join(open_[:3])} not passing"
            if open_
            else "its checks"
        )
        rule = "its policy" if exact else "the built-in rule"
        message = (
            f"decision {recorded} does not follow from the checks of the verdict ({why}: "
            f"{rule} gives {derived}); the verdict was edited or is corrupt"
        )
    return DecisionCheck(
        recorded=recorded, derived=derived, follows=follows, exact=exact, message=message
    )
