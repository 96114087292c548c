"""Rollout plan steps that target a segment: ``{share: 1.0, segment: {route: [beta]}}``.

A step may name a segment — extra trace columns and the values they must take — instead of
(or as well as) a share of all traffic, e.g. step 1 ``route = beta`` at 90 %, step 2
``region in (br-south)`` at 100 % against the segment's own traffic before the step, step 3
everything at 25 %, step 4 100 %. The control of a segment step is defined by the step:

* ``share < 1`` — the **holdout**: the segment's traffic still served by the baseline
  (randomised within the segment, so every check and the sample-ratio test keep their
  guarantees, with the split planned *within* the segment);
* ``share = 1`` with ``control_window_minutes`` — **the same segment before the step**: the
  recorded-control checks of a 100 % step, on the segment's rows;
* ``share = 1`` without it — no control: absolute checks only.

Each look of a segment step also counts the candidate's requests outside the segment; any is a
quality-gate STOP (:mod:`canarykit.verdict.segment_look`).

Comparing a segment with *other* segments is not offered: it is not randomised (regions differ
in latency and error rates for reasons of their own), so no check could attribute a difference to
the candidate.

Examples
--------
>>> errors = []
>>> parse_step_segment({"route": ["beta"], "region": "br-south"}, errors, prefix="steps[0].")
(('region', ('br-south',)), ('route', ('beta',)))
>>> segment_label((("route", ("beta",)),))
'route=beta'
>>> _ = parse_step_segment({"ts": ["x"]}, errors, prefix="steps[1].")
>>> errors
['steps[1].segment.ts: a column of the trace contract, not a segment']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["parse_step_segment", "segment_label", "segment_to_dict"]

Segment = tuple[tuple[str, tuple[str, ...]], ...]

NOT_SEGMENTS = frozenset(
    {"request_id", "ts", "model", "version", "arm", "latency_ms", "error", "score", "label"}
)
"""The trace contract's columns (as :data:`canarykit.traces.segment_summaries.NOT_SEGMENTS`;
repeated here so that loading a policy does not import the store and DuckDB)."""


def parse_step_segment(raw: Any, errors: list[str], *, prefix: str) -> Segment:
    """Validate a step's ``segment`` mapping (column → value or list of values)."""
    if raw is None:
        return ()
    where = f"{prefix}segment"
    if not isinstance(raw, Mapping) or not raw:
        errors.append(f"{where}: must be a mapping of column to values, e.g. {{route: [beta]}}")
        return ()
    out = []
    for column, values in sorted(raw.items(), key=lambda kv: str(kv[0])):
        if not isinstance(column, str) or not column:
            errors.append(f"{where}: column names must be strings, got {column!r}")
            continue
        if column in NOT_SEGMENTS:
            errors.append(f"{where}.{column}: a column of the trace contract, not a segment")
            continue
        if column.startswith("__"):
            errors.append(f"{where}.{column}: names starting with '__' are canarykit's own columns")
            continue
        vals = [values] if isinstance(values, str) else values
        if (
            not isinstance(vals, list)
            or not vals
            or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in vals)
        ):
            errors.append(f"{where}.{column}: must be a value or a non-empty list of values")
            continue
        out.append((column, tuple(sorted({str(v) for v in vals}))))
    return tuple(out)


def segment_to_dict(segment: Segment) -> dict[str, list[str]]:
    """JSON form of a segment (the plan stored in a rollout record)."""
    return {column: list(values) for column, values in segment}


def segment_label(segment: Segment) -> str:
    """``route=beta``, ``region in (br-south, eu-west)``, joined by ``and``."""
    parts = []
    for column, values in segment:
        if len(values) == 1:
            parts.append(f"{column}={values[0]}")
        else:
            parts.append(f"{column} in ({', '.join(values)})")
    return " and ".join(parts)
