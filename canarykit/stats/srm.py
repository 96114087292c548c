"""Sample-ratio mismatch (SRM): Dirichlet-multinomial e-test of arm counts vs the planned split.

A quality gate: if the observed traffic split does not match the planned one, the
comparison between arms cannot be trusted and the verdict is STOP.

The arm label of each request is Multinomial(θ); H0: θ = ρ (planned split). The Bayes
factor of a Dirichlet(kρ) mixture against H0 is an e-process, so ``p_n = min_{s≤n} 1/BF_s``
is an anytime-valid p-value (Lindon & Malek 2022; savvi ``Multinomial``). The marginal
likelihood is exchangeable, so updating with aggregated counts (per minute, per window)
gives exactly the same Bayes factor as one request at a time: batch == streaming.

Examples
--------
>>> r = srm_test([9_500, 500], [0.95, 0.05])
>>> r.status, r.pvalue
('pass', 1.0)
>>> srm_test([9_350, 650], [0.95, 0.05]).status
'fail'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarykit.errors import InvalidInputError
from canarykit.stats import _special as special
from canarykit.stats.result import Bound, IntervalResult, Status

__all__ = [
    "DEFAULT_K",
    "FULL_STEP_TOLERANCE",
    "SrmResult",
    "SrmState",
    "full_step_log_e_value",
    "full_step_srm_test",
    "srm_log_bayes_factor",
    "srm_pvalue_path",
    "srm_test",
]

DEFAULT_K = 100.0
"""Dirichlet prior concentration (savvi default; the reference values assume it)."""
FULL_STEP_TOLERANCE = 0.01
"""Control share a 100 % step tolerates (in-flight requests and router propagation at the
switch): the null of :func:`full_step_srm_test` is "at most this share still reaches control"."""


def _planned(planned: ArrayLike) -> NDArray[np.float64]:
    rho = np.asarray(planned, dtype=np.float64)
    if rho.ndim != 1 or rho.size < 2 or not np.isfinite(rho).all() or (rho <= 0).any():
        raise InvalidInputError(
            f"planned: must be >= 2 positive finite shares, got {np.asarray(planned).tolist()!r}"
        )
    if abs(rho.sum() - 1.0) > 1e-9:
        raise InvalidInputError(f"planned: shares must sum to 1, got sum {rho.sum()!r}")
    return rho


def _counts(name: str, counts: ArrayLike, d: int) -> NDArray[np.float64]:
    n = np.asarray(counts, dtype=np.float64)
    if (
        n.shape[-1:] != (d,)
        or not np.isfinite(n).all()
        or (n < 0).any()
        or (n != np.round(n)).any()
    ):
        raise InvalidInputError(
            f"{name}: must be non-negative integer counts with last axis of length {d} "
            f"(one per planned arm), got shape {n.shape}"
        )
    return n


def _check_k(k: float) -> float:
    if not (math.isfinite(k) and k > 0):
        raise InvalidInputError(f"k: must be a positive number, got {k!r}")
    return float(k)


def _log_beta(v: NDArray[np.float64]) -> Any:
    return special.gammaln(v).sum(axis=-1) - special.gammaln(v.sum(axis=-1))


def srm_log_bayes_factor(counts: ArrayLike, planned: ArrayLike, *, k: float = DEFAULT_K) -> Any:
    """Log Bayes factor of the Dirichlet(kρ) mixture against H0: θ = ρ.

    Parameters
    ----------
    counts : array_like, shape (..., d)
        Cumulative requests per arm (same order as ``planned``); leading axes are batches.
    planned : array_like, shape (d,)
        Planned traffic shares ρ (sum to 1).
    k : float
        Prior concentration.

    Returns
    -------
    float or ndarray

    Notes
    -----
    ``log BF = lnB(kρ + N) − lnB(kρ) − Σ N_i ln ρ_i`` with ``lnB(v) = Σ lnΓ(v_i) − lnΓ(Σ v_i)``.

    References
    ----------
    Lindon & Malek, "Anytime-Valid Inference for Multinomial Count Data", NeurIPS 2022
    (arXiv:2011.03567).

    Examples
    --------
    >>> round(srm_log_bayes_factor([100, 150], [0.5, 0.5]), 10)
    2.9658388777
    """
    rho = _planned(planned)
    n = _counts("counts", counts, rho.size)
    a = _check_k(k) * rho
    out = _log_beta(a + n) - _log_beta(a) - (n * np.log(rho)).sum(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def srm_pvalue_path(
    increments: ArrayLike, planned: ArrayLike, *, k: float = DEFAULT_K
) -> NDArray[np.float64]:
    """Anytime-valid p-value after each batch of new counts (running minimum of 1/BF).

    Parameters
    ----------
    increments : array_like, shape (T, d)
        New requests per arm in each of T batches (one-hot rows for one request at a time).
    planned : array_like, shape (d,)
        Planned shares.
    k : float
        Prior concentration.

    Returns
    -------
    ndarray, shape (T,)
        Non-increasing p-values.

    Examples
    --------
    >>> srm_pvalue_path([[40, 60], [50, 50], [10, 40]], [0.5, 0.5]).round(4).tolist()
    [0.5174, 0.5174, 0.0515]
    """
    inc = np.asarray(increments, dtype=np.float64)
    if inc.ndim != 2:
        raise InvalidInputError(f"increments: must be 2-d (batches × arms), got shape {inc.shape}")
    cum = np.cumsum(_counts("increments", inc, np.asarray(planned).size), axis=0)
    log_bf = srm_log_bayes_factor(cum, planned, k=k)
    return np.asarray(np.minimum.accumulate(np.minimum(1.0, np.exp(-log_bf))))


@dataclass(frozen=True, slots=True, kw_only=True)
class SrmResult(IntervalResult):
    """SRM e-test result; ``status`` (= ``decide(alpha)``) is the quality-gate outcome.

    Extra attributes
    ----------------
    status : {"pass", "fail", "inconclusive"}
        ``"fail"`` when ``pvalue ≤ alpha`` (mismatch), ``"inconclusive"`` without data.
    alpha : float
        Level of the gate (``1 − confidence_level``).
    log_bayes_factor : float
        Current log BF (the p-value is the running minimum of ``exp(−log BF)``).
    planned, observed : tuple of float
        Planned and observed shares per arm.
    counts : tuple of int
        Cumulative requests per arm.

    Notes
    -----
    ``estimate`` is the observed share of the last arm (the candidate) and
    ``[ci_low, ci_high]`` an anytime-valid confidence set for its true share (two arms
    only; NaN otherwise), obtained by inverting the same mixture e-value:
    ``{θ : log BF(θ) < ln(1/α)}``.
    """

    status: Status = "inconclusive"
    alpha: float = 0.05
    log_bayes_factor: float = 0.0
    planned: tuple[float, ...] = ()
    observed: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()

    def decide(self, threshold: float, *, bound: Bound = "min") -> Status:
        """Quality gate: ``threshold`` is the level α; the p-value must stay above it.

        ``"fail"`` if ``pvalue ≤ threshold``, ``"inconclusive"`` without data, else
        ``"pass"``. Only ``bound="min"`` is meaningful (raises otherwise).

        Examples
        --------
        >>> srm_test([100, 150], [0.5, 0.5]).decide(0.1)
        'fail'
        """
        if bound != "min":
            raise InvalidInputError(
                f"bound: the SRM gate bounds its p-value from below, got {bound!r}"
            )
        if not 0.0 < threshold < 1.0:
            raise InvalidInputError(f"threshold: SRM level must be in (0, 1), got {threshold!r}")
        if self.status == "inconclusive" or self.pvalue is None:
            return "inconclusive"
        return "fail" if self.pvalue <= threshold else "pass"


def _share_confidence_set(
    n: NDArray[np.float64], a: NDArray[np.float64], alpha: float
) -> tuple[float, float]:
    """Two-arm confidence set for the last arm's share by inverting the mixture e-value."""
    n_c, n_t = float(n[0]), float(n[1])
    const = float(_log_beta(a + n) - _log_beta(a))
    target = math.log(1.0 / alpha)

    def f(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(const - n_c * np.log1p(-theta) - n_t * np.log(theta))

    total = n_c + n_t
    hat = np.clip(n_t / total, 1e-15, 1 - 1e-15)
    if float(f(np.asarray(hat))) >= target:
        return math.nan, math.nan
    lo = np.array([1e-300, hat])  # brackets: [outside, inside] for lower, [inside, outside] upper
    hi = np.array([hat, 1.0 - 1e-16])
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        inside = f(mid) < target
        # lower end: inside -> move hi down; upper end: inside -> move lo up
        hi[0] = np.where(inside[0], mid[0], hi[0])
        lo[0] = np.where(inside[0], lo[0], mid[0])
        lo[1] = np.where(inside[1], mid[1], lo[1])
        hi[1] = np.where(inside[1], hi[1], mid[1])
    return float(hi[0]), float(lo[1])


def srm_test(
    counts: ArrayLike,
    planned: ArrayLike,
    *,
    alpha: float = 0.05,
    k: float = DEFAULT_K,
    earlier_counts: ArrayLike | None = None,
) -> SrmResult:
    """Test the observed arm counts against the planned split (anytime-valid).

    Parameters
    ----------
    counts : array_like of int, shape (d,)
        Cumulative requests per arm, e.g. ``[n_control, n_canary]``.
    planned : array_like of float, shape (d,)
        Planned shares in the same order, e.g. ``[0.95, 0.05]``.
    alpha : float
        Level of the gate: fail when the anytime-valid p-value ≤ alpha.
    k : float
        Dirichlet prior concentration (default 100, as savvi).
    earlier_counts : array_like, shape (L, d), optional
        Cumulative counts at earlier looks; the p-value is the running minimum over those
        looks and this one (pass them to keep the gate monotone across re-evaluations).

    Returns
    -------
    SrmResult

    Examples
    --------
    >>> r = srm_test([100, 150], [0.5, 0.5])
    >>> round(r.pvalue, 11), r.status
    (0.05151723445, 'pass')
    """
    if not 0.0 < alpha < 1.0:
        raise InvalidInputError(f"alpha: must be in (0, 1), got {alpha!r}")
    rho = _planned(planned)
    n = _counts("counts", counts, rho.size)
    if n.ndim != 1:
        raise InvalidInputError(f"counts: must be 1-d (one count per arm), got shape {n.shape}")
    log_bf = float(srm_log_bayes_factor(n, rho, k=k))
    pvalue = min(1.0, math.exp(-log_bf))
    if earlier_counts is not None:
        prev = _counts("earlier_counts", earlier_counts, rho.size).reshape(-1, rho.size)
        if (prev > n).any():
            raise InvalidInputError("earlier_counts: must not exceed counts (cumulative counts)")
        prev_lbf = np.asarray(srm_log_bayes_factor(prev, rho, k=k))
        if prev_lbf.size:
            pvalue = min(pvalue, float(np.exp(-prev_lbf.max())))
    total = float(n.sum())
    observed = tuple(float(x) for x in (n / total)) if total > 0 else tuple(math.nan for _ in n)
    status: Status
    if total == 0:
        status, note = "inconclusive", "no requests observed"
    elif pvalue <= alpha:
        status, note = "fail", "sample-ratio mismatch: observed split differs from the planned one"
    else:
        status, note = "pass", ""
    lo = hi = math.nan
    if rho.size == 2 and total > 0:
        lo, hi = _share_confidence_set(n, _check_k(k) * rho, alpha)
    return SrmResult(
        method=f"Dirichlet-multinomial SRM e-test (Lindon-Malek), k={k:g}",
        estimate=observed[-1],
        ci_low=lo,
        ci_high=hi,
        confidence_level=1.0 - alpha,
        pvalue=pvalue,
        n_control=int(n[0]),
        n_candidate=int(n[1:].sum()),
        note=note,
        status=status,
        alpha=alpha,
        log_bayes_factor=log_bf,
        planned=tuple(float(x) for x in rho),
        observed=observed,
        counts=tuple(int(x) for x in n),
    )


def full_step_log_e_value(
    n_control: ArrayLike,
    n_candidate: ArrayLike,
    *,
    tolerance: float = FULL_STEP_TOLERANCE,
    k: float = DEFAULT_K,
) -> Any:
    """Log e-value against "the control share is at most ``tolerance``" (one-sided).

    The mixture of the likelihood ratios ``L(θ)/L(ε)`` over the control shares ``θ > ε``
    (``ε = tolerance``), weighted by the SRM prior Beta(kε, k(1−ε)) truncated to ``θ > ε``:

    ``log E = lnB(a+N_c, b+N_t) − lnB(a, b) + ln S(a+N_c, b+N_t) − ln S(a, b)
    − N_c ln ε − N_t ln(1−ε)`` with ``a, b = kε, k(1−ε)`` and ``S(α, β) = P(Beta(α, β) > ε)``.

    Each ratio ``L(θ)/L(ε)`` with ``θ > ε`` is a non-negative supermartingale under every
    control share ``≤ ε`` (one request multiplies it by ``θ'θ/ε + (1−θ')(1−θ)/(1−ε) ≤ 1`` when
    ``θ' ≤ ε``), so the mixture is an e-process for the composite null; it depends on the
    cumulative counts only (batch == streaming). Without control rows it is below 1.

    Examples
    --------
    >>> round(float(full_step_log_e_value(0, 10_000)), 3) < 0
    True
    >>> float(full_step_log_e_value(2_500, 7_500)) > 1_000
    True
    """
    eps = float(tolerance)
    if not 0.0 < eps < 1.0:
        raise InvalidInputError(f"tolerance: must be in (0, 1), got {tolerance!r}")
    kk = _check_k(k)
    nc = np.asarray(n_control, dtype=np.float64)
    nt = np.asarray(n_candidate, dtype=np.float64)
    for name, v in (("n_control", nc), ("n_candidate", nt)):
        if not np.isfinite(v).all() or (v < 0).any() or (v != np.round(v)).any():
            raise InvalidInputError(f"{name}: must be non-negative integer counts")
    a, b = kk * eps, kk * (1.0 - eps)
    with np.errstate(divide="ignore"):
        tail = np.log(special.betaincc(a + nc, b + nt, eps))
        prior_tail = math.log(float(special.betaincc(a, b, eps)))
    out = (
        special.betaln(a + nc, b + nt)
        - special.betaln(a, b)
        + tail
        - prior_tail
        - nc * math.log(eps)
        - nt * math.log1p(-eps)
    )
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def full_step_srm_test(
    n_control: int,
    n_candidate: int,
    *,
    alpha: float = 0.05,
    k: float = DEFAULT_K,
    tolerance: float = FULL_STEP_TOLERANCE,
) -> SrmResult:
    """Sample-ratio gate of a 100 % step: the planned split is (0, 1), no control traffic.

    :func:`srm_test` cannot test it: its Dirichlet(kρ) prior is degenerate at ``ρ = (0, 1)``,
    where a single control row has likelihood 0 — infinite evidence, so one in-flight request
    at the switch would fail the gate. This test is one-sided, against "at most
    ``tolerance`` of the requests still reach control" (:func:`full_step_log_e_value`); the
    p-value ``min(1, 1/E)`` is anytime-valid for that null (take the running minimum over
    looks). A router that follows the plan sends no control rows, and then ``E < 1``: the
    gate never fails, at any look. The reported confidence set of the candidate's share
    inverts the Jeffreys (Beta(½, ½)) mixture as :func:`srm_test` inverts its own: it is a
    description of the observed share (valid at every look), not the gate.

    Examples
    --------
    >>> full_step_srm_test(0, 5_000).status, full_step_srm_test(3, 5_000).status
    ('pass', 'pass')
    >>> r = full_step_srm_test(22_568, 7_603, alpha=0.003)
    >>> r.status, round(r.estimate, 3), r.planned
    ('fail', 0.252, (0.0, 1.0))
    """
    if not 0.0 < alpha < 1.0:
        raise InvalidInputError(f"alpha: must be in (0, 1), got {alpha!r}")
    log_e = float(full_step_log_e_value(n_control, n_candidate, tolerance=tolerance, k=k))
    pvalue = 1.0 if log_e <= 0.0 else math.exp(-log_e)
    n = np.array([n_control, n_candidate], dtype=np.float64)
    total = float(n.sum())
    observed = tuple(float(x) for x in (n / total)) if total > 0 else (math.nan, math.nan)
    status: Status
    if total == 0:
        status, note = "inconclusive", "no requests observed"
    elif pvalue <= alpha:
        status = "fail"
        note = (
            f"sample-ratio mismatch: more than {tolerance:.0%} of the 100 % step's requests "
            "reach control"
        )
    else:
        status, note = "pass", ""
    lo = hi = math.nan
    if total > 0:
        lo, hi = _share_confidence_set(n, np.array([0.5, 0.5]), alpha)
    return SrmResult(
        method=f"one-sided SRM e-test of a 100 % step (control share <= {tolerance:g}), k={k:g}",
        estimate=observed[-1],
        ci_low=lo,
        ci_high=hi,
        confidence_level=1.0 - alpha,
        pvalue=pvalue,
        n_control=int(n_control),
        n_candidate=int(n_candidate),
        note=note,
        status=status,
        alpha=alpha,
        log_bayes_factor=log_e,
        planned=(0.0, 1.0),
        observed=observed,
        counts=(int(n_control), int(n_candidate)),
    )


@dataclass(frozen=True, slots=True)
class SrmState:
    """Streaming SRM state: cumulative counts and the running-minimum p-value.

    Immutable: :meth:`update` returns a new state. Updating with a batch gives the same
    state as updating with its requests one at a time (the Bayes factor depends on the
    cumulative counts only; the running minimum can only differ if a look is skipped).

    Examples
    --------
    >>> s = SrmState.start([0.5, 0.5]).update([100, 150])
    >>> round(s.pvalue, 11), s.counts
    (0.05151723445, (100, 150))
    """

    planned: tuple[float, ...]
    counts: tuple[int, ...]
    pvalue: float = 1.0
    k: float = DEFAULT_K

    @classmethod
    def start(cls, planned: Sequence[float] | ArrayLike, *, k: float = DEFAULT_K) -> SrmState:
        """Empty state for a planned split."""
        rho = _planned(planned)
        return cls(planned=tuple(float(x) for x in rho), counts=(0,) * rho.size, k=_check_k(k))

    def update(self, new_counts: ArrayLike) -> SrmState:
        """Add new requests per arm (one look) and refresh the running-minimum p-value."""
        inc = _counts("new_counts", new_counts, len(self.planned))
        if inc.ndim != 1:
            raise InvalidInputError(f"new_counts: must be 1-d, got shape {inc.shape}")
        n = np.asarray(self.counts, dtype=np.float64) + inc
        log_bf = float(srm_log_bayes_factor(n, self.planned, k=self.k))
        p = min(self.pvalue, 1.0, math.exp(-log_bf))
        return SrmState(planned=self.planned, counts=tuple(int(x) for x in n), pvalue=p, k=self.k)
