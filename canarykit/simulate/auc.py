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

Examples
--------
>>> looks = simulate_auc_looks(paired=False, auc_control=0.8, n_rollouts=20, seed=1)
>>> looks.auc_control.shape, looks.n_labelled.tolist()[:3]
((20, 10), [100, 200, 300])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from canarykit.errors import InvalidInputError
from canarykit.stats.auc import (
    DEFAULT_MARGIN,
    DEFAULT_PLANNED_SE,
    auc_delta_from_moments,
    planned_auc_delta_se,
)
from canarykit.stats.auc_histogram import bin_scores, delong_from_histogram

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

PREVALENCE = 0.1
"""Share of positives among labelled requests (1,000 labelled → about 100 positives)."""
SCORE_CORRELATION = 0.7
"""Paired design: correlation of the two models' latent score noise."""
PLANNING_CORRELATION = 0.5
"""Paired design: the AUC correlation passed to ``planned_auc_delta_se`` (measured in this
model: 0.6 at AUC 0.8, 0.5 at AUC 0.99 — a slightly low guess, as recommended)."""
N_LABELLED = 1000
"""Labelled requests per arm (pairs) at the last look: a canary step's order of magnitude."""
N_BINS = {False: 10_000, True: 1_000}
"""Score bins per design (unpaired: canarykit's default; paired: the shadow-table advice)."""
_SCALE = 2.0  # latent → [0, 1]: Φ((x − μ_c/2)/_SCALE)
_CHUNK = 250  # rollouts per vectorised batch


def _edges(mu_control: float, n_bins: int) -> NDArray[np.float64]:
    """Latent-score bin edges (−∞ … +∞) of the bins ``bin_scores`` assigns."""
    inner = mu_control / 2 + _SCALE * ndtri(np.arange(1, n_bins) / n_bins)
    return np.concatenate([[-np.inf], inner, [np.inf]])


def population_auc(mu: float, mu_control: float, n_bins: int) -> float:
    """AUC of the discretised binormal score (ties ½): what DeLong estimates.

    Examples
    --------
    Binning costs the binormal AUC ``Φ(μ/√2)`` about 6e-7 at 1,000 bins:

    >>> from scipy.special import ndtr
    >>> f"{population_auc(1.19, 1.19, 1_000) - ndtr(1.19 / 2**0.5):.1e}"
    '-5.7e-07'
    """
    e = _edges(mu_control, n_bins)
    p1 = np.diff(ndtr(e - mu))
    p0 = np.diff(ndtr(e))
    below = np.cumsum(p0) - p0
    return float((p1 * (below + 0.5 * p0)).sum())


def _mu_for(auc: float, mu_control: float | None, n_bins: int) -> float:
    """Latent shift whose discretised AUC is ``auc`` (``mu_control=None``: the control's own)."""

    def gap(mu: float) -> float:
        return population_auc(mu, mu if mu_control is None else mu_control, n_bins) - auc

    return float(brentq(gap, 1e-3, 8.0, xtol=1e-13))


@dataclass(frozen=True, slots=True, kw_only=True)
class AucLooks:
    """DeLong moments of simulated rollouts, arrays of shape ``(rollouts, looks)``.

    ``variance`` is DeLong's ``Var(Δ̂)``; ``variance_control``/``variance_candidate`` the two
    AUCs' variances; ``counts`` the class counts ``(m_c, n_c, m_t, n_t)``; ``truth`` the
    population ΔAUC; ``n_labelled`` the labelled requests per arm at each look.
    """

    paired: bool
    auc_control: NDArray[np.float64]
    auc_candidate: NDArray[np.float64]
    variance: NDArray[np.float64]
    variance_control: NDArray[np.float64]
    variance_candidate: NDArray[np.float64]
    counts: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]
    truth: float
    population_auc_control: float
    n_labelled: NDArray[np.int64]


