"""Segment summaries kept from look to look: an ``evaluate --by`` look reads only new rows.

Every figure of a segment's summary (:class:`~canarykit.traces.segment_summaries.SegmentArm`:
request, error and latency counts, counts above each latency threshold, latency bucket counts,
score histograms) is a count, so the summaries of two disjoint slices of rows *merge* into
exactly those of their union (:func:`merge_segments`). A look of a rollout step that asks for
segments keeps its summaries in the trace store (table ``segment_figures``, one row per step,
selection and segment parameters, with the ``until`` they end at and the last ingest they saw);
the next such look of the step reads only the rows after that ``until`` and merges
(:func:`summarize_segments_kept`). The earlier steps' whole windows, whose segment e-values a
later step carries in, are kept the same way, so they are read once, not at every look.

The figures are believed under the rule of the look's own figures
(:func:`~canarykit.traces.look_cache.untouched_since`): no ingest after them touched the model
inside their window. Rows changed by SQL outside canarykit are not seen by that rule; replay
never reads kept figures and recomputes every segment table from the rows
(``docs/security.md``).

Examples
--------
>>> from canarykit.traces.segment_summaries import SegmentArm, SegmentSummaries
>>> a = SegmentSummaries(by=("region",), n_bins=2, segments={("eu",): (
...     SegmentArm(n=2, keys=np.array([5, 9]), counts=np.array([1, 1])), SegmentArm(n=1))})
>>> b = SegmentSummaries(by=("region",), n_bins=2, segments={("eu",): (
...     SegmentArm(n=1, keys=np.array([7]), counts=np.array([1])), SegmentArm()),
...     ("us",): (SegmentArm(n=4), SegmentArm(n=2))})
>>> m = merge_segments(a, b)
>>> sorted(m.segments), m.segments[("eu",)][0].n, m.segments[("eu",)][0].keys.tolist()
([('eu',), ('us',)], 3, [5, 7, 9])
>>> back = from_bytes(to_bytes(m))
>>> back.segments[("eu",)][0].keys.tolist(), back.segments[("us",)][1].n
([5, 7, 9], 2)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np

from canarykit.traces.look_cache import ingest_seq, untouched_since
from canarykit.traces.packing import pack, unpack
from canarykit.traces.partial_summaries import add_arrays, sum_by_key
from canarykit.traces.segment_summaries import (
    SEGMENT_RELATIVE_ACCURACY,
    SegmentArm,
    SegmentSummaries,
    summarize_segments,
    too_many_segments,
)
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import Selection
from canarykit.traces.window import parse_utc_timestamp

__all__ = ["FORMAT", "Keep", "from_bytes", "merge_segments", "summarize_segments_kept", "to_bytes"]

FORMAT = "canarykit.segment_figures/1"
_CREATE = (
    "CREATE TABLE IF NOT EXISTS segment_figures (key VARCHAR PRIMARY KEY, until TIMESTAMP NOT "
    "NULL, ingest_seq INTEGER NOT NULL, figures BLOB NOT NULL)"
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Keep:
    """Where a look's segment summaries are kept: its rollout and step; ``write`` when the
    look may write to the store (a recorded look), else the kept figures are only read."""

    rollout_id: int
    step: int
    write: bool = True


def merge_arm(a: SegmentArm, b: SegmentArm) -> SegmentArm:
    """One arm of one segment over both slices (exact: every figure is a count)."""
    keys, counts = sum_by_key(
        np.concatenate([a.keys, b.keys]), np.concatenate([a.counts, b.counts])
    )
    return SegmentArm(
        n=a.n + b.n,
        errors=a.errors + b.errors,
        n_latency=a.n_latency + b.n_latency,
        exceed={t: a.exceed.get(t, 0) + b.exceed.get(t, 0) for t in sorted({*a.exceed, *b.exceed})},
        keys=keys,
        counts=counts,
        zero_count=a.zero_count + b.zero_count,
        positives=add_arrays(a.positives, b.positives),
        negatives=add_arrays(a.negatives, b.negatives),
    )


def _empty_arm(like: SegmentArm, n_bins: int) -> SegmentArm:
    return SegmentArm(
        exceed={t: 0 for t in like.exceed},
        positives=np.zeros(n_bins, np.int64),
        negatives=np.zeros(n_bins, np.int64),
    )


def merge_segments(a: SegmentSummaries, b: SegmentSummaries) -> SegmentSummaries:
    """The summaries of two disjoint slices of rows together (segments of either, sorted)."""
    out: dict[tuple[str, ...], tuple[SegmentArm, SegmentArm]] = {}
    for key in sorted({*a.segments, *b.segments}):
        some = a.segments.get(key) or b.segments[key]
        none = (_empty_arm(some[0], a.n_bins), _empty_arm(some[1], a.n_bins))
        left, right = a.segments.get(key, none), b.segments.get(key, none)
        out[key] = (merge_arm(left[0], right[0]), merge_arm(left[1], right[1]))
    return dataclasses.replace(a, segments=out)


_SCALARS = ("n", "errors", "n_latency", "zero_count")
_ARRAYS = ("keys", "counts", "positives", "negatives")


def to_bytes(s: SegmentSummaries) -> bytes:
    """``FORMAT``: the segments' counts as a :func:`~canarykit.traces.packing.pack` blob."""
    segments, arrays = [], {}
    for i, (key, pair) in enumerate(s.segments.items()):
        arms = []
        for j, arm in enumerate(pair):
            arms.append(
                {
                    **{name: getattr(arm, name) for name in _SCALARS},
                    "exceed": [[t, c] for t, c in arm.exceed.items()],
                }
            )
            arrays[f"{i}.{j}"] = {name: getattr(arm, name) for name in _ARRAYS}
        segments.append([list(key), arms])
    header = {
        "by": list(s.by),
        "n_bins": s.n_bins,
        "relative_accuracy": s.relative_accuracy,
        "segments": segments,
    }
    return pack(FORMAT, header, arrays)


