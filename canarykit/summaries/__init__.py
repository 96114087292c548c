"""The public, engine-neutral summaries contract: what a verdict needs, and nothing more.

A verdict never reads rows. It reads *summaries* — per arm: counts, error counts, latency,
score and label coverage, the time range; the exact latency order statistics at the ranks the
quantile confidence sequences ask for; DDSketch latency bucket counts; score histograms
(all scored rows, and positives/negatives by label) on ``plan.n_bins`` equal bins; confusion
counts per (label, decision, sensitive-feature groups); in shadow mode the paired table
(joint score bins with labels, the 2×2 decision agreement table, sums of paired score
differences). DuckDB produces them (:func:`canarykit.traces.summaries.summarize`), Spark
produces the same ones (:mod:`canarykit.engines.spark`), and anything else may:

1. ``plan = summary_plan(policy, mode)``: the bins, the decision threshold and the fairness
   feature sets the policy needs; ``requested_ranks(plan, n_latency_control,
   n_latency_candidate)`` the latency ranks (1-based ranks of the sorted non-NULL latencies);
2. compute the figures over the selected rows (``model``, ``arm``/``version`` per arm, ``ts``
   in ``[since, until)``) and write a ``canarykit.summaries/1`` document
   (:mod:`canarykit.summaries.document`: JSON or a one-row Arrow table);
3. ``evaluate_summaries(from_dict(doc), policy)`` gives the :class:`~canarykit.verdict.Verdict`.

The figures are exact (counts, extremes, order statistics); a score in bin
``min(floor(score·n_bins), n_bins − 1)``; a decision is ``score >= decision_threshold``; a
latency bucket key ``ceil(ln(latency)/ln γ)`` with ``γ = 1.01/0.99`` (``ZERO_KEY`` for 0).
``data_digest`` is the producer's digest of the rows (engine-specific: the verdict records the
engine, :data:`SCHEMA` versions the document; a new field makes ``/2``).

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.traces.summaries import summarize
>>> from canarykit.verdict.evaluate import evaluate, resolve_selection
>>> from canarykit.verdict.policy import load_policy
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=3000, seed=1))
>>> policy = load_policy()
>>> sel = resolve_selection(store, model=None, baseline=None, candidate=None, until=None)
>>> doc = to_dict(summarize(store, sel, summary_plan(policy, sel.mode)))
>>> verdict = evaluate_summaries(from_dict(doc), policy)
>>> direct = evaluate(store, log=False)
>>> [c.to_dict() for c in verdict.checks] == [c.to_dict() for c in direct.checks]
True
"""

from __future__ import annotations

from canarykit.summaries.document import SCHEMA, from_arrow, from_dict, to_arrow, to_dict
from canarykit.summaries.verdicts import evaluate_summaries, requested_ranks, summary_plan
from canarykit.traces.summaries import ArmSummary, PairedSummary, Selection, Summaries, SummaryPlan

__all__ = [
    "SCHEMA",
    "ArmSummary",
    "PairedSummary",
    "Selection",
    "Summaries",
    "SummaryPlan",
    "evaluate_summaries",
    "from_arrow",
    "from_dict",
    "requested_ranks",
    "summary_plan",
    "to_arrow",
    "to_dict",
]
