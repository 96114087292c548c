"""Planning a canary rollout before it starts: time to PROCEED, detectable regressions, traffic.

For every step of the policy's rollout plan (``rollout.steps``) and every check that applies at
that step, :func:`plan_rollout` answers three questions at a declared traffic rate:

* **minutes to PROCEED** — the first look (a multiple of ``look_every`` within the step's
  window) at which a candidate *as good as control* passes, on the expected path;
* **detectable regression** — the regression the check fails (STOPs) with 90 % power by the
  end of the step window, in the check's own units;
* **minimum rate** — the traffic (requests/s, both arms) below which the check can never pass
  within the step window, even for a candidate as good as control.

The answers come from the product's own check code: synthetic :class:`Summaries` are built at
the expected values of a :class:`BaselineProfile` (the control's error rate, latency quantile
function, labels, prevalence, AUC and groups) and passed to
:func:`canarykit.verdict.checks.evaluate_checks` with the step's tuning from
:func:`canarykit.verdict.tuning.step_tuning` — exactly what a look of the rollout will run.
Effects and rates are found by bisection. See :func:`plan_rollout` (Notes) for the
approximations.

Examples
--------
>>> from canarykit.verdict.policy import parse_policy
>>> policy = parse_policy({"schema": "canarykit.policy/1",
...     "rollout": {"steps": [{"share": 0.05, "window_minutes": 30}]},
...     "checks": {"latency_p95": {"kind": "latency_quantile", "quantile": 0.95, "max": 120}}})
>>> row = plan_rollout(policy, rate=100.0).step(1).check("latency_p95")
>>> row.minutes_to_proceed, round(row.detectable, 1), round(row.minimum_rate, 2)
(5.0, 125.8, 2.22)
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import logit, ndtr, ndtri

from canarykit.errors import InvalidInputError
from canarykit.stats.auc_histogram import delong_from_histogram
from canarykit.traces.profile import ControlTraffic, control_traffic
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import ArmSummary, Selection, Summaries, SummaryPlan
from canarykit.traces.traffic import stored_models
from canarykit.verdict.checks import CheckOutcome, evaluate_checks, latency_ranks
from canarykit.verdict.policy import CheckSpec, Policy, RolloutStep
from canarykit.verdict.tuning import (
    StepTuning,
    TrafficProfile,
    applicable_checks,
    step_tuning,
    stop_alphas,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCHEMA",
    "BaselineProfile",
    "CheckPlan",
    "LatencyProfile",
    "RolloutPlanReport",
    "StepPlan",
    "plan_rollout",
    "profile_from_store",
]

SCHEMA = "canarykit.plan/1"
POWER = 0.9
"""Power at which a regression counts as detectable."""
Z_POWER = float(ndtri(POWER))
"""1.2816: the data of the power path sit this many standard deviations on the safe side."""
SCORE_LOCATION = -1.5
"""Mean of the negatives' latent score (score = logistic(latent)), as the sample generator."""
MAX_RATE = 1e6
"""Requests/s above which the minimum rate is reported as not reachable."""
RATE_TOLERANCE = 1e-3
"""Relative width at which the rate and ratio bisections stop."""
_T0 = dt.datetime(2000, 1, 1)
_LOG_FLOOR_MS = 1e-3
_ASSUMED = ("error_rate", "latency", "label_fraction", "prevalence", "auc", "groups")
_KIND_UNITS = {
    "latency_quantile": "ms",
    "latency_quantile_ratio": "ratio",
    "error_rate": "rate",
    "error_rate_ratio": "ratio",
    "auc_delta": "delta_auc",
    "fairness_gap_delta": "gap_growth",
    "sample_ratio": "share",
    "shadow_agreement": "agreement",
}


