"""Fixtures of the report tests: small seeded canaries, their verdicts and plot summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pytest

from canarykit.report.data import ReportData, load_report_data
from canarykit.traces.generate import generate_traces
from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.verdict import Verdict


@dataclass
class Case:
    traces: pa.Table
    verdict: Verdict
    data: ReportData


def make_case(scenario: str, **kwargs: Any) -> Case:
    options = {"n_requests": 12_000, "canary_share": 0.25, "seed": 7, **kwargs}
    traces = generate_traces(scenario, **options)
    verdict = evaluate(traces, log=False)
    return Case(traces=traces, verdict=verdict, data=load_report_data(verdict, traces))


@pytest.fixture(scope="session")
def fairness_case() -> Case:
    """A canary whose candidate widens the selection-rate gap (group C) and loses AUC."""
    return make_case("fairness_regression")


@pytest.fixture(scope="session")
def tail_case() -> Case:
    """A canary with a slow path on 1 % of requests (p99 grows, p95 barely moves)."""
    return make_case("latency_tail")


@pytest.fixture(scope="session")
def script_case() -> Case:
    """A canary whose model name is an HTML script element."""
    return make_case("identical", n_requests=4_000, model="<script>alert(1)</script>")
