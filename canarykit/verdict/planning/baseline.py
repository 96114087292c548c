"""The baseline of a planned rollout: what the control's traffic looks like.

A :class:`BaselineProfile` holds the control's error rate, latency quantile function
(:class:`LatencyProfile`), label fraction, prevalence, AUC and sensitive groups: the traffic a
candidate *as good as control* would show. Its defaults are the sample generator's baseline,
marked *assumed*; :func:`profile_from_store` measures them on the control arm of a trace store
(read by :func:`canarykit.traces.profile.control_traffic`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from canarykit.errors import InvalidInputError
from canarykit.stats.auc_histogram import delong_from_histogram
from canarykit.traces.profile import ControlTraffic, control_traffic
from canarykit.traces.store import TraceStore
from canarykit.traces.traffic import stored_models

__all__ = ["BaselineProfile", "LatencyProfile", "profile_from_store"]

_LOG_FLOOR_MS = 1e-3
_ASSUMED = ("error_rate", "latency", "label_fraction", "prevalence", "auc", "groups")


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
