"""Sequential state carried from one look of a rollout step to the next.

Every gating interval of a look is a confidence *sequence*: it covers its parameter at all looks
simultaneously. The running intersection of the intervals of looks 1..k is therefore again a
valid sequence, never wider, and a decision read from it does not reverse because of noise
(stats_methods.md §7.1). Likewise an anytime-valid p-value may be replaced by its running
minimum. This module keeps, per check, the intersected bounds and the minimum p-value; a check
that failed stays failed; the step remembers its first PROCEED and the rollout's STOP.

Checks marked ``evaluation: once`` (fixed-horizon intervals) are not intersected: they are
valid at one look only and decide at the end of the window.

Examples
--------
>>> state = StepState.empty()
>>> state.looks, state.stop
(0, None)
>>> StepState.from_dict(state.to_dict()) == state
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from canarykit.verdict.checks import CheckOutcome, restate, status_of
from canarykit.verdict.policy import Policy

__all__ = ["CheckState", "StepState", "carry_checks"]


def _num(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckState:
    """A check's running interval (intersection), minimum p-value and whether it failed."""

    ci_low: float = math.nan
    ci_high: float = math.nan
    pvalue: float | None = None
    failed: bool = False
    disjoint: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (infinite bounds as strings, missing ones as null)."""
        return {
            "ci_low": _encode(self.ci_low),
            "ci_high": _encode(self.ci_high),
            "pvalue": self.pvalue,
            "failed": self.failed,
            "disjoint": self.disjoint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            ci_low=_decode(data.get("ci_low")),
            ci_high=_decode(data.get("ci_high")),
            pvalue=data.get("pvalue"),
            failed=bool(data.get("failed", False)),
            disjoint=bool(data.get("disjoint", False)),
        )


def _encode(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _decode(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepState:
    """What a step's looks carry forward (stored with every look, JSON round-trip exact).

    Attributes
    ----------
    looks : int
        Looks taken so far in the step.
    untils : tuple of str
        The ``until`` of each look (ISO, naive UTC): replaying them in order rebuilds the state.
    ingests : tuple of int
        The last ingest each look saw (:mod:`canarykit.traces.arrival`): replay reads the store
        as of it. Shorter than ``untils`` when the step began before looks recorded it.
    decisions : tuple of str
        The decision of each look.
    checks : dict
        Per check, its :class:`CheckState`.
    proceeded_look : int or None
        The first look of the step that PROCEEDed.
    stop : dict or None
        ``{"look": k, "reasons": [...]}`` once a look STOPped (latched).
    """

    looks: int = 0
    untils: tuple[str, ...] = ()
    ingests: tuple[int, ...] = ()
    decisions: tuple[str, ...] = ()
    checks: dict[str, CheckState] = field(default_factory=dict)
    proceeded_look: int | None = None
    stop: dict[str, Any] | None = None

    @classmethod
    def empty(cls) -> StepState:
        """The state before a step's first look."""
        return cls()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "looks": self.looks,
            "untils": list(self.untils),
            **({"ingests": list(self.ingests)} if self.ingests else {}),
            "decisions": list(self.decisions),
            "checks": {name: c.to_dict() for name, c in sorted(self.checks.items())},
            "proceeded_look": self.proceeded_look,
            "stop": self.stop,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            looks=int(data.get("looks", 0)),
            untils=tuple(data.get("untils", ())),
            ingests=tuple(int(i) for i in data.get("ingests", ())),
            decisions=tuple(data.get("decisions", ())),
            checks={
                str(k): CheckState.from_dict(v) for k, v in dict(data.get("checks", {})).items()
            },
            proceeded_look=data.get("proceeded_look"),
            stop=data.get("stop"),
        )

    def after(
        self,
        *,
        until: str,
        decision: str,
        checks: dict[str, CheckState],
        stop_reasons: Sequence[str] | None,
        ingest: int | None = None,
    ) -> StepState:
        """The state after one more look (``ingest``: the last ingest it saw)."""
        look = self.looks + 1
        stop = self.stop
        if stop is None and decision == "STOP":
            stop = {"look": look, "reasons": list(stop_reasons or ())}
        proceeded = self.proceeded_look
        if proceeded is None and decision == "PROCEED":
            proceeded = look
        return replace(
            self,
            looks=look,
            untils=(*self.untils, until),
            # kept only while every look of the step has one (replay as of each look)
            ingests=(
                (*self.ingests, ingest)
                if ingest is not None and len(self.ingests) == len(self.untils)
                else self.ingests
            ),
            decisions=(*self.decisions, decision),
            checks=checks,
            proceeded_look=proceeded,
            stop=stop,
        )


def _overridden(outcome: CheckOutcome, policy: Policy) -> bool:
    """Whether the fresh interval passes but a data rule (min_samples, a fixed horizon not yet
    reached) held the status at inconclusive."""
    spec = policy.checks[outcome.name]
    alpha_fail = float(outcome.details.get("alpha_fail", policy.alpha))
    raw = status_of(
        spec, outcome.ci_low, outcome.ci_high, alpha_fail=alpha_fail, pvalue=outcome.pvalue
    )
    return raw == "pass" and outcome.status == "inconclusive"


def carry_checks(
    previous: StepState, outcomes: Sequence[CheckOutcome], policy: Policy
) -> tuple[list[CheckOutcome], dict[str, CheckState]]:
    """Combine a look's fresh check outcomes with the step's state.

    Returns the outcomes the decision is made on (intersected bounds, running-minimum p-values,
    latched failures) and the new per-check state.
    """
    carried: list[CheckOutcome] = []
    states: dict[str, CheckState] = {}
    for outcome in outcomes:
        spec = policy.checks[outcome.name]
        prev = previous.checks.get(outcome.name, CheckState())
        alpha_fail = float(outcome.details.get("alpha_fail", policy.alpha))
        low, high, pvalue = outcome.ci_low, outcome.ci_high, outcome.pvalue
        notes = [outcome.note] if outcome.note else []
        sequential = spec.evaluation == "sequential"
        if sequential and spec.kind != "sample_ratio":
            low = _running(max, prev.ci_low, low)
            high = _running(min, prev.ci_high, high)
        if sequential and prev.pvalue is not None:
            pvalue = prev.pvalue if pvalue is None else min(prev.pvalue, pvalue)
        status = status_of(spec, low, high, alpha_fail=alpha_fail, pvalue=pvalue)
        if status == "pass" and _overridden(outcome, policy):
            status = "inconclusive"
        if spec.kind == "sample_ratio" and outcome.status == "inconclusive" and not prev.failed:
            status = "inconclusive"
        disjoint = prev.disjoint or (low > high)
        if disjoint and not prev.disjoint:
            notes.append(
                "this look's interval and the earlier looks' intervals of the step do not "
                "overlap: the candidate's behaviour changed during the step"
            )
        if prev.failed:
            status = "fail"
        if previous.looks and sequential and (low, high) != (outcome.ci_low, outcome.ci_high):
            notes.append(f"running intersection over {previous.looks + 1} looks of the step")
        carried.append(
            restate(
                outcome,
                spec,
                ci_low=low,
                ci_high=high,
                pvalue=pvalue,
                status=status,
                note="; ".join(n for n in notes if n),
            )
        )
        states[outcome.name] = CheckState(
            ci_low=low,
            ci_high=high,
            pvalue=_num(pvalue) if pvalue is not None else None,
            failed=status == "fail",
            disjoint=disjoint,
        )
    return carried, states


def _running(pick: Any, previous: float, current: float) -> float:
    if math.isnan(previous):
        return current
    if math.isnan(current):
        return previous
    return float(pick(previous, current))
