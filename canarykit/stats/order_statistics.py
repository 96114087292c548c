"""Order statistics requested from, and returned by, the storage layer (rank-request flow).

A primitive declares the 1-based ranks it needs as a :class:`RankRequest`; the store fetches
those values in one pass (``RankRequest.levels`` are exact ``quantile_disc`` levels) and wraps
them in :class:`OrderStatistics`. A full sorted sample is the special case of all ranks.

Examples
--------
>>> req = RankRequest(n=1000, ranks=(950, 990))
>>> req.levels
(0.9495, 0.9895)
>>> os = OrderStatistics.from_request(req, [950.0, 990.0])
>>> os.value(990)
990.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.stats._checks import check_count

__all__ = ["DEFAULT_T_OPT", "OrderStatistics", "RankRequest"]

DEFAULT_T_OPT = 10_000.0
"""Default sample size at which quantile confidence sequences are tuned (fixed before data)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RankRequest:
    """Order statistics (1-based ranks) that a primitive needs from one arm's sorted sample.

    Attributes
    ----------
    n : int
        Sample size of the arm.
    ranks : tuple of int
        Sorted, distinct ranks in ``1..n``.
    """

    n: int
    ranks: tuple[int, ...]

    @property
    def levels(self) -> tuple[float, ...]:
        """Levels ``(r − ½)/n`` for which ``quantile_disc`` (rank ``⌈n·q⌉``) returns rank ``r``."""
        return tuple((r - 0.5) / self.n for r in self.ranks)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OrderStatistics:
    """Values of some order statistics of one arm's sample (a partial view of the sorted sample).

    Attributes
    ----------
    n : int
        Sample size.
    ranks : ndarray of int
        Sorted distinct 1-based ranks.
    values : ndarray of float
        Value of each rank (non-decreasing); a lower bound of it when ``values_high`` is given.
    values_high : ndarray of float, optional
        Upper bounds of the values when they are only known to lie in ``[values, values_high]``
        (e.g. bucket edges of a sketch); ``None`` means exact values.
    """

    n: int
    ranks: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    values_high: npt.NDArray[np.float64] | None = None

    @property
    def high(self) -> npt.NDArray[np.float64]:
        """Upper bounds of the values (the values themselves when exact)."""
        return self.values if self.values_high is None else self.values_high

    def __post_init__(self) -> None:
        check_count("n", self.n)
        r = np.asarray(self.ranks)
        v = np.asarray(self.values, dtype=float)
        if r.shape != v.shape or r.ndim != 1:
            raise InvalidInputError(
                f"ranks and values must be 1-d of equal length, got {r.shape} and {v.shape}"
            )
        if r.size and (r[0] < 1 or r[-1] > self.n or np.any(np.diff(r) <= 0)):
            raise InvalidInputError(f"ranks must be increasing integers in [1, n={self.n}]")
        if np.any(np.isnan(v)) or np.any(np.diff(v) < 0):
            raise InvalidInputError("values must be non-decreasing in rank and not NaN")
        if self.values_high is not None:
            vh = np.asarray(self.values_high, dtype=float)
            if vh.shape != v.shape or np.any(np.diff(vh) < 0) or np.any(vh < v):
                raise InvalidInputError(
                    "values_high must match values in shape, be non-decreasing and >= values"
                )

    @classmethod
    def from_sample(cls, x: npt.ArrayLike, *, assume_sorted: bool = False) -> OrderStatistics:
        """All order statistics of a sample (sorted once; pass ``assume_sorted`` to skip)."""
        arr = np.asarray(x, dtype=float).ravel()
        if np.any(np.isnan(arr)):
            raise InvalidInputError("sample contains NaN values")
        vals = arr if assume_sorted else np.sort(arr)
        return cls(n=vals.size, ranks=np.arange(1, vals.size + 1, dtype=np.int64), values=vals)

    @classmethod
    def from_request(cls, request: RankRequest, values: npt.ArrayLike) -> OrderStatistics:
        """Pair the values fetched for a :class:`RankRequest` with its ranks."""
        return cls(
            n=request.n,
            ranks=np.asarray(request.ranks, dtype=np.int64),
            values=np.asarray(values, dtype=float),
        )

    def select(self, ranks: tuple[int, ...] | npt.ArrayLike) -> OrderStatistics:
        """Restrict to the given ranks (they must be present)."""
        want = np.asarray(ranks, dtype=np.int64)
        idx = np.searchsorted(self.ranks, want)
        if want.size and (np.any(idx >= self.ranks.size) or np.any(self.ranks[idx] != want)):
            raise InvalidInputError("requested ranks are not all available")
        high = None if self.values_high is None else self.values_high[idx]
        return OrderStatistics(n=self.n, ranks=want, values=self.values[idx], values_high=high)

    def bounds(self, rank: int) -> tuple[float, float]:
        """``(low, high)`` bounds of one order statistic; raises if the rank was not fetched."""
        i = int(np.searchsorted(self.ranks, rank))
        if i >= self.ranks.size or self.ranks[i] != rank:
            raise InvalidInputError(
                f"order statistic of rank {rank} (n={self.n}) was not provided; "
                "fetch the ranks of the matching RankRequest"
            )
        return float(self.values[i]), float(self.high[i])

    def value(self, rank: int) -> float:
        """Value of one order statistic (midpoint of its bounds when not exact)."""
        lo, hi = self.bounds(rank)
        return lo if lo == hi else 0.5 * (lo + hi)