# -- the baseline ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyProfile:
    """Quantile function of the control's latency: a lognormal, or a table of quantiles.

    With ``levels`` / ``values_ms`` empty the quantile function is lognormal with median
    ``median_ms`` and log-sd ``sigma``. A table is interpolated linearly in
    ``(Φ⁻¹(level), ln value)`` (exact for a lognormal) and extrapolated beyond its ends along
    the slope of its last unit of ``Φ⁻¹(level)``.

    Examples
    --------
    >>> q = LatencyProfile()
    >>> [round(float(v), 1) for v in q.quantile([0.5, 0.95, 0.99])]
    [40.0, 91.0, 127.9]
    >>> t = LatencyProfile.from_quantiles([0.1, 0.5, 0.9, 0.99], q.quantile([0.1, 0.5, 0.9, 0.99]))
    >>> round(float(t.quantile(0.95)[0]), 1)
    91.0
    """

    median_ms: float = 40.0
    sigma: float = 0.5
    levels: tuple[float, ...] = ()
    values_ms: tuple[float, ...] = ()
    source: str = "lognormal"

    def __post_init__(self) -> None:
        if not (self.median_ms > 0 and math.isfinite(self.median_ms)):
            raise InvalidInputError(f"latency.median_ms: must be > 0, got {self.median_ms!r}")
        if not (self.sigma >= 0 and math.isfinite(self.sigma)):
            raise InvalidInputError(f"latency.sigma: must be >= 0, got {self.sigma!r}")
        lv, va = np.asarray(self.levels, float), np.asarray(self.values_ms, float)
        if lv.shape != va.shape or (lv.size and lv.size < 2):
            raise InvalidInputError(
                "latency.levels, latency.values_ms: need equal lengths of at least 2 "
                f"(got {lv.size} and {va.size})"
            )
        if lv.size and (
            np.any(np.diff(lv) <= 0) or lv[0] <= 0 or lv[-1] >= 1 or np.any(np.diff(va) < 0)
        ):
            raise InvalidInputError(
                "latency.levels: must increase within (0, 1), with non-decreasing values"
            )
        if va.size and not (np.all(np.isfinite(va)) and va[0] >= 0):
            raise InvalidInputError("latency.values_ms: must be finite and >= 0")

    @classmethod
    def lognormal(cls, median_ms: float = 40.0, sigma: float = 0.5) -> LatencyProfile:
        """Lognormal latencies (the sample generator's: median 40 ms, sigma 0.5)."""
        return cls(
            median_ms=median_ms, sigma=sigma, source=f"lognormal({median_ms:g} ms, {sigma:g})"
        )

    @classmethod
    def from_quantiles(
        cls, levels: npt.ArrayLike, values_ms: npt.ArrayLike, *, source: str = "quantiles"
    ) -> LatencyProfile:
        """A table of control quantiles (levels in (0, 1), values in ms); ties are merged."""
        lv = np.asarray(levels, float).ravel()
        va = np.asarray(values_ms, float).ravel()
        keep = np.concatenate(([True], np.diff(lv) > 0)) if lv.size else np.zeros(0, bool)
        lv, va = lv[keep], va[keep]
        median = float(np.interp(0.5, lv, va)) if lv.size else 40.0
        return cls(
            median_ms=max(median, _LOG_FLOOR_MS),
            sigma=0.0,
            levels=tuple(float(x) for x in lv),
            values_ms=tuple(float(x) for x in va),
            source=source,
        )

    @classmethod
    def from_buckets(
        cls, buckets: Mapping[int, int], *, relative_accuracy: float = 0.01
    ) -> LatencyProfile:
        """From DDSketch-style bucket counts (key ``⌈log_γ x⌉``, as ``ArmSummary.latency_buckets``).

        Each bucket's representative value ``2γ^k/(γ+1)`` is placed at the middle of its
        cumulative level range; keys below ``-2**61`` hold latency 0.

        Examples
        --------
        >>> import numpy as np
        >>> x = np.random.default_rng(0).lognormal(np.log(40.0), 0.5, 100_000)
        >>> gamma = 1.01 / 0.99
        >>> keys, counts = np.unique(np.ceil(np.log(x) / np.log(gamma)), return_counts=True)
        >>> q = LatencyProfile.from_buckets(dict(zip(keys.astype(int).tolist(), counts.tolist())))
        >>> [round(float(v)) for v in q.quantile([0.5, 0.95, 0.99])]
        [40, 91, 128]
        """
        gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy)
        keys = sorted(int(k) for k, c in buckets.items() if c > 0)
        counts = np.asarray([buckets[k] for k in keys], float)
        if counts.size < 2:
            raise InvalidInputError("buckets: need at least two non-empty buckets")
        cum = np.cumsum(counts)
        mid = (cum - counts / 2.0) / cum[-1]
        values = [0.0 if k < -(2**61) else 2.0 * gamma**k / (gamma + 1.0) for k in keys]
        return cls.from_quantiles(mid, values, source=f"DDSketch buckets ({int(cum[-1]):,} values)")

    def quantile(self, u: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Latency (ms) at levels ``u`` in (0, 1)."""
        z = ndtri(np.clip(np.asarray(u, float).ravel(), 1e-300, 1.0 - 1e-16))
        if not self.levels:
            return np.asarray(self.median_ms * np.exp(self.sigma * z))
        x = ndtri(np.asarray(self.levels))
        y = np.log(np.maximum(np.asarray(self.values_ms), _LOG_FLOOR_MS))
        out = np.interp(z, x, y)
        lo_j = min(int(np.searchsorted(x, x[0] + 1.0)), x.size - 1)
        hi_j = max(int(np.searchsorted(x, x[-1] - 1.0)) - 1, 0)
        slope_lo = max((y[lo_j] - y[0]) / (x[lo_j] - x[0]), 0.0) if lo_j > 0 else 0.0
        slope_hi = max((y[-1] - y[hi_j]) / (x[-1] - x[hi_j]), 0.0) if hi_j < x.size - 1 else 0.0
        out = np.where(z < x[0], y[0] + slope_lo * (z - x[0]), out)
        out = np.where(z > x[-1], y[-1] + slope_hi * (z - x[-1]), out)
        values = np.exp(out)
        return np.where(values <= _LOG_FLOOR_MS, 0.0, values) if self.values_ms[0] == 0 else values

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "median_ms": self.median_ms,
            "sigma": self.sigma,
            "levels": list(self.levels),
            "values_ms": list(self.values_ms),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencyProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            median_ms=float(data["median_ms"]),
            sigma=float(data["sigma"]),
            levels=tuple(float(x) for x in data.get("levels", ())),
            values_ms=tuple(float(x) for x in data.get("values_ms", ())),
            source=str(data.get("source", "")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineProfile:
    """What the control looks like: the traffic a candidate *as good as control* would show.

    The defaults are the sample generator's baseline (:mod:`canarykit.traces.generate`), used
    when there is no data; ``assumed`` names the fields that were not measured.

    Attributes
    ----------
    error_rate : float
        Control error rate (default 0.2 %).
    latency : LatencyProfile
        Control latency quantile function (default lognormal, median 40 ms, sigma 0.5).
    label_fraction : float
        Share of requests whose label has matured (default 1.0).
    prevalence : float
        Share of positives among labelled requests (default 0.2).
    auc : float
        Control AUC (default 0.80).
    groups : tuple of (str, float)
        Sensitive groups and their traffic shares (default A/B/C 0.5/0.3/0.2).
    source : str
        Where the numbers come from.
    assumed : tuple of str
        Fields taken from the defaults rather than measured.
    observed_rate : float or None
        Requests/s both arms measured in the store (information only).

    Examples
    --------
    >>> BaselineProfile().assumed
    ('error_rate', 'latency', 'label_fraction', 'prevalence', 'auc', 'groups')
    >>> BaselineProfile(error_rate=2.0)
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: error_rate: must be in [0, 1), got 2.0
    """

    error_rate: float = 0.002
    latency: LatencyProfile = field(default_factory=LatencyProfile.lognormal)
    label_fraction: float = 1.0
    prevalence: float = 0.2
    auc: float = 0.80
    groups: tuple[tuple[str, float], ...] = (("A", 0.5), ("B", 0.3), ("C", 0.2))
    source: str = "assumed: the sample generator's baseline (canarykit.traces.generate)"
    assumed: tuple[str, ...] = _ASSUMED
    observed_rate: float | None = None

    def __post_init__(self) -> None:
        for name, value, low, high, closed in (
            ("error_rate", self.error_rate, 0.0, 1.0, False),
            ("label_fraction", self.label_fraction, 0.0, 1.0, True),
            ("prevalence", self.prevalence, 0.0, 1.0, False),
            ("auc", self.auc, 0.5, 1.0, False),
        ):
            ok = low <= value <= high if closed else low <= value < high
            if not (ok and math.isfinite(value)) or (name == "prevalence" and value <= 0):
                bracket = "]" if closed else ")"
                raise InvalidInputError(
                    f"{name}: must be in [{low:g}, {high:g}{bracket}, got {value!r}"
                )
        shares = [s for _, s in self.groups]
        if any(not (s > 0) for s in shares) or (shares and abs(sum(shares) - 1.0) > 1e-6):
            raise InvalidInputError(f"groups: shares must be > 0 and sum to 1, got {shares}")
        if len({g for g, _ in self.groups}) != len(self.groups):
            raise InvalidInputError("groups: names must be distinct")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "error_rate": self.error_rate,
            "latency": self.latency.to_dict(),
            "label_fraction": self.label_fraction,
            "prevalence": self.prevalence,
            "auc": self.auc,
            "groups": [[g, s] for g, s in self.groups],
            "source": self.source,
            "assumed": list(self.assumed),
            "observed_rate": self.observed_rate,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaselineProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            error_rate=float(data["error_rate"]),
            latency=LatencyProfile.from_dict(data["latency"]),
            label_fraction=float(data["label_fraction"]),
            prevalence=float(data["prevalence"]),
            auc=float(data["auc"]),
            groups=tuple((str(g), float(s)) for g, s in data["groups"]),
            source=str(data["source"]),
            assumed=tuple(str(a) for a in data.get("assumed", ())),
            observed_rate=data.get("observed_rate"),
        )

    def lines(self) -> list[str]:
        """One line per assumption, marked *assumed* when not measured."""

        def tag(name: str) -> str:
            return " (assumed)" if name in self.assumed else ""

        groups = ", ".join(f"{g} {s:.0%}" for g, s in self.groups) or "none"
        q = self.latency.quantile([0.5, 0.95, 0.99])
        out = [
            f"source: {self.source}",
            f"control error rate {self.error_rate:.3%}{tag('error_rate')}",
            f"control latency {self.latency.source}: p50 {q[0]:.1f} ms, p95 {q[1]:.1f} ms, "
            f"p99 {q[2]:.1f} ms{tag('latency')}",
            f"labels on {self.label_fraction:.0%} of requests{tag('label_fraction')}, "
            f"prevalence {self.prevalence:.3f}{tag('prevalence')}, AUC {self.auc:.3f}{tag('auc')}",
            f"groups {groups}{tag('groups')}",
        ]
        if self.observed_rate is not None:
            out.append(f"traffic measured in the store: {self.observed_rate:.3g} requests/s")
        return out


def profile_from_store(
    store: TraceStore | str | Path,
    model: str | None,
    *,
    since: str | None = None,
    until: str | None = None,
) -> BaselineProfile:
    """The baseline of a planned rollout, measured on the control arm of ``model`` in a store.

    Parameters
    ----------
    store : TraceStore, str or Path
        A trace store, or the path of a DuckDB trace store (opened read-only).
    model : str or None
        Model name; ``None`` when the store holds exactly one model.
    since, until : str, optional
        Window of control traffic to read (ISO-8601 UTC, ``[since, until)``).

    Returns
    -------
    BaselineProfile
        Measured error rate, latency quantiles (a table at Φ(z), z = −4 … 4.5, within the
        levels the sample resolves), label fraction, prevalence, AUC (DeLong on a 1,000-bin
        control score histogram) and group shares; fields without enough data keep their
        defaults and are listed in ``assumed``.

    Raises
    ------
    InvalidInputError
        Missing store file, unknown model, or no model given for a store with several.

    Examples
    --------
    >>> from canarykit.traces.generate import generate_traces
    >>> store = TraceStore()
    >>> _ = store.ingest(generate_traces("identical", n_requests=20_000, seed=3))
    >>> p = profile_from_store(store, None)
    >>> round(p.error_rate, 3), round(p.auc, 1), p.assumed
    (0.002, 0.8, ())
    """
    opened = None
    if not isinstance(store, TraceStore):
        if not Path(store).is_file():
            raise InvalidInputError(f"{store}: no such trace store")
        store = opened = TraceStore(store, read_only=True)
    try:
        if model is None:
            models = stored_models(store)
            if len(models) != 1:
                raise InvalidInputError(
                    "model: required when the store holds several models "
                    f"({', '.join(models) or 'none'})"
                )
            model = models[0]
        traffic = control_traffic(store, model, since=since, until=until)
        path = str(store.path)
    finally:
        if opened is not None:
            opened.close()
    return _profile_of(traffic, path)


def _profile_of(c: ControlTraffic, path: str) -> BaselineProfile:
    defaults = BaselineProfile()
    assumed: list[str] = []
    latency = defaults.latency
    if c.n_latency >= 100 and c.latency_values.size:
        keep = (c.latency_levels >= 1.0 / c.n_latency) & (
            c.latency_levels <= 1.0 - 1.0 / c.n_latency
        )
        latency = LatencyProfile.from_quantiles(
            c.latency_levels[keep],
            c.latency_values[keep],
            source=f"quantiles of {c.n_latency:,} control latencies",
        )
    else:
        assumed.append("latency")
    prevalence, auc = defaults.prevalence, defaults.auc
    if c.labelled and 0 < c.positives < c.labelled:
        prevalence = c.positives / c.labelled
    else:
        assumed.append("prevalence")
    if c.score_positives.sum() >= 30 and c.score_negatives.sum() >= 30:
        measured = float(delong_from_histogram(c.score_positives, c.score_negatives)[0])
        auc = min(max(measured, 0.5), 0.995)
    else:
        assumed.append("auc")
    groups = defaults.groups
    if c.groups and c.group_counts.sum() > 0:
        total = float(c.group_counts.sum())
        groups = tuple((g, float(n) / total) for g, n in zip(c.groups, c.group_counts, strict=True))
    else:
        assumed.append("groups")
    window = f" from {c.first.isoformat()}Z to {c.last.isoformat()}Z" if c.first and c.last else ""
    return BaselineProfile(
        error_rate=min(c.errors / c.rows, 0.999),
        latency=latency,
        label_fraction=c.labelled / c.rows,
        prevalence=prevalence,
        auc=auc,
        groups=groups,
        source=f"control arm of {c.model} in {path}: {c.rows:,} requests{window}",
        assumed=tuple(assumed),
        observed_rate=c.requests_per_second,
    )


# -- the report --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPlan:
    """What one check can do at one step (see the module docstring).

    ``detectable`` is in the check's units (``unit``): ms for a latency quantile, a ratio for
    the p99 and error-rate ratios, a rate for the error-rate SLO, ΔAUC, the growth of a
    fairness gap, and for ``sample_ratio`` the candidate's share of traffic (below the planned
    one) that the sample-ratio gate catches. ``None`` means not within the step / not within a
    sane range (``note`` says why).
    """

    check: str
    kind: str
    required: bool
    bound: str
    threshold: float | None
    unit: str
    minutes_to_proceed: float | None
    detectable: float | None
    minimum_rate: float | None
    alpha_pass: float
    alpha_fail: float
    quantile: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "check": self.check,
            "kind": self.kind,
            "quantile": self.quantile,
            "required": self.required,
            "bound": self.bound,
            "threshold": self.threshold,
            "unit": self.unit,
            "minutes_to_proceed": self.minutes_to_proceed,
            "detectable": self.detectable,
            "minimum_rate": self.minimum_rate,
            "alpha_pass": self.alpha_pass,
            "alpha_fail": self.alpha_fail,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True, slots=True, kw_only=True)
class StepPlan:
    """The plan of one rollout step: its expected traffic, looks and one row per check.

    ``minutes_to_proceed`` is the first look at which every required check passes (a pass
    is kept for the rest of the step), ``None`` when not within the window.
    """

    step: int
    share: float
    window_minutes: float
    control: str
    expected_control: float
    expected_candidate: float
    looks: tuple[float, ...]
    minutes_to_proceed: float | None
    checks: tuple[CheckPlan, ...]
    tuning: dict[str, Any]

    def check(self, name: str) -> CheckPlan:
        """The row of check ``name`` (``KeyError`` if it does not run at this step)."""
        for c in self.checks:
            if c.check == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "step": self.step,
            "share": self.share,
            "window_minutes": self.window_minutes,
            "control": self.control,
            "expected_control": self.expected_control,
            "expected_candidate": self.expected_candidate,
            "looks": list(self.looks),
            "minutes_to_proceed": self.minutes_to_proceed,
            "checks": [c.to_dict() for c in self.checks],
            "tuning": self.tuning,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(
            step=int(data["step"]),
            share=float(data["share"]),
            window_minutes=float(data["window_minutes"]),
            control=str(data["control"]),
            expected_control=float(data["expected_control"]),
            expected_candidate=float(data["expected_candidate"]),
            looks=tuple(float(x) for x in data["looks"]),
            minutes_to_proceed=data.get("minutes_to_proceed"),
            checks=tuple(CheckPlan.from_dict(c) for c in data["checks"]),
            tuning=dict(data["tuning"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutPlanReport:
    """A rollout plan: per step and check, time to PROCEED, detectable regression, min. traffic.

    Renders as text (:meth:`to_text`), escaped HTML in Jupyter and a pandas DataFrame
    (:meth:`to_frame`); :meth:`to_dict` is the JSON form (schema ``canarykit.plan/1``) and
    :meth:`from_dict` reads it back. :meth:`step` gives a :class:`StepPlan`, whose
    :meth:`StepPlan.check` gives a :class:`CheckPlan`.

    Examples
    --------
    >>> import json
    >>> from canarykit.verdict.policy import parse_policy
    >>> policy = parse_policy({"schema": "canarykit.policy/1",
    ...     "rollout": {"steps": [{"share": 0.25, "window_minutes": 20}]},
    ...     "checks": {"error_rate": {"kind": "error_rate", "max": 0.005}}})
    >>> report = plan_rollout(policy, rate=50.0, look_every=10)
    >>> report.step(1).looks, report.step(1).check("error_rate").unit
    ((10.0, 20.0), 'rate')
    >>> RolloutPlanReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    True
    >>> report.to_frame()[["step", "check", "minutes_to_proceed"]].to_dict("records")
    [{'step': 1, 'check': 'error_rate', 'minutes_to_proceed': 10.0}]
    >>> print(report.to_text().splitlines()[0])
    Canary rollout plan at 50 requests/s (both arms), a look every 10 min, policy sha256:...
    """

    rate: float
    look_every_minutes: float
    alpha: float
    power: float
    policy_digest: str
    profile: BaselineProfile
    steps: tuple[StepPlan, ...]
    error_control: str
    notes: tuple[str, ...] = ()

    def step(self, number: int) -> StepPlan:
        """Step ``number`` (1-based)."""
        return self.steps[number - 1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (numbers unrounded)."""
        return {
            "schema": SCHEMA,
            "mode": "canary",
            "rate": self.rate,
            "look_every_minutes": self.look_every_minutes,
            "alpha": self.alpha,
            "power": self.power,
            "policy_digest": self.policy_digest,
            "profile": self.profile.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "error_control": self.error_control,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RolloutPlanReport:
        """Inverse of :meth:`to_dict`."""
        if data.get("schema") != SCHEMA:
            raise InvalidInputError(f"schema: must be {SCHEMA!r}, got {data.get('schema')!r}")
        return cls(
            rate=float(data["rate"]),
            look_every_minutes=float(data["look_every_minutes"]),
            alpha=float(data["alpha"]),
            power=float(data["power"]),
            policy_digest=str(data["policy_digest"]),
            profile=BaselineProfile.from_dict(data["profile"]),
            steps=tuple(StepPlan.from_dict(s) for s in data["steps"]),
            error_control=str(data["error_control"]),
            notes=tuple(str(n) for n in data.get("notes", ())),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (step, check)."""
        import pandas as pd

        rows = [
            {"step": s.step, "share": s.share, "window_minutes": s.window_minutes, **c.to_dict()}
            for s in self.steps
            for c in s.checks
        ]
        return pd.DataFrame(rows)

    def to_text(self) -> str:
        """Aligned plain text: a table per step, then the assumptions and error control."""
        return _plan_text(self)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return _plan_html(self)


# -- synthetic summaries -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Path:
    """How the candidate differs from control, and where its noise sits.

    The defaults are the expected path of a candidate as good as control.
    """

    latency_factor: float = 1.0
    candidate_order_quantile: float | None = None
    control_order_quantile: float | None = None
    candidate_errors: int | None = None
    control_errors: int | None = None
    candidate_auc: float | None = None
    group_change: float = 0.0
    control_group_change: float = 0.0
    candidate_n: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Step:
    """One step of the plan at one rate, with its tuning and looks."""

    number: int
    planned: RolloutStep
    rate: float
    tuning: StepTuning
    looks: tuple[float, ...]

    @property
    def recorded_control(self) -> bool:
        return not self.planned.has_control and self.planned.control_window_minutes is not None

    @property
    def has_control(self) -> bool:
        return self.planned.has_control or self.recorded_control

    def counts(self, minutes: float) -> tuple[int, int]:
        """(control, candidate) requests after ``minutes`` of the step."""
        total = round(self.rate * 60.0 * minutes)
        if self.planned.has_control:
            candidate = round(total * self.planned.share)
            return total - candidate, candidate
        if self.recorded_control:
            cw = float(self.planned.control_window_minutes or 0.0)
            return round(self.rate * 60.0 * cw), total
        return 0, total


def _looks(window: float, every: float) -> tuple[float, ...]:
    k = math.floor(window / every + 1e-9)
    return tuple(float(every * i) for i in range(1, k + 1))


def _make_step(
    policy: Policy, profile: BaselineProfile, number: int, rate: float, look_every: float
) -> _Step:
    planned = policy.rollout[number - 1]
    traffic = TrafficProfile(
        rate=rate,
        source="declared (plan)",
        label_fraction=profile.label_fraction,
        auc=profile.auc,
        prevalence=profile.prevalence,
        groups=len(profile.groups),
    )
    tuning = step_tuning(
        policy,
        "canary",
        share=planned.share,
        window_minutes=planned.window_minutes,
        rate=rate,
        step=number,
        steps=policy.rollout,
        profile=traffic,
    )
    looks = _looks(planned.window_minutes, look_every)
    return _Step(number=number, planned=planned, rate=rate, tuning=tuning, looks=looks)


def _split(total: int, shares: Sequence[float]) -> list[int]:
    """Largest-remainder split of ``total`` into integer parts proportional to ``shares``."""
    raw = np.asarray(shares, float) * total
    parts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - parts), kind="stable")
    parts[order[: total - int(parts.sum())]] += 1
    return [int(p) for p in parts]


def _separation(auc: float) -> float:
    return float(math.sqrt(2.0) * ndtri(min(max(auc, 0.5), 1.0 - 1e-12)))


@lru_cache(maxsize=256)
def _score_cdf(location: float, n_bins: int) -> npt.NDArray[np.float64]:
    """CDF of score = logistic(N(location, 1)) at the edges of ``n_bins`` equal bins."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    with np.errstate(divide="ignore"):
        return np.asarray(ndtr(logit(edges) - location))


def _histogram(n: int, location: float, n_bins: int) -> npt.NDArray[np.int64]:
    """Bin counts of ``n`` scores placed at the quantiles ``(i − ½)/n`` of the score law."""
    cum = np.floor(n * _score_cdf(location, n_bins) + 0.5)
    return np.diff(cum).astype(np.int64)


def _rates(profile: BaselineProfile, threshold: float) -> tuple[float, float]:
    """(TPR, FPR) of the binormal score model at the decision threshold."""
    with np.errstate(divide="ignore"):
        cut = float(logit(threshold))
    d = _separation(profile.auc)
    return float(ndtr(SCORE_LOCATION + d - cut)), float(ndtr(SCORE_LOCATION - cut))


def _metric_rate(metric: str, profile: BaselineProfile, tpr: float, fpr: float) -> float:
    if metric in ("tpr", "equalized_odds"):
        return tpr
    if metric == "fpr":
        return fpr
    return profile.prevalence * tpr + (1.0 - profile.prevalence) * fpr


def _shifted_group(profile: BaselineProfile) -> int:
    """The group a fairness regression hits: the smallest (its rates are the noisiest)."""
    return int(np.argmin([s for _, s in profile.groups]))


def _reference_group(profile: BaselineProfile) -> int:
    return int(np.argmax([s for _, s in profile.groups]))


def _confusion(
    profile: BaselineProfile,
    labelled: int,
    *,
    n_features: int,
    threshold: float,
    metric: str,
    change: float,
) -> dict[str, Any]:
    tpr, fpr = _rates(profile, threshold)
    shifted = _shifted_group(profile)
    members = _split(labelled, [s for _, s in profile.groups])
    cells: dict[str, Any] = {"groups": [], "label": [], "decision": [], "count": []}
    for i, ((name, _), m) in enumerate(zip(profile.groups, members, strict=True)):
        pos = round(m * profile.prevalence)
        neg = m - pos
        tp, fp = pos * tpr, neg * fpr
        if i == shifted and change:
            if metric in ("tpr", "equalized_odds"):
                tp = min(max(tp - change * pos, 0.0), pos)
            elif metric == "fpr":
                fp = min(max(fp + change * neg, 0.0), neg)
            else:
                extra = change * m
                room = neg - fp
                fp = min(max(fp + extra, 0.0), neg)
                tp = min(max(tp + max(extra - room, 0.0), 0.0), pos)
        tp_i, fp_i = round(tp), round(fp)
        key = (name,) + ("*",) * (n_features - 1)
        for label, decision, count in (
            (True, True, tp_i),
            (True, False, pos - tp_i),
            (False, True, fp_i),
            (False, False, neg - fp_i),
        ):
            cells["groups"].append(key)
            cells["label"].append(label)
            cells["decision"].append(decision)
            cells["count"].append(int(count))
    return cells


def _order_levels(n: int, ranks: Sequence[int], quantile: float | None) -> npt.NDArray[np.float64]:
    """Level ``F(X_(k))`` of each order statistic: the mean ``k/(n+1)`` of its Beta(k, n−k+1)
    law, or that law's ``quantile``."""
    k = np.asarray(ranks, float)
    if quantile is None or k.size == 0:
        return k / (n + 1)
    return np.asarray(stats.beta.ppf(quantile, k, n - k + 1.0))


def _kinds(policy: Policy, tuning: StepTuning) -> dict[str, CheckSpec]:
    return {name: policy.checks[name] for name in tuning.checks}


def _arm(
    name: str,
    *,
    n: int,
    errors: int,
    minutes: float | None,
    ranks: Sequence[int],
    values: npt.NDArray[np.float64],
    profile: BaselineProfile,
    auc: float | None,
    confusion: dict[tuple[str, ...], dict[str, Any]],
    n_bins: int,
) -> ArmSummary:
    labelled = round(n * profile.label_fraction)
    pos_n = round(labelled * profile.prevalence)
    empty = np.zeros(0, np.int64)
    pos = neg = empty
    if auc is not None:
        pos = _histogram(pos_n, SCORE_LOCATION + _separation(auc), n_bins)
        neg = _histogram(labelled - pos_n, SCORE_LOCATION, n_bins)
    return ArmSummary(
        arm=name,
        n=n,
        errors=errors,
        n_latency=n,
        scored=n,
        labelled=labelled,
        start=None if minutes is None else _T0,
        end=None if minutes is None else _T0 + dt.timedelta(minutes=minutes),
        latency_ranks=np.asarray(ranks, np.int64),
        latency_values=values,
        positives=pos,
        negatives=neg,
        scores=pos + neg if auc is not None else empty,
        confusion=confusion,
    )


def _summaries(
    policy: Policy,
    profile: BaselineProfile,
    st: _Step,
    tuning: StepTuning,
    minutes: float,
    path: _Path,
) -> Summaries:
    specs = _kinds(policy, tuning)
    kinds = {s.kind for s in specs.values()}
    n_c, n_t = st.counts(minutes)
    if path.candidate_n is not None:
        n_c, n_t = n_c + n_t - path.candidate_n, path.candidate_n
    p0 = profile.error_rate
    err_c = path.control_errors if path.control_errors is not None else round(n_c * p0)
    err_t = path.candidate_errors if path.candidate_errors is not None else round(n_t * p0)
    ranks_c: Sequence[int] = ()
    ranks_t: Sequence[int] = ()
    if kinds & {"latency_quantile", "latency_quantile_ratio"}:
        ranks_c, ranks_t = latency_ranks(policy, "canary", tuning)(n_c, n_t)
    q = profile.latency.quantile
    values_c = q(_order_levels(n_c, ranks_c, path.control_order_quantile))
    values_t = path.latency_factor * q(_order_levels(n_t, ranks_t, path.candidate_order_quantile))
    auc_c = auc_t = None
    if "auc_delta" in kinds and profile.label_fraction > 0:
        auc_c = profile.auc
        auc_t = profile.auc if path.candidate_auc is None else path.candidate_auc
    plan = SummaryPlan(
        decision_threshold=policy.decision_threshold,
        feature_sets=tuple(
            sorted({s.features for s in specs.values() if s.kind == "fairness_gap_delta"})
        ),
    )
    conf_c: dict[tuple[str, ...], dict[str, Any]] = {}
    conf_t: dict[tuple[str, ...], dict[str, Any]] = {}
    for spec in specs.values():
        if spec.kind != "fairness_gap_delta" or profile.label_fraction <= 0:
            continue
        for conf, n, change in (
            (conf_c, n_c, path.control_group_change),
            (conf_t, n_t, path.group_change),
        ):
            conf[spec.features] = _confusion(
                profile,
                round(n * profile.label_fraction),
                n_features=len(spec.features),
                threshold=policy.decision_threshold,
                metric=spec.metric or "selection_rate",
                change=change,
            )
    control_window = None
    if st.recorded_control:
        control_window = ("1999-12-31T00:00:00", _T0.isoformat())
    return Summaries(
        selection=Selection(
            model="plan",
            baseline="control",
            candidate="candidate",
            mode="canary",
            control_window=control_window,
        ),
        plan=plan,
        control=_arm(
            "control",
            n=n_c,
            errors=err_c,
            minutes=minutes if st.planned.has_control else None,
            ranks=ranks_c,
            values=values_c,
            auc=auc_c,
            confusion=conf_c,
            profile=profile,
            n_bins=plan.n_bins,
        ),
        candidate=_arm(
            "canary",
            n=n_t,
            errors=err_t,
            minutes=minutes,
            ranks=ranks_t,
            values=values_t,
            auc=auc_t,
            confusion=conf_t,
            profile=profile,
            n_bins=plan.n_bins,
        ),
        data_digest="sha256:plan",
    )


def _evaluate(
    policy: Policy,
    profile: BaselineProfile,
    st: _Step,
    names: Sequence[str],
    minutes: float,
    path: _Path,
) -> dict[str, CheckOutcome]:
    tuning = replace(st.tuning, checks={n: st.tuning.checks[n] for n in names})
    s = _summaries(policy, profile, st, tuning, minutes, path)
    outcomes = evaluate_checks(
        policy,
        s,
        share=st.planned.share,
        tuning=tuning,
        window_minutes=st.planned.window_minutes,
        has_control=st.has_control,
    )
    return {o.name: o for o in outcomes}


# -- the three answers -------------------------------------------------------------------------
def _minutes_to_proceed(
    policy: Policy, profile: BaselineProfile, st: _Step
) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(st.tuning.checks)
    pending = [n for n in st.tuning.checks if not _not_plannable(policy.checks[n], profile)]
    for minutes in st.looks:
        if not pending:
            break
        outcomes = _evaluate(policy, profile, st, pending, minutes, _Path())
        for name in list(pending):
            if outcomes[name].status == "pass":
                out[name] = minutes
                pending.remove(name)
    return out


def _not_plannable(spec: CheckSpec, profile: BaselineProfile) -> str:
    """Why ``spec`` cannot be planned with ``profile`` ("" when it can)."""
    if spec.kind in ("auc_delta", "fairness_gap_delta") and profile.label_fraction <= 0:
        return "no labelled traffic: the check stays inconclusive"
    if spec.kind == "fairness_gap_delta" and len(profile.groups) < 2:
        return "fewer than two groups: the check stays inconclusive"
    if spec.kind == "shadow_agreement":
        return "shadow mode only"
    return ""


def _rate_floor(policy: Policy, planned: RolloutStep) -> float:
    """Below this rate a step cannot collect the policy's ``min_samples`` in its window."""
    seconds = 60.0 * planned.window_minutes
    floor = policy.min_samples_candidate / (planned.share * seconds)
    if planned.has_control:
        floor = max(floor, policy.min_samples_control / ((1.0 - planned.share) * seconds))
    return max(floor, 1e-6)


def _minimum_rate(
    policy: Policy, profile: BaselineProfile, number: int, name: str, look_every: float
) -> float | None:
    def passes(rate: float) -> bool:
        st = _make_step(policy, profile, number, rate, look_every)
        return _evaluate(policy, profile, st, [name], st.looks[-1], _Path())[name].status == "pass"

    floor = _rate_floor(policy, policy.rollout[number - 1])
    lo = floor
    if passes(lo):
        return lo
    hi = lo * 2.0
    while not passes(hi):
        lo, hi = hi, hi * 2.0
        if hi > MAX_RATE:
            return None
    while hi > lo * (1.0 + RATE_TOLERANCE):
        mid = math.sqrt(lo * hi)
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True, slots=True, kw_only=True)
class _Search:
    """The range of effects a check's detectable-regression search covers."""

    start: float
    end: float
    geometric: bool
    path: Callable[[float], _Path]


def _search(policy: Policy, profile: BaselineProfile, st: _Step, spec: CheckSpec) -> _Search | str:
    """The effects to search for ``spec`` at the end of step ``st`` (or why there are none)."""
    minutes = st.looks[-1]
    n_c, n_t = st.counts(minutes)
    thr = spec.threshold
    kind = spec.kind
    z = Z_POWER
    if kind in ("latency_quantile", "latency_quantile_ratio"):
        low, high = 1.0 - POWER, POWER
        if kind == "latency_quantile_ratio":
            return _Search(
                start=thr,
                end=max(10.0, 2.0 * thr),
                geometric=True,
                path=lambda e: _Path(
                    latency_factor=e, candidate_order_quantile=low, control_order_quantile=high
                ),
            )
        base = float(profile.latency.quantile([float(spec.quantile or 0.5)])[0])
        if base <= 0:
            return "control quantile is 0 ms: no multiplicative regression to search"
        return _Search(
            start=thr,
            end=10.0 * thr,
            geometric=True,
            path=lambda e: _Path(latency_factor=e / base, candidate_order_quantile=low),
        )
    if kind == "error_rate":
        if thr >= 0.5:
            return "the SLO leaves no room for an error rate beyond it up to 50 %"
        return _Search(
            start=thr,
            end=0.5,
            geometric=True,
            path=lambda e: _Path(candidate_errors=int(stats.binom.ppf(1.0 - POWER, n_t, e))),
        )
    if kind == "error_rate_ratio":
        p0 = profile.error_rate
        if p0 <= 0:
            return "control error rate is 0: no ratio to detect"
        if 1.0 / p0 <= thr:
            return "no error-rate ratio beyond the threshold is possible at this control rate"

        def ratio_path(e: float) -> _Path:
            expected_c = n_c * p0
            expected_t = n_t * min(e * p0, 1.0)
            if st.recorded_control:
                errors = int(stats.binom.ppf(1.0 - POWER, n_t, min(e * p0, 1.0)))
                return _Path(candidate_errors=errors, control_errors=round(expected_c))
            total = round(expected_c + expected_t)
            theta = expected_t / (expected_c + expected_t)
            errors = int(stats.binom.ppf(1.0 - POWER, total, theta))
            return _Path(candidate_errors=errors, control_errors=total - errors)

        return _Search(start=thr, end=min(100.0, 1.0 / p0), geometric=True, path=ratio_path)
    if kind == "auc_delta":
        end = max(0.5 - profile.auc, -0.5)
        if end >= thr:
            return "the control AUC leaves no room for a drop beyond the margin"
        labelled = [round(n * profile.label_fraction) for n in (n_c, n_t)]
        positives = [round(m * profile.prevalence) for m in labelled]
        var_c = _auc_variance(profile.auc, positives[0], labelled[0] - positives[0])

        def auc_path(e: float) -> _Path:
            auc_t = profile.auc + e
            var_t = _auc_variance(auc_t, positives[1], labelled[1] - positives[1])
            se = math.sqrt(var_c + var_t) if math.isfinite(var_c + var_t) else 0.0
            return _Path(candidate_auc=min(auc_t + z * se, 1.0 - 1e-9))

        return _Search(start=thr, end=end, geometric=False, path=auc_path)
    if kind == "fairness_gap_delta":
        tpr, fpr = _rates(profile, policy.decision_threshold)
        metric = spec.metric or "selection_rate"
        rate = _metric_rate(metric, profile, tpr, fpr)
        room = rate if metric in ("tpr", "equalized_odds") else 1.0 - rate
        end = min(0.5, room)
        if end <= thr:
            return "the group rates leave no room for a gap growth beyond the margin"
        sd_c, sd_t = (
            _contrast_sd(profile, round(n * profile.label_fraction), metric, rate)
            for n in (n_c, n_t)
        )
        return _Search(
            start=thr,
            end=end,
            geometric=False,
            path=lambda e: _Path(
                group_change=max(e - z * sd_t, 0.0), control_group_change=z * sd_c
            ),
        )
    if kind == "sample_ratio":
        share = st.planned.share
        total = n_c + n_t

        def srm_path(e: float) -> _Path:
            return _Path(candidate_n=int(stats.binom.ppf(POWER, total, e)))

        return _Search(start=share, end=share * 0.1, geometric=True, path=srm_path)
    return f"kind {kind} is not planned in canary mode"


def _contrast_sd(profile: BaselineProfile, labelled: int, metric: str, rate: float) -> float:
    """Binomial sd of the difference of a metric between the smallest and largest group."""
    members = _split(labelled, [s for _, s in profile.groups])
    var = 0.0
    for g in (_shifted_group(profile), _reference_group(profile)):
        trials = members[g]
        if metric in ("tpr", "equalized_odds"):
            trials = round(trials * profile.prevalence)
        elif metric == "fpr":
            trials -= round(trials * profile.prevalence)
        var += rate * (1.0 - rate) / max(trials, 1)
    return math.sqrt(var)


def _auc_variance(auc: float, positives: int, negatives: int) -> float:
    """Variance of the AUC estimate of the synthetic histogram (DeLong, exact for the bins)."""
    if positives < 2 or negatives < 2:
        return math.inf
    pos = _histogram(positives, SCORE_LOCATION + _separation(auc), SummaryPlan().n_bins)
    neg = _histogram(negatives, SCORE_LOCATION, SummaryPlan().n_bins)
    return float(delong_from_histogram(pos, neg)[1])


def _detectable(
    policy: Policy, profile: BaselineProfile, st: _Step, spec: CheckSpec
) -> tuple[float | None, str]:
    search = _search(policy, profile, st, spec)
    if isinstance(search, str):
        return None, search
    minutes = st.looks[-1]

    def fails(x: float) -> bool:
        e = _effect(search, x)
        return (
            _evaluate(policy, profile, st, [spec.name], minutes, search.path(e))[spec.name].status
            == "fail"
        )

    if not fails(1.0):
        return (
            None,
            f"no regression up to {_fmt_effect(spec.kind, spec.quantile, _effect(search, 1.0))} "
            "is detected",
        )
    lo, hi = 0.0, 1.0
    span = abs(math.log(search.end / search.start)) if search.geometric else 1.0
    tolerance = RATE_TOLERANCE / span if search.geometric else 1e-4 / abs(search.end - search.start)
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if fails(mid):
            hi = mid
        else:
            lo = mid
    return _effect(search, hi), ""


def _effect(search: _Search, x: float) -> float:
    if search.geometric:
        return float(search.start * (search.end / search.start) ** x)
    return float(search.start + x * (search.end - search.start))


# -- plan ----------------------------------------------------------------------------------------
def plan_rollout(
    policy: Policy,
    *,
    rate: float,
    profile: BaselineProfile | None = None,
    look_every: float | None = None,
) -> RolloutPlanReport:
    """Plan the policy's rollout at ``rate`` requests/s: per step and check, time to PROCEED,
    the regression detected with 90 % power, and the minimum traffic.

    Parameters
    ----------
    policy : Policy
        Its ``rollout.steps`` (shares and windows), checks, ``alpha`` and ``min_samples``.
    rate : float
        Expected requests per second, both arms together (> 0).
    profile : BaselineProfile, optional
        The control's traffic (default: the sample generator's baseline, marked *assumed*;
        :func:`profile_from_store` measures it in a trace store).
    look_every : float, optional
        Minutes between looks (default ``policy.look_every_minutes``).

    Returns
    -------
    RolloutPlanReport

    Raises
    ------
    InvalidInputError
        ``rate`` or ``look_every`` not a positive number, or a step window shorter than one look.

    Notes
    -----
    Every number is the outcome of :func:`canarykit.verdict.checks.evaluate_checks` with the
    step's tuning (:func:`canarykit.verdict.tuning.step_tuning` at ``rate``, so sequences are
    tightest where the step's traffic will be, and each check's fail side gets its share of the
    whole rollout's STOP budget) on synthetic summaries:

    * *Expected path* (minutes to PROCEED, minimum rate): after ``t`` minutes each arm holds
      ``rate·60·t`` × its share requests (rounded); errors are ``round(n·p₀)``; the latency
      order statistic of rank ``k`` is ``Q(k/(n+1))`` — ``F(X_(k))`` follows Beta(k, n−k+1),
      whose mean is ``k/(n+1)`` — with ``Q`` the profile's quantile function; scores are
      placed at the quantiles ``(i − ½)/n`` of a binormal model (negatives' latent score
      ``N(−1.5, 1)``, positives' shifted by ``√2·Φ⁻¹(AUC)``, score = logistic(latent)) and
      binned into the 10,000 bins of the summaries; confusion counts per group follow the
      same model at the policy's decision threshold, with one prevalence for every group.
    * *Power path* (detectable regression), at the step's last look: the data sit at their
      10 % quantile least favourable to detection. Error counts: the candidate's at their
      binomial 10 % quantile (for the ratio, conditionally on the expected total of errors,
      as the Lindon–Malek test conditions on it). Latency: every order statistic at the
      10 % (candidate) or 90 % (control) quantile of its Beta law, i.e. shifted by about
      1.2816 binomial standard deviations in rank; exact for the one-sample p95 check, and
      conservative for the two-sample p99 test, where both arms sit on their unfavourable
      side at once. ΔAUC: the candidate's AUC raised by 1.2816 DeLong standard errors of the
      difference. Fairness: the smallest group's rate moved back by 1.2816 binomial standard
      deviations of its contrast with the largest group in the candidate, and the control's
      moved the other way by 1.2816 of its own (each arm on its unfavourable side, as the
      gap is a maximum over groups whose noise a single contrast understates).
      Sample ratio: the candidate's count at its binomial 90 % quantile. A latency regression
      is a scale factor on every latency, a fairness regression moves the smallest group's
      rate (selection rate and FPR up, TPR down), a sample-ratio fault sends less than the
      planned share.
    * Power is taken at the step's last look only and the sequential state of earlier looks
      is ignored (a fail at an earlier look only adds power), a further small margin on the
      conservative side. Simulated through ``evaluate_checks`` at the end of the 25 % step at
      100 requests/s (default profile), the reported effects were detected with power
      ≈ 0.90 (error-rate SLO, error-rate ratio), 0.92 (p95 at the 5 % step, ΔAUC,
      selection-rate gap) and 0.97 (p99; 0.94 at the 5 % step): read the column as "at least
      90 %", conservative for the two-sample rows.
    * Effects are found by bisection (relative tolerance 0.1 % for ratios, latencies, error
      rates and shares; 1e-4 absolute for ΔAUC and gap growth) within a sane range — latency up to 10× the threshold, error
      rates up to 50 %, error ratios up to 100, ΔAUC down to an AUC of 0.5, gap growth up
      to 0.5, a share down to a tenth of the plan; the minimum rate by bisection on
      ``log(rate)`` from the rate at which the step can collect ``min_samples``, tuning each
      candidate rate anew, up to ``1e6`` requests/s; it is checked at the step's last look,
      since a pass persists once reached (confidence sequences are intersected across the
      looks of a step).

    Examples
    --------
    >>> from canarykit.verdict.policy import load_policy
    >>> r = plan_rollout(load_policy(), rate=100.0)
    >>> [c.check for c in r.step(3).checks]
    ['latency_p95', 'error_rate']
    >>> r.step(1).check("latency_p99").minutes_to_proceed
    15.0
    """
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not (math.isfinite(rate) and rate > 0)
    ):
        raise InvalidInputError(f"rate: must be a number > 0 (requests per second), got {rate!r}")
    every = policy.look_every_minutes if look_every is None else look_every
    if (
        isinstance(every, bool)
        or not isinstance(every, int | float)
        or not (math.isfinite(every) and every > 0)
    ):
        raise InvalidInputError(f"look_every: must be a number of minutes > 0, got {every!r}")
    shortest = min(s.window_minutes for s in policy.rollout)
    if every > shortest:
        raise InvalidInputError(
            f"look_every: {every:g} minutes is longer than the shortest step window "
            f"({shortest:g} minutes)"
        )
    profile = profile or BaselineProfile()
    rate, every = float(rate), float(every)
    steps = []
    for number in range(1, len(policy.rollout) + 1):
        st = _make_step(policy, profile, number, rate, every)
        steps.append(_plan_step(policy, profile, st, every))
    return RolloutPlanReport(
        rate=rate,
        look_every_minutes=every,
        alpha=policy.alpha,
        power=POWER,
        policy_digest=policy.digest,
        profile=profile,
        steps=tuple(steps),
        error_control=_error_control(policy),
        notes=_notes(profile),
    )


