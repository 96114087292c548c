"""Seeded, vectorised Monte-Carlo validation of the model-quality checks.

A canary batch job re-evaluates its checks every few minutes, so a check is valid only if its
error rates hold *over all looks*. These simulations run many rollouts × up to 100 looks
and report, with Monte-Carlo standard errors:

* ΔAUC (unpaired canary split and paired shadow traffic): canarykit's information-time
  confidence sequence on the DeLong statistic, beside a naive fixed-horizon DeLong interval
  recomputed at every look (invalid: shows the inflation) and the fixed-horizon interval at
  the final look only (valid for one look);
* the fairness gap-delta check (TPR gap; both interval constructions, "contrasts" and
  "union"), beside a naive plug-in Wald interval at every look;
* the SRM e-test, beside a chi-square test at every look.

Scores are simulated already discretised (binormal latent score cut into bins), so every
look is a histogram and DeLong runs on counts (:mod:`canarykit.stats.auc_histogram`),
which makes 100 looks cheap. Population AUCs of the discretised scores are exact, so the
least-favourable null ``ΔAUC = margin`` is simulated exactly.

Scenario vocabulary: a rollout *STOPs* at the first look whose interval is entirely on the
wrong side of the threshold (``fail``), and *PROCEEDs* at the first look whose interval is
entirely on the right side (``pass``). Rates below are "ever, within the looks".

Examples
--------
>>> rows = simulate_srm(n_rollouts=50, n_looks=10, seed=1)
>>> [(r.scenario, r.rate) for r in rows if r.method.startswith("canarykit")]
[('A/A', 0.02), ('mismatch', 0.36)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.special import ndtri
from scipy.stats import chi2, norm

from canarykit.errors import InvalidInputError
from canarykit.stats.auc import DEFAULT_MARGIN, DEFAULT_PLANNED_SE, auc_delta_half_width
from canarykit.stats.auc_histogram import delong_from_histogram, paired_delong_from_joint
from canarykit.stats.fairness import gap_delta_bounds
from canarykit.stats.srm import DEFAULT_K, srm_log_bayes_factor

__all__ = [
    "SimulationRow",
    "simulate_auc_delta",
    "simulate_fairness_gap",
    "simulate_srm",
    "validation_sections",
]

ALPHA = 0.05
_EDGES = np.linspace(-2.5, 3.5, 19)  # 20 latent-score bins
_PREVALENCE = 0.3
_MU_CONTROL = 1.2


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationRow:
    """One Monte-Carlo estimate: share of rollouts where ``event`` happened at some look."""

    check: str
    scenario: str
    method: str
    event: str
    rate: float
    se: float
    median_look: float
    n_rollouts: int
    n_looks: int


def _row(
    check: str, scenario: str, method: str, event: str, hit: NDArray[np.bool_]
) -> SimulationRow:
    """Summarise a (rollouts, looks) boolean array of per-look events."""
    ever = hit.any(axis=1)
    rate = float(ever.mean())
    first = np.argmax(hit, axis=1) + 1
    median = float(np.median(first[ever])) if ever.any() else math.nan
    return SimulationRow(
        check=check,
        scenario=scenario,
        method=method,
        event=event,
        rate=rate,
        se=math.sqrt(max(rate * (1 - rate), 1e-12) / hit.shape[0]),
        median_look=median,
        n_rollouts=hit.shape[0],
        n_looks=hit.shape[1],
    )


def _check_sizes(n_rollouts: int, n_looks: int) -> None:
    if int(n_rollouts) < 10:
        raise InvalidInputError(f"n_rollouts: must be >= 10, got {n_rollouts!r}")
    if not 1 <= int(n_looks) <= 1000:
        raise InvalidInputError(f"n_looks: must be in [1, 1000], got {n_looks!r}")


# --------------------------------------------------------------------------- ΔAUC


def _bin_probs(mu: float) -> NDArray[np.float64]:
    cdf = norm.cdf(np.concatenate([[-np.inf], _EDGES, [np.inf]]) - mu)
    return np.diff(cdf)


def _population_auc(mu: float) -> float:
    p1, p0 = _bin_probs(mu), _bin_probs(0.0)
    below = np.cumsum(p0) - p0
    return float((p1 * (below + 0.5 * p0)).sum())


def _mu_for_delta(delta: float) -> float:
    target = _population_auc(_MU_CONTROL) + delta
    return float(brentq(lambda m: _population_auc(m) - target, 0.0, 4.0, xtol=1e-14))


def _joint_probs(mu_c: float, mu_t: float, corr: float) -> NDArray[np.float64]:
    """P(bin_c = i, bin_t = j) for correlated binormal latent scores (Gauss–Hermite)."""
    w, wt = np.polynomial.hermite_e.hermegauss(80)
    wt = wt / math.sqrt(2 * math.pi)
    e = np.concatenate([[-np.inf], _EDGES, [np.inf]])
    s = math.sqrt(1 - corr)

    def bins(mu: float) -> NDArray[np.float64]:
        z = (e[None, :] - mu - math.sqrt(corr) * w[:, None]) / s
        return np.diff(norm.cdf(z), axis=1)

    p = np.einsum("w,wi,wj->ij", wt, bins(mu_c), bins(mu_t))
    return np.asarray(p / p.sum())


def _auc_paths(
    rng: np.random.Generator,
    *,
    paired: bool,
    delta: float,
    n_rollouts: int,
    n_looks: int,
    n_look_control: int,
    n_look_candidate: int,
    corr: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Simulated Δ̂ and DeLong Var(Δ̂) at each look, shape (rollouts, looks)."""
    mu_t = _mu_for_delta(delta)
    k = _EDGES.size + 1
    deltas, variances = [], []
    chunk = 40 if paired else 400
    for start in range(0, n_rollouts, chunk):
        r = min(chunk, n_rollouts - start)
        if paired:
            p_pos = _joint_probs(_MU_CONTROL, mu_t, corr).ravel()
            p_neg = _joint_probs(0.0, 0.0, corr).ravel()
            n_pos = rng.binomial(n_look_candidate, _PREVALENCE, size=(r, n_looks))
            pos = rng.multinomial(n_pos, p_pos).reshape(r, n_looks, k, k)
            neg = rng.multinomial(n_look_candidate - n_pos, p_neg).reshape(r, n_looks, k, k)
            table = np.stack([neg, pos], axis=-1).cumsum(axis=1)
            auc_c, auc_t, var = paired_delong_from_joint(table)
        else:
            arms = []
            for mu, n_look in ((_MU_CONTROL, n_look_control), (mu_t, n_look_candidate)):
                n_pos = rng.binomial(n_look, _PREVALENCE, size=(r, n_looks))
                pos = rng.multinomial(n_pos, _bin_probs(mu)).cumsum(axis=1)
                neg = rng.multinomial(n_look - n_pos, _bin_probs(0.0)).cumsum(axis=1)
                arms.append(delong_from_histogram(pos, neg))
            (auc_c, var_c), (auc_t, var_t) = arms
            var = var_c + var_t
        deltas.append(auc_t - auc_c)
        variances.append(var)
    return np.concatenate(deltas), np.concatenate(variances)


