"""Mergeable summaries of a slice of an evaluation's rows: what lets a look read only new rows.

Every figure of passes 1–3 of :mod:`canarykit.traces.summaries` is a sum, a minimum, a maximum
or an xor over rows: counts, errors, coverage, the time range, the latency range, the DDSketch
bucket counts, the two parts of the data digest (sum and xor of the row hashes), the score
histograms and the confusion counts. The figures of two disjoint slices of rows therefore
*merge* into exactly the figures of their union — integers and extremes, no rounding — so a
look at ``[since, t₂)`` is the look at ``[since, t₁)`` merged with the slice ``[t₁, t₂)``.

What does not merge is read from the whole window at every look: the exact order statistics
(only the values of the few latency buckets that hold the wanted ranks, located with the
merged bucket counts) and, in shadow mode, the paired table (a join).

A :class:`PartialSummaries` serialises to bytes (:meth:`PartialSummaries.to_bytes`) so that a
look recorded in a trace store can carry it to the next look (:mod:`canarykit.traces.look_cache`).

Examples
--------
>>> a = ArmPartial(n=2, errors=1, hsum=5, hxor=3, buckets={10: 2})
>>> b = ArmPartial(n=1, hsum=7, hxor=1, buckets={10: 1, 11: 0})
>>> m = a.merge(b)
>>> m.n, m.errors, m.hsum, m.hxor, m.buckets
(3, 1, 12, 2, {10: 3, 11: 0})
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FORMAT", "ArmPartial", "PartialSummaries", "merge_confusion"]

FORMAT = "canarykit.partial_summaries/1"

# confusion counts of one feature set: (groups, label, decision) -> count
Confusion = dict[tuple[tuple[str | None, ...], bool, bool], int]


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _add_arrays(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    if a.size == 0:
        return b.copy()
    if b.size == 0:
        return a.copy()
    return a + b


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
            scores=_add_arrays(self.scores, other.scores),
            positives=_add_arrays(self.positives, other.positives),
            negatives=_add_arrays(self.negatives, other.negatives),
            confusion={
                fs: merge_confusion(self.confusion.get(fs, {}), other.confusion.get(fs, {}))
                for fs in feature_sets
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; bucket counts and the non-zero histogram bins as base64 int64."""

        def sparse(a: npt.NDArray[np.int64]) -> dict[str, Any]:
            nz = np.flatnonzero(a)
            return {"size": int(a.size), "index": _b64(nz), "count": _b64(a[nz])}

        return {
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
            "bucket_keys": _b64(np.fromiter(self.buckets.keys(), np.int64, len(self.buckets))),
            "bucket_counts": _b64(np.fromiter(self.buckets.values(), np.int64, len(self.buckets))),
            "scores": sparse(self.scores),
            "positives": sparse(self.positives),
            "negatives": sparse(self.negatives),
            "confusion": [
                {
                    "features": list(fs),
                    "cells": [[list(g), lab, dec, c] for (g, lab, dec), c in cells.items()],
                }
                for fs, cells in self.confusion.items()
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArmPartial:
        """Inverse of :meth:`to_dict`."""

        def dense(s: dict[str, Any]) -> npt.NDArray[np.int64]:
            a = np.zeros(int(s["size"]), np.int64)
            a[_unb64(s["index"])] = _unb64(s["count"])
            return a

        def moment(v: str | None) -> dt.datetime | None:
            return None if v is None else dt.datetime.fromisoformat(v)

        keys, counts = _unb64(d["bucket_keys"]), _unb64(d["bucket_counts"])
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
            buckets=dict(zip(keys.tolist(), counts.tolist(), strict=True)),
            scores=dense(d["scores"]),
            positives=dense(d["positives"]),
            negatives=dense(d["negatives"]),
            confusion={
                tuple(e["features"]): {
                    (tuple(g), bool(lab), bool(dec)): int(c) for g, lab, dec, c in e["cells"]
                }
                for e in d["confusion"]
            },
        )


def _b64(a: npt.NDArray[np.int64]) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<i8").tobytes()).decode()


def _unb64(text: str) -> npt.NDArray[np.int64]:
    return np.frombuffer(base64.b64decode(text), dtype="<i8").astype(np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class PartialSummaries:
    """Both arms' mergeable figures over the rows of one slice of a selection."""

    control: ArmPartial
    candidate: ArmPartial

    def merge(self, other: PartialSummaries) -> PartialSummaries:
        """The figures of two disjoint slices together (exact: see the module docstring)."""
        return PartialSummaries(
            control=self.control.merge(other.control),
            candidate=self.candidate.merge(other.candidate),
        )

    def to_bytes(self) -> bytes:
        """Compressed JSON (``FORMAT``), for a look's record.

        Examples
        --------
        >>> p = PartialSummaries(control=ArmPartial(n=3), candidate=ArmPartial(n=1))
        >>> PartialSummaries.from_bytes(p.to_bytes()).control.n
        3
        """
        doc = {
            "format": FORMAT,
            "control": self.control.to_dict(),
            "candidate": self.candidate.to_dict(),
        }
        return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)

    @classmethod
    def from_bytes(cls, blob: bytes) -> PartialSummaries | None:
        """Inverse of :meth:`to_bytes`; ``None`` for anything else (the look then reads all)."""
        try:
            doc = json.loads(zlib.decompress(blob))
            if doc.get("format") != FORMAT:
                return None
            return cls(
                control=ArmPartial.from_dict(doc["control"]),
                candidate=ArmPartial.from_dict(doc["candidate"]),
            )
        except (ValueError, KeyError, TypeError, zlib.error, binascii.Error):
            return None
