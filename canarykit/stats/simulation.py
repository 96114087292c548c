"""Seeded Monte-Carlo validation of the gating statistics (A/A false stops, power, coverage).

Everything is vectorised over rollouts with numpy: counts are drawn per look as binomials, and
latency samples are drawn once per rollout and sorted per look, so no Python loop touches a
request. The same functions run at reduced size in the test suite and at full size in
``make validate`` (:func:`validation_sections`, written to ``docs/validation.md`` by
``benchmarks/validate.py``).

Scenarios (α = 0.05, confidence 0.95, 100 looks per rollout):

* error rate — control 1 %; canary share 5 % (20,000 requests per look) or 50 % (2,000);
* latency — control lognormal with median 50 ms and σ = 0.5 (p95 ≈ 113.8 ms, p99 ≈ 160.3 ms),
  100 requests per arm per look (10,000 per arm at the end), ``t_opt`` = 10,000.

Examples
--------
>>> rows = error_rate_false_stops(n_rollouts=200, rho_candidate=0.5, seed=1)
>>> [r.test for r in rows]
['error_rate_delta: e-process p ≤ α (A/A)', 'error_rate_delta: ratio CS L > 1.25 (ratio = 1.25)']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import special, stats

from canarykit.stats.bernoulli import bernoulli_log_mixture
from canarykit.stats.error_rate import lindon_malek_log_bf, ratio_to_theta
from canarykit.stats.fixed_horizon import quantile_ci_ranks
from canarykit.stats.quantiles import _estimate_rank
from canarykit.stats.simulation_latency import (
    ALPHA,
    LOOKS,
    BoolArray,
    DetectionRow,
    FalseStopRow,
    FloatArray,
    detection,
    latency_false_stops,
    latency_power,
    p95_slo_false_stops,
)

__all__ = [
    "CoverageRow",
    "DetectionRow",
    "FalseStopRow",
    "coverage_rows",
    "error_rate_false_stops",
    "error_rate_power",
    "error_slo_false_stops",
    "gaussian_peeking_fpr",
    "latency_false_stops",
    "latency_power",
    "p95_slo_false_stops",
    "validation_sections",
]

Z975 = float(stats.norm.isf(0.025))


# --------------------------------------------------------------------------- error rates


def _error_counts(
    rng: np.random.Generator,
    n_rollouts: int,
    looks: int,
    requests_per_look: int,
    rho_candidate: float,
    rate_control: float,
    rate_candidate: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Cumulative (requests_c, errors_c, requests_t, errors_t), each (rollouts, looks)."""
    n_t = rng.binomial(requests_per_look, rho_candidate, size=(n_rollouts, looks))
    n_c = requests_per_look - n_t
    k_c = rng.binomial(n_c, rate_control)
    k_t = rng.binomial(n_t, rate_candidate)
    cum = [np.cumsum(a, axis=1).astype(float) for a in (n_c, k_c, n_t, k_t)]
    return cum[0], cum[1], cum[2], cum[3]


def _ratio_stops(
    k_c: FloatArray, k_t: FloatArray, rho_t: float, margin: float
) -> tuple[BoolArray, BoolArray]:
    """(e-process one-sided p ≤ α, ratio CS lower bound > margin) at every look."""
    thr = math.log(1.0 / ALPHA)
    p_stop = np.asarray(lindon_malek_log_bf(k_c, k_t, rho_t, alternative="greater")) >= thr
    theta0 = float(ratio_to_theta(margin, rho_t))
    log_bf = np.asarray(lindon_malek_log_bf(k_c, k_t, rho_t, theta_null=theta0))
    n = k_c + k_t
    with np.errstate(invalid="ignore", divide="ignore"):
        above = np.where(n > 0, k_t / np.where(n > 0, n, 1.0), 0.0) > theta0
    return p_stop, (log_bf >= thr) & above


def _naive_ratio_stops(
    n_c: FloatArray, k_c: FloatArray, n_t: FloatArray, k_t: FloatArray, margin: float
) -> tuple[BoolArray, BoolArray]:
    """Fixed-horizon tests re-run at every look: pooled one-sided z (5 %), Wald log-ratio 95 % CI."""
    pc, pt = k_c / n_c, k_t / n_t
    pooled = (k_c + k_t) / (n_c + n_t)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (pt - pc) / np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
        se = np.sqrt((1 - pt) / k_t + (1 - pc) / k_c)
        lower = np.log(pt / pc) - Z975 * se
    z_stop = np.nan_to_num(z, nan=0.0) > float(stats.norm.isf(ALPHA))
    ok = (k_c > 0) & (k_t > 0)
    return z_stop, ok & (np.nan_to_num(lower, nan=-np.inf) > math.log(margin))


