"""Mergeable summaries of a slice of an evaluation's rows: what lets a look read only new rows.

Every figure of passes 1–3 of :mod:`canarykit.traces.summaries` is a sum, a minimum, a maximum
or an xor over rows: counts, errors, coverage, the time range, the latency range, the DDSketch
bucket counts, the two parts of the data digest (sum and xor of the row hashes), the score
histograms and the confusion counts. The figures of two disjoint slices of rows therefore
*merge* into exactly the figures of their union — integers and extremes, no rounding — so a
look at ``[since, t₂)`` is the look at ``[since, t₁)`` merged with the slice ``[t₁, t₂)``.

The exact order statistics merge too while the arm's latencies take few distinct values (a
latency logged in milliseconds to 0.1 ms has a few thousand): a look then keeps the count of
every distinct value (``values``, at most ``MAX_DISTINCT_VALUES``) and answers any rank from
it. Past that many the arm's ``values`` become ``None`` for the rest of the step, and each look
reads the values of the few latency buckets that hold the wanted ranks from the whole window
(located with the merged bucket counts). In shadow mode the paired table merges too
(:class:`PairedPartial`: a pair counts in the slice that completes it) when the store's pairing
is complete; otherwise each look pairs its whole window by ``request_id``.

A :class:`PartialSummaries` serialises to bytes (:meth:`PartialSummaries.to_bytes`: a JSON
header and the arrays' raw bytes, compressed) so that a look recorded in a trace store can
carry it to the next look (:mod:`canarykit.traces.look_cache`).

Examples
--------
>>> a = ArmPartial(n=2, errors=1, hsum=5, hxor=3, buckets={10: 2})
>>> b = ArmPartial(n=1, hsum=7, hxor=1, buckets={10: 1, 11: 0})
>>> m = a.merge(b)
>>> m.n, m.errors, m.hsum, m.hxor, m.buckets
(3, 1, 12, 2, {10: 3, 11: 0})
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from canarykit.traces.packing import pack, unpack

__all__ = [
    "FORMAT",
    "MAX_DISTINCT_VALUES",
    "ArmPartial",
    "PairedPartial",
    "PartialSummaries",
    "ValueCounts",
    "add_arrays",
    "merge_confusion",
    "merge_values",
    "sum_by_key",
]

FORMAT = "canarykit.partial_summaries/2"
MAX_DISTINCT_VALUES = 20_000
"""Per arm: the most distinct latency values whose counts a look keeps (beyond: ``None``)."""

# confusion counts of one feature set: (groups, label, decision) -> count
Confusion = dict[tuple[tuple[str | None, ...], bool, bool], int]


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else max(a, b)


def sum_by_key(keys: Any, counts: Any) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Distinct ``keys`` (sorted, their dtype kept) and the exact sum of ``counts`` of each.

    Examples
    --------
    >>> [a.tolist() for a in sum_by_key(np.array([7, 2, 7]), np.array([1, 5, 3]))]
    [[2, 7], [5, 4]]
    """
    unique, inverse = np.unique(np.asarray(keys), return_inverse=True)
    summed = np.zeros(unique.size, np.int64)
    np.add.at(summed, inverse.ravel(), np.asarray(counts, dtype=np.int64))
    return unique, summed


