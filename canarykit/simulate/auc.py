"""Seeded validation of the ΔAUC check at canary scale (about 1,000 labelled requests).

Two questions, answered on binormal scores discretised exactly as canarykit stores them
(:func:`canarykit.stats.auc_histogram.bin_scores`; 10,000 bins for the unpaired canary
split, 1,000 for the paired shadow table):

* **width** — how much wider the confidence sequence is than the fixed-horizon DeLong
  interval at 1,000 labelled requests per arm (pairs), when its tuning ``planned_se`` is
  :func:`canarykit.stats.auc.planned_auc_delta_se` at the expected counts, and when those
  expected counts are off by a factor of 4 either way;
* **coverage** — of the confidence sequence over 10 looks (every 100 labelled requests per
  arm up to 1,000; a rollout covers when the running intersection of its intervals still
  holds the true ΔAUC at the last look), and of the fixed-horizon interval at the last look,
  with and without the edge variance floor (:func:`canarykit.stats.auc.auc_variance_floor`).

Model: latent score ``x = μ·y + ε``, ``ε ~ N(0, 1)``, prevalence :data:`PREVALENCE`; the paired
candidate's noise has correlation :data:`SCORE_CORRELATION` with the control's; scores
``Φ((x − μ_c/2)/2)`` in [0, 1]. The candidate is worse by the policy margin (ΔAUC = −0.01,
the least-favourable null of the non-inferiority check), computed exactly for the
discretised scores. Every interval comes from
:func:`canarykit.stats.auc.auc_delta_from_moments`, fed with DeLong moments computed from
the score histograms (the same numbers :func:`~canarykit.stats.auc_histogram.auc_delta_from_histograms`
and :func:`~canarykit.stats.auc_histogram.paired_auc_delta_from_table` return).

The intervals, the coverage and width tables and the Markdown sections are here; the score
model and the simulated rollouts (:mod:`canarykit.simulate.auc_model`) and the vectorised
DeLong moments at each look (:mod:`canarykit.simulate.auc_moments`) have their own modules, and
every name is importable from this one.

Examples
--------
>>> looks = simulate_auc_looks(paired=False, auc_control=0.8, n_rollouts=20, seed=1)
>>> looks.auc_control.shape, looks.n_labelled.tolist()[:3]
((20, 10), [100, 200, 300])
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from canarykit.errors import InvalidInputError
from canarykit.simulate.auc_model import (
    N_BINS,
    N_LABELLED,
    PLANNING_CORRELATION,
    PREVALENCE,
    SCORE_CORRELATION,
    AucLooks,
    population_auc,
    simulate_auc_looks,
)
from canarykit.simulate.auc_moments import look_moments
from canarykit.stats.auc import DEFAULT_PLANNED_SE, auc_delta_from_moments, planned_auc_delta_se

__all__ = [
    "N_BINS",
    "N_LABELLED",
    "PLANNING_CORRELATION",
    "PREVALENCE",
    "SCORE_CORRELATION",
    "AucLooks",
    "auc_intervals",
    "coverage_table",
    "look_moments",
    "population_auc",
    "simulate_auc_looks",
    "validation_sections",
    "width_table",
]


def auc_intervals(
    looks: AucLooks,
    *,
    sequential: bool,
    planned_se: float = DEFAULT_PLANNED_SE,
    variance_floor: bool = True,
    last_only: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """``(ci_low, ci_high, floor_active)`` of every look, from ``auc_delta_from_moments``.

    Inconclusive looks (too few positives, degenerate AUC) give NaN bounds: no claim.
    ``last_only`` evaluates only the last look (other columns NaN).
    """
    shape = looks.variance.shape
    lo = np.full(shape, np.nan)
    hi = np.full(shape, np.nan)
    active = np.zeros(shape, dtype=bool)
    m_c, n_c, m_t, n_t = looks.counts
    cols = [shape[1] - 1] if last_only else range(shape[1])
    for i in range(shape[0]):
        for j in cols:
            r = auc_delta_from_moments(
                auc_control=float(looks.auc_control[i, j]),
                auc_candidate=float(looks.auc_candidate[i, j]),
                variance=float(looks.variance[i, j]),
                counts=(int(m_c[i, j]), int(n_c[i, j]), int(m_t[i, j]), int(n_t[i, j])),
                paired=looks.paired,
                sequential=sequential,
                planned_se=planned_se,
                arm_variances=(
                    float(looks.variance_control[i, j]),
                    float(looks.variance_candidate[i, j]),
                ),
                variance_floor=variance_floor,
            )
            lo[i, j], hi[i, j], active[i, j] = r.ci_low, r.ci_high, r.variance_floor_active
    return lo, hi, active


def _planned_se(looks: AucLooks, auc: float, labelled: float) -> float:
    return planned_auc_delta_se(
        PREVALENCE * labelled,
        (1 - PREVALENCE) * labelled,
        auc=auc,
        paired=looks.paired,
        correlation=PLANNING_CORRELATION if looks.paired else 0.0,
    )


def _running(
    lo: NDArray[np.float64], hi: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Running intersection of the looks' intervals at the last look (NaN look: no claim)."""
    run_lo = np.fmax.accumulate(np.where(np.isnan(lo), -np.inf, lo), axis=1)[:, -1]
    run_hi = np.fmin.accumulate(np.where(np.isnan(hi), np.inf, hi), axis=1)[:, -1]
    return run_lo, run_hi