def simulate_auc_delta(
    *,
    paired: bool,
    n_rollouts: int = 1000,
    n_looks: int = 100,
    seed: int = 2026,
    margin: float = DEFAULT_MARGIN,
    planned_se: float = DEFAULT_PLANNED_SE,
    n_look_control: int = 800,
    n_look_candidate: int = 200,
    corr: float = 0.7,
) -> list[SimulationRow]:
    """A/A, least-favourable-null and regression rollouts for the ΔAUC check.

    Parameters
    ----------
    paired : bool
        Shadow design (same requests; latent score noise correlation ``corr``) or canary
        split (independent arms).
    n_rollouts, n_looks : int
        Monte-Carlo size; one look every ``n_look_*`` new labelled requests.
    seed : int
        Seed of ``numpy.random.default_rng``.
    margin, planned_se : float
        Policy margin and the confidence-sequence tuning (as in ``auc_delta``).
    n_look_control, n_look_candidate : int
        New labelled requests per look and arm (paired: ``n_look_candidate`` pairs).
    corr : float
        Paired only: correlation of the two models' latent score noise.

    Returns
    -------
    list of SimulationRow
        Scenarios ``A/A`` (Δ = 0), ``boundary`` (Δ = margin) and ``regression``
        (Δ = 3·margin); events ``STOP``, ``PROCEED`` and ``non-coverage``.
    """
    _check_sizes(n_rollouts, n_looks)
    rng = np.random.default_rng(seed)
    check = "auc_delta (paired)" if paired else "auc_delta (unpaired)"
    z = float(ndtri(1 - ALPHA / 2))
    rows: list[SimulationRow] = []
    for scenario, truth in (("A/A", 0.0), ("boundary", margin), ("regression", 3 * margin)):
        delta, var = _auc_paths(
            rng,
            paired=paired,
            delta=truth,
            n_rollouts=n_rollouts,
            n_looks=n_looks,
            n_look_control=n_look_control,
            n_look_candidate=n_look_candidate,
            corr=corr,
        )
        ok = np.isfinite(var) & (var > 0)
        half_seq = np.where(ok, auc_delta_half_width(var, planned_se=planned_se), np.inf)
        half_fix = np.where(ok, z * np.sqrt(np.where(ok, var, 1.0)), np.inf)
        last = np.zeros(delta.shape, dtype=bool)
        last[:, -1] = True
        methods = (
            ("canarykit CS (sequential)", half_seq, None),
            ("DeLong fixed-horizon, every look (naive)", half_fix, None),
            ("DeLong fixed-horizon, final look only", half_fix, last),
        )
        for name, half, mask in methods:
            lo, hi = delta - half, delta + half
            events = {
                "STOP": hi < margin,
                "PROCEED": lo >= margin,
                "non-coverage": (lo > truth) | (hi < truth),
            }
            for event, hit in events.items():
                rows.append(_row(check, scenario, name, event, hit if mask is None else hit & mask))
    return rows


