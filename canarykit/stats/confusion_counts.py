"""Confusion counts per group for one arm: the input of the fairness checks.

:class:`ConfusionCounts` holds ``tp, fp, fn, tn`` per group at the policy's decision threshold
and gives each group's selection rate, TPR and FPR; :func:`intersection_groups` builds the
group keys (fairlearn's ``MetricFrame`` order) for one or several sensitive features. Part of
:mod:`canarykit.stats.fairness`, which re-exports both.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarykit.errors import InvalidInputError

__all__ = ["ConfusionCounts", "intersection_groups"]

RATES: tuple[str, ...] = ("selection_rate", "tpr", "fpr")
"""The per-group rates, in the order of the summaries."""


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def intersection_groups(*features: ArrayLike) -> tuple[tuple[Hashable, ...], NDArray[np.int64]]:
    """Group keys and per-row group codes for one or several sensitive features.

    Keys follow fairlearn's ``MetricFrame(sensitive_features=...)``: one feature → its
    sorted distinct values; several → tuples ``(value_1, value_2, …)`` of the combinations
    present in the data, in lexicographic order (the ``by_group`` MultiIndex).

    Returns ``(keys, codes)``: the group keys and, per row, the index of its key.

    Examples
    --------
    >>> keys, codes = intersection_groups(["f", "m", "f"], ["old", "young", "young"])
    >>> keys, codes.tolist()
    ((('f', 'old'), ('f', 'young'), ('m', 'young')), [0, 2, 1])
    """
    if not features:
        raise InvalidInputError("features: at least one sensitive feature is required")
    arrays = [np.asarray(f) for f in features]
    n = arrays[0].shape
    if any(a.ndim != 1 or a.shape != n for a in arrays):
        raise InvalidInputError("features: must be 1-d arrays of equal length")
    uniques, codes = zip(*(np.unique(a, return_inverse=True) for a in arrays), strict=True)
    dims = tuple(len(u) for u in uniques)
    flat = np.ravel_multi_index(tuple(np.asarray(c).ravel() for c in codes), dims)
    present, inverse = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(present, dims)
    if len(arrays) == 1:
        keys: tuple[Hashable, ...] = tuple(_python(v) for v in uniques[0][parts[0]])
    else:
        keys = tuple(
            zip(
                *(tuple(_python(v) for v in u[p]) for u, p in zip(uniques, parts, strict=True)),
                strict=True,
            )
        )
    return keys, inverse.astype(np.int64).ravel()


def _cells(label: NDArray[np.bool_], decision: NDArray[np.bool_]) -> dict[str, Any]:
    return {
        "tp": label & decision,
        "fp": ~label & decision,
        "fn": label & ~decision,
        "tn": ~label & ~decision,
    }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ConfusionCounts:
    """Confusion counts per group for one arm (at the policy's decision threshold).

    Attributes
    ----------
    groups : tuple
        Group keys (strings, or tuples for intersections), in a fixed order.
    tp, fp, fn, tn : ndarray of int64, shape (G,)
        True/false positives/negatives per group (positive decision = ``score ≥ threshold``).
    """

    groups: tuple[Hashable, ...]
    tp: NDArray[np.int64]
    fp: NDArray[np.int64]
    fn: NDArray[np.int64]
    tn: NDArray[np.int64]

    @classmethod
    def from_arrays(
        cls,
        *,
        groups: Sequence[Hashable],
        tp: ArrayLike,
        fp: ArrayLike,
        fn: ArrayLike,
        tn: ArrayLike,
    ) -> ConfusionCounts:
        """Validate and build from per-group arrays (all of length G)."""
        keys = tuple(_python(g) for g in groups)
        if len(set(keys)) != len(keys):
            raise InvalidInputError("groups: keys must be distinct")
        arrays = {}
        for name, arr in (("tp", tp), ("fp", fp), ("fn", fn), ("tn", tn)):
            a = np.asarray(arr)
            if a.shape != (len(keys),):
                raise InvalidInputError(f"{name}: must have shape ({len(keys)},), got {a.shape}")
            if (
                not np.isfinite(a.astype(np.float64)).all()
                or (a < 0).any()
                or (a != np.round(a)).any()
            ):
                raise InvalidInputError(f"{name}: must be non-negative integer counts")
            arrays[name] = a.astype(np.int64)
        return cls(groups=keys, **arrays)

    @classmethod
    def from_grouped(
        cls,
        *,
        groups: Sequence[Hashable],
        label: ArrayLike,
        decision: ArrayLike,
        count: ArrayLike,
    ) -> ConfusionCounts:
        """Build from ``GROUP BY group, label, decision`` rows (one row per cell).

        ``groups`` holds each row's group key (tuples for intersections). Groups are
        ordered as :func:`intersection_groups` orders them.

        Examples
        --------
        >>> c = ConfusionCounts.from_grouped(groups=["b", "a", "a"], label=[1, 1, 0],
        ...                                  decision=[1, 0, 0], count=[5, 2, 7])
        >>> c.groups, c.tp.tolist(), c.fn.tolist(), c.tn.tolist()
        (('a', 'b'), [0, 5], [2, 0], [7, 0])
        """
        keys = [_python(g) for g in groups]
        lab = np.asarray(label).astype(bool)
        dec = np.asarray(decision).astype(bool)
        cnt = np.asarray(count)
        if not (len(keys) == lab.size == dec.size == cnt.size):
            raise InvalidInputError("groups, label, decision, count: must have equal length")
        try:
            distinct = sorted(set(keys))
        except TypeError as err:
            raise InvalidInputError(f"groups: keys must be mutually comparable ({err})") from err
        index = {g: i for i, g in enumerate(distinct)}
        code = np.fromiter((index[g] for g in keys), dtype=np.int64, count=len(keys))
        w = cnt.astype(np.float64)
        cells = {
            k: np.bincount(code[m], weights=w[m], minlength=len(distinct))
            for k, m in _cells(lab, dec).items()
        }
        return cls.from_arrays(groups=distinct, **cells)

    @classmethod
    def from_predictions(
        cls, y_true: ArrayLike, y_pred: ArrayLike, *sensitive_features: ArrayLike
    ) -> ConfusionCounts:
        """Build from row-level labels, decisions and sensitive features (vectorised).

        Examples
        --------
        >>> c = ConfusionCounts.from_predictions([1, 0, 1, 1], [1, 1, 0, 1], ["a", "a", "b", "b"])
        >>> c.tp.tolist(), c.fp.tolist(), c.fn.tolist()
        ([1, 1], [1, 0], [0, 1])
        """
        keys, codes = intersection_groups(*sensitive_features)
        y = np.asarray(y_true)
        d = np.asarray(y_pred)
        if y.shape != codes.shape or d.shape != codes.shape:
            raise InvalidInputError("y_true, y_pred: must match the sensitive features' length")
        cells = _cells(y.astype(bool), d.astype(bool))
        return cls.from_arrays(
            groups=keys, **{k: np.bincount(codes[m], minlength=len(keys)) for k, m in cells.items()}
        )

    def numerators_denominators(self, rate: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(successes, trials)`` per group of ``"selection_rate"``, ``"tpr"`` or ``"fpr"``."""
        if rate == "selection_rate":
            return self.tp + self.fp, self.tp + self.fp + self.fn + self.tn
        if rate == "tpr":
            return self.tp, self.tp + self.fn
        if rate == "fpr":
            return self.fp, self.fp + self.tn
        raise InvalidInputError(f"rate: must be one of {RATES}, got {rate!r}")

    def rates(self, rate: str) -> NDArray[np.float64]:
        """Per-group rate (NaN where the denominator is 0 — never 0)."""
        num, den = self.numerators_denominators(rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
