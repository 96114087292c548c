"""The summaries as a versioned document (``canarykit.summaries/1``): JSON and Arrow.

:func:`to_dict` / :func:`from_dict` map :class:`~canarykit.traces.summaries.Summaries` to plain
JSON values and back, exactly (floats round-trip through JSON's shortest repr; histograms are
sparse; the paired joint table is sorted by its bins and label, so equal summaries give equal
documents whatever order an engine returned the cells in). :func:`to_arrow` / :func:`from_arrow` hold the same document in a one-row Arrow table
whose columns are the document's top-level fields (nested as structs and lists), for engines
that speak Arrow rather than JSON. Every field is checked on reading; a bad one raises
:class:`~canarykit.errors.InvalidInputError` naming its path (``arms.control.n``).

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.traces.summaries import Selection, SummaryPlan, summarize
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=500, seed=1))
>>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")
>>> s = summarize(store, sel, SummaryPlan(n_bins=100))
>>> doc = to_dict(s)
>>> doc["schema"], doc["arms"]["control"]["n"] + doc["arms"]["candidate"]["n"]
('canarykit.summaries/1', 500)
>>> to_dict(from_dict(doc)) == doc == to_dict(from_arrow(to_arrow(s)))
True
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.traces.summaries import (
    ArmSummary,
    PairedSummary,
    Selection,
    Summaries,
    SummaryPlan,
)

__all__ = ["SCHEMA", "from_arrow", "from_dict", "to_arrow", "to_dict"]

SCHEMA = "canarykit.summaries/1"


def _sparse(a: npt.NDArray[np.int64]) -> dict[str, Any]:
    nz = np.flatnonzero(a)
    return {"size": int(a.size), "index": nz.tolist(), "count": a[nz].tolist()}


def _moment(v: dt.datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def _arm_dict(a: ArmSummary) -> dict[str, Any]:
    return {
        "arm": a.arm,
        "n": a.n,
        "errors": a.errors,
        "n_latency": a.n_latency,
        "scored": a.scored,
        "labelled": a.labelled,
        "start": _moment(a.start),
        "end": _moment(a.end),
        "latency_order_statistics": {
            "ranks": [int(r) for r in a.latency_ranks],
            "values": [float(v) for v in a.latency_values],
        },
        "latency_buckets": {
            "keys": [int(k) for k in a.latency_buckets],
            "counts": [int(c) for c in a.latency_buckets.values()],
        },
        "scores": _sparse(a.scores),
        "positives": _sparse(a.positives),
        "negatives": _sparse(a.negatives),
        "confusion": [
            {
                "features": list(fs),
                "groups": [list(g) for g in cells["groups"]],
                "label": [bool(v) for v in cells["label"]],
                "decision": [bool(v) for v in cells["decision"]],
                "count": [int(v) for v in cells["count"]],
            }
            for fs, cells in a.confusion.items()
        ],
    }


def to_dict(s: Summaries, *, engine: dict[str, str] | None = None) -> dict[str, Any]:
    """The document of ``s`` (JSON-ready; ``engine`` names what computed it)."""
    sel, plan = s.selection, s.plan
    paired = None
    if s.paired is not None:
        p = s.paired
        # canonical order (an engine's GROUP BY returns the joint table in any order)
        order = np.lexsort((p.label, p.bin_candidate, p.bin_control))
        paired = {
            "n_pairs": p.n_pairs,
            "agreement": p.agreement.astype(np.int64).tolist(),
            "sum_diff": float(p.sum_diff),
            "sum_sq_diff": float(p.sum_sq_diff),
            "bin_control": p.bin_control[order].tolist(),
            "bin_candidate": p.bin_candidate[order].tolist(),
            "label": p.label[order].astype(bool).tolist(),
            "count": p.count[order].tolist(),
        }
    return {
        "schema": SCHEMA,
        "engine": dict(engine or {"name": "duckdb"}),
        "selection": {
            "model": sel.model,
            "baseline": sel.baseline,
            "candidate": sel.candidate,
            "mode": sel.mode,
            "since": sel.since,
            "until": sel.until,
            "control_window": list(sel.control_window) if sel.control_window else None,
        },
        "plan": {
            "n_bins": plan.n_bins,
            "paired_n_bins": plan.paired_n_bins,
            "decision_threshold": plan.decision_threshold,
            "feature_sets": [list(fs) for fs in plan.feature_sets],
        },
        "data_digest": s.data_digest,
        "missing_columns": list(s.missing_columns),
        "arms": {"control": _arm_dict(s.control), "candidate": _arm_dict(s.candidate)},
        "paired": paired,
    }


class _Reader:
    """Typed access to one object of the document; errors name the field's path."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise InvalidInputError(f"summaries.{path}: must be an object")
        self.data, self.path = data, path

    def fail(self, key: str, rule: str) -> InvalidInputError:
        return InvalidInputError(f"summaries.{self.path}.{key}: {rule}")

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "missing")
        return self.data[key]

    def count(self, key: str) -> int:
        v = self.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.fail(key, f"must be a non-negative integer, got {v!r}")
        return v

    def text(self, key: str, *, nullable: bool = False) -> Any:
        v = self.get(key)
        if (v is None and nullable) or isinstance(v, str):
            return v
        raise self.fail(key, f"must be a string, got {v!r}")

    def ints(self, key: str, data: Any = None) -> npt.NDArray[np.int64]:
        v = self.get(key) if data is None else data
        if not isinstance(v, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in v):
            raise self.fail(key, "must be a list of integers")
        return np.asarray(v, dtype=np.int64).reshape(-1)

    def child(self, key: str) -> _Reader:
        return _Reader(self.get(key), f"{self.path}.{key}")

    def dense(self, key: str) -> npt.NDArray[np.int64]:
        r = self.child(key)
        out = np.zeros(r.count("size"), np.int64)
        index, counts = r.ints("index"), r.ints("count")
        if index.size != counts.size or (
            index.size and (index.min() < 0 or index.max() >= out.size)
        ):
            raise self.fail(key, "index and count must have one entry per bin within size")
        out[index] = counts
        return out