def _rate(hit: NDArray[np.bool_]) -> tuple[float, float]:
    rate = float(hit.mean())
    return rate, math.sqrt(max(rate * (1 - rate), 1.0 / hit.size) / hit.size)


def coverage_table(looks: AucLooks) -> dict[str, tuple[float, float]]:
    """Coverage (rate, Monte-Carlo se) of one scenario, with and without the floor.

    Keys: ``sequential``/``fixed`` × ``floor``/``no floor`` (sequential: running intersection
    over all looks, tuned at the planned last-look counts; fixed: last look only),
    ``… miss low`` (the interval lies above the truth: the false non-inferiority side),
    ``floor active`` (share of conclusive looks where the floor acted, sequential) and
    ``floor width ratio`` (mean fixed-horizon width with / without the floor, last look).
    """
    truth = looks.truth
    planned = _planned_se(looks, looks.population_auc_control, float(looks.n_labelled[-1]))
    res: dict[str, tuple[float, float]] = {}
    widths = {}
    for floor in (True, False):
        tag = "floor" if floor else "no floor"
        lo, hi, active = auc_intervals(
            looks, sequential=True, planned_se=planned, variance_floor=floor
        )
        run_lo, run_hi = _running(lo, hi)
        res[f"sequential {tag}"] = _rate((run_lo <= truth) & (truth <= run_hi))
        res[f"sequential {tag} miss low"] = _rate(run_lo > truth)
        if floor:
            res["floor active"] = _rate(active[~np.isnan(lo)])
        lo, hi, _ = auc_intervals(looks, sequential=False, variance_floor=floor, last_only=True)
        last_lo, last_hi = _running(lo[:, -1:], hi[:, -1:])
        res[f"fixed {tag}"] = _rate((last_lo <= truth) & (truth <= last_hi))
        res[f"fixed {tag} miss low"] = _rate(last_lo > truth)
        widths[floor] = (hi - lo)[:, -1]
    ok = np.isfinite(widths[True])
    ratio = widths[True][ok] / widths[False][ok]
    res["floor width ratio"] = (float(ratio.mean()), float(ratio.std() / math.sqrt(ratio.size)))
    return res