def add_arrays(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Two count arrays added (an empty one stands for zeros); a new array."""
    if a.size == 0:
        return b.copy()
    if b.size == 0:
        return a.copy()
    return a + b


@dataclass(frozen=True, slots=True, eq=False)
class ValueCounts:
    """Distinct values (sorted, ascending) and how many rows hold each: exact order statistics.

    Examples
    --------
    >>> c = ValueCounts.of([3.0, 1.5, 3.0], [1, 2, 4])
    >>> c.values.tolist(), c.counts.tolist(), c.total
    ([1.5, 3.0], [2, 5], 7)
    >>> c.merge(ValueCounts.of([2.0], [1])).values.tolist()
    [1.5, 2.0, 3.0]
    """

    values: npt.NDArray[np.float64]
    counts: npt.NDArray[np.int64]

    @classmethod
    def of(cls, values: Any, counts: Any) -> ValueCounts:
        """From values and counts in any order (equal values are added; ``-0.0`` is ``0.0``)."""
        unique, summed = sum_by_key(np.asarray(values, dtype=np.float64) + 0.0, counts)
        return cls(values=unique, counts=summed)

    @classmethod
    def empty(cls) -> ValueCounts:
        """No values."""
        return cls(values=np.zeros(0), counts=np.zeros(0, np.int64))

    @property
    def total(self) -> int:
        """The number of rows counted."""
        return int(self.counts.sum())

    def __len__(self) -> int:
        return int(self.values.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueCounts):
            return NotImplemented
        return np.array_equal(self.values, other.values) and np.array_equal(
            self.counts, other.counts
        )

    __hash__ = None  # type: ignore[assignment]

    def merge(self, other: ValueCounts) -> ValueCounts:
        """The counts of both sets of rows."""
        if not len(other):
            return self
        if not len(self):
            return other
        return ValueCounts.of(
            np.concatenate([self.values, other.values]),
            np.concatenate([self.counts, other.counts]),
        )


def merge_values(a: ValueCounts | None, b: ValueCounts | None) -> ValueCounts | None:
    """Sum two value counts; ``None`` when either is unknown or the sum has too many values.

    Examples
    --------
    >>> merge_values(ValueCounts.of([1.5], [2]), ValueCounts.of([1.5, 3.0], [1, 4])).counts
    array([3, 4])
    >>> merge_values(ValueCounts.of([1.5], [2]), None) is None
    True
    """
    if a is None or b is None:
        return None
    merged = a.merge(b)
    return merged if len(merged) <= MAX_DISTINCT_VALUES else None


def merge_confusion(a: Confusion, b: Confusion) -> Confusion:
    """Sum two confusion tables cell by cell."""
    out = dict(a)
    for key, count in b.items():
        out[key] = out.get(key, 0) + count
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmPartial:
    """One arm's mergeable figures over a slice of rows (see the module docstring).

    ``min_latency`` and ``max_latency`` are the extreme non-NULL latencies: the order
    statistics of rank 1 and ``n_latency``, which therefore never need their buckets read.
    ``values`` counts each distinct non-NULL latency when known (``None``: not kept, or more
    than ``MAX_DISTINCT_VALUES``); with it every order statistic is known without a read.
    """

    n: int = 0
    errors: int = 0
    n_latency: int = 0
    scored: int = 0
    labelled: int = 0
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    min_latency: float | None = None
    max_latency: float | None = None
    hsum: int = 0
    hxor: int = 0
    buckets: dict[int, int] = field(default_factory=dict)
    scores: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    positives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    negatives: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    confusion: dict[tuple[str, ...], Confusion] = field(default_factory=dict)
    values: ValueCounts | None = None

    def merge(self, other: ArmPartial) -> ArmPartial:
        """The figures of both slices (disjoint sets of rows) together."""
        buckets = dict(self.buckets)
        for k, c in other.buckets.items():
            buckets[k] = buckets.get(k, 0) + c
        lows = [v for v in (self.min_latency, other.min_latency) if v is not None]
        highs = [v for v in (self.max_latency, other.max_latency) if v is not None]
        feature_sets = sorted(set(self.confusion) | set(other.confusion))
        return ArmPartial(
            n=self.n + other.n,
            errors=self.errors + other.errors,
            n_latency=self.n_latency + other.n_latency,
            scored=self.scored + other.scored,
            labelled=self.labelled + other.labelled,
            start=_earliest(self.start, other.start),
            end=_latest(self.end, other.end),
            min_latency=min(lows) if lows else None,
            max_latency=max(highs) if highs else None,
            hsum=self.hsum + other.hsum,
            hxor=self.hxor ^ other.hxor,
            buckets=dict(sorted(buckets.items())),
            scores=add_arrays(self.scores, other.scores),
            positives=add_arrays(self.positives, other.positives),
            negatives=add_arrays(self.negatives, other.negatives),
            confusion={
                fs: merge_confusion(self.confusion.get(fs, {}), other.confusion.get(fs, {}))
                for fs in feature_sets
            },
            values=merge_values(self.values, other.values),
        )

    def to_parts(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-ready scalars and confusion cells, and the arrays (see :meth:`to_bytes`)."""
        header = {
            "n": self.n,
            "errors": self.errors,
            "n_latency": self.n_latency,
            "scored": self.scored,
            "labelled": self.labelled,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "min_latency": self.min_latency,
            "max_latency": self.max_latency,
            "hsum": str(self.hsum),
            "hxor": str(self.hxor),
            "has_values": self.values is not None,
            "confusion": [
                {
                    "features": list(fs),
                    "cells": [[list(g), lab, dec, c] for (g, lab, dec), c in cells.items()],
                }
                for fs, cells in self.confusion.items()
            ],
        }
        values = self.values if self.values is not None else ValueCounts.empty()
        arrays = {
            "bucket_keys": np.fromiter(self.buckets.keys(), np.int64, len(self.buckets)),
            "bucket_counts": np.fromiter(self.buckets.values(), np.int64, len(self.buckets)),
            "scores": self.scores,
            "positives": self.positives,
            "negatives": self.negatives,
            "value": values.values,
            "value_count": values.counts,
        }
        return header, arrays

    @classmethod
    def from_parts(cls, d: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> ArmPartial:
        """Inverse of :meth:`to_parts`."""

        def moment(v: str | None) -> dt.datetime | None:
            return None if v is None else dt.datetime.fromisoformat(v)

        def counts(name: str) -> npt.NDArray[np.int64]:
            return arrays[name].astype(np.int64)

        values = None
        if d["has_values"]:
            values = ValueCounts(
                values=arrays["value"].astype(np.float64),
                counts=arrays["value_count"].astype(np.int64),
            )
        return cls(
            n=int(d["n"]),
            errors=int(d["errors"]),
            n_latency=int(d["n_latency"]),
            scored=int(d["scored"]),
            labelled=int(d["labelled"]),
            start=moment(d["start"]),
            end=moment(d["end"]),
            min_latency=None if d["min_latency"] is None else float(d["min_latency"]),
            max_latency=None if d["max_latency"] is None else float(d["max_latency"]),
            hsum=int(d["hsum"]),
            hxor=int(d["hxor"]),
            buckets=dict(
                zip(arrays["bucket_keys"].tolist(), arrays["bucket_counts"].tolist(), strict=True)
            ),
            scores=counts("scores"),
            positives=counts("positives"),
            negatives=counts("negatives"),
            confusion={
                tuple(e["features"]): {
                    (tuple(g), bool(lab), bool(dec)): int(c) for g, lab, dec, c in e["cells"]
                }
                for e in d["confusion"]
            },
            values=values,
        )


JOINT_BASE = 1 << 21
"""Score bins per side the paired joint table can hold (its cells are encoded in one integer)."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PairedPartial:
    """Shadow mode: the paired figures of the pairs a slice *completes* (mergeable).

    A pair belongs to the slice in which its later row falls, so the pairs of ``[since, t₁)``
    and those completed in ``[t₁, t₂)`` are together exactly the pairs of ``[since, t₂)``
    (:func:`canarykit.traces.paired.paired_partial`). Counts and tables merge exactly; the
    score-difference sums are DuckDB's compensated ``fsum`` per slice, added across slices
    (no check reads them; a full recomputation may differ in their last bits). The joint table
    (labelled pairs per control bin, shadow bin and label) is kept as sorted encoded cells,
    ``(bin_control · JOINT_BASE + bin_candidate) · 2 + label``, and their counts.

    Examples
    --------
    >>> a = PairedPartial.of_cells([3], [4], [1], [2], n_pairs=2, agreement=((1, 0), (0, 1)))
    >>> b = PairedPartial.of_cells([3, 0], [4, 9], [1, 0], [1, 5], n_pairs=1,
    ...                            agreement=((0, 1), (0, 0)))
    >>> m = a.merge(b)
    >>> m.n_pairs, m.agreement, [c.tolist() for c in m.cells()]
    (3, ((1, 1), (0, 1)), [[0, 3], [9, 4], [0, 1], [5, 3]])
    """

    n_pairs: int = 0
    agreement: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))
    sum_diff: float = 0.0
    sum_sq_diff: float = 0.0
    joint_keys: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    joint_counts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @classmethod
    def of_cells(
        cls, bin_control: Any, bin_candidate: Any, label: Any, count: Any, **figures: Any
    ) -> PairedPartial:
        """From joint-table cells in any order (repeated cells are added)."""
        bc, bs, lab = (np.asarray(x, dtype=np.int64) for x in (bin_control, bin_candidate, label))
        keys, counts = sum_by_key((bc * JOINT_BASE + bs) * 2 + lab, np.asarray(count))
        return cls(joint_keys=keys, joint_counts=counts, **figures)

    def cells(self) -> tuple[npt.NDArray[np.int64], ...]:
        """The joint table, sorted: (bin_control, bin_candidate, label, count)."""
        k = self.joint_keys
        return k // 2 // JOINT_BASE, k // 2 % JOINT_BASE, k % 2, self.joint_counts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PairedPartial):
            return NotImplemented
        return (
            (self.n_pairs, self.agreement) == (other.n_pairs, other.agreement)
            and float(self.sum_diff).hex() == float(other.sum_diff).hex()
            and float(self.sum_sq_diff).hex() == float(other.sum_sq_diff).hex()
            and np.array_equal(self.joint_keys, other.joint_keys)
            and np.array_equal(self.joint_counts, other.joint_counts)
        )

    __hash__ = None  # type: ignore[assignment]

    def merge(self, other: PairedPartial) -> PairedPartial:
        """The pairs of both slices together."""
        keys, counts = sum_by_key(
            np.concatenate([self.joint_keys, other.joint_keys]),
            np.concatenate([self.joint_counts, other.joint_counts]),
        )
        (a, b), (c, d) = self.agreement
        (e, f), (g, h) = other.agreement
        return PairedPartial(
            n_pairs=self.n_pairs + other.n_pairs,
            agreement=((a + e, b + f), (c + g, d + h)),
            sum_diff=self.sum_diff + other.sum_diff,
            sum_sq_diff=self.sum_sq_diff + other.sum_sq_diff,
            joint_keys=keys,
            joint_counts=counts,
        )

    def to_parts(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-ready scalars (the sums as exact hexadecimal floats), and the joint table."""
        header = {
            "n_pairs": self.n_pairs,
            "agreement": [list(row) for row in self.agreement],
            "sum_diff": float(self.sum_diff).hex(),
            "sum_sq_diff": float(self.sum_sq_diff).hex(),
        }
        return header, {"joint_keys": self.joint_keys, "joint_counts": self.joint_counts}

    @classmethod
    def from_parts(cls, d: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> PairedPartial:
        """Inverse of :meth:`to_parts`."""
        (a, b), (c, e) = d["agreement"]
        return cls(
            n_pairs=int(d["n_pairs"]),
            agreement=((int(a), int(b)), (int(c), int(e))),
            sum_diff=float.fromhex(d["sum_diff"]),
            sum_sq_diff=float.fromhex(d["sum_sq_diff"]),
            joint_keys=arrays["joint_keys"].astype(np.int64),
            joint_counts=arrays["joint_counts"].astype(np.int64),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PartialSummaries:
    """Both arms' mergeable figures over the rows of one slice of a selection."""

    control: ArmPartial
    candidate: ArmPartial
    paired: PairedPartial | None = None

    def merge(self, other: PartialSummaries) -> PartialSummaries:
        """The figures of two disjoint slices together (exact: see the module docstring).

        The paired figures (shadow mode) merge when both slices have them, else are dropped.
        """
        paired = None
        if self.paired is not None and other.paired is not None:
            paired = self.paired.merge(other.paired)
        return PartialSummaries(
            control=self.control.merge(other.control),
            candidate=self.candidate.merge(other.candidate),
            paired=paired,
        )

    def to_bytes(self) -> bytes:
        """``FORMAT``, compressed: a JSON header, then the arrays' little-endian bytes.

        The header holds the scalars, the confusion cells and, per array, its dtype and
        length; histogram and bucket counts are stored in the narrowest unsigned type that
        holds them. Floats and integers come back exactly.

        Examples
        --------
        >>> p = PartialSummaries(control=ArmPartial(n=3), candidate=ArmPartial(n=1))
        >>> PartialSummaries.from_bytes(p.to_bytes()).control.n
        3
        """
        parts = {arm: getattr(self, arm).to_parts() for arm in ("control", "candidate")}
        if self.paired is not None:
            parts["paired"] = self.paired.to_parts()
        header = {group: fields for group, (fields, _) in parts.items()}
        return pack(FORMAT, header, {group: arrays for group, (_, arrays) in parts.items()})

    @classmethod
    def from_bytes(cls, blob: bytes) -> PartialSummaries | None:
        """Inverse of :meth:`to_bytes`; ``None`` for anything else (the look then reads all)."""
        unpacked = unpack(blob, FORMAT)
        if unpacked is None:
            return None
        header, arrays = unpacked
        try:
            paired = header.get("paired")
            return cls(
                control=ArmPartial.from_parts(header["control"], arrays.get("control", {})),
                candidate=ArmPartial.from_parts(header["candidate"], arrays.get("candidate", {})),
                paired=None
                if paired is None
                else PairedPartial.from_parts(paired, arrays.get("paired", {})),
            )
        except (ValueError, KeyError, TypeError):
            return None