# --------------------------------------------------------------------------- fairness


def simulate_fairness_gap(
    *,
    n_rollouts: int = 1000,
    n_looks: int = 100,
    seed: int = 2026,
    max_growth: float = 0.02,
    n_look_positives: int = 400,
    large_n_look_positives: int = 1500,
    planned_n: float = 20_000,
    tpr_control: Sequence[float] = (0.80, 0.76, 0.78),
) -> list[SimulationRow]:
    """Rollouts for the TPR-gap delta check (policy: gap grows by ≤ ``max_growth``).

    Per look and arm, every group gains ``n_look_positives`` positives whose decisions are
    Bernoulli(TPR). Scenarios: ``A/A`` (same TPRs), ``boundary`` (candidate gap larger by
    exactly ``max_growth``), ``regression`` (larger by ``4·max_growth``), and ``A/A large``
    (same TPRs, ``large_n_look_positives`` per look: the sample PROCEED needs).
    """
    _check_sizes(n_rollouts, n_looks)
    rng = np.random.default_rng(seed)
    tc = np.asarray(tpr_control, dtype=np.float64)
    low = int(np.argmin(tc))
    z = float(ndtri(1 - ALPHA / 2))
    rows: list[SimulationRow] = []
    scenarios = (
        ("A/A", 0.0, n_look_positives),
        ("boundary", max_growth, n_look_positives),
        ("regression", 4 * max_growth, n_look_positives),
        (f"A/A large ({large_n_look_positives}/look)", 0.0, large_n_look_positives),
    )
    for scenario, growth, n_pos in scenarios:
        trials = n_pos * np.arange(1, n_looks + 1, dtype=np.float64)
        tt = tc.copy()
        tt[low] -= growth
        truth = (tt.max() - tt.min()) - (tc.max() - tc.min())
        succ = rng.binomial(n_pos, np.stack([tc, tt]), size=(n_rollouts, n_looks, 2, tc.size))
        s = succ.cumsum(axis=1).astype(np.float64)
        t = np.broadcast_to(trials[None, :, None, None], s.shape)
        est = s / t
        gap = est.max(axis=-1) - est.min(axis=-1)  # (R, L, arm)
        delta = gap[..., 1] - gap[..., 0]
        # canarykit: both interval constructions, as confidence sequences
        s4, t4 = s[..., None, :], t[..., None, :]  # (R, L, arm, rate=1, group)
        union = gap_delta_bounds(s4, t4, confidence_level=1 - ALPHA, interval="union")
        contrasts = gap_delta_bounds(
            s4, t4, confidence_level=1 - ALPHA, interval="contrasts", planned_n=planned_n
        )
        # naive: plug-in Wald on the observed argmax/argmin groups, every look
        var = est * (1 - est) / t
        idx_max, idx_min = est.argmax(axis=-1), est.argmin(axis=-1)
        v = (
            np.take_along_axis(var, idx_max[..., None], -1)[..., 0]
            + np.take_along_axis(var, idx_min[..., None], -1)[..., 0]
        ).sum(axis=-1)
        naive = (delta - z * np.sqrt(v), delta + z * np.sqrt(v))
        for name, (lo, hi) in (
            ("canarykit union-bound CS", union),
            ("canarykit contrasts CS", contrasts),
            ("plug-in Wald, every look (naive)", naive),
        ):
            events = {
                "STOP": lo > max_growth,
                "PROCEED": hi <= max_growth,
                "non-coverage": (lo > truth) | (hi < truth),
            }
            for event, hit in events.items():
                rows.append(_row("fairness_tpr_gap", scenario, name, event, hit))
    return rows


