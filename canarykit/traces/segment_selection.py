"""A selection restricted to one segment: the window of a rollout step that targets a segment.

A plan step may target a segment (``segment: {route: [beta]}``): its canary serves that
segment's traffic (at the step's share, the rest of the segment being the holdout control) and
each look reads only the segment's rows — both arms, the sample-ratio check included, so the
planned split is checked *within* the segment. :class:`SegmentSelection` adds the segment's
condition (a conjunction DuckDB pushes into the scan) to every arm condition of
:class:`~canarykit.traces.summaries.Selection`.

Examples
--------
>>> from canarykit.traces.summaries import Selection
>>> sel = Selection(model="m", baseline="a", candidate="b", mode="canary")
>>> restricted = restrict_to_segment(sel, (("route", ("beta",)),))
>>> restricted.arm_where("canary")[0]
'model = ? AND arm = ? AND version = ? AND CAST("route" AS VARCHAR) IN (?)'
>>> restrict_to_segment(sel, ()) is sel
True
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from canarykit.traces.sources import quote_ident
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import Selection

__all__ = [
    "SegmentSelection",
    "canary_outside_segment",
    "restrict_to_segment",
    "segment_condition",
]

Segment = tuple[tuple[str, tuple[str, ...]], ...]


def segment_condition(segment: Segment) -> tuple[str, list[Any]]:
    """``CAST(col AS VARCHAR) IN (?, …) AND …`` for a segment, and its parameters."""
    parts, params = [], []
    for column, values in segment:
        parts.append(
            f"CAST({quote_ident(column)} AS VARCHAR) IN ({', '.join('?' for _ in values)})"
        )
        params += list(values)
    return " AND ".join(parts), params


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentSelection(Selection):
    """:class:`Selection` of the rows of one segment (``segment``: column → allowed values)."""

    segment: Segment = ()

    def arm_where(self, arm: str) -> tuple[str, list[Any]]:
        """The arm's condition and the segment's."""
        sql, params = Selection.arm_where(self, arm)
        if not self.segment:
            return sql, params
        seg_sql, seg_params = segment_condition(self.segment)
        return f"{sql} AND {seg_sql}", params + seg_params

    def where(self) -> tuple[str, list[Any]]:
        """Both arms' condition and the segment's."""
        sql, params = Selection.where(self)
        if not self.segment:
            return sql, params
        seg_sql, seg_params = segment_condition(self.segment)
        return f"({sql}) AND {seg_sql}", params + seg_params


def restrict_to_segment(selection: Selection, segment: Segment) -> Selection:
    """``selection`` restricted to ``segment`` (itself when the segment is empty)."""
    if not segment:
        return selection
    values = {f.name: getattr(selection, f.name) for f in fields(Selection)}
    return SegmentSelection(**values, segment=segment)


def canary_outside_segment(
    store: TraceStore, *, model: str, candidate: str, since: str, until: str, segment: Segment
) -> int:
    """Canary requests of ``candidate`` in ``[since, until)`` *outside* ``segment``.

    A row whose segment column is NULL counts as outside (it was not routed by the segment).
    """
    seg_sql, seg_params = segment_condition(segment)
    row = store.connection.execute(
        "SELECT count(*) FROM traces WHERE model = ? AND arm = 'canary' AND version = ? "
        "AND ts >= CAST(? AS TIMESTAMP) AND ts < CAST(? AS TIMESTAMP) "
        f"AND NOT coalesce({seg_sql}, FALSE)",
        [model, candidate, since, until, *seg_params],
    ).fetchone()
    return int(row[0]) if row else 0