def error_rate_false_stops(
    *,
    n_rollouts: int,
    rho_candidate: float,
    looks: int = LOOKS,
    requests_per_look: int | None = None,
    base_rate: float = 0.01,
    margin: float = 1.25,
    seed: int = 2026,
) -> list[FalseStopRow]:
    """A/A false alarms of the e-process and false STOPs of the ratio CS at the margin.

    Examples
    --------
    >>> rows = error_rate_false_stops(n_rollouts=100, rho_candidate=0.05, seed=3)
    >>> all(r.anytime <= 0.05 for r in rows)
    True
    """
    rng = np.random.default_rng(seed)
    per_look = requests_per_look or round(1000 / rho_candidate)
    rows = []
    for label, ratio in (("A/A", 1.0), (f"ratio = {margin:g}", margin)):
        n_c, k_c, n_t, k_t = _error_counts(
            rng, n_rollouts, looks, per_look, rho_candidate, base_rate, base_rate * ratio
        )
        p_stop, ci_stop = _ratio_stops(k_c, k_t, rho_candidate, margin)
        z_stop, wald_stop = _naive_ratio_stops(n_c, k_c, n_t, k_t, margin)
        anytime, naive = (p_stop, z_stop) if ratio == 1.0 else (ci_stop, wald_stop)
        name = (
            "error_rate_delta: e-process p ≤ α (A/A)"
            if ratio == 1.0
            else f"error_rate_delta: ratio CS L > {margin:g} ({label})"
        )
        rows.append(
            FalseStopRow(
                test=name,
                anytime=float(anytime.any(axis=1).mean()),
                naive_every_look=float(naive.any(axis=1).mean()),
                naive_final_look=float(naive[:, -1].mean()),
                n_rollouts=n_rollouts,
                looks=looks,
            )
        )
    return rows


def _wilson_lower(k: FloatArray, n: FloatArray) -> FloatArray:
    z = Z975
    with np.errstate(invalid="ignore", divide="ignore"):
        ph = k / n
        centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.asarray(centre - half)


def error_slo_false_stops(
    *,
    n_rollouts: int,
    looks: int = LOOKS,
    requests_per_look: int = 1000,
    slo: float = 0.005,
    t_opt: float = 10_000.0,
    seed: int = 2026,
) -> FalseStopRow:
    """False STOPs of the absolute error-rate SLO bound when the true rate equals the SLO."""
    rng = np.random.default_rng(seed)
    k = np.cumsum(rng.binomial(requests_per_look, slo, size=(n_rollouts, looks)), axis=1)
    n = requests_per_look * np.arange(1, looks + 1, dtype=float)
    log_m = np.asarray(bernoulli_log_mixture(slo, k, n, t_opt))
    anytime = (log_m >= math.log(1.0 / ALPHA)) & (k / n > slo)
    naive = _wilson_lower(k.astype(float), np.broadcast_to(n, k.shape)) > slo
    return FalseStopRow(
        test=f"error_rate: candidate rate CS L > {slo:g} (rate = SLO)",
        anytime=float(anytime.any(axis=1).mean()),
        naive_every_look=float(naive.any(axis=1).mean()),
        naive_final_look=float(naive[:, -1].mean()),
        n_rollouts=n_rollouts,
        looks=looks,
    )


def error_rate_power(
    *,
    n_rollouts: int,
    rho_candidate: float,
    looks: int = LOOKS,
    rate_control: float = 0.01,
    rate_candidate: float = 0.015,
    margin: float = 1.25,
    seed: int = 2026,
) -> list[DetectionRow]:
    """Power and median candidate requests to detection for an error-rate regression."""
    rng = np.random.default_rng(seed)
    per_look = round(1000 / rho_candidate)
    n_c, k_c, n_t, k_t = _error_counts(
        rng, n_rollouts, looks, per_look, rho_candidate, rate_control, rate_candidate
    )
    p_stop, ci_stop = _ratio_stops(k_c, k_t, rho_candidate, margin)
    z_stop, _ = _naive_ratio_stops(n_c, k_c, n_t, k_t, margin)
    scen = f"{rate_control:.1%} → {rate_candidate:.1%}, canary {rho_candidate:.0%}"
    final = np.zeros_like(z_stop)
    final[:, -1] = z_stop[:, -1]
    unit = "candidate requests"
    return [
        detection(ci_stop, f"ratio CS L > {margin:g} (STOP)", scen, 1000, unit),
        detection(p_stop, "e-process p ≤ α (any increase)", scen, 1000, unit),
        detection(final, "fixed-horizon z at the last look only", scen, 1000, unit),
    ]


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageRow:
    """Monte-Carlo coverage of a fixed-horizon interval at nominal 0.95."""

    interval: str
    scenario: str
    coverage: float
    n_reps: int

    @property
    def ok(self) -> bool:
        """Coverage ≥ 0.93 (the validation target)."""
        return self.coverage >= 0.93


