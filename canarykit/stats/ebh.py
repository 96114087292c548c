"""The e-BH procedure: false discovery rate control from e-values, under arbitrary dependence.

Segment verdicts test one hypothesis per (segment, check) — "this check does not fail in
this segment" — and report which of them are *discoveries* (regressions). Each hypothesis
comes with an e-value, a nonnegative statistic with ``E[e] ≤ 1`` under its null; e-BH turns
them into a rejection set whose false discovery rate is at most ``alpha`` whatever the
dependence between the e-values (segments share a control, checks share requests).

Examples
--------
>>> r = ebh([400.0, 3.0, 0.5, 90.0], alpha=0.05)
>>> r.rejected.tolist(), r.k
([True, False, False, True], 2)
>>> r.threshold
40.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_open_unit

__all__ = ["EbhResult", "ebh", "ebh_brute_force"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EbhResult:
    """Outcome of :func:`ebh`.

    Attributes
    ----------
    rejected : ndarray of bool
        Which hypotheses are rejected (discoveries), in input order.
    k : int
        Number of rejections.
    threshold : float
        The e-value a hypothesis needed, ``m / (alpha·k)`` (``m/alpha`` when nothing is
        rejected: the bar a first discovery must clear).
    adjusted : ndarray of float
        e-BH adjusted "p-values" ``min(1, min_{j ≥ rank} m/(j·e_(j)))`` — a hypothesis is
        rejected at level ``alpha`` exactly when its adjusted value is ``≤ alpha``.
    """

    rejected: npt.NDArray[np.bool_]
    k: int
    threshold: float
    adjusted: npt.NDArray[np.float64]


def _check(e_values: npt.ArrayLike, alpha: float) -> tuple[npt.NDArray[np.float64], float]:
    e = np.asarray(e_values, dtype=float).ravel()
    if np.any(np.isnan(e)) or np.any(e < 0):
        raise InvalidInputError("e_values must be nonnegative numbers (inf allowed), not NaN")
    return e, check_open_unit("alpha", alpha)


def ebh(e_values: npt.ArrayLike, *, alpha: float) -> EbhResult:
    """The e-BH procedure of Wang & Ramdas (2022) at level ``alpha``.

    Parameters
    ----------
    e_values : array_like of float
        One e-value per hypothesis (``inf`` allowed).
    alpha : float
        Target false discovery rate, in (0, 1).

    Returns
    -------
    EbhResult

    Notes
    -----
    With ``m`` hypotheses and ``e_(1) ≥ … ≥ e_(m)`` the sorted e-values, let
    ``k* = max{k : e_(k) ≥ m/(α·k)}`` (0 if no such k); reject the ``k*`` hypotheses with the
    largest e-values (ties at the boundary are all rejected: every e-value ``≥ m/(α·k*)``).
    If each null e-value satisfies ``E[e_i] ≤ 1``, then ``FDR ≤ α·m₀/m`` under *arbitrary*
    dependence ([1]_, Theorem 2): ``FDP = Σ_{i null} 1{e_i ≥ m/(αk*)}/k* ≤ Σ_{i null}
    α e_i/m``.

    *Sequential use.* For an e-process the value at a look is an e-value only at a stopping
    time: if each null's statistic is dominated by a test supermartingale in a common
    filtration, optional stopping gives ``E[e_i(τ)] ≤ 1`` for any stopping time ``τ``,
    including "the first look at which e-BH rejects anything". Applying e-BH to the values
    *at the current look* and latching the first rejection therefore bounds the FDR at the
    time of the decision and, under the global null, the probability of *ever* rejecting, by
    ``α``. The running maximum of an e-process is **not** an e-value and must not be used.

    References
    ----------
    .. [1] R. Wang, A. Ramdas, "False discovery rate control with e-values", J. R. Stat. Soc.
       B 84(3), 2022, 822–852, arXiv:2009.02824.

    Examples
    --------
    >>> ebh([10.0, 10.0], alpha=0.1).k       # each needs m/(α·2) = 10
    2
    >>> ebh([19.0, 1.0], alpha=0.1).k        # one would need m/α = 20
    0
    """
    e, a = _check(e_values, alpha)
    m = e.size
    if m == 0:
        return EbhResult(
            rejected=np.zeros(0, dtype=bool), k=0, threshold=math.inf, adjusted=np.zeros(0)
        )
    order = np.argsort(-e, kind="stable")
    e_sorted = e[order]
    ranks = np.arange(1, m + 1)
    with np.errstate(divide="ignore"):
        ok = e_sorted * a * ranks >= m
    k = int(ranks[ok].max()) if ok.any() else 0
    threshold = m / (a * k) if k else m / a
    rejected = e * a * k >= m if k else np.zeros(m, dtype=bool)
    with np.errstate(divide="ignore"):
        raw = np.where(e_sorted > 0, m / (ranks * np.where(e_sorted > 0, e_sorted, 1.0)), np.inf)
    adjusted_sorted = np.minimum(1.0, np.minimum.accumulate(raw[::-1])[::-1])
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return EbhResult(
        rejected=rejected, k=int(rejected.sum()), threshold=threshold, adjusted=adjusted
    )


def ebh_brute_force(e_values: npt.ArrayLike, *, alpha: float) -> npt.NDArray[np.bool_]:
    """e-BH by its definition, for tests: the largest set ``R`` with ``e_i ≥ m/(α|R|)`` on ``R``.

    Tries every size ``k = m, …, 1`` and takes the first for which at least ``k`` e-values are
    ``≥ m/(α·k)``; rejects all of those. O(m²) and loop-based on purpose.

    Examples
    --------
    >>> ebh_brute_force([400.0, 3.0, 0.5, 90.0], alpha=0.05).tolist()
    [True, False, False, True]
    """
    e, a = _check(e_values, alpha)
    m = e.size
    for k in range(m, 0, -1):
        hits = [i for i in range(m) if e[i] * a * k >= m]
        if len(hits) >= k:
            out = np.zeros(m, dtype=bool)
            out[hits] = True
            return out
    return np.zeros(m, dtype=bool)
