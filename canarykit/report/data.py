"""What the plots of a verdict need, recomputed from the traces with the verdict's selection.

A verdict stores its estimates and intervals but not the distributions behind them. The report
re-reads the same rows (model, baseline, candidate and the exclusive ``until`` bound of
``verdict.selection``) and keeps the small summaries the plots draw: latency bucket counts,
score histograms, confusion counts per group, and request/error counts per minute.

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict.evaluate import evaluate
>>> traces = generate_traces("identical", n_requests=4000, canary_share=0.25, seed=3)
>>> verdict = evaluate(traces, log=False)
>>> data = load_report_data(verdict, traces)
>>> data.summaries.control.n + data.summaries.candidate.n
4000
>>> data.data_matches, data.policy_matches
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError, shorten
from canarykit.traces.decision_log import load_policy_snapshot
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import Mode, Selection, Summaries, SummaryPlan, summarize
from canarykit.traces.timeline import ErrorTimeline, error_timeline
from canarykit.traces.window import parse_utc_timestamp
from canarykit.verdict.evaluate import open_source
from canarykit.verdict.policy import Policy, load_policy, policy_from_files
from canarykit.verdict.verdict import Verdict

__all__ = ["ReportData", "load_report_data", "selection_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    """A verdict with the summaries its plots are drawn from.

    Attributes
    ----------
    verdict : Verdict
    policy : Policy
        The policy of the verdict (its snapshot when the source holds it) — gives the
        quantile levels, tuning sizes and sensitive features of the checks.
    summaries : Summaries
        Per-arm sufficient statistics of the verdict's rows.
    timeline : ErrorTimeline
        Requests and errors per arm and time bucket.
    """

    verdict: Verdict
    policy: Policy
    summaries: Summaries
    timeline: ErrorTimeline

    @property
    def data_matches(self) -> bool:
        """Whether the re-read rows have the digest the verdict recorded."""
        return self.summaries.data_digest == self.verdict.data_digest

    @property
    def policy_matches(self) -> bool:
        """Whether the plots' thresholds come from the verdict's own policy (same digest)."""
        return self.policy.digest == self.verdict.policy_digest


def _time_of(sel: dict[str, Any], key: str) -> str | None:
    value = sel.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"verdict selection.{key}: must be an ISO-8601 time string")
    parse_utc_timestamp(value, name=f"verdict selection.{key}")
    return value


def selection_of(verdict: Verdict) -> Selection:
    """The :class:`~canarykit.traces.summaries.Selection` that reads a verdict's rows again.

    Raises
    ------
    InvalidInputError
        The verdict's mode or selection is malformed (one line, naming the field).
    """
    sel = verdict.selection
    if verdict.mode not in ("canary", "shadow"):
        raise InvalidInputError(
            f"verdict mode: must be canary or shadow, got {shorten(verdict.mode)!r}"
        )
    mode: Mode = "shadow" if verdict.mode == "shadow" else "canary"
    window = sel.get("control_window")
    if window and not (
        isinstance(window, list | tuple)
        and len(window) == 2
        and all(isinstance(t, str) for t in window)
    ):
        raise InvalidInputError("verdict selection.control_window: must be two time strings")
    if window:
        for t in window:
            parse_utc_timestamp(t, name="verdict selection.control_window")
    return Selection(
        model=str(sel.get("model", verdict.model)),
        baseline=str(sel.get("baseline", verdict.baseline)),
        candidate=str(sel.get("candidate", verdict.candidate)),
        mode=mode,
        until=_time_of(sel, "until"),
        since=_time_of(sel, "since"),
        control_window=tuple(window) if window else None,
    )


def _policy_for(verdict: Verdict, store: TraceStore, policy: Policy | str | Path | None) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if policy is not None:
        return load_policy(policy)
    files = load_policy_snapshot(store, verdict.policy_digest)
    if files is not None:
        return policy_from_files(files, source=f"snapshot {verdict.policy_digest}")
    return load_policy()


def load_report_data(
    verdict: Verdict,
    source: Any,
    *,
    policy: Policy | str | Path | None = None,
    bucket_minutes: float = 1.0,
) -> ReportData:
    """Recompute the summaries the plots of ``verdict`` need from ``source``.

    Parameters
    ----------
    verdict : Verdict
    source : TraceStore, path, glob, list of paths, pyarrow.Table or pandas.DataFrame
        The traces the verdict was computed from (as for :func:`~canarykit.verdict.evaluate`).
    policy : Policy or path, optional
        Default: the snapshot named by the verdict's digest when the source's decision log
        holds it, else the shipped policy.
    bucket_minutes : float, default 1
        Width of the time buckets of the error-rate timeline.

    Raises
    ------
    InvalidInputError
        The source holds no traces for the verdict's selection.
    """
    store = open_source(source)
    try:
        chosen = _policy_for(verdict, store, policy)
        selection = selection_of(verdict)
        features = tuple(
            sorted(
                {
                    c.features
                    for c in chosen.checks.values()
                    if c.kind == "fairness_gap_delta" and c.applies_to(selection.mode)
                }
            )
        )
        plan = SummaryPlan(decision_threshold=chosen.decision_threshold, feature_sets=features)
        summaries = summarize(store, selection, plan)
        if summaries.control.n + summaries.candidate.n == 0:
            raise InvalidInputError(
                f"source: no traces of {selection.model} {selection.baseline} → "
                f"{selection.candidate} ({selection.mode}) before {selection.until or 'the end'}"
            )
        timeline = error_timeline(store, selection, bucket_minutes=bucket_minutes)
    finally:
        if store is not source:
            store.close()
    return ReportData(verdict=verdict, policy=chosen, summaries=summaries, timeline=timeline)
