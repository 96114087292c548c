"""Result objects shared by every statistical primitive and the one threshold rule.

Every gating check in canarykit reduces to a confidence interval (a time-uniform
confidence *sequence* when the check is evaluated repeatedly) for its estimand,
compared with a policy threshold by :func:`decide`.

Examples
--------
>>> r = IntervalResult(method="example", estimate=0.004, ci_low=0.003, ci_high=0.0049,
...                    confidence_level=0.95, pvalue=None, n_control=0, n_candidate=1000)
>>> r.decide(0.005, bound="max")
'pass'
>>> r.decide(0.0035, bound="max")
'inconclusive'
>>> r.decide(0.0025, bound="max")
'fail'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["pass", "fail", "inconclusive"]
Bound = Literal["max", "min"]

__all__ = ["Bound", "IntervalResult", "Status", "decide"]


def decide(ci_low: float, ci_high: float, threshold: float, *, bound: Bound) -> Status:
    """Compare an interval with a threshold: the single decision rule of canarykit.

    Parameters
    ----------
    ci_low, ci_high : float
        Bounds of the confidence interval / sequence (NaN means "not estimable").
    threshold : float
        Policy threshold for the estimand.
    bound : {"max", "min"}
        ``"max"``: the estimand must stay at or below ``threshold`` (latency, error rate);
        ``"min"``: it must stay at or above it (ΔAUC, agreement rate).

    Returns
    -------
    {"pass", "fail", "inconclusive"}
        ``"max"``: pass if ``ci_high <= threshold``, fail if ``ci_low > threshold``.
        ``"min"``: pass if ``ci_low >= threshold``, fail if ``ci_high < threshold``.
        Otherwise, or when a bound is NaN, inconclusive.

    Examples
    --------
    >>> decide(-0.004, 0.002, -0.01, bound="min")
    'pass'
    >>> decide(-0.03, -0.02, -0.01, bound="min")
    'fail'
    """
    if bound not in ("max", "min"):
        raise ValueError(f"bound must be 'max' or 'min', got {bound!r}")
    if math.isnan(ci_low) or math.isnan(ci_high) or math.isnan(threshold):
        return "inconclusive"
    if bound == "max":
        if ci_high <= threshold:
            return "pass"
        if ci_low > threshold:
            return "fail"
        return "inconclusive"
    if ci_low >= threshold:
        return "pass"
    if ci_high < threshold:
        return "fail"
    return "inconclusive"


@dataclass(frozen=True, slots=True, kw_only=True)
class IntervalResult:
    """Estimate, interval and (optional) anytime-valid p-value of one statistic.

    Attributes
    ----------
    method : str
        Human-readable name of the procedure, e.g. ``"lindon-malek e-process, k=100"``.
    estimate : float
        Point estimate of the estimand (NaN when not estimable).
    ci_low, ci_high : float
        Interval bounds at ``confidence_level`` (may be ``-inf``/``inf`` for one-sided bounds).
    confidence_level : float
        1 − α of the interval.
    pvalue : float or None
        p-value of the procedure's null hypothesis when it has one (anytime-valid ones are
        running minima).
    n_control, n_candidate : int
        Sample sizes that entered the computation.
    note : str
        Why the result is degenerate or inconclusive, or how it was widened; empty otherwise.
    """

    method: str
    estimate: float
    ci_low: float
    ci_high: float
    confidence_level: float
    pvalue: float | None = None
    n_control: int = 0
    n_candidate: int = 0
    note: str = ""

    def decide(self, threshold: float, *, bound: Bound) -> Status:
        """Apply :func:`decide` to this result's interval."""
        return decide(self.ci_low, self.ci_high, threshold, bound=bound)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON-compatible dictionary of all fields."""
        return asdict(self)