def _plan_step(policy: Policy, profile: BaselineProfile, st: _Step, every: float) -> StepPlan:
    minutes = _minutes_to_proceed(policy, profile, st)
    rows = []
    for spec in applicable_checks(policy, "canary", st.planned):
        ct = st.tuning.checks[spec.name]
        notes = []
        detectable: float | None = None
        minimum: float | None = None
        why_not = _not_plannable(spec, profile)
        if why_not:
            notes.append(why_not)
        else:
            detectable, why = _detectable(policy, profile, st, spec)
            if why:
                notes.append(why)
            minimum = _minimum_rate(policy, profile, st.number, spec.name, every)
            if minimum is None:
                notes.append(f"cannot pass within the step below {MAX_RATE:g} requests/s")
        rows.append(
            CheckPlan(
                check=spec.name,
                kind=spec.kind,
                required=spec.required,
                bound="none" if spec.kind == "sample_ratio" else spec.bound,
                threshold=st.planned.share if spec.kind == "sample_ratio" else spec.threshold,
                unit=_KIND_UNITS.get(spec.kind, ""),
                minutes_to_proceed=minutes.get(spec.name),
                detectable=detectable,
                minimum_rate=minimum,
                alpha_pass=ct.alpha_pass,
                alpha_fail=ct.alpha_fail,
                quantile=spec.quantile,
                note="; ".join(notes),
            )
        )
    required = [r.minutes_to_proceed for r in rows if r.required]
    proceed = (
        max((m for m in required if m is not None), default=st.looks[0])
        if all(m is not None for m in required)
        else None
    )
    if st.planned.has_control:
        control = "concurrent control traffic"
    elif st.recorded_control:
        control = f"control recorded {st.planned.control_window_minutes:g} minutes before the step"
    else:
        control = "none (100 % step): absolute checks only"
    return StepPlan(
        step=st.number,
        share=st.planned.share,
        window_minutes=st.planned.window_minutes,
        control=control,
        expected_control=float(st.tuning.expected_control or 0.0),
        expected_candidate=float(st.tuning.expected_candidate or 0.0),
        looks=st.looks,
        minutes_to_proceed=proceed,
        checks=tuple(rows),
        tuning=st.tuning.to_dict(),
    )


