"""Property: any valid trace table round-trips through the store unchanged."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canarykit.traces import TraceStore

ARMS = ("control", "canary", "shadow")
BASE = dt.datetime(2020, 1, 1)


@st.composite
def trace_rows(draw: st.DrawFn) -> dict[str, object]:
    error = draw(st.booleans())
    latency = (
        draw(st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)))
        if error
        else draw(st.floats(0, 1e6, allow_nan=False, allow_infinity=False))
    )
    return {
        "ts": BASE + dt.timedelta(microseconds=draw(st.integers(0, 10**14))),
        "model": draw(st.sampled_from(["risk-default", "fraud", "ünïcode model"])),
        "version": draw(st.sampled_from(["v1", "v2.3.0", "2026-01"])),
        "latency_ms": latency,
        "error": error,
        "score": draw(st.one_of(st.none(), st.floats(0, 1, allow_nan=False))),
        "label": draw(st.one_of(st.none(), st.booleans())),
        "group": draw(st.one_of(st.none(), st.text(max_size=5))),
    }


@st.composite
def trace_tables(draw: st.DrawFn) -> pa.Table:
    keys = draw(
        st.lists(
            st.tuples(
                # the contract forbids control characters in ids
                st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12),
                st.sampled_from(ARMS),
            ),
            min_size=1,
            max_size=30,
            unique=True,
        )
    )
    rows = [draw(trace_rows()) | {"request_id": rid, "arm": arm} for rid, arm in keys]
    schema = pa.schema(
        [
            ("request_id", pa.string()),
            ("ts", pa.timestamp("us")),
            ("model", pa.string()),
            ("version", pa.string()),
            ("arm", pa.string()),
            ("latency_ms", pa.float64()),
            ("error", pa.bool_()),
            ("score", pa.float64()),
            ("label", pa.bool_()),
            ("group", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _canonical(table: pa.Table) -> list[dict[str, object]]:
    names = [
        "request_id",
        "ts",
        "model",
        "version",
        "arm",
        "latency_ms",
        "error",
        "score",
        "label",
        "group",
    ]
    return sorted(table.select(names).to_pylist(), key=lambda r: (r["request_id"], r["arm"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=trace_tables())
def test_valid_table_round_trips_unchanged(table):
    with TraceStore() as store:
        store.ingest(table)
        assert _canonical(store.select()) == _canonical(table)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(table=trace_tables())
def test_parquet_file_round_trips_unchanged(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("rt") / "t.parquet"
    pq.write_table(table, path)
    with TraceStore() as store:
        store.ingest(str(path))
        assert _canonical(store.select()) == _canonical(table)
