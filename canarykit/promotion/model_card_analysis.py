"""What a model card says about a verdict's checks: its performance metrics and fairness
assessments, every number written as CycloneDX text.

:func:`model_card_metrics` lists a metric per check (and, for fairness checks, per group and
arm); :func:`fairness_assessments` gives one CycloneDX ``fairnessAssessment`` per fairness
check; ``_properties`` writes the ``canarykit:`` properties. The layout of the whole card is
described in :mod:`~canarykit.promotion.model_card`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["fairness_assessments", "model_card_metrics"]

_PREFIX = "canarykit:"


def _text(value: Any) -> str | None:
    """A number or flag as CycloneDX text (shortest round-trip form); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return str(value)


def _metric(
    kind: str, value: Any, slice_: str, low: Any = None, high: Any = None
) -> dict[str, Any]:
    """A performance metric; without a finite value it has no ``value`` (no estimate)."""
    text = _text(value)
    metric: dict[str, Any] = {"type": kind} if text is None else {"type": kind, "value": text}
    metric["slice"] = slice_
    if text is None:
        return metric
    lower, upper = _text(low), _text(high)
    if lower is not None and upper is not None:
        metric["confidenceInterval"] = {"lowerBound": lower, "upperBound": upper}
    return metric


def _groups(check: Mapping[str, Any]) -> tuple[list[str], dict[str, dict[str, list[Any]]]]:
    """The groups of a fairness check and its per-arm rates by rate name (from ``details``)."""
    details = check.get("details")
    details = details if isinstance(details, Mapping) else {}
    groups = details.get("groups")
    names = [str(g) for g in groups] if isinstance(groups, list) else []
    rates: dict[str, dict[str, list[Any]]] = {}
    for arm in ("candidate", "control"):
        found = details.get(f"rates_{arm}")
        if not isinstance(found, Mapping):
            continue
        for rate, values in found.items():
            if isinstance(values, list) and len(values) == len(names):
                rates.setdefault(str(rate), {})[arm] = values
    return names, rates


def _is_fairness(check: Mapping[str, Any]) -> bool:
    return check.get("kind") == "fairness_gap_delta" or bool(_groups(check)[0])


def model_card_metrics(verdict: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``performanceMetrics`` of a verdict's model card (see the module docstring).

    Examples
    --------
    >>> check = {"name": "fairness_tpr", "kind": "fairness_gap_delta", "estimate": -0.01,
    ...     "ci_low": -0.1, "ci_high": 0.09, "details": {"groups": ["A", "B"],
    ...     "rates_candidate": {"tpr": [0.40, 0.38]}, "rates_control": {"tpr": [0.36, 0.39]}}}
    >>> [(m["type"], m["slice"], m["value"]) for m in model_card_metrics({"checks": [check]})]
    [('fairness_tpr', 'overall', '-0.01'), ('tpr', 'group=A, arm=candidate', '0.4'), ('tpr', 'group=B, arm=candidate', '0.38'), ('tpr', 'group=A, arm=control', '0.36'), ('tpr', 'group=B, arm=control', '0.39')]
    """
    metrics: list[dict[str, Any]] = []
    for check in verdict.get("checks", []):
        if not isinstance(check, Mapping):
            continue
        name = str(check.get("name"))
        metrics.append(
            _metric(
                name, check.get("estimate"), "overall", check.get("ci_low"), check.get("ci_high")
            )
        )
        groups, rates = _groups(check)
        for rate, arms in rates.items():
            for arm in ("candidate", "control"):
                for group, value in zip(groups, arms.get(arm, []), strict=False):
                    metrics.append(_metric(rate, value, f"group={group}, arm={arm}"))
    return metrics


def fairness_assessments(verdict: Mapping[str, Any]) -> list[dict[str, str]]:
    """One CycloneDX ``fairnessAssessment`` per fairness check of the verdict.

    ``groupAtRisk`` names the group with the lowest rate under the candidate (first rate of the
    check); ``harms`` states the change of the between-group gap with its interval;
    ``mitigationStrategy`` the canary rule that bounds it and the check's status.

    Examples
    --------
    >>> check = {"name": "fairness_tpr", "kind": "fairness_gap_delta", "status": "pass",
    ...     "estimate": -0.01, "ci_low": -0.1, "ci_high": 0.09, "threshold": 0.02,
    ...     "details": {"groups": ["A", "B"], "rates_candidate": {"tpr": [0.40, 0.38]}}}
    >>> fairness_assessments({"checks": [check]})[0]["groupAtRisk"]
    'group B (lowest tpr under the candidate: 0.38; groups A, B)'
    """
    found: list[dict[str, str]] = []
    for check in verdict.get("checks", []):
        if not isinstance(check, Mapping) or not _is_fairness(check):
            continue
        name = str(check.get("name"))
        groups, rates = _groups(check)
        at_risk = f"the groups of the sensitive features ({', '.join(groups) or 'none named'})"
        for rate, arms in rates.items():
            values = arms.get("candidate")
            usable = [
                (v, g) for g, v in zip(groups, values or [], strict=False) if _text(v) is not None
            ]
            if usable:
                low, group = min(usable, key=lambda pair: pair[0])
                at_risk = (
                    f"group {group} (lowest {rate} under the candidate: {_text(low)};"
                    f" groups {', '.join(groups)})"
                )
                break
        interval = f"CI {_text(check.get('ci_low'))}..{_text(check.get('ci_high'))}"
        harms = (
            f"{name}: the between-group gap changed by {_text(check.get('estimate'))}"
            f" ({interval}, candidate minus control; > 0 is worse)"
        )
        summary = check.get("summary")
        if isinstance(summary, str) and summary:
            harms += f": {summary}"
        strategy = (
            f"canary gate {name}: the gap may grow by at most {_text(check.get('threshold'))};"
            f" status {check.get('status')}"
        )
        details = check.get("details")
        unsupported = details.get("unsupported") if isinstance(details, Mapping) else None
        if isinstance(unsupported, list) and unsupported:
            strategy += f"; below minimum support: {', '.join(str(u) for u in unsupported)}"
        found.append({"groupAtRisk": at_risk, "harms": harms, "mitigationStrategy": strategy})
    return found


def _properties(pairs: Sequence[tuple[str, Any]]) -> list[dict[str, str]]:
    return [
        {"name": _PREFIX + name, "value": text}
        for name, value in pairs
        if (text := _text(value)) is not None
    ]