def _dense_ranks(bins: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per-row dense ranks of bin indices: same order and ties, at most ``row length`` values.

    DeLong depends on the scores only through their order and ties, so histograms over the
    dense ranks give the same moments as over all ``n_bins`` bins, at a fraction of the size.
    """
    order = np.argsort(bins, axis=1, kind="stable")
    ranked = np.take_along_axis(bins, order, 1)
    dense = np.zeros_like(ranked)
    dense[:, 1:] = np.cumsum(np.diff(ranked, axis=1) != 0, axis=1)
    out = np.empty_like(bins)
    np.put_along_axis(out, order, dense, 1)
    return out


def _hist(bins: NDArray[np.int64], mask: NDArray[np.bool_], k: int) -> NDArray[np.float64]:
    """Per-row bin counts of the units where ``mask`` holds, shape (rows, k)."""
    rows = bins.shape[0]
    flat = (bins + (np.arange(rows) * k)[:, None])[mask]
    return np.bincount(flat, minlength=rows * k).reshape(rows, k).astype(np.float64)


def _bin_placements(
    pos: NDArray[np.float64], neg: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-bin placements of a positive (V10) and of a negative (V01), ties ½."""
    m = pos.sum(axis=1, keepdims=True)
    n = neg.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = (np.cumsum(neg, axis=1) - 0.5 * neg) / n
        v01 = (m - np.cumsum(pos, axis=1) + 0.5 * pos) / m
    return v10, v01


def _paired_contrast_variance(
    bc: NDArray[np.int64],
    bt: NDArray[np.int64],
    y: NDArray[np.bool_],
    hists: tuple[NDArray[np.float64], ...],
    delta: NDArray[np.float64],
) -> NDArray[np.float64]:
    """DeLong Var(AUC_t − AUC_c) of paired units (rows of ``bc``, ``bt``, ``y``)."""
    pos_c, neg_c, pos_t, neg_t = hists
    v10c, v01c = _bin_placements(pos_c, neg_c)
    v10t, v01t = _bin_placements(pos_t, neg_t)
    d10 = np.take_along_axis(v10t, bt, 1) - np.take_along_axis(v10c, bc, 1) - delta[:, None]
    d01 = np.take_along_axis(v01t, bt, 1) - np.take_along_axis(v01c, bc, 1) - delta[:, None]
    m = y.sum(axis=1)
    n = (~y).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(
            np.where(y, d10 * d10, 0.0).sum(axis=1) / (m * (m - 1.0))
            + np.where(y, 0.0, d01 * d01).sum(axis=1) / (n * (n - 1.0))
        )


def simulate_auc_looks(
    *,
    paired: bool,
    auc_control: float,
    delta: float = DEFAULT_MARGIN,
    n_labelled: int = N_LABELLED,
    n_looks: int = 10,
    n_rollouts: int = 2000,
    prevalence: float = PREVALENCE,
    seed: int = 2026,
) -> AucLooks:
    """Simulate rollouts and return the DeLong moments at each look.

    Parameters
    ----------
    paired : bool
        Shadow design (both models score the same requests) or canary split.
    auc_control : float
        Population AUC of the control's discretised score, in (0.5, 1).
    delta : float
        Population ΔAUC = AUC(candidate) − AUC(control) (default: the policy margin).
    n_labelled : int
        Labelled requests per arm (pairs, if paired) at the last look.
    n_looks : int
        Looks at ``n_labelled·j/n_looks``, ``j = 1 … n_looks``.
    n_rollouts : int
        Monte-Carlo size.
    prevalence : float
        Share of positives.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    AucLooks
    """
    if not 0.5 < auc_control < 1.0 or not 0.5 < auc_control + delta < 1.0:
        raise InvalidInputError(
            f"auc_control, delta: both AUCs must be in (0.5, 1), got {auc_control!r}, {delta!r}"
        )
    if n_looks < 1 or n_labelled < n_looks or n_rollouts < 1:
        raise InvalidInputError(
            f"n_labelled, n_looks, n_rollouts: need n_rollouts >= 1 and n_labelled >= n_looks "
            f">= 1, got {n_labelled!r}, {n_looks!r}, {n_rollouts!r}"
        )
    if not 0.0 < prevalence < 1.0:
        raise InvalidInputError(f"prevalence: must be in (0, 1), got {prevalence!r}")
    k = N_BINS[paired]
    mu_c = _mu_for(auc_control, None, k)
    auc_c_pop = population_auc(mu_c, mu_c, k)
    mu_t = _mu_for(auc_c_pop + delta, mu_c, k)
    truth = population_auc(mu_t, mu_c, k) - auc_c_pop
    rng = np.random.default_rng(seed)
    ends = np.linspace(0, n_labelled, n_looks + 1).round().astype(np.int64)[1:]
    rho = SCORE_CORRELATION
    chunks = []
    for start in range(0, n_rollouts, _CHUNK):
        shape = (min(_CHUNK, n_rollouts - start), n_labelled)
        y_c = rng.random(shape) < prevalence
        e_c = rng.standard_normal(shape)
        if paired:
            y_t = y_c
            e_t = rho * e_c + math.sqrt(1 - rho * rho) * rng.standard_normal(shape)
        else:
            y_t = rng.random(shape) < prevalence
            e_t = rng.standard_normal(shape)
        b_c = bin_scores(ndtr((mu_c * y_c + e_c - mu_c / 2) / _SCALE), k)
        b_t = bin_scores(ndtr((mu_t * y_t + e_t - mu_c / 2) / _SCALE), k)
        chunks.append(look_moments(b_c, y_c, b_t, y_t, paired=paired, ends=ends))
    cat = {key: np.concatenate([c[key] for c in chunks], axis=0) for key in chunks[0]}
    return AucLooks(
        paired=paired,
        auc_control=cat["auc_control"],
        auc_candidate=cat["auc_candidate"],
        variance=cat["variance"],
        variance_control=cat["variance_control"],
        variance_candidate=cat["variance_candidate"],
        counts=(
            cat["m_control"].astype(np.int64),
            cat["n_control"].astype(np.int64),
            cat["m_candidate"].astype(np.int64),
            cat["n_candidate"].astype(np.int64),
        ),
        truth=truth,
        population_auc_control=auc_c_pop,
        n_labelled=ends,
    )


def look_moments(
    bins_control: NDArray[np.int64],
    labels_control: NDArray[np.bool_],
    bins_candidate: NDArray[np.int64],
    labels_candidate: NDArray[np.bool_],
    *,
    paired: bool,
    ends: NDArray[np.int64],
) -> dict[str, NDArray[np.float64]]:
    """DeLong moments of row-wise prefixes ``[:, :e]`` for each ``e`` in ``ends`` (vectorised).

    Parameters
    ----------
    bins_control, labels_control, bins_candidate, labels_candidate : ndarray, shape (R, N)
        Score bins (:func:`~canarykit.stats.auc_histogram.bin_scores`) and outcomes per
        rollout (row); paired: the labels are the same array.
    paired : bool
        Whether column ``i`` is the same request in both arms.
    ends : ndarray of int
        Increasing prefix lengths (the looks).

    Returns
    -------
    dict of ndarray, shape (R, len(ends))
        ``auc_control``, ``auc_candidate``, ``variance`` (of Δ̂), ``variance_control``,
        ``variance_candidate``, ``m_control``, ``n_control``, ``m_candidate``,
        ``n_candidate`` — the numbers ``auc_delta_from_histograms`` (unpaired) or
        ``paired_auc_delta_from_table`` (paired) computes from the same prefix. Each arm's AUC
        and variance come from :func:`~canarykit.stats.auc_histogram.delong_from_histogram`
        on histograms over per-row dense ranks of the bins (DeLong depends on the order and
        ties only).
    """
    b_c, b_t = _dense_ranks(bins_control), _dense_ranks(bins_candidate)
    y_c, y_t = labels_control, labels_candidate
    rows, width = b_c.shape
    hists = [np.zeros((rows, width)) for _ in range(4)]
    looks: dict[str, list[NDArray[np.float64]]] = {
        key: []
        for key in (
            "auc_control",
            "auc_candidate",
            "variance",
            "variance_control",
            "variance_candidate",
            "m_control",
            "n_control",
            "m_candidate",
            "n_candidate",
        )
    }
    start = 0
    for end in (int(e) for e in ends):
        sl = slice(start, end)
        for h, b, lab in zip(hists, (b_c, b_c, b_t, b_t), (y_c, ~y_c, y_t, ~y_t), strict=True):
            h += _hist(b[:, sl], lab[:, sl], width)
        start = end
        ac, vc = delong_from_histogram(hists[0], hists[1])
        at, vt = delong_from_histogram(hists[2], hists[3])
        if paired:
            upto = slice(0, end)
            var = _paired_contrast_variance(
                b_c[:, upto], b_t[:, upto], y_c[:, upto], tuple(hists), at - ac
            )
        else:
            var = vc + vt
        for key, value in zip(
            looks,
            (ac, at, var, vc, vt, *(h.sum(axis=1) for h in hists)),
            strict=True,
        ):
            looks[key].append(np.asarray(value, dtype=np.float64))
    return {key: np.stack(v, axis=1) for key, v in looks.items()}


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