def width_table(
    looks: AucLooks, factors: tuple[float, ...] = (0.25, 1.0, 4.0)
) -> list[dict[str, float]]:
    """Width of the sequence / width of the fixed-horizon interval at the last look.

    For each factor ``f`` the sequence is tuned with ``planned_auc_delta_se`` at ``f`` times
    the actual labelled count (``f = 1``: tuned exactly; ``¼``/``4``: the plan expected 4×
    fewer/more labelled requests). Rows: ``factor``, ``info_ratio`` (median ``I/I*``), and the
    median, 5 % and 95 % quantiles and maximum of the width ratio over rollouts.
    """
    n_last = float(looks.n_labelled[-1])
    lo_f, hi_f, _ = auc_intervals(looks, sequential=False, last_only=True)
    fixed = (hi_f - lo_f)[:, -1]
    rows = []
    for f in factors:
        planned = _planned_se(looks, looks.population_auc_control, f * n_last)
        lo_s, hi_s, _ = auc_intervals(looks, sequential=True, planned_se=planned, last_only=True)
        ratio = ((hi_s - lo_s)[:, -1] / fixed)[np.isfinite(fixed)]
        se_fixed = fixed[np.isfinite(fixed)] / (2 * 1.959963984540054)
        info_ratio = planned**2 / se_fixed**2
        rows.append(
            {
                "factor": f,
                "info_ratio": float(np.median(info_ratio)),
                "median": float(np.median(ratio)),
                "q05": float(np.quantile(ratio, 0.05)),
                "q95": float(np.quantile(ratio, 0.95)),
                "max": float(ratio.max()),
            }
        )
    return rows


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """Markdown sections for ``docs/validation.md`` (deterministic for a seed and scale).

    ``round(2000·scale)`` rollouts per scenario (at least 50): designs paired/unpaired ×
    control AUC 0.8/0.99, candidate worse by 0.01, 10 looks up to :data:`N_LABELLED` labelled
    requests per arm.
    """
    if not scale > 0:
        raise InvalidInputError(f"scale: must be > 0, got {scale!r}")
    n = max(50, round(2000 * scale))
    widths, covers = [], []
    for i, (paired, auc) in enumerate(((False, 0.8), (False, 0.99), (True, 0.8), (True, 0.99))):
        looks = simulate_auc_looks(paired=paired, auc_control=auc, n_rollouts=n, seed=seed + i)
        design = "paired (shadow)" if paired else "unpaired (canary)"
        head = f"| {design} | {auc:g} → {auc - 0.01:g} |"
        for row in width_table(looks):
            tuned = f"{row['factor'] * N_LABELLED:,.0f} labelled" + (
                " (exact)" if row["factor"] == 1 else ""
            )
            widths.append(
                f"{head} {tuned} | {row['info_ratio']:.3g} | {row['median']:.3f} | "
                f"{row['q05']:.3f}–{row['q95']:.3f} | {row['max']:.3f} |"
            )
        c = coverage_table(looks)

        def fmt(key: str, c: dict[str, tuple[float, float]] = c) -> str:
            return f"{c[key][0]:.4f} ± {c[key][1]:.4f}"

        covers.append(
            f"{head} {fmt('sequential floor')} | {fmt('sequential no floor')} | "
            f"{fmt('fixed floor')} | {fmt('fixed no floor')} | {fmt('fixed floor miss low')} | "
            f"{fmt('fixed no floor miss low')} | {c['floor active'][0]:.4f} | "
            f"{c['floor width ratio'][0]:.3f} |"
        )
    setup = (
        f"Binormal scores, prevalence {PREVALENCE:g}, {N_LABELLED:,} labelled requests per arm "
        f"(pairs) at the last of 10 looks, {n} rollouts per scenario, seed {seed} + scenario index; "
        f"scores cut into {N_BINS[False]:,} bins (unpaired) / {N_BINS[True]:,} bins (paired, "
        f"latent noise correlation {SCORE_CORRELATION:g}). Source model: "
        "`canarykit.simulate.auc`."
    )
    width_md = "\n".join(
        [
            setup,
            "",
            "Width of the ΔAUC confidence sequence divided by the fixed-horizon DeLong width, "
            f"both at the last look ({N_LABELLED:,} labelled), the sequence tuned with "
            "`planned_se = planned_auc_delta_se(...)` at the actual count (exact) or at ¼ / 4× "
            f"of it (paired: `correlation={PLANNING_CORRELATION:g}`; `auc` = the control's). "
            "`I/I*` is the actual over the planned information (median).",
            "",
            "| design | AUC control → candidate | tuned at | I/I* | ratio (median) | 5–95 % | max |",
            "|---|---|---|---|---|---|---|",
            *widths,
        ]
    )
    cover_md = "\n".join(
        [
            setup,
            "",
            "Coverage of the true ΔAUC (−0.01, the non-inferiority margin). Sequential: running "
            "intersection over the 10 looks, tuned exactly; fixed: the last look only. "
            "'miss low' is the share of rollouts whose fixed interval lies entirely above the "
            "truth — the side on which a worse candidate is declared non-inferior (nominal "
            "0.025). 'floor active' is the share of conclusive looks where the variance floor "
            "raised the variance; 'width ×' the mean fixed-horizon width with the floor over "
            "the width without it (last look). ± is the Monte-Carlo standard error.",
            "",
            "| design | AUC control → candidate | sequential, floor | sequential, no floor | "
            "fixed, floor | fixed, no floor | fixed miss low, floor | fixed miss low, no floor "
            "| floor active | width × |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *covers,
        ]
    )
    return [
        ("ΔAUC at canary scale: confidence-sequence width vs fixed-horizon DeLong", width_md),
        ("ΔAUC at canary scale: coverage with the edge variance floor", cover_md),
    ]