# --------------------------------------------------------------------------- SRM


def simulate_srm(
    *,
    n_rollouts: int = 1000,
    n_looks: int = 100,
    seed: int = 2026,
    planned: tuple[float, float] = (0.8, 0.2),
    n_look: int = 1000,
    mismatch_share: float = 0.21,
) -> list[SimulationRow]:
    """Rollouts for the SRM e-test: A/A (true split = planned) and a mismatch.

    Event ``STOP`` = the gate fails at some look (anytime-valid p ≤ α for the e-test;
    chi-square p ≤ α at that look for the naive comparison).
    """
    _check_sizes(n_rollouts, n_looks)
    rng = np.random.default_rng(seed)
    rho = np.asarray(planned, dtype=np.float64)
    rows: list[SimulationRow] = []
    for scenario, share in (("A/A", rho[1]), ("mismatch", mismatch_share)):
        inc = rng.binomial(n_look, share, size=(n_rollouts, n_looks))
        cand = inc.cumsum(axis=1).astype(np.float64)
        total = n_look * np.arange(1, n_looks + 1, dtype=np.float64)
        counts = np.stack([total - cand, cand], axis=-1)
        log_bf = np.asarray(srm_log_bayes_factor(counts, rho, k=DEFAULT_K))
        e_hit = log_bf >= math.log(1 / ALPHA)
        expected = total[..., None] * rho
        stat = ((counts - expected) ** 2 / expected).sum(axis=-1)
        chi_hit = chi2.sf(stat, df=1) <= ALPHA
        last = np.zeros(chi_hit.shape, dtype=bool)
        last[:, -1] = True
        rows.append(
            _row("sample_ratio", scenario, "canarykit e-test (anytime-valid)", "STOP", e_hit)
        )
        rows.append(
            _row("sample_ratio", scenario, "chi-square, every look (naive)", "STOP", chi_hit)
        )
        rows.append(
            _row("sample_ratio", scenario, "chi-square, final look only", "STOP", chi_hit & last)
        )
    return rows


# --------------------------------------------------------------------------- report


def _fmt(r: SimulationRow) -> str:
    med = "–" if math.isnan(r.median_look) else f"{r.median_look:g}"
    return f"| {r.scenario} | {r.method} | {r.event} | {r.rate:.4f} | {r.se:.4f} | {med} |"


