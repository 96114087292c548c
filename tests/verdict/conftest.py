"""Stores with generated scenarios, built once per test module."""

from __future__ import annotations

import pyarrow as pa
import pytest

from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces

LARGE = {"n_requests": 120_000, "canary_share": 0.25}


@pytest.fixture(scope="session")
def scenario_tables() -> dict[str, pa.Table]:
    tables = {
        name: generate_traces(name, seed=21, model=name, **LARGE)
        for name in (
            "identical",
            "error_regression",
            "latency_tail",
            "auc_drop",
            "fairness_regression",
        )
    }
    tables["shadow"] = generate_traces("shadow", n_requests=40_000, seed=22, model="shadow")
    tables["too_little_data"] = generate_traces("too_little_data", seed=23, model="tiny")
    tables["sample_ratio"] = generate_traces(
        "sample_ratio", n_requests=200_000, seed=24, canary_share=0.05, model="srm"
    )
    return tables


@pytest.fixture
def store_of(scenario_tables):
    opened = []

    def make(name: str) -> TraceStore:
        store = TraceStore()
        store.ingest(scenario_tables[name])
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