def _error_control(policy: Policy) -> str:
    budget = stop_alphas(policy, "canary", policy.rollout)
    k = len({name for name, _ in budget})
    return (
        f"False STOP over the whole rollout (all {len(policy.rollout)} steps, every look, every "
        f"check) ≤ α = {policy.alpha:g}: the fail side of each of the {k} checks that can fail "
        f"gets α/{k}, split evenly over the steps in which it runs (Bonferroni; every sequence "
        "is anytime-valid, so looking often costs nothing). PROCEED at a step needs every "
        f"required check to pass, each at level α = {policy.alpha:g} "
        "(intersection–union test, no correction)."
    )


def _notes(profile: BaselineProfile) -> tuple[str, ...]:
    notes = [
        "Computed with the product's checks on synthetic summaries: expected values for "
        "'minutes to PROCEED' and 'minimum rate' (a candidate as good as control), the 10 % "
        "quantile least favourable to detection for 'detectable' (90 % power at the step's "
        "last look); see canarykit.verdict.planning.plan_rollout (Notes).",
        "A latency regression scales every latency; a fairness regression moves the smallest "
        "group's rate; a sample-ratio fault sends less than the planned share.",
    ]
    if profile.assumed:
        notes.append(
            "Assumed (not measured): "
            + ", ".join(profile.assumed)
            + " — plan from a trace store (--from DB) to measure them."
        )
    return tuple(notes)


