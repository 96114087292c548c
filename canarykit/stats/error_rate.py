"""Anytime-valid error-rate checks: Lindon–Malek count e-process, rate-ratio CS, absolute SLO bound.

Two gating checks of the default policy live here:

* ``error_rate_delta`` — candidate error rate ≤ margin × control error rate: the Lindon–Malek
  Dirichlet-mixture e-process on the two error counts (:func:`error_rate_ratio_test`, or the
  streaming :class:`ErrorRateEProcess`), inverted into a confidence sequence for the rate ratio.
* ``error_rate`` — candidate error rate below an absolute SLO: a time-uniform beta-binomial
  confidence sequence for a Bernoulli rate (:func:`error_rate_bound`).

Traffic split
-------------
The e-process conditions on the *planned* share ``rho_candidate`` of requests routed to the
candidate. With per-request Bernoulli errors and independent routing, the arm label of the next
error is Bernoulli(θ) with ``θ = ρ_t·r / (ρ_c + ρ_t·r)`` for the rate ratio ``r``, whatever the
(time-varying) traffic volume and common error level; the mixture is then an exact
nonnegative martingale under each ``r``. Plugging in the *observed* share instead would make the
null depend on the data and lose exact validity, so the planned split is used and a deviation is
left to the sample-ratio check (the observed split is reported in ``note`` when it differs from
the plan by more than 10 % relative). The split must be constant over the evaluated window.

The rate-ratio result, the streaming e-process and :func:`error_rate_ratio_test` are here; the
Lindon–Malek e-value and its ratio inversion (:mod:`canarykit.stats.lindon_malek`) and the
absolute SLO bound (:mod:`canarykit.stats.error_rate_slo`) have their own modules, and every
name is importable from this one.

Examples
--------
>>> res = error_rate_ratio_test(n_control=95_000, n_control_errors=950,
...                             n_candidate=5_000, n_candidate_errors=75, rho_candidate=0.05)
>>> round(res.estimate, 2), res.decide(1.25, bound="max")
(1.5, 'inconclusive')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_count, check_open_unit, check_positive
from canarykit.stats.error_rate_slo import error_rate_bound
from canarykit.stats.lindon_malek import (
    Alternative,
    _check_alternative,
    _ratio_cs,
    lindon_malek_log_bf,
    ratio_to_theta,
    theta_to_ratio,
)
from canarykit.stats.result import IntervalResult

__all__ = [
    "ErrorRateEProcess",
    "ErrorRateRatioResult",
    "error_rate_bound",
    "error_rate_ratio_test",
    "lindon_malek_log_bf",
    "ratio_to_theta",
    "theta_to_ratio",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRateRatioResult(IntervalResult):
    """:class:`IntervalResult` for the candidate/control error-rate ratio, plus e-process details.

    Attributes
    ----------
    log_e_value : float
        Current log Bayes factor of the null "equal rates" (one-sided if ``alternative="greater"``).
    n_control_errors, n_candidate_errors : int
        Error counts that entered the computation.
    rho_candidate : float
        Planned candidate share of requests used by the test.
    """

    log_e_value: float = 0.0
    n_control_errors: int = 0
    n_candidate_errors: int = 0
    rho_candidate: float = math.nan


def _method(k: float, alternative: str) -> str:
    return f"lindon-malek dirichlet-mixture e-process (k={k:g}, {alternative}), ratio CS"


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRateEProcess:
    """Streaming Lindon–Malek e-process for two error counts with a planned split.

    The state is immutable: :meth:`update` returns a new state, so a stored state can be
    replayed exactly. It keeps the cumulative counts, the running minimum of the p-value and
    the running intersection of the rate-ratio confidence sequence over the looks it was updated at.

    Parameters
    ----------
    rho_candidate : float
        Planned share of requests routed to the candidate (fixed for the window).
    k : float, default 100
        Dirichlet prior concentration (savvi default).
    alternative : {"two-sided", "greater"}, default "greater"
        Null of the reported p-value: equal rates ("two-sided") or candidate not worse ("greater").
    confidence_level : float, default 0.95
        Level of the rate-ratio confidence sequence.

    Notes
    -----
    The log e-value depends only on the cumulative counts (exchangeable marginal likelihood),
    so one update with a batch equals the same events applied one by one. The running-minimum
    p-value and the intersected interval depend on the looks taken: finer looks can only give
    smaller p-values and narrower intervals, and every look schedule is valid. If the running
    intersection becomes empty (a probability-α event under the model, or evidence that the
    rate ratio is not constant over time), the current look's interval — valid on its own — is
    kept instead and ``intersection_empty`` is set; :meth:`result` says so in ``note``.

    Examples
    --------
    >>> ep = ErrorRateEProcess(rho_candidate=0.5)
    >>> ep = ep.update(100, 150)
    >>> round(ep.pvalue, 6)
    0.051517
    >>> r = ep.result()
    >>> r.decide(1.0, bound="max")
    'inconclusive'
    """

    rho_candidate: float
    k: float = 100.0
    alternative: Alternative = "greater"
    confidence_level: float = 0.95
    n_control_errors: int = 0
    n_candidate_errors: int = 0
    n_control: int = 0
    n_candidate: int = 0
    pvalue: float = 1.0
    ratio_low: float = 0.0
    ratio_high: float = math.inf
    intersection_empty: bool = False

    def __post_init__(self) -> None:
        check_open_unit("rho_candidate", self.rho_candidate)
        check_positive("k", self.k)
        _check_alternative(self.alternative)
        check_open_unit("confidence_level", self.confidence_level)

    @property
    def log_e_value(self) -> float:
        """Current log e-value (log Bayes factor) of the null of ``alternative``."""
        return float(
            lindon_malek_log_bf(
                self.n_control_errors,
                self.n_candidate_errors,
                self.rho_candidate,
                k=self.k,
                alternative=self.alternative,
            )
        )

    def update(
        self,
        n_control_events: int,
        n_candidate_events: int,
        *,
        n_control: int = 0,
        n_candidate: int = 0,
    ) -> ErrorRateEProcess:
        """Add a batch of new errors (and optionally new requests) per arm; return the new state."""
        dc = check_count("n_control_events", n_control_events)
        dt = check_count("n_candidate_events", n_candidate_events)
        new = replace(
            self,
            n_control_errors=self.n_control_errors + dc,
            n_candidate_errors=self.n_candidate_errors + dt,
            n_control=self.n_control + check_count("n_control", n_control),
            n_candidate=self.n_candidate + check_count("n_candidate", n_candidate),
        )
        p_now = min(1.0, math.exp(-new.log_e_value))
        lo, hi = _ratio_cs(
            new.n_control_errors,
            new.n_candidate_errors,
            self.rho_candidate,
            self.k,
            1.0 - self.confidence_level,
        )
        lo_i, hi_i = max(self.ratio_low, lo), min(self.ratio_high, hi)
        empty = lo_i > hi_i
        return replace(
            new,
            pvalue=min(self.pvalue, p_now),
            ratio_low=lo if empty else lo_i,
            ratio_high=hi if empty else hi_i,
            intersection_empty=self.intersection_empty or empty,
        )

    def result(self) -> ErrorRateRatioResult:
        """The rate-ratio confidence sequence (running intersection) as a gating result."""
        return _ratio_result(
            self.n_control,
            self.n_control_errors,
            self.n_candidate,
            self.n_candidate_errors,
            rho_candidate=self.rho_candidate,
            k=self.k,
            alternative=self.alternative,
            confidence_level=self.confidence_level,
            ci=(self.ratio_low, self.ratio_high),
            pvalue=self.pvalue,
            extra_note=(
                "running intersection of the ratio CS became empty: the rate ratio does not look "
                "constant over time (or the split is not as planned); current-look interval shown"
                if self.intersection_empty
                else ""
            ),
        )


def _ratio_result(
    n_control: int,
    n_control_errors: int,
    n_candidate: int,
    n_candidate_errors: int,
    *,
    rho_candidate: float,
    k: float,
    alternative: Alternative,
    confidence_level: float,
    ci: tuple[float, float],
    pvalue: float,
    extra_note: str = "",
) -> ErrorRateRatioResult:
    nc, nt = n_control_errors, n_candidate_errors
    notes = [extra_note] if extra_note else []
    n = nc + nt
    if n == 0:
        estimate = math.nan
        notes.append("no errors in either arm yet: ratio not estimable, interval [0, inf]")
    elif nc == 0:
        estimate = math.inf
        notes.append("no control errors yet: upper bound is infinite")
    else:
        estimate = float(theta_to_ratio(nt / n, rho_candidate))
    if n_control > 0 and n_candidate > 0:
        share = n_candidate / (n_control + n_candidate)
        if abs(share / rho_candidate - 1.0) > 0.1:
            notes.append(
                f"observed candidate share {share:.4g} differs from planned {rho_candidate:.4g}: "
                "check sample ratio"
            )
    log_e = float(lindon_malek_log_bf(nc, nt, rho_candidate, k=k, alternative=alternative))
    return ErrorRateRatioResult(
        method=_method(k, alternative),
        estimate=estimate,
        ci_low=ci[0],
        ci_high=ci[1],
        confidence_level=confidence_level,
        pvalue=pvalue,
        n_control=n_control,
        n_candidate=n_candidate,
        note="; ".join(notes),
        log_e_value=log_e,
        n_control_errors=nc,
        n_candidate_errors=nt,
        rho_candidate=rho_candidate,
    )


def error_rate_ratio_test(
    *,
    n_control: int,
    n_control_errors: int,
    n_candidate: int,
    n_candidate_errors: int,
    rho_candidate: float,
    k: float = 100.0,
    alternative: Alternative = "greater",
    confidence_level: float = 0.95,
) -> ErrorRateRatioResult:
    """Anytime-valid CS for the candidate/control error-rate ratio from cumulative counts.

    Parameters
    ----------
    n_control, n_candidate : int
        Requests per arm (used for the sample-ratio note and reporting only).
    n_control_errors, n_candidate_errors : int
        Errors per arm.
    rho_candidate : float
        Planned share of requests routed to the candidate (see module notes).
    k : float, default 100
        Dirichlet prior concentration, fixed before data.
    alternative : {"greater", "two-sided"}, default "greater"
        Null of the reported p-value (candidate not worse / rates equal).
    confidence_level : float, default 0.95

    Returns
    -------
    ErrorRateRatioResult
        ``estimate`` = rate ratio implied by the error split under the planned exposure,
        ``[ci_low, ci_high]`` = ``{r : log BF(θ(r)) < ln(1/α)}`` — valid at all looks at once —
        and ``pvalue = min(1, 1/BF)`` at this look (take the running minimum across looks, or
        use :class:`ErrorRateEProcess`).

    Notes
    -----
    Sign convention: ``r > 1`` means the candidate errs more. The lower bound equals the
    one-sided bound (the one-sided BF equals the two-sided one above θ̂), so
    ``ci_low > margin`` is a level-α test of ``r ≤ margin`` and ``ci_high ≤ margin`` a level-α
    test of ``r ≥ margin``, jointly at level α.

    References
    ----------
    .. [1] Lindon & Malek, NeurIPS 2022, arXiv:2011.03567.

    Examples
    --------
    >>> r = error_rate_ratio_test(n_control=50_000, n_control_errors=500, n_candidate=50_000,
    ...                           n_candidate_errors=800, rho_candidate=0.5)
    >>> round(r.ci_low, 2) > 1.25, r.decide(1.25, bound="max")
    (True, 'fail')
    """
    for name, val in (
        ("n_control", n_control),
        ("n_control_errors", n_control_errors),
        ("n_candidate", n_candidate),
        ("n_candidate_errors", n_candidate_errors),
    ):
        check_count(name, val)
    if n_control_errors > n_control > 0 or n_candidate_errors > n_candidate > 0:
        raise InvalidInputError(
            "error counts must not exceed request counts, got "
            f"control {n_control_errors}/{n_control}, candidate {n_candidate_errors}/{n_candidate}"
        )
    rho_t = check_open_unit("rho_candidate", rho_candidate)
    k = check_positive("k", k)
    alpha = 1.0 - check_open_unit("confidence_level", confidence_level)
    alternative = _check_alternative(alternative)
    ci = _ratio_cs(int(n_control_errors), int(n_candidate_errors), rho_t, k, alpha)
    log_e = float(
        lindon_malek_log_bf(
            n_control_errors, n_candidate_errors, rho_t, k=k, alternative=alternative
        )
    )
    return _ratio_result(
        int(n_control),
        int(n_control_errors),
        int(n_candidate),
        int(n_candidate_errors),
        rho_candidate=rho_t,
        k=k,
        alternative=alternative,
        confidence_level=confidence_level,
        ci=ci,
        pvalue=min(1.0, math.exp(-log_e)),
    )