def _arm(r: _Reader) -> ArmSummary:
    stats, buckets = r.child("latency_order_statistics"), r.child("latency_buckets")
    ranks = stats.ints("ranks")
    values = np.asarray(stats.get("values"), dtype=np.float64).reshape(-1)
    if values.size != ranks.size:
        raise stats.fail("values", "must have one value per rank")
    keys, counts = buckets.ints("keys"), buckets.ints("counts")
    if keys.size != counts.size:
        raise buckets.fail("counts", "must have one count per key")
    confusion: dict[tuple[str, ...], dict[str, Any]] = {}
    for i, entry in enumerate(r.get("confusion")):
        e = _Reader(entry, f"{r.path}.confusion[{i}]")
        confusion[tuple(str(f) for f in e.get("features"))] = {
            "groups": [tuple(None if g is None else str(g) for g in gs) for gs in e.get("groups")],
            "label": [bool(v) for v in e.get("label")],
            "decision": [bool(v) for v in e.get("decision")],
            "count": [int(v) for v in e.ints("count")],
        }

    def moment(key: str) -> dt.datetime | None:
        v = r.text(key, nullable=True)
        return None if v is None else dt.datetime.fromisoformat(v)

    return ArmSummary(
        arm=r.text("arm"),
        n=r.count("n"),
        errors=r.count("errors"),
        n_latency=r.count("n_latency"),
        scored=r.count("scored"),
        labelled=r.count("labelled"),
        start=moment("start"),
        end=moment("end"),
        latency_ranks=ranks,
        latency_values=values,
        latency_buckets={int(k): int(c) for k, c in zip(keys, counts, strict=True)},
        positives=r.dense("positives"),
        negatives=r.dense("negatives"),
        scores=r.dense("scores"),
        confusion=confusion,
    )


def from_dict(data: Any) -> Summaries:
    """Read a ``canarykit.summaries/1`` document (see the module docstring)."""
    doc = _Reader(data, "document")
    if data.get("schema") != SCHEMA:
        raise InvalidInputError(
            f"summaries.schema: expected {SCHEMA!r}, got {str(data.get('schema'))[:40]!r}"
        )
    sel, plan, arms = doc.child("selection"), doc.child("plan"), doc.child("arms")
    mode = sel.text("mode")
    if mode not in ("canary", "shadow"):
        raise sel.fail("mode", f"must be canary or shadow, got {mode!r}")
    window = sel.get("control_window")
    selection = Selection(
        model=sel.text("model"),
        baseline=sel.text("baseline"),
        candidate=sel.text("candidate"),
        mode=mode,
        since=sel.text("since", nullable=True),
        until=sel.text("until", nullable=True),
        control_window=(str(window[0]), str(window[1])) if window else None,
    )
    summary_plan = SummaryPlan(
        n_bins=plan.count("n_bins"),
        paired_n_bins=plan.count("paired_n_bins"),
        decision_threshold=float(plan.get("decision_threshold")),
        feature_sets=tuple(tuple(str(f) for f in fs) for fs in plan.get("feature_sets")),
    )
    paired = None
    if data.get("paired") is not None:
        p = doc.child("paired")
        agreement = np.asarray(p.get("agreement"), dtype=np.int64)
        if agreement.shape != (2, 2):
            raise p.fail("agreement", "must be a 2×2 table [control decision][shadow decision]")
        paired = PairedSummary(
            n_pairs=p.count("n_pairs"),
            agreement=agreement,
            sum_diff=float(p.get("sum_diff")),
            sum_sq_diff=float(p.get("sum_sq_diff")),
            bin_control=p.ints("bin_control"),
            bin_candidate=p.ints("bin_candidate"),
            label=np.asarray(p.get("label"), dtype=bool).reshape(-1),
            count=p.ints("count"),
        )
    return Summaries(
        selection=selection,
        plan=summary_plan,
        control=_arm(arms.child("control")),
        candidate=_arm(arms.child("candidate")),
        data_digest=doc.text("data_digest"),
        paired=paired,
        missing_columns=tuple(str(c) for c in doc.get("missing_columns")),
    )


def to_arrow(s: Summaries, *, engine: dict[str, str] | None = None) -> Any:
    """The document as a one-row ``pyarrow.Table`` (columns: the top-level fields)."""
    import pyarrow as pa

    return pa.Table.from_pylist([to_dict(s, engine=engine)])


def from_arrow(table: Any) -> Summaries:
    """Read the document from :func:`to_arrow`'s table (one row)."""
    rows = table.to_pylist()
    if len(rows) != 1:
        raise InvalidInputError(f"summaries: an Arrow document has one row, got {len(rows)}")
    return from_dict(rows[0])
