"""Validation of the direct quantile-ratio test (:mod:`canarykit.stats.quantile_ratio`).

Latencies are lognormal (σ = 0.5) rounded to 0.1 ms, so ties are everywhere. The control's p99
is 64.0 ms; a candidate "at ratio ρ" is ρ × the control before rounding, so with ρ = 1.10 its
p99 is exactly 70.4 ms = 1.10 × 64.0 ms (both on the 0.1 ms grid): the least favourable null of
both the pass test and the fail test at the threshold 1.10.

Because the data are discrete, each arm's sample at a look is its vector of counts per 0.1 ms
bin, grown by one multinomial batch per look; any order statistic is read off the cumulative
counts. Each look hands the checks exactly the ranks of their rank requests, as the store would.
The top bin collects the mass above the 1 − 10⁻⁹ quantile of the slower arm (a monotone cap of
both arms that leaves every p99 unchanged).

The report (the ``docs/validation.md`` sections) is here; the latency paths and the settings
(:mod:`canarykit.simulate.latency_paths`) and the runs of the tests over them
(:mod:`canarykit.simulate.quantile_ratio_experiments`) have their own modules, and every name
is importable from this one.

Examples
--------
>>> d = look_decisions(ratio=1.10, n_paths=40, n_control=4_000, n_candidate=1_000, seed=3)
>>> d.true_ratio, d.pass_rate <= 0.05 + 3 * d.se(0.05), d.fail_rate <= 0.003 + 3 * d.se(0.003)
(1.1, True, True)
"""

from __future__ import annotations

import math

import numpy as np

from canarykit.simulate.latency_paths import (
    ALPHA_FAIL,
    ALPHA_PASS,
    CONTROL_P99,
    LOOKS,
    RESOLUTION,
    SIGMA,
    STEP_MINUTES,
    THRESHOLD,
    LatencyArms,
)
from canarykit.simulate.latency_paths import FloatArray as FloatArray
from canarykit.simulate.latency_paths import IntArray as IntArray
from canarykit.simulate.latency_paths import P as P
from canarykit.simulate.quantile_ratio_experiments import (
    IntervalPaths,
    LookDecisions,
    _median_minutes,
    _se,
    interval_paths,
    look_decisions,
)

__all__ = [
    "IntervalPaths",
    "LatencyArms",
    "LookDecisions",
    "interval_paths",
    "look_decisions",
    "validation_sections",
]


# --------------------------------------------------------------------------- report


def _rate(rate: float, n: int) -> str:
    return f"{rate:.4f} ({_se(rate, n):.4f})"


def _ok(rate: float, alpha: float, n: int) -> str:
    return "yes" if rate <= alpha + 3.0 * _se(alpha, n) else "**NO**"


def _num(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.1f}"


def _ratio_str(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.4f}"


def _validity_section(n_paths: int, seed: int) -> str:
    settings = (
        ("5 % canary, concurrent control", 171_000, 9_000, False),
        ("50 % split, concurrent control", 9_000, 9_000, False),
        ("100 % step vs a historical control window (fixed)", 180_000, 180_000, True),
    )
    rows = []
    for i, (label, n_c, n_t, fixed) in enumerate(settings):
        d = look_decisions(
            ratio=THRESHOLD,
            n_paths=n_paths,
            n_control=n_c,
            n_candidate=n_t,
            fixed_control=fixed,
            seed=seed + i,
        )
        cover = 1.0 - d.either_rate
        rows.append(
            f"| {label} | {n_c:,} / {n_t:,} | {n_paths:,} × {LOOKS} "
            f"| {_rate(d.pass_rate, n_paths)} | {_ok(d.pass_rate, ALPHA_PASS, n_paths)} "
            f"| {_rate(d.fail_rate, n_paths)} | {_ok(d.fail_rate, ALPHA_FAIL, n_paths)} "
            f"| {cover:.4f} |\n"
        )
    return (
        f"Candidate p99 exactly {THRESHOLD:.2f} × the control's ({CONTROL_P99:.1f} ms vs "
        f"{THRESHOLD * CONTROL_P99:.1f} ms; lognormal σ = {SIGMA:g} rounded to "
        f"{RESOLUTION:g} ms, so ties everywhere): the least favourable null of both tests at the "
        f"threshold {THRESHOLD:.2f}. A false PASS is a path on which the pass test rejects at any "
        f"of {LOOKS} looks (α_pass = {ALPHA_PASS:g}), a false FAIL one on which the fail test "
        f"does (α_fail = {ALPHA_FAIL:g}); 'coverage' is the fraction of paths whose running "
        "intersection of [L, U] still holds 1.10 after the last look (no rejection at the true "
        f"ratio), nominal ≥ {1 - ALPHA_PASS - ALPHA_FAIL:.3f}. Sizes are control / candidate "
        "at the end of the 30-minute step (arms grow linearly over the looks; the historical "
        "control is complete from the first look); each arm's mixture is tuned at its final "
        "size; the checks read only the ranks of their rank requests. Seeds "
        f"{seed}, {seed + 1}, {seed + 2}.\n\n"
        "| setting | control / candidate | paths × looks | false PASS (se) | ≤ α_pass + 3 se "
        "| false FAIL (se) | ≤ α_fail + 3 se | coverage of 1.10 |\n"
        "|---|---|---|---|---|---|---|---|\n" + "".join(rows)
    )