def _os_ci(sorted_x: FloatArray, p: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    n = sorted_x.shape[1]
    lo, hi = quantile_ci_ranks(n, p)
    e = _estimate_rank(n, p)
    return sorted_x[:, lo - 1], sorted_x[:, e - 1], sorted_x[:, hi - 1]


def _wilson(k: FloatArray, n: float) -> tuple[FloatArray, FloatArray]:
    z = Z975
    ph = k / n
    centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def coverage_rows(*, n_reps: int, seed: int = 2026) -> list[CoverageRow]:
    """Coverage of the fixed-horizon intervals (order statistic, MOVER, Newcombe) at 0.95."""
    rng = np.random.default_rng(seed)
    rows = []
    n = 2000
    x = np.sort(rng.lognormal(0.0, 0.5, (n_reps, n)), axis=1)
    for p in (0.95, 0.99):
        truth = math.exp(0.5 * float(special.ndtri(p)))
        lo, _, hi = _os_ci(x, p)
        rows.append(
            CoverageRow(
                interval=f"order-statistic CI, p{round(p * 100)}",
                scenario=f"lognormal(0, 0.5), n = {n}",
                coverage=float(((lo <= truth) & (truth <= hi)).mean()),
                n_reps=n_reps,
            )
        )
    n = 5000
    c = np.sort(rng.lognormal(0.0, 0.5, (n_reps, n)), axis=1)
    t = np.sort(1.05 * rng.lognormal(0.0, 0.5, (n_reps, n)), axis=1)
    for p in (0.95, 0.99):
        truth = 0.05 * math.exp(0.5 * float(special.ndtri(p)))
        lc, qc, uc = _os_ci(c, p)
        lt, qt, ut = _os_ci(t, p)
        d = qt - qc
        lower = d - np.sqrt((qt - lt) ** 2 + (uc - qc) ** 2)
        upper = d + np.sqrt((ut - qt) ** 2 + (qc - lc) ** 2)
        rows.append(
            CoverageRow(
                interval=f"MOVER quantile difference, p{round(p * 100)}",
                scenario=f"lognormal(0, 0.5) vs ×1.05, n = {n} per arm",
                coverage=float(((lower <= truth) & (truth <= upper)).mean()),
                n_reps=n_reps,
            )
        )
    for n_c, n_t in ((10_000, 10_000), (95_000, 5_000)):
        kc = rng.binomial(n_c, 0.01, n_reps).astype(float)
        kt = rng.binomial(n_t, 0.015, n_reps).astype(float)
        pc, pt = kc / n_c, kt / n_t
        lc_, uc_ = _wilson(kc, n_c)
        lt_, ut_ = _wilson(kt, n_t)
        d = pt - pc
        lower = d - np.sqrt((pt - lt_) ** 2 + (uc_ - pc) ** 2)
        upper = d + np.sqrt((ut_ - pt) ** 2 + (pc - lc_) ** 2)
        rows.append(
            CoverageRow(
                interval="Newcombe rate difference",
                scenario=f"1% vs 1.5%, n = {n_c:,} / {n_t:,}",
                coverage=float(((lower <= 0.005) & (upper >= 0.005)).mean()),
                n_reps=n_reps,
            )
        )
    return rows


def gaussian_peeking_fpr(*, n_rollouts: int, looks: int = LOOKS, seed: int = 2026) -> float:
    """Calibration: two-sided 5 % z-test on a Gaussian random walk looked at ``looks`` times."""
    rng = np.random.default_rng(seed)
    s = np.cumsum(rng.standard_normal((n_rollouts, looks)), axis=1)
    z = s / np.sqrt(np.arange(1, looks + 1))
    return float((np.abs(z) > Z975).any(axis=1).mean())


# --------------------------------------------------------------------------- report


def _pct(x: float, n: int) -> str:
    return f"{x:.4f} ({FalseStopRow.se(x, n):.4f})"


def _false_stop_table(rows: list[FalseStopRow], calib: float, n_calib: int) -> str:
    head = (
        "| gating test (null) | rollouts × looks | anytime-valid false-STOP (se) | ≤ α + 3 se |"
        " naive re-run every look (se) | naive, last look only | inflation |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r.test} | {r.n_rollouts:,} × {r.looks} | {_pct(r.anytime, r.n_rollouts)} |"
        f" {'yes' if r.valid else '**NO**'} | {_pct(r.naive_every_look, r.n_rollouts)} |"
        f" {r.naive_final_look:.4f} | {'yes' if r.inflated else '**NO**'} |\n"
        for r in rows
    )
    body += (
        f"| calibration: two-sided 5 % z-test, Gaussian walk | {n_calib:,} × {LOOKS} | – | – |"
        f" {_pct(calib, n_calib)} | 0.05 | Armitage et al. (1969): 0.374 |\n"
    )
    return head + body


def _detection_table(rows: list[DetectionRow]) -> str:
    head = (
        "| scenario | test | rollouts | power by the last look | median time to detect |\n"
        "|---|---|---|---|---|\n"
    )
    return head + "".join(
        f"| {r.scenario} | {r.test} | {r.n_rollouts:,} | {r.power:.3f} |"
        f" {'–' if math.isnan(r.median_detect) else f'{r.median_detect:,.0f} {r.unit}'} |\n"
        for r in rows
    )


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """Run all simulations and return ``(section title, markdown)`` pairs for docs/validation.md.

    ``scale = 1`` uses 4,000 rollouts for the count-based checks and 2,000 for the latency
    checks (100 looks each); smaller scales shrink the rollouts proportionally.
    """
    n_counts = max(100, round(4000 * scale))
    n_lat = max(50, round(2000 * scale))
    n_cov = max(100, round(2000 * scale))
    fs: list[FalseStopRow] = []
    for i, rho in enumerate((0.05, 0.5)):
        for r in error_rate_false_stops(n_rollouts=n_counts, rho_candidate=rho, seed=seed + i):
            fs.append(replace(r, test=f"{r.test}, canary {rho:.0%}"))
    fs.append(error_slo_false_stops(n_rollouts=n_counts, seed=seed + 2))
    fs.append(p95_slo_false_stops(n_rollouts=n_counts, seed=seed + 3))
    fs += latency_false_stops(n_rollouts=n_lat, seed=seed + 4)
    calib = gaussian_peeking_fpr(n_rollouts=n_counts, seed=seed + 5)
    intro = (
        f"α = {ALPHA}, confidence 0.95, {LOOKS} looks per rollout, seed {seed}, scale {scale:g}. "
        "A false STOP is a rollout in which the check fails at *any* look although its null "
        "holds (for margin checks: the least-favourable null, true value = threshold). The naive "
        "column re-runs the matching fixed-horizon 95 % test at every look; 'last look only' is "
        "that test run once. Error rates: control 1 %, 1,000 canary requests per look "
        "(20,000 total at a 5 % canary, 2,000 at 50 %); error SLO 0.5 % with 1,000 requests per "
        "look; latency: lognormal (median 50 ms, σ = 0.5), 100 requests per arm per look, "
        "t_opt = 10,000. The p95 SLO row is simulated exactly through the count of latencies "
        "≤ SLO (a Binomial path); the p99 rows read the order statistics of simulated latencies "
        "at the ranks the checks request (the A/B test on the storage layer's rank grid).\n\n"
    )
    det = error_rate_power(n_rollouts=n_counts, rho_candidate=0.05, seed=seed + 6)
    det += error_rate_power(n_rollouts=n_counts, rho_candidate=0.5, seed=seed + 7)
    lat = latency_power(n_rollouts=n_lat, seed=seed + 8)
    cov = coverage_rows(n_reps=n_cov, seed=seed + 9)
    cov_table = (
        "| interval | scenario | reps | coverage (nominal 0.95) | ≥ 0.93 |\n|---|---|---|---|---|\n"
        + "".join(
            f"| {c.interval} | {c.scenario} | {c.n_reps:,} | {c.coverage:.3f} |"
            f" {'yes' if c.ok else '**NO**'} |\n"
            for c in cov
        )
    )
    return [
        (
            "A/A false-STOP rates under continuous monitoring",
            intro + _false_stop_table(fs, calib, n_counts),
        ),
        (
            "Error-rate regression 1 % → 1.5 %: power and time to detect",
            "Time to detect is the median number of candidate requests at the first STOP among "
            "rollouts that stopped (100 looks of 1,000 candidate requests).\n\n"
            + _detection_table(det),
        ),
        (
            "Latency regressions: power and time to detect",
            "Candidate ×1.10 at every quantile (p95 ≈ 125 ms > 120 ms SLO; p99 ratio exactly at the "
            "1.10 margin, so the ratio check must *not* stop), and a tail-only regression "
            "(latencies above the 97th percentile ×1.3: p99 +30 %, p95 unchanged).\n\n"
            + _detection_table(lat),
        ),
        ("Coverage of the fixed-horizon intervals", cov_table),
    ]
