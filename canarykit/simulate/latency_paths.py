"""Seeded latency paths of the quantile-ratio validation (:mod:`canarykit.simulate.quantile_ratio`).

Latencies are lognormal (σ = :data:`SIGMA`) rounded to :data:`RESOLUTION` ms
(:class:`LatencyArms`: bin probabilities of both arms on a shared grid, the candidate ``ratio`` ×
the control before rounding). Each arm's sample at a look is its vector of counts per bin, grown
by one multinomial batch per look (``_paths``); any order statistic is read off the cumulative
counts (``_values_at``), and ``_requested`` hands each path exactly the ranks of
:func:`~canarykit.stats.quantile_ratio.quantile_ratio_rank_requests`, as the store would. The
settings of the validation (quantile level, threshold, error levels, looks) are here too. Part of
:mod:`canarykit.simulate.quantile_ratio`, which re-exports :class:`LatencyArms` and the settings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from canarykit.stats.order_statistics import OrderStatistics
from canarykit.stats.quantile_ratio import quantile_ratio_rank_requests

__all__ = [
    "ALPHA_FAIL",
    "ALPHA_PASS",
    "CONTROL_P99",
    "LOOKS",
    "RESOLUTION",
    "SIGMA",
    "STEP_MINUTES",
    "THRESHOLD",
    "LatencyArms",
    "P",
]

P = 0.99
SIGMA = 0.5
CONTROL_P99 = 64.0
RESOLUTION = 0.1
THRESHOLD = 1.10
ALPHA_PASS = 0.05
ALPHA_FAIL = 0.003
LOOKS = 20
STEP_MINUTES = 30.0

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LatencyArms:
    """Bin probabilities of control and candidate latencies on a shared 0.1 ms grid.

    Attributes
    ----------
    ratio : float
        Candidate = ratio × control before rounding.
    grid : ndarray
        Latency of each bin (``k·0.1`` ms).
    pmf_control, pmf_candidate : ndarray
        Probabilities per bin.
    """

    ratio: float
    grid: FloatArray
    pmf_control: FloatArray
    pmf_candidate: FloatArray

    @classmethod
    def lognormal(cls, ratio: float) -> LatencyArms:
        """Lognormal(σ = 0.5) control with p99 = 64.0 ms and a candidate scaled by ``ratio``."""
        z99 = float(special.ndtri(P))
        log_median = math.log(CONTROL_P99) - SIGMA * z99
        top = math.exp(log_median + math.log(max(ratio, 1.0)) + SIGMA * 6.0)
        k = np.arange(0, math.ceil(top / RESOLUTION) + 1, dtype=float)
        grid = k / 10.0  # k·0.1 ms, rounded exactly as the decimal value

        def pmf(scale: float) -> FloatArray:
            edges = (k[1:] - 0.5) / 10.0
            cdf = special.ndtr((np.log(edges) - log_median - math.log(scale)) / SIGMA)
            cdf = np.concatenate((cdf, [1.0]))  # the top bin collects the rest
            return np.asarray(np.diff(np.concatenate(([0.0], cdf))))

        return cls(ratio=ratio, grid=grid, pmf_control=pmf(1.0), pmf_candidate=pmf(ratio))

    def true_quantile(self, arm: str) -> float:
        """Inverted-CDF p99 of one arm (``"control"`` or ``"candidate"``)."""
        pmf = self.pmf_control if arm == "control" else self.pmf_candidate
        return float(self.grid[np.searchsorted(np.cumsum(pmf), P, side="left")])


def _values_at(cum: IntArray, grid: FloatArray, n: int, ranks: tuple[int, ...]) -> FloatArray:
    """Order statistics (paths × ranks) at 1-based ``ranks`` from cumulative bin counts."""
    rows, bins = cum.shape
    offset = (np.arange(rows, dtype=np.int64) * (n + 1))[:, None]
    r = np.asarray(ranks, dtype=np.int64)
    idx = np.searchsorted((cum + offset).ravel(), (r[None, :] + offset).ravel(), side="left")
    idx = idx.reshape(rows, r.size) - (np.arange(rows) * bins)[:, None]
    return np.asarray(grid[idx])


def _order_statistics(
    cum: IntArray, grid: FloatArray, n: int, ranks: tuple[int, ...]
) -> list[OrderStatistics]:
    """One :class:`OrderStatistics` per path with the values at ``ranks``."""
    r = np.asarray(ranks, dtype=np.int64)
    return [OrderStatistics(n=n, ranks=r, values=v) for v in _values_at(cum, grid, n, ranks)]


def _paths(
    arms: LatencyArms,
    *,
    n_paths: int,
    n_control: int,
    n_candidate: int,
    looks: int,
    fixed_control: bool,
    seed: int,
    chunk: int = 100,
) -> Iterator[tuple[int, int, IntArray, IntArray]]:
    """Yield ``(first_path, look, cum_control, cum_candidate)`` chunk by chunk.

    ``cum_*`` are the cumulative bin counts (paths × bins) of each arm at the look: arms grow
    linearly to their final sizes over ``looks`` looks; with ``fixed_control`` the whole
    control sample exists from the first look (a historical control window).
    """
    rng = np.random.default_rng(seed)
    for start in range(0, n_paths, chunk):
        rows = min(chunk, n_paths - start)
        counts_c = np.zeros((rows, arms.grid.size), dtype=np.int64)
        counts_t = np.zeros((rows, arms.grid.size), dtype=np.int64)
        n_c = n_t = 0
        for j in range(looks):
            target_c = n_control if fixed_control else round(n_control * (j + 1) / looks)
            target_t = round(n_candidate * (j + 1) / looks)
            if target_c > n_c:
                counts_c += rng.multinomial(target_c - n_c, arms.pmf_control, size=rows)
                n_c = target_c
            if target_t > n_t:
                counts_t += rng.multinomial(target_t - n_t, arms.pmf_candidate, size=rows)
                n_t = target_t
            yield start, j, np.cumsum(counts_c, axis=1), np.cumsum(counts_t, axis=1)


def _requested(
    arms: LatencyArms, cum_c: IntArray, cum_t: IntArray, n_control: int, n_candidate: int
) -> tuple[list[OrderStatistics], list[OrderStatistics]]:
    """Each path's order statistics at the ranks of :func:`quantile_ratio_rank_requests`."""
    n_c, n_t = int(cum_c[0, -1]), int(cum_t[0, -1])
    req_c, req_t = quantile_ratio_rank_requests(
        n_c,
        n_t,
        P,
        alpha_pass=ALPHA_PASS,
        alpha_fail=ALPHA_FAIL,
        t_opt_control=n_control,
        t_opt_candidate=n_candidate,
    )
    return (
        _order_statistics(cum_c, arms.grid, n_c, req_c.ranks),
        _order_statistics(cum_t, arms.grid, n_t, req_t.ranks),
    )
