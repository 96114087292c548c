"""Compute the summaries document of a source with either engine (``canarykit summarize``).

The producer half of :mod:`canarykit.summaries`, for when the rows and the verdict are in
different places: a job next to the data computes the document (DuckDB, or Spark on the
cluster), ships only it, and ``canarykit evaluate-summaries`` turns it into the verdict
elsewhere — equal to evaluating the rows directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from canarykit.summaries.document import to_dict
from canarykit.traces.lake import LakeFilter
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import summarize
from canarykit.traces.window import parse_utc_timestamp
from canarykit.verdict.evaluate import open_source, resolve_selection
from canarykit.verdict.from_summaries import summary_plan
from canarykit.verdict.policy import Policy, load_policy
from canarykit.verdict.verdict import default_engine

__all__ = ["summarize_source"]


def summarize_source(
    source: Any,
    policy: Policy | str | Path | None = None,
    *,
    model: str | None = None,
    baseline: str | None = None,
    candidate: str | None = None,
    since: str | None = None,
    until: str | None = None,
    split: float | None = None,
    engine: str = "duckdb",
    spark: Any = None,
) -> dict[str, Any]:
    """The ``canarykit.summaries/1`` document ``policy`` needs of ``source``'s window.

    Arguments as :func:`canarykit.verdict.evaluate.evaluate` (no rollout looks: a window).

    Examples
    --------
    >>> from canarykit.traces.generate import generate_traces
    >>> doc = summarize_source(generate_traces("identical", n_requests=2000, seed=1))
    >>> doc["schema"], doc["engine"]["name"], doc["selection"]["mode"]
    ('canarykit.summaries/1', 'duckdb', 'canary')
    """
    chosen = policy if isinstance(policy, Policy) else load_policy(policy)
    until = parse_utc_timestamp(until, name="--until") if until is not None else None
    since = parse_utc_timestamp(since, name="--since") if since is not None else None
    lake_filter = LakeFilter(model=model, since=since, until=until)
    chosen_rows = {"model": model, "baseline": baseline, "candidate": candidate}
    if engine == "spark":
        from canarykit.engines.spark import default_session, open_spark_traces

        session = spark if spark is not None else default_session()
        with open_spark_traces(session, source, lake_filter) as traces:
            store = cast(TraceStore, traces)  # the passes read only .connection
            sel = resolve_selection(store, **chosen_rows, until=until, since=since)
            found = summarize(store, sel, summary_plan(chosen, sel.mode, split))
            return to_dict(found, engine=traces.engine)
    opened = not isinstance(source, TraceStore)
    store = open_source(source, lake_filter=lake_filter)
    try:
        sel = resolve_selection(store, **chosen_rows, until=until, since=since)
        found = summarize(store, sel, summary_plan(chosen, sel.mode, split))
        return to_dict(found, engine=default_engine())
    finally:
        if opened:
            store.close()
