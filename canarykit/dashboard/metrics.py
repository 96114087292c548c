"""Prometheus text exposition of the latest look of every rollout (``/metrics``).

Examples
--------
>>> text = prometheus_text([{"rollout_id": 1, "model": "m", "candidate": "v2", "current_step": 1,
...     "looks": 3, "last_decision": "CONTINUE", "checks": [{"name": "error_rate",
...     "status": "pass", "estimate": 0.002, "ci_low": 0.001, "ci_high": 0.004, "pvalue": None}]}])
>>> print(text.splitlines()[4])
canarykit_decision{candidate="v2",decision="CONTINUE",model="m",rollout="1"} 1
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["prometheus_text"]

DECISIONS = ("PROCEED", "STOP", "CONTINUE")
STATUSES = ("pass", "fail", "inconclusive")
_HELP = {
    "canarykit_decision": ("gauge", "1 for the decision of the rollout's latest look"),
    "canarykit_check_status": ("gauge", "1 for the status of each check at the latest look"),
    "canarykit_check_estimate": ("gauge", "estimate of each check at the latest look"),
    "canarykit_check_lower": ("gauge", "lower bound of each check's interval (running)"),
    "canarykit_check_upper": ("gauge", "upper bound of each check's interval (running)"),
    "canarykit_srm_pvalue": ("gauge", "anytime-valid p-value of the sample-ratio test"),
    "canarykit_looks": ("gauge", "looks taken in the rollout's current step"),
    "canarykit_step": ("gauge", "the rollout's current step"),
}


def _label(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'"{text}"'


def _labels(**values: Any) -> str:
    return "{" + ",".join(f"{k}={_label(v)}" for k, v in sorted(values.items())) + "}"


def _number(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(number)


def prometheus_text(rollouts: Sequence[Mapping[str, Any]]) -> str:
    """Metrics of each rollout's latest look (``rollouts``: summaries plus ``checks``)."""
    series: dict[str, list[str]] = {name: [] for name in _HELP}
    for r in rollouts:
        base = {"rollout": r["rollout_id"], "model": r["model"], "candidate": r["candidate"]}
        series["canarykit_step"].append(f"canarykit_step{_labels(**base)} {r['current_step']}")
        series["canarykit_looks"].append(f"canarykit_looks{_labels(**base)} {r['looks']}")
        if r.get("last_decision"):
            for d in DECISIONS:
                value = 1 if d == r["last_decision"] else 0
                series["canarykit_decision"].append(
                    f"canarykit_decision{_labels(**base, decision=d)} {value}"
                )
        for c in r.get("checks", []):
            labels = {**base, "check": c["name"]}
            for s in STATUSES:
                value = 1 if s == c.get("status") else 0
                series["canarykit_check_status"].append(
                    f"canarykit_check_status{_labels(**labels, status=s)} {value}"
                )
            for metric, key in (
                ("canarykit_check_estimate", "estimate"),
                ("canarykit_check_lower", "ci_low"),
                ("canarykit_check_upper", "ci_high"),
            ):
                number = _number(c.get(key))
                if number is not None:
                    series[metric].append(f"{metric}{_labels(**labels)} {number}")
            if c["name"] == "sample_ratio" and _number(c.get("pvalue")) is not None:
                series["canarykit_srm_pvalue"].append(
                    f"canarykit_srm_pvalue{_labels(**base)} {_number(c.get('pvalue'))}"
                )
    lines = []
    for name, (kind, text) in _HELP.items():
        if not series[name]:
            continue
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *series[name]]
    return "\n".join(lines) + "\n"
