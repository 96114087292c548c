"""The summary passes give exactly what they gave before issue 15, and what plain SQL gives.

Two references on generated data (several models, shadow mode, NULL labels and scores, a
latency of 0, an empty arm, time windows and a control window):

* the frozen pre-issue-15 implementation (``_summaries_v1.py``: one ``GROUPING SETS`` pass,
  one per-arm digest pass): every field, the data digest included, must be identical;
* one straightforward query per statistic (``GROUP BY`` over the selected rows, no buckets).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.traces.rank_values import order_statistics
from canarykit.traces.summaries import Selection, SummaryPlan, summarize
from canarykit.traces.summary_passes import FINE_FACTOR, latency_key_sql

_spec = importlib.util.spec_from_file_location(
    "canarykit_summaries_v1", Path(__file__).with_name("_summaries_v1.py")
)
assert _spec is not None
assert _spec.loader is not None
v1 = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = v1
_spec.loader.exec_module(v1)

FEATURES = (("group",), ("group", "region"))


def _ranks(n_control: int, n_candidate: int):
    def grid(n: int) -> list[int]:
        return sorted(
            {r for r in (1, 2, n // 3, n // 2, int(0.95 * n), int(0.99 * n), n) if 1 <= r <= n}
        )

    return grid(n_control), grid(n_candidate)


def _punch(table: pa.Table, seed: int) -> pa.Table:
    """NULL some labels and scores, a few latencies to 0 and NULL (errors keep their rules)."""
    rng = np.random.default_rng(seed)
    n = table.num_rows
    label = np.array(table.column("label").to_pylist(), dtype=object)
    label[rng.random(n) < 0.3] = None
    score = np.array(table.column("score").to_pylist(), dtype=object)
    score[rng.random(n) < 0.05] = None
    latency = np.array(table.column("latency_ms").to_pylist(), dtype=object)
    latency[rng.random(n) < 0.01] = 0.0
    table = table.set_column(
        table.schema.get_field_index("label"), "label", pa.array(list(label), pa.bool_())
    )
    table = table.set_column(
        table.schema.get_field_index("score"), "score", pa.array(list(score), pa.float64())
    )
    return table.set_column(
        table.schema.get_field_index("latency_ms"),
        "latency_ms",
        pa.array(list(latency), pa.float64()),
    )


@pytest.fixture(scope="module")
def store():
    with TraceStore() as s:
        s.ingest(
            _punch(generate_traces("latency_tail", n_requests=20_000, canary_share=0.2, seed=3), 1)
        )
        other = generate_traces("identical", n_requests=8_000, canary_share=0.5, seed=4)
        other = other.set_column(
            other.schema.get_field_index("model"), "model", pa.array(["other"] * other.num_rows)
        )
        s.ingest(_punch(other, 2))
        shadow = generate_traces("shadow", n_requests=6_000, seed=5, model="shadowed")
        s.ingest(_punch(shadow, 3))
        yield s


SELECTIONS = {
    "canary": Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary"),
    "window": Selection(
        model="risk-default",
        baseline="v2.2.4",
        candidate="v2.3.0",
        mode="canary",
        since="2026-01-01T00:05:00",
        until="2026-01-01T00:20:00.5",
    ),
    "control window": Selection(
        model="risk-default",
        baseline="v2.2.4",
        candidate="v2.3.0",
        mode="canary",
        since="2026-01-01T00:15:00",
        until="2026-01-01T00:30:00",
        control_window=("2026-01-01T00:00:00", "2026-01-01T00:15:00"),
    ),
    "other model": Selection(model="other", baseline="v2.2.4", candidate="v2.3.0", mode="canary"),
    "empty candidate": Selection(
        model="risk-default", baseline="v2.2.4", candidate="v9", mode="canary"
    ),
    "empty window": Selection(
        model="risk-default",
        baseline="v2.2.4",
        candidate="v2.3.0",
        mode="canary",
        since="2027-01-01T00:00:00",
    ),
    "shadow": Selection(model="shadowed", baseline="v2.2.4", candidate="v2.3.0", mode="shadow"),
}


def _plain(value):
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.tolist())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _arm_fields(arm) -> dict:
    out = {}
    for f in dataclasses.fields(arm):
        value = getattr(arm, f.name)
        if f.name == "confusion":  # row order of a GROUP BY is unspecified: compare as multisets
            value = {
                fs: sorted(
                    zip(c["groups"], c["label"], c["decision"], c["count"], strict=True),
                    key=repr,
                )
                for fs, c in value.items()
            }
        out[f.name] = _plain(value)
    return out


@pytest.mark.parametrize("name", sorted(SELECTIONS))
@pytest.mark.parametrize("features", [(), FEATURES])
def test_new_passes_equal_the_previous_implementation(store, name, features):
    selection = SELECTIONS[name]
    plan = SummaryPlan(feature_sets=features, ranks_for=_ranks)
    got = summarize(store, selection, plan)
    want = v1.summarize(store, v1.Selection(**dataclasses.asdict(selection)), _v1_plan(plan))
    assert got.data_digest == want.data_digest
    assert got.missing_columns == want.missing_columns
    for role in ("control", "candidate"):
        assert _arm_fields(getattr(got, role)) == _arm_fields(getattr(want, role)), role
    if want.paired is None:
        assert got.paired is None
    else:
        assert _paired_fields(got.paired) == _paired_fields(want.paired)
        for name in ("sum_diff", "sum_sq_diff"):
            got_sum, want_sum = getattr(got.paired, name), getattr(want.paired, name)
            assert got_sum == pytest.approx(want_sum, rel=1e-12, abs=1e-12), name


def _paired_fields(paired) -> dict:
    """The paired summary with its joint table as a multiset (GROUP BY order is unspecified)."""
    out = _plain(dataclasses.asdict(paired))
    joint = zip(
        paired.bin_control.tolist(),
        paired.bin_candidate.tolist(),
        paired.label.tolist(),
        paired.count.tolist(),
        strict=True,
    )
    for name in ("bin_control", "bin_candidate", "label", "count"):
        del out[name]
    out["joint"] = sorted(joint)
    # float sums over rows DuckDB adds in parallel threads: compared apart, to 1e-12
    for name in ("sum_diff", "sum_sq_diff"):
        del out[name]
    return out


def _v1_plan(plan: SummaryPlan):
    return v1.SummaryPlan(**{f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)})


def test_order_statistics_from_range_predicates_match_a_full_sort(store):
    """Many and few ranks, NULL and zero latencies: the range predicate drops no value."""
    con = store.connection
    for selection in SELECTIONS.values():
        for arm in ("control", selection.candidate_arm):
            where, params = selection.arm_where(arm)
            values = np.sort(
                np.asarray(
                    [
                        r[0]
                        for r in con.execute(
                            f"SELECT latency_ms FROM traces WHERE {where} "
                            "AND latency_ms IS NOT NULL",
                            params,
                        ).fetchall()
                    ],
                    dtype=np.float64,
                )
            )
            if not values.size:
                continue
            for factor in (1, FINE_FACTOR):
                buckets = dict(
                    con.execute(
                        f"SELECT {latency_key_sql(factor)} AS k, count(*) FROM traces "
                        f"WHERE {where} AND latency_ms IS NOT NULL GROUP BY k",
                        params,
                    ).fetchall()
                )
                for ranks in (
                    np.arange(1, values.size + 1),
                    np.array([1]),
                    np.array([values.size]),
                    np.unique(np.linspace(1, values.size, 7).astype(np.int64)),
                ):
                    got = order_statistics(con, selection, arm, ranks, buckets, factor=factor)
                    np.testing.assert_array_equal(got, values[ranks - 1])
                    known = order_statistics(
                        con,
                        selection,
                        arm,
                        ranks,
                        buckets,
                        factor=factor,
                        minimum=float(values[0]),
                        maximum=float(values[-1]),
                    )
                    np.testing.assert_array_equal(known, values[ranks - 1])


def test_summaries_match_straightforward_queries(store):
    con = store.connection
    for name, selection in SELECTIONS.items():
        s = summarize(store, selection, SummaryPlan(feature_sets=FEATURES, n_bins=100))
        for arm, summary in (("control", s.control), (selection.candidate_arm, s.candidate)):
            where, params = selection.arm_where(arm)
            n, errors, n_lat, scored, labelled, start, end = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE error), count(latency_ms), count(score), "
                "count(*) FILTER (WHERE score IS NOT NULL AND label IS NOT NULL), min(ts), max(ts) "
                f"FROM traces WHERE {where}",
                params,
            ).fetchall()[0]
            assert (summary.n, summary.errors, summary.n_latency) == (n, errors, n_lat), name
            assert (summary.scored, summary.labelled) == (scored, labelled), name
            assert (summary.start, summary.end) == (start, end), name
            hist = np.zeros(100, np.int64)
            pos = np.zeros(100, np.int64)
            for score, label in con.execute(
                f"SELECT score, label FROM traces WHERE {where}", params
            ).fetchall():
                if score is None:  # a row without a score is in no histogram
                    continue
                b = min(int(np.floor(score * 100)), 99)
                hist[b] += 1
                pos[b] += label is True
            np.testing.assert_array_equal(summary.scores, hist)
            assert int(summary.scores.sum()) == summary.scored, name
            np.testing.assert_array_equal(summary.positives, pos)
            rows = con.execute(
                f'SELECT "group", label, score >= 0.5, count(*) FROM traces WHERE {where} '
                "AND score IS NOT NULL AND label IS NOT NULL GROUP BY ALL",
                params,
            ).fetchall()
            cells = summary.confusion[("group",)]
            got = sorted(
                zip(
                    (g[0] for g in cells["groups"]),
                    cells["label"],
                    cells["decision"],
                    cells["count"],
                    strict=True,
                )
            )
            assert got == sorted(rows), name


def test_digest_unchanged_by_row_order_and_changed_by_a_label(store):
    sel = SELECTIONS["canary"]
    table = store.select(
        None
    )  # every row, both arms and other models: re-ingest in reverse order into a new store
    with TraceStore() as again:
        again.ingest(table.take(pa.array(np.arange(table.num_rows)[::-1])))
        assert summarize(again, sel, SummaryPlan()).data_digest == (
            summarize(store, sel, SummaryPlan()).data_digest
        )
        first = again.connection.execute(
            "SELECT request_id FROM traces WHERE model = 'risk-default' AND label IS NULL LIMIT 1"
        ).fetchall()[0][0]
        before = summarize(again, sel, SummaryPlan()).data_digest
        again.connection.execute(
            "UPDATE traces SET label = true WHERE request_id = ? AND model = 'risk-default'",
            [first],
        )
        assert summarize(again, sel, SummaryPlan()).data_digest != before
    assert pc.sum(pc.is_null(table.column("label"))).as_py() > 0