# -- rendering -----------------------------------------------------------------------------------
def _fmt_threshold(c: CheckPlan) -> str:
    t = c.threshold
    if t is None:
        return "-"
    op = "≤" if c.bound == "max" else "≥"
    q = f"p{(c.quantile or 0.0) * 100:g}"
    if c.kind == "latency_quantile":
        return f"{q} {op} {t:g} ms"
    if c.kind == "latency_quantile_ratio":
        return f"{q} {op} {t - 1.0:+.0%} vs control"
    if c.kind == "error_rate_ratio":
        return f"{op} {t - 1.0:+.0%} vs control"
    if c.kind == "error_rate":
        return f"{op} {t:.2%}"
    if c.kind == "sample_ratio":
        return f"share {t:.0%}"
    if c.kind == "fairness_gap_delta":
        return f"gap growth {op} {t:g}"
    return f"{op} {t:+g}"


def _fmt_effect(kind: str, quantile: float | None, e: float) -> str:
    q = f"p{(quantile or 0.0) * 100:g}"
    if kind == "latency_quantile":
        return f"{q} {e:.1f} ms"
    if kind == "latency_quantile_ratio":
        return f"{q} {e - 1.0:+.1%}"
    if kind == "error_rate_ratio":
        return f"×{e:.2f}"
    if kind == "error_rate":
        return f"{e:.2%}"
    if kind == "auc_delta":
        return f"ΔAUC {e:+.4f}"
    if kind == "fairness_gap_delta":
        return f"gap +{e:.3f}"
    if kind == "sample_ratio":
        return f"share {e:.2%}"
    return f"{e:.4g}"