def _table(rows: Sequence[SimulationRow]) -> str:
    head = "| scenario | method | event (ever) | rate | MC s.e. | median look of event |\n"
    head += "|---|---|---|---|---|---|\n"
    return head + "\n".join(_fmt(r) for r in rows)


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """Markdown sections (title, text with a table) for ``docs/validation.md``.

    Parameters
    ----------
    scale : float
        Monte-Carlo size multiplier: ``scale = 1`` runs 4,000 rollouts × 100 looks per
        scenario (minutes on 2 cores); ``scale = 0.1`` runs 400 rollouts (≈ 10 s).
    seed : int
        Base seed; every section derives its own seed from it (bit-identical reruns).

    Returns
    -------
    list of (str, str)
    """
    if not (math.isfinite(scale) and 0 < scale <= 10):
        raise InvalidInputError(f"scale: must be in (0, 10], got {scale!r}")
    n = max(50, round(4000 * scale))
    looks = 100
    sections = []
    for paired in (False, True):
        rows = simulate_auc_delta(paired=paired, n_rollouts=n, n_looks=looks, seed=seed + paired)
        design = (
            "paired (shadow: 200 labelled pairs per look, latent-noise correlation 0.7)"
            if paired
            else "unpaired (20 % canary: 800 control + 200 canary labelled requests per look)"
        )
        text = (
            f"ΔAUC = AUC(candidate) − AUC(control), margin {DEFAULT_MARGIN}, {design}; "
            f"{n} rollouts × {looks} looks per scenario, α = {ALPHA} (two-sided interval, each "
            f"one-sided decision at α/2 = {ALPHA / 2}). Binormal scores in 20 bins, prevalence "
            f"{_PREVALENCE}, control AUC ≈ {_population_auc(_MU_CONTROL):.3f}; scenarios: A/A "
            "(Δ = 0), boundary (Δ = margin, the least favourable null for PROCEED and for STOP), "
            "regression (Δ = 3·margin). canarykit uses the information-time asymptotic "
            f"confidence sequence (planned s.e. {DEFAULT_PLANNED_SE}). Validity: every "
            "'boundary' PROCEED/STOP rate and every non-coverage rate of a valid method must "
            "be ≤ α/2 resp. α (+3 s.e.). The naive row recomputes a fixed-horizon DeLong "
            "interval at every look.\n\n" + _table(rows)
        )
        sections.append((f"ΔAUC, {'paired' if paired else 'unpaired'} (DeLong)", text))
    rows = simulate_fairness_gap(n_rollouts=n, n_looks=looks, seed=seed + 7)
    text = (
        "Change of the TPR gap (max − min over 3 groups), policy: grows by ≤ 0.02 "
        "(`bound='max'`); 400 positives per group, arm and look (1,500 in 'A/A large'); "
        f"{n} rollouts × {looks} looks. "
        "canarykit, two constructions: 'contrasts' (default; asymptotic normal-mixture "
        "confidence sequences for all contrasts of group-rate differences, union bound over "
        "them, planned 20,000 positives per group) and 'union' (exact beta-mixture "
        "confidence sequences for the 6 group rates, interval arithmetic). Naive: "
        "Wald interval on the observed argmax/argmin groups at every look.\n\n" + _table(rows)
    )
    sections.append(("Fairness gap delta (TPR gap)", text))
    rows = simulate_srm(n_rollouts=n, n_looks=looks, seed=seed + 11)
    text = (
        "Sample-ratio mismatch, planned split 0.8/0.2, 1,000 requests per look; mismatch "
        f"scenario: true canary share 0.21; {n} rollouts × {looks} looks. canarykit: "
        "Dirichlet-multinomial e-test (k = 100), fail when the running-min p ≤ 0.05.\n\n"
        + _table(rows)
    )
    sections.append(("Sample-ratio mismatch (SRM e-test)", text))
    return sections