def from_bytes(blob: bytes) -> SegmentSummaries | None:
    """Inverse of :func:`to_bytes`; ``None`` for anything else (the look then reads all)."""
    unpacked = unpack(blob, FORMAT)
    if unpacked is None:
        return None
    header, arrays = unpacked
    try:
        segments = {}
        for i, (key, arms) in enumerate(header["segments"]):
            pair = []
            for j, d in enumerate(arms):
                got = arrays.get(f"{i}.{j}", {})
                pair.append(
                    SegmentArm(
                        n=int(d["n"]),
                        errors=int(d["errors"]),
                        n_latency=int(d["n_latency"]),
                        zero_count=int(d["zero_count"]),
                        exceed={float(t): int(c) for t, c in d["exceed"]},
                        keys=got["keys"].astype(np.int64),
                        counts=got["counts"].astype(np.int64),
                        positives=got["positives"].astype(np.int64),
                        negatives=got["negatives"].astype(np.int64),
                    )
                )
            segments[tuple(str(k) for k in key)] = (pair[0], pair[1])
        return SegmentSummaries(
            by=tuple(str(b) for b in header["by"]),
            segments=segments,
            n_bins=int(header["n_bins"]),
            relative_accuracy=float(header["relative_accuracy"]),
        )
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(parse_utc_timestamp(text))


def _key(selection: Selection, keep: Keep, params: dict[str, Any]) -> str:
    """Everything that defines the kept figures except ``until``."""
    window = [
        selection.model,
        selection.baseline,
        selection.candidate,
        selection.mode,
        None if selection.since is None else parse_utc_timestamp(selection.since),
        [parse_utc_timestamp(t) for t in selection.control_window]
        if selection.control_window
        else None,
        repr(getattr(selection, "segment", ())),
    ]
    text = json.dumps([FORMAT, keep.rollout_id, keep.step, window, params], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _load(con: duckdb.DuckDBPyConnection, key: str) -> tuple[dt.datetime, int, bytes] | None:
    try:
        rows = con.execute(
            "SELECT until, ingest_seq, figures FROM segment_figures WHERE key = ?", [key]
        ).fetchall()
    except duckdb.CatalogException:
        return None
    return (rows[0][0], int(rows[0][1]), bytes(rows[0][2])) if rows else None


def _save(
    store: TraceStore, key: str, until: dt.datetime, seq: int, summaries: SegmentSummaries
) -> None:
    con = store.connection
    con.begin()
    try:
        con.execute(_CREATE)
        con.execute(
            "INSERT OR REPLACE INTO segment_figures VALUES (?, ?, ?, ?)",
            [key, until, seq, to_bytes(summaries)],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def summarize_segments_kept(
    store: TraceStore,
    selection: Selection,
    keep: Keep | None,
    *,
    by: Sequence[str],
    latency_thresholds: Sequence[float] = (),
    scores: bool = False,
    n_bins: int = 100,
    max_segments: int = 64,
) -> SegmentSummaries:
    """:func:`~canarykit.traces.segment_summaries.summarize_segments`, from kept figures.

    With ``keep`` (a rollout look) and a window that ends (``until``): the figures kept for the
    same step, selection and parameters, when they end before ``until`` and no ingest since
    touched their window, merged with the rows after them; else the whole window. The result
    is kept again when ``keep.write``. It is the same as reading the whole window.
    """
    kwargs: dict[str, Any] = {
        "by": by,
        "latency_thresholds": latency_thresholds,
        "scores": scores,
        "n_bins": n_bins,
        "max_segments": max_segments,
    }
    if keep is None or selection.until is None:
        return summarize_segments(store, selection, **kwargs)
    con = store.connection
    seq = ingest_seq(con)
    until = _moment(selection.until)
    params = {
        "by": [str(b).strip() for b in by],
        "thresholds": sorted(float(t) for t in latency_thresholds),
        "scores": bool(scores),
        "n_bins": int(n_bins),
        "relative_accuracy": SEGMENT_RELATIVE_ACCURACY,
    }
    key = _key(selection, keep, params)
    kept = _load(con, key)
    summaries = None
    if kept is not None and kept[0] <= until and untouched_since(con, kept[1], selection, kept[0]):
        earlier = from_bytes(kept[2])
        if earlier is not None and kept[0] == until:
            return earlier  # kept up to this very moment (an earlier step's whole window)
        if earlier is not None:
            delta = dataclasses.replace(selection, since=kept[0].isoformat(), control_window=None)
            arms = [selection.candidate_arm]
            if selection.control_window is None:
                arms.insert(0, "control")
            added = summarize_segments(store, delta, arms=arms, **kwargs)
            summaries = merge_segments(earlier, added)
            if len(summaries.segments) > max_segments:
                raise too_many_segments(summaries.by, max_segments)
    if summaries is None:
        summaries = summarize_segments(store, selection, **kwargs)
    if keep.write and not store.read_only:
        _save(store, key, until, seq, summaries)
    return summaries