def _interval_section(n_paths: int, seed: int) -> tuple[str, str]:
    scenarios = (
        ("identical (ratio 1.00), 5 % canary", 1.0, 171_000, 9_000),
        ("ratio 1.05, 5 % canary", 1.05, 171_000, 9_000),
        ("ratio 1.10 (= threshold), 5 % canary", THRESHOLD, 171_000, 9_000),
        ("ratio 1.30, 25 % canary", 1.3, 135_000, 45_000),
    )
    cov_rows = []
    pow_rows = []
    for i, (label, ratio, n_c, n_t) in enumerate(scenarios):
        ip = interval_paths(
            ratio=ratio, n_paths=n_paths, n_control=n_c, n_candidate=n_t, seed=seed + i
        )
        cov = float(ip.covered.mean())
        nominal = 1.0 - ALPHA_PASS - ALPHA_FAIL
        ok = "yes" if cov >= nominal - 3.0 * _se(1.0 - nominal, n_paths) else "**NO**"
        width_new = float(np.median(np.log(ip.upper_new[:, -1] / ip.lower_new[:, -1])))
        width_old = float(np.median(np.log(ip.upper_old[:, -1] / ip.lower_old[:, -1])))
        cov_rows.append(
            f"| {label} | {n_c:,} / {n_t:,} | {n_paths:,} | {cov:.4f} "
            f"({_se(1.0 - cov, n_paths):.4f}) | {ok} | {width_new:.4f} | {width_old:.4f} |\n"
        )
        for decision in ("pass", "fail"):
            new = ip.first(f"{decision}_new")
            old = ip.first(f"{decision}_old")
            end = ip.upper_new if decision == "pass" else ip.lower_new
            end_old = ip.upper_old if decision == "pass" else ip.lower_old
            pow_rows.append(
                f"| {label} | {decision.upper()} | {float((new >= 0).mean()):.3f} "
                f"| {float((old >= 0).mean()):.3f} | {_num(_median_minutes(new, LOOKS))} "
                f"| {_num(_median_minutes(old, LOOKS))} "
                f"| {_ratio_str(float(np.median(end[:, -1])))} "
                f"| {_ratio_str(float(np.median(end_old[:, -1])))} |\n"
            )
    intro = (
        f"{n_paths:,} paths per scenario, {LOOKS} looks over {STEP_MINUTES:g} minutes, "
        f"α_pass = {ALPHA_PASS:g}, α_fail = {ALPHA_FAIL:g}, seeds {seed}–{seed + 3}. 'new' is "
        "`quantile_ratio_cs` (direct two-sample test); 'old' is the per-arm construction of "
        "`quantile_ratio_test`, [L_t/U_c, U_t/L_c] from each arm's Howard–Ramdas CS at α/2 "
        "(α = α_pass for the upper end, α_fail for the lower end), each arm tuned at its own "
        "final size. Both are running intersections over the looks.\n\n"
    )
    coverage = (
        intro + "| scenario | control / candidate | paths | coverage of the true ratio (se) "
        f"| ≥ {1 - ALPHA_PASS - ALPHA_FAIL:.3f} − 3 se | median log(U/L), new "
        "| median log(U/L), old |\n|---|---|---|---|---|---|---|\n" + "".join(cov_rows)
    )
    power = (
        intro + "Decision rates are by the last look; minutes are medians among the paths that "
        "reach the decision; the bound columns give the median (over paths) of U (PASS rows) "
        "or L (FAIL rows) after the last look.\n\n"
        "| scenario | decision at 1.10 | rate, new | rate, old | median minutes, new "
        "| median minutes, old | median bound, new | median bound, old |\n"
        "|---|---|---|---|---|---|---|---|\n" + "".join(pow_rows)
    )
    return coverage, power


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """Markdown sections for ``docs/validation.md`` (see ``benchmarks/validate.py``).

    Parameters
    ----------
    scale : float, default 1
        Multiplies the number of simulated paths: 2,000 per validity setting and 200 per
        interval scenario at ``scale = 1`` (≈ 1–2 minutes).
    seed : int, default 2026
        Base seed; the output is a deterministic function of ``(scale, seed)``.

    Returns
    -------
    list of (str, str)
        ``(title, markdown)``: false PASS / FAIL at the threshold, coverage and width of the
        running intersection, power and time to decision vs the per-arm test.
    """
    n_valid = max(50, round(2000 * scale))
    n_int = max(20, round(200 * scale))
    cover, power = _interval_section(n_int, seed + 10)
    return [
        (
            "Quantile ratio, direct test: false PASS / FAIL at the threshold",
            _validity_section(n_valid, seed),
        ),
        ("Quantile ratio, direct test: coverage and width of the running intersection", cover),
        ("Quantile ratio, direct test: power and time to decision vs the per-arm test", power),
    ]
