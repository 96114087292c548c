"""Attach segment verdicts to a verdict, and let a segment regression STOP it (``on_fail``).

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict.evaluate import evaluate
>>> t = generate_traces("identical", n_requests=4_000, seed=2, segments=True)
>>> v = evaluate(t, by="region", log=False)
>>> v.segments.by, v.selection["by"], v.segments.discoveries
(('region',), ['region'], 0)
>>> parse_by("region, route")
('region', 'route')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from canarykit.errors import InvalidInputError
from canarykit.traces.segment_figures import Keep
from canarykit.traces.segment_selection import restrict_to_segment
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import Selection
from canarykit.verdict.policy import Policy
from canarykit.verdict.segment_rows import Carried
from canarykit.verdict.segments import evaluate_segments
from canarykit.verdict.verdict import Verdict

__all__ = ["apply_segments", "parse_by"]


def parse_by(by: str | Sequence[str]) -> tuple[str, ...]:
    """``"region,route"`` or ``["region", "route"]`` → ``("region", "route")``."""
    items = by.split(",") if isinstance(by, str) else list(by)
    names = tuple(str(b).strip() for b in items)
    if not names or any(not b for b in names):
        raise InvalidInputError(f"--by {by!r}: name one or more trace columns, e.g. region,route")
    return names


def apply_segments(
    store: TraceStore,
    policy: Policy,
    verdict: Verdict,
    by: str | Sequence[str],
    *,
    segment: tuple[tuple[str, tuple[str, ...]], ...] = (),
    carried: Carried = (),
    carried_from_step: int | None = None,
    carried_windows: tuple[tuple[int, str, str], ...] = (),
    keep: Keep | None = None,
) -> Verdict:
    """``verdict`` with its ``segments`` table; STOP when a segment fails and ``on_fail: stop``.

    The segments read exactly the verdict's window (its ``selection``, within ``segment`` for
    a rollout step that targets one), so a replay of the verdict recomputes them bit for bit.
    ``carried`` (with the step it comes from and the earlier steps' windows, recorded for
    replay) multiplies earlier rollout steps' e-values in
    (:mod:`canarykit.verdict.segment_look`). ``keep``: a rollout look's step, whose segment
    summaries are kept from look to look (:mod:`canarykit.traces.segment_figures`).
    """
    names = parse_by(by)
    sel = verdict.selection
    control_window = sel.get("control_window")
    selection = Selection(
        model=verdict.model,
        baseline=verdict.baseline,
        candidate=verdict.candidate,
        mode="shadow" if verdict.mode == "shadow" else "canary",
        until=sel.get("until"),
        since=sel.get("since"),
        control_window=(str(control_window[0]), str(control_window[1])) if control_window else None,
    )
    selection = restrict_to_segment(selection, segment)
    share = verdict.rollout.planned_split if verdict.rollout is not None else 0.5
    has_control = share < 1.0 or control_window is not None
    segments = evaluate_segments(
        store,
        policy,
        selection,
        by=names,
        share=share,
        has_control=has_control,
        carried=carried,
        carried_from_step=carried_from_step,
        keep=keep,
    )
    if carried_windows:
        segments = dataclasses.replace(segments, carried_windows=tuple(carried_windows))
    decision, reasons, rollout = verdict.decision, verdict.reasons, verdict.rollout
    failed = segments.failed
    if failed and segments.on_fail == "stop" and decision != "STOP":
        decision = "STOP"
        reasons = tuple(
            f"segment {r.segment_label}: {r.check} fails there (e-BH discovery at FDR "
            f"{segments.alpha:g}; estimate {r.estimate:.4g}, threshold {r.threshold:g})"
            for r in failed
        )
        if rollout is not None:
            rollout = dataclasses.replace(rollout, next_action="roll back", next_split=None)
    elif failed:
        reasons = reasons + tuple(
            f"segment {r.segment_label}: {r.check} flagged (e-BH discovery at FDR "
            f"{segments.alpha:g}; on_fail: {segments.on_fail})"
            for r in failed
            if segments.on_fail == "flag"
        )
    return dataclasses.replace(
        verdict,
        decision=decision,
        reasons=reasons,
        rollout=rollout,
        selection={**sel, "by": list(names)},
        segments=segments,
        forecast=() if decision == "STOP" else verdict.forecast,
    )
