"""Mergeable relative-error latency sketch (DDSketch-style log buckets) and inference from it.

A value ``x > 0`` goes to bucket ``i = ⌈log_γ x⌉`` covering ``(γ^(i−1), γ^i]`` with
``γ = (1+α)/(1−α)``; zeros have their own count. Bucket counts add, so merging is exact and
order-free: the merge of two sketches equals the sketch of the concatenated data. The keys are
simple enough for SQL to compute (:func:`sketch_key_sql`), so the store can ``GROUP BY`` key.

Examples
--------
>>> import numpy as np
>>> s = LatencySketch.from_values(np.arange(1.0, 1001.0))
>>> round(s.quantile(0.95), 6), s.count
(944.049258, 1000)
>>> a = LatencySketch.from_values(np.arange(1.0, 501.0))
>>> b = LatencySketch.from_values(np.arange(501.0, 1001.0))
>>> a.merge(b) == s
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_count, check_open_unit
from canarykit.stats.quantiles import (
    DEFAULT_T_OPT,
    OrderStatistics,
    QuantileRatioResult,
    _estimate_rank,
    quantile_cs_from_bounds,
    quantile_cs_rank_request,
    quantile_cs_ranks,
    quantile_ratio_test,
)
from canarykit.stats.result import IntervalResult

__all__ = [
    "LatencySketch",
    "quantile_cs_from_sketch",
    "quantile_ratio_test_from_sketches",
    "sketch_key_sql",
]


def _multiplier(relative_accuracy: float) -> float:
    gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy)
    return 1.0 / math.log(gamma)


def sketch_key_sql(column: str, relative_accuracy: float = 0.01) -> str:
    """SQL expression computing the bucket key of ``column`` (NULL-free, > 0 values).

    Same formula as :meth:`LatencySketch.keys_of`: ``CEIL(LN(x) * 1/ln γ)``. Keys computed by a
    different ``log`` implementation can differ for values within an ulp of a bucket edge
    (one bucket, i.e. within the relative accuracy).

    Examples
    --------
    >>> sketch_key_sql("latency_ms")
    'CAST(CEIL(LN(latency_ms) * 49.998333288...) AS BIGINT)'
    """
    check_open_unit("relative_accuracy", relative_accuracy)
    return f"CAST(CEIL(LN({column}) * {_multiplier(relative_accuracy)!r}) AS BIGINT)"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LatencySketch:
    """DDSketch-style log-bucket summary with relative accuracy ``relative_accuracy``.

    Attributes
    ----------
    relative_accuracy : float
        α in (0, 1); default 0.01 (1 %).
    keys : ndarray of int64
        Sorted distinct bucket keys.
    counts : ndarray of int64
        Count per key (all > 0).
    zero_count : int
        Number of zero values.

    Notes
    -----
    Quantile ``q`` returns the representative ``2γ^i/(γ+1)`` of the bucket holding the
    0-based rank ``⌊q(n−1)⌋`` (the DDSketch convention), which is within a relative error α of
    that order statistic.

    References
    ----------
    .. [1] C. Masson, J. E. Rim, H. K. Lee, "DDSketch: a fast and fully-mergeable quantile
       sketch with relative-error guarantees", PVLDB 12(12), 2019. arXiv:1908.10693.
    """

    relative_accuracy: float = 0.01
    keys: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    counts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    zero_count: int = 0

    def __post_init__(self) -> None:
        check_open_unit("relative_accuracy", self.relative_accuracy)
        check_count("zero_count", self.zero_count)
        k = np.asarray(self.keys)
        c = np.asarray(self.counts)
        if k.shape != c.shape or k.ndim != 1:
            raise InvalidInputError("keys and counts must be 1-d arrays of equal length")
        if k.size and (np.any(np.diff(k) <= 0) or np.any(c <= 0)):
            raise InvalidInputError("keys must be strictly increasing and counts > 0")

    @property
    def gamma(self) -> float:
        """Bucket growth factor ``γ = (1+α)/(1−α)``."""
        return (1.0 + self.relative_accuracy) / (1.0 - self.relative_accuracy)

    @property
    def count(self) -> int:
        """Number of values summarised."""
        return int(self.counts.sum()) + self.zero_count

    @staticmethod
    def keys_of(x: npt.ArrayLike, relative_accuracy: float = 0.01) -> npt.NDArray[np.int64]:
        """Bucket keys ``⌈ln(x)/ln γ⌉`` of positive values (vectorised)."""
        arr = np.asarray(x, dtype=float)
        return np.ceil(np.log(arr) * _multiplier(relative_accuracy)).astype(np.int64)

    @classmethod
    def from_values(cls, x: npt.ArrayLike, relative_accuracy: float = 0.01) -> LatencySketch:
        """Sketch of an array of non-negative values (vectorised, no Python loop)."""
        check_open_unit("relative_accuracy", relative_accuracy)
        arr = np.asarray(x, dtype=float).ravel()
        if np.any(np.isnan(arr)) or np.any(arr < 0) or np.any(np.isinf(arr)):
            raise InvalidInputError("sketch values must be finite and >= 0 (latencies)")
        pos = arr[arr > 0]
        raw = cls.keys_of(pos, relative_accuracy)
        keys = np.zeros(0, dtype=np.int64)
        counts = np.zeros(0, dtype=np.int64)
        if raw.size:  # keys span a few thousand values at most: an O(n) bincount
            kmin = int(raw.min())
            full = np.bincount(raw - kmin)
            nz = np.flatnonzero(full)
            keys, counts = (nz + kmin).astype(np.int64), full[nz].astype(np.int64)
        return cls(
            relative_accuracy=relative_accuracy,
            keys=keys,
            counts=counts,
            zero_count=int(arr.size - pos.size),
        )

    @classmethod
    def from_key_counts(
        cls,
        keys: npt.ArrayLike,
        counts: npt.ArrayLike,
        *,
        zero_count: int = 0,
        relative_accuracy: float = 0.01,
    ) -> LatencySketch:
        """Sketch from (key, count) pairs, e.g. a SQL ``GROUP BY`` on :func:`sketch_key_sql`.

        Duplicate keys are summed and zero counts dropped.
        """
        k = np.asarray(keys, dtype=np.int64).ravel()
        c = np.asarray(counts, dtype=np.int64).ravel()
        if k.shape != c.shape:
            raise InvalidInputError(f"keys and counts differ in length: {k.size} vs {c.size}")
        if np.any(c < 0):
            raise InvalidInputError("counts must be >= 0")
        uk, inv = np.unique(k, return_inverse=True)
        uc = np.bincount(inv, weights=c, minlength=uk.size).astype(np.int64)
        keep = uc > 0
        return cls(
            relative_accuracy=relative_accuracy,
            keys=uk[keep],
            counts=uc[keep],
            zero_count=check_count("zero_count", zero_count),
        )

    def merge(self, other: LatencySketch) -> LatencySketch:
        """Exact merge (bucket-count addition); both sketches need the same accuracy."""
        if other.relative_accuracy != self.relative_accuracy:
            raise InvalidInputError(
                "cannot merge sketches of different relative_accuracy: "
                f"{self.relative_accuracy} vs {other.relative_accuracy}"
            )
        return LatencySketch.from_key_counts(
            np.concatenate((self.keys, other.keys)),
            np.concatenate((self.counts, other.counts)),
            zero_count=self.zero_count + other.zero_count,
            relative_accuracy=self.relative_accuracy,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LatencySketch):
            return NotImplemented
        return (
            self.relative_accuracy == other.relative_accuracy
            and self.zero_count == other.zero_count
            and np.array_equal(self.keys, other.keys)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]

    def _key_index_at_rank(self, rank0: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Index into ``keys`` of the bucket holding 0-based rank (``-1`` for the zero bucket)."""
        cum = np.cumsum(self.counts) + self.zero_count
        idx = np.searchsorted(cum, rank0, side="right")
        return np.where(rank0 < self.zero_count, -1, idx).astype(np.int64)

    def rank_bounds(
        self, ranks: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Bucket edges ``(γ^(i−1), γ^i)`` enclosing the order statistics of 1-based ``ranks``."""
        r = np.asarray(ranks, dtype=float)
        n = self.count
        if np.any(r < 1) or np.any(r > n):
            raise InvalidInputError(f"ranks must be in [1, n={n}]")
        idx = self._key_index_at_rank(r - 1.0)
        key = self.keys[np.clip(idx, 0, max(self.keys.size - 1, 0))].astype(float)
        lo = np.where(idx < 0, 0.0, self.gamma ** (key - 1.0))
        hi = np.where(idx < 0, 0.0, self.gamma**key)
        return lo, hi

    def quantile(self, q: float) -> float:
        """DDSketch quantile: bucket representative ``2γ^i/(γ+1)`` at 0-based rank ``⌊q(n−1)⌋``.

        Returns NaN for an empty sketch.
        """
        if not 0.0 <= q <= 1.0:
            raise InvalidInputError(f"q must be in [0, 1], got {q!r}")
        if self.count == 0:
            return math.nan
        idx = int(
            self._key_index_at_rank(np.asarray(math.floor(q * (self.count - 1)), dtype=float))
        )
        if idx < 0:
            return 0.0
        g = self.gamma
        return float(2.0 * g ** float(self.keys[idx]) / (g + 1.0))

    def quantile_bounds(self, q: float) -> tuple[float, float]:
        """Edges of the bucket holding the ``q`` sample quantile (rank ``⌊q(n−1)⌋ + 1``)."""
        if self.count == 0:
            return math.nan, math.nan
        lo, hi = self.rank_bounds([math.floor(q * (self.count - 1)) + 1])
        return float(lo[0]), float(hi[0])

    def order_statistics(self, ranks: npt.ArrayLike) -> OrderStatistics:
        """Interval-valued :class:`OrderStatistics` (bucket edges) for the given 1-based ranks."""
        r = np.unique(np.asarray(ranks, dtype=np.int64))
        lo, hi = self.rank_bounds(r)
        return OrderStatistics(n=self.count, ranks=r, values=lo, values_high=hi)

    def bucket_order_statistics(self) -> OrderStatistics:
        """Bounds of every order statistic, compressed to each bucket's first and last rank."""
        cum = np.cumsum(self.counts) + self.zero_count
        first = np.concatenate(([self.zero_count + 1], cum[:-1] + 1)) if cum.size else cum
        zeros = [1, self.zero_count] if self.zero_count else []
        ranks = np.unique(np.concatenate((first, cum, zeros)))
        ranks = ranks[(ranks >= 1) & (ranks <= self.count)].astype(np.int64)
        return self.order_statistics(ranks)


def _sketch_note(sketch: LatencySketch) -> str:
    return f"bounds widened to sketch bucket edges (relative accuracy {sketch.relative_accuracy:g})"


def quantile_cs_from_sketch(
    sketch: LatencySketch,
    p: float,
    *,
    confidence_level: float = 0.95,
    t_opt: float = DEFAULT_T_OPT,
) -> IntervalResult:
    """Howard–Ramdas quantile CS from a sketch, widened outward to bucket edges.

    The lower bound is the lower edge of the bucket holding the lower-rank order statistic and
    the upper bound the upper edge of the bucket holding the upper-rank one, so the interval
    contains the exact-data CS and keeps its time-uniform coverage; ``note`` says so.

    Examples
    --------
    >>> import numpy as np
    >>> s = LatencySketch.from_values(np.arange(1.0, 1001.0))
    >>> r = quantile_cs_from_sketch(s, 0.5, t_opt=100)
    >>> r.ci_low <= 449.0 < 552.0 <= r.ci_high, "sketch" in r.note
    (True, True)
    """
    n = sketch.count
    lower, upper = quantile_cs_ranks(n, p, confidence_level=confidence_level, t_opt=t_opt)
    lo = float(sketch.rank_bounds([lower])[0][0]) if 1 <= lower <= n else -math.inf
    hi = float(sketch.rank_bounds([upper])[1][0]) if 1 <= upper <= n else math.inf
    est = math.nan
    if n > 0:  # bucket representative at the CS's rank definition ⌈n·p⌉
        est = float(sketch.rank_bounds([_estimate_rank(n, p)])[1][0]) * 2.0 / (sketch.gamma + 1.0)
    return quantile_cs_from_bounds(
        n=n,
        p=p,
        lower_value=lo,
        upper_value=hi,
        estimate=est,
        confidence_level=confidence_level,
        t_opt=t_opt,
        method_suffix=", from sketch",
        note=_sketch_note(sketch),
    )


def quantile_ratio_test_from_sketches(
    control: LatencySketch,
    candidate: LatencySketch,
    p: float,
    *,
    confidence_level: float = 0.95,
    t_opt: float = DEFAULT_T_OPT,
) -> QuantileRatioResult:
    """Quantile-ratio CS and two-sample test from two sketches (bucket-edge widened, conservative).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> c = LatencySketch.from_values(rng.lognormal(4, 0.5, 20_000))
    >>> t = LatencySketch.from_values(1.3 * rng.lognormal(4, 0.5, 20_000))
    >>> quantile_ratio_test_from_sketches(c, t, 0.99).decide(1.10, bound="max")
    'fail'
    """
    level = 1.0 - (1.0 - check_open_unit("confidence_level", confidence_level)) / 2.0
    arms = []
    for sk in (control, candidate):
        need = quantile_cs_rank_request(sk.count, p, confidence_level=level, t_opt=t_opt).ranks
        base = sk.bucket_order_statistics().ranks
        arms.append(sk.order_statistics(np.union1d(base, np.asarray(need, dtype=np.int64))))
    res = quantile_ratio_test(
        arms[0],
        arms[1],
        p,
        confidence_level=confidence_level,
        t_opt=t_opt,
    )
    note = "; ".join(x for x in (res.note, _sketch_note(control)) if x)
    return QuantileRatioResult(
        method=res.method + ", from sketches",
        estimate=res.estimate,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        confidence_level=res.confidence_level,
        pvalue=res.pvalue,
        n_control=res.n_control,
        n_candidate=res.n_candidate,
        note=note,
        p=res.p,
        control_estimate=res.control_estimate,
        candidate_estimate=res.candidate_estimate,
    )
