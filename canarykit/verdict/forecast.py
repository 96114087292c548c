"""Time to decision: how much more traffic an inconclusive check needs, at the current rate.

For a confidence sequence whose half-width shrinks around a stable estimate, the further
candidate requests until the bound clears the threshold solve ``|estimate − threshold| = w(n*)``
(stats_methods.md §7.5). The shape of ``w`` is the normal-mixture boundary the sequences are
built on, ``w(n) ∝ sqrt((n + ρ)·ln((n + ρ)/(ρ·α²)))/n`` with ``ρ`` from the check's tuning
(``t_opt``), and its scale is calibrated from the check's current interval. Ratios are
forecast on the log scale. The answer assumes the candidate keeps performing as observed:
an estimate on the safe side of the threshold forecasts a pass, one beyond it a fail.

Examples
--------
>>> n_more(half_width=0.002, gap=0.001, n=4000, t_opt=5000, alpha=0.05) > 4000
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from canarykit.verdict.checks import CheckOutcome
from canarykit.verdict.tuning import StepTuning

__all__ = ["forecast_checks", "n_more"]

LOG_SCALE_KINDS = ("latency_quantile_ratio", "error_rate_ratio")
MAX_FACTOR = 1e6


def _shape(n: float, rho: float, alpha: float) -> float:
    return math.sqrt((n + rho) * math.log((n + rho) / (rho * alpha * alpha))) / n


def n_more(*, half_width: float, gap: float, n: float, t_opt: float, alpha: float) -> float | None:
    """Further observations until a half-width ``half_width`` at ``n`` shrinks to ``gap``.

    ``None`` when even ``10⁶·n`` observations would not do (the estimate sits on the threshold).
    """
    if not (half_width > 0 and gap > 0 and n > 0 and math.isfinite(half_width)):
        return None
    if half_width <= gap:
        return 0.0
    la = math.log(1.0 / alpha)
    rho = max(t_opt, 1.0) / (2.0 * la + math.log(1.0 + 2.0 * la))
    scale = half_width / _shape(n, rho, alpha)
    lo, hi = math.log(n), math.log(n * MAX_FACTOR)
    if scale * _shape(math.exp(hi), rho, alpha) > gap:
        return None
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if scale * _shape(math.exp(mid), rho, alpha) > gap:
            lo = mid
        else:
            hi = mid
    return max(math.exp(hi) - n, 0.0)


def _side(outcome: CheckOutcome) -> tuple[str | None, float, float]:
    """(forecast outcome, half-width on the deciding side, gap to the threshold)."""
    est, lo, hi = outcome.estimate, outcome.ci_low, outcome.ci_high
    thr = float(outcome.threshold) if outcome.threshold is not None else math.nan
    if outcome.kind in LOG_SCALE_KINDS:
        if not (est > 0 and thr > 0):
            return None, math.nan, math.nan
        est, thr = math.log(est), math.log(thr)
        lo = math.log(lo) if lo > 0 else -math.inf
        hi = math.log(hi) if hi > 0 else -math.inf
    if not (math.isfinite(est) and math.isfinite(thr)) or est == thr:
        return None, math.nan, math.nan
    below = est < thr
    if outcome.bound == "max":
        return ("pass", hi - est, thr - est) if below else ("fail", est - lo, est - thr)
    return ("fail", hi - est, thr - est) if below else ("pass", est - lo, est - thr)


def forecast_checks(
    checks: Sequence[CheckOutcome],
    tuning: StepTuning,
    *,
    per_minute: float | None,
    minutes_left: float | None,
) -> tuple[dict[str, Any], ...]:
    """One forecast per inconclusive check that has a threshold (see the module docstring).

    Parameters
    ----------
    checks : sequence of CheckOutcome
        The look's (carried) checks.
    tuning : StepTuning
        Supplies each check's ``t_opt`` and error budget.
    per_minute : float or None
        Candidate requests per minute observed in the window.
    minutes_left : float or None
        Minutes left in the rollout step's window (``None`` without a rollout).
    """
    out = []
    for c in checks:
        if c.status != "inconclusive" or c.threshold is None:
            continue
        ct = tuning.checks.get(c.name)
        direction, width, gap = _side(c)
        entry: dict[str, Any] = {
            "check": c.name,
            "outcome": direction,
            "requests": None,
            "minutes": None,
            "within_step": None,
        }
        if direction is None or ct is None:
            entry["summary"] = f"{c.name}: estimate not available or on the threshold: no forecast"
            out.append(entry)
            continue
        alpha = ct.alpha_pass if direction == "pass" else ct.alpha_fail
        more = n_more(
            half_width=width, gap=gap, n=c.n_candidate, t_opt=ct.t_opt_candidate, alpha=alpha
        )
        verb = "pass" if direction == "pass" else "fail (STOP)"
        if more is None:
            entry["summary"] = (
                f"{c.name}: would {verb} only with far more data than this step will see"
                if math.isfinite(width)
                else f"{c.name}: too little data for a finite interval yet: no forecast"
            )
            out.append(entry)
            continue
        entry["requests"] = math.ceil(more)
        text = f"{c.name}: would {verb} after about {math.ceil(more):,} more candidate requests"
        if per_minute and per_minute > 0:
            minutes = more / per_minute
            entry["minutes"] = round(minutes, 1)
            text += f" (~{minutes:.0f} min at the current traffic)"
            if minutes_left is not None:
                entry["within_step"] = minutes <= minutes_left
                if not entry["within_step"]:
                    text += f": not within this step ({max(minutes_left, 0.0):.0f} min left)"
        entry["summary"] = text
        out.append(entry)
    return tuple(out)