def _fmt_minutes(m: float | None, window: float) -> str:
    return f"{m:g} min" if m is not None else f"not in {window:g} min"


def _fmt_rate(r: float | None) -> str:
    """Rounded up to 3 significant digits (the rate at which the check can pass)."""
    if r is None:
        return f"> {MAX_RATE:g} req/s"
    digits = max(0, 2 - math.floor(math.log10(r)))
    factor = 10.0**digits
    return f"{math.ceil(r * factor - 1e-9) / factor:.{digits}f} req/s"


_HEADER = (
    "check",
    "required",
    "threshold",
    "minutes to PROCEED",
    "detectable (90 % power)",
    "minimum rate",
)


def _cells(s: StepPlan) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for c in s.checks:
        planned = "inconclusive" not in c.note and "shadow mode" not in c.note
        detectable = "-" if not planned else "none in range"
        if c.detectable is not None:
            detectable = _fmt_effect(c.kind, c.quantile, c.detectable)

        rows.append(
            (
                c.check,
                "yes" if c.required else "no",
                _fmt_threshold(c),
                _fmt_minutes(c.minutes_to_proceed, s.window_minutes),
                detectable,
                _fmt_rate(c.minimum_rate) if planned else "-",
            )
        )
    return rows


def _step_title(s: StepPlan) -> str:
    proceed = (
        f"PROCEED after {s.minutes_to_proceed:g} min"
        if s.minutes_to_proceed is not None
        else f"no PROCEED within {s.window_minutes:g} min"
    )
    return (
        f"step {s.step}: {s.share:.0%} of traffic for {s.window_minutes:g} min — expected "
        f"{s.expected_candidate:,.0f} candidate / {s.expected_control:,.0f} control requests "
        f"({s.control}); {proceed} on the expected path"
    )


