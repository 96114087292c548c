"""Late labels joined to stored traces by request_id (and arm)."""

from __future__ import annotations

import pandas as pd
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces, split_late_labels
from tests.conftest import file_digest


def test_shadow_labels_apply_to_both_arms(tmp_path):
    full = generate_traces("shadow", n_requests=500, seed=4)
    traces, labels = split_late_labels(full)
    with TraceStore() as store:
        store.ingest(traces)
        report = store.ingest_labels(labels)
        assert report.rows_updated == 1000
        assert report.labels_read == 500
        got = store.select(columns=["request_id", "arm", "label"]).to_pandas()
    expected = full.select(["request_id", "arm", "label"]).to_pandas()
    merged = got.merge(expected, on=["request_id", "arm"], suffixes=("", "_true"))
    assert (merged["label"] == merged["label_true"]).all()


def _store_with_unlabelled(n: int = 10) -> TraceStore:
    full = generate_traces("identical", n_requests=n, seed=9)
    traces, _ = split_late_labels(full)
    store = TraceStore()
    store.ingest(traces)
    return store


def test_labels_by_request_and_arm_from_csv(tmp_path):
    store = _store_with_unlabelled()
    rows = store.select(columns=["request_id", "arm"]).to_pandas()
    labels = rows.assign(label=[i % 2 for i in range(len(rows))])
    path = tmp_path / "labels.csv"
    labels.to_csv(path, index=False)
    assert store.ingest_labels(str(path)).rows_updated == len(rows)
    assert store.select(columns=["label"]).column("label").null_count == 0
    # re-sending the same labels changes nothing and is not an error
    again = store.ingest_labels(str(path))
    assert (again.rows_updated, again.rows_unchanged) == (0, len(rows))


def test_conflicting_label_is_rejected_and_store_unchanged(tmp_path):
    db = tmp_path / "s.duckdb"
    full = generate_traces("identical", n_requests=20, seed=9)
    with TraceStore(db) as store:
        store.ingest(full)
    before = file_digest(db)
    flipped = full.select(["request_id", "label"]).to_pandas()
    flipped["label"] = ~flipped["label"].astype(bool)
    with (
        TraceStore(db) as store,
        pytest.raises(InvalidInputError, match="differs from the label already stored") as caught,
    ):
        store.ingest_labels(flipped)
    assert file_digest(db) == before
    # counted and named by the label file's rows (README walk-through: the stored rows were
    # counted, twice per request without an arm, and the same request_id repeated)
    labelled = int(full["label"].is_valid().to_numpy(zero_copy_only=False).sum())
    assert "column label: differs from the label already stored" in str(caught.value)
    assert f"({labelled} rows, first: row 1, 2, 3" in str(caught.value)


def test_unknown_requests_rejected_or_skipped():
    store = _store_with_unlabelled()
    labels = pd.DataFrame({"request_id": ["nope-1", "nope-2"], "label": [True, False]})
    with pytest.raises(InvalidInputError, match=r"must match a stored trace \(2 labels match none"):
        store.ingest_labels(labels)
    assert store.ingest_labels(labels, on_unknown="skip").labels_unknown == 2


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"request_id": ["a"]}), "missing required column"),
        (
            pd.DataFrame({"request_id": ["a"], "label": ["perhaps"]}),
            "column label: must be boolean",
        ),
        (
            pd.DataFrame({"request_id": [""], "label": [True]}),
            "column request_id: must be a non-empty",
        ),
        (
            pd.DataFrame({"request_id": ["a"], "arm": ["blue"], "label": [True]}),
            "column arm: must be one of",
        ),
        (
            pd.DataFrame({"request_id": ["a", "a"], "label": [True, False]}),
            "must be unique in a label ingest",
        ),
    ],
)
def test_label_rules(frame, message):
    store = _store_with_unlabelled()
    with pytest.raises(InvalidInputError, match=message):
        store.ingest_labels(frame)
