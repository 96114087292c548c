"""The binormal score model of the ΔAUC validation (:mod:`canarykit.simulate.auc`).

Latent score ``x = μ·y + ε``, ``ε ~ N(0, 1)``, prevalence :data:`PREVALENCE`; the paired
candidate's noise has correlation :data:`SCORE_CORRELATION` with the control's; scores
``Φ((x − μ_c/2)/2)`` in [0, 1], cut into :data:`N_BINS` bins exactly as canarykit stores them
(:func:`canarykit.stats.auc_histogram.bin_scores`). :func:`population_auc` is the AUC of the
discretised score (what DeLong estimates), and :func:`simulate_auc_looks` draws seeded
rollouts and returns their DeLong moments at each look (:class:`AucLooks`, computed by
:func:`canarykit.simulate.auc_moments.look_moments`). Part of :mod:`canarykit.simulate.auc`,
which re-exports every name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from canarykit.errors import InvalidInputError
from canarykit.simulate.auc_moments import look_moments
from canarykit.stats.auc import DEFAULT_MARGIN
from canarykit.stats.auc_histogram import bin_scores

__all__ = [
    "N_BINS",
    "N_LABELLED",
    "PLANNING_CORRELATION",
    "PREVALENCE",
    "SCORE_CORRELATION",
    "AucLooks",
    "population_auc",
    "simulate_auc_looks",
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