def _plan_text(r: RolloutPlanReport) -> str:
    lines = [
        f"Canary rollout plan at {r.rate:g} requests/s (both arms), a look every "
        f"{r.look_every_minutes:g} min, policy {r.policy_digest[:19]}…",
    ]
    for s in r.steps:
        rows = [_HEADER, *_cells(s)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
        lines += ["", _step_title(s)]
        for row in rows:
            cells = "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
            lines.append(("  " + cells).rstrip())
        notes = [f"    {c.check}: {c.note}" for c in s.checks if c.note]
        lines += notes
    lines += ["", "Assumptions:"] + [f"  {x}" for x in r.profile.lines()]
    lines += ["", "Error control:", f"  {r.error_control}"]
    lines += ["", "Notes:"] + [f"  {n}" for n in r.notes]
    return "\n".join(lines)


def _plan_html(r: RolloutPlanReport) -> str:
    e = html.escape
    parts = [
        '<div class="canarykit-plan">',
        f"<p><b>Canary rollout plan</b> at {e(f'{r.rate:g}')} requests/s (both arms), a look "
        f"every {e(f'{r.look_every_minutes:g}')} min, policy <code>{e(r.policy_digest)}</code></p>",
    ]
    for s in r.steps:
        parts.append(f"<p>{e(_step_title(s))}</p>")
        parts.append("<table><thead><tr>")
        parts += [f"<th>{e(h)}</th>" for h in _HEADER]
        parts.append("</tr></thead><tbody>")
        for c, row in zip(s.checks, _cells(s), strict=True):
            title = f' title="{e(c.note)}"' if c.note else ""
            parts.append(f"<tr{title}>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("<p><b>Assumptions</b></p><ul>")
    parts += [f"<li>{e(x)}</li>" for x in r.profile.lines()]
    parts.append(f"</ul><p><b>Error control</b>: {e(r.error_control)}</p><ul>")
    parts += [f"<li>{e(n)}</li>" for n in r.notes]
    parts.append("</ul></div>")
    return "".join(parts)
