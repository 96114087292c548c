"""The sample generator: deterministic, contract-valid, and each scenario does what it says."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest
from sklearn.metrics import roc_auc_score

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import SCENARIOS, generate_traces


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_is_deterministic_and_valid(scenario):
    a = generate_traces(scenario, n_requests=2000, seed=3)
    assert a.equals(generate_traces(scenario, n_requests=2000, seed=3))
    assert not a.equals(generate_traces(scenario, n_requests=2000, seed=4))
    with TraceStore() as store:
        assert store.ingest(a).rows_ingested == a.num_rows


def _by_arm(scenario: str, n: int = 200_000, **kw):
    df = generate_traces(scenario, n_requests=n, seed=1, canary_share=0.5, **kw).to_pandas()
    return df[df.arm == "control"], df[df.arm != "control"]


def test_error_regression_triples_error_rate():
    c, t = _by_arm("error_regression")
    assert t.error.mean() / c.error.mean() == pytest.approx(3.0, rel=0.2)


def test_latency_tail_moves_p99_not_p95():
    c, t = _by_arm("latency_tail")
    q = lambda d, p: np.nanquantile(d.latency_ms, p)  # noqa: E731
    assert q(t, 0.99) / q(c, 0.99) > 1.3
    assert q(t, 0.95) / q(c, 0.95) < 1.08


def test_auc_drop_lowers_candidate_auc():
    c, t = _by_arm("auc_drop")
    assert roc_auc_score(c.label, c.score) == pytest.approx(0.80, abs=0.01)
    assert roc_auc_score(t.label, t.score) == pytest.approx(0.75, abs=0.01)


def test_fairness_regression_widens_group_c_selection_gap():
    c, t = _by_arm("fairness_regression")
    gap = lambda d: d.groupby("group").score.apply(lambda s: (s >= 0.5).mean())  # noqa: E731
    assert (gap(t).max() - gap(t).min()) - (gap(c).max() - gap(c).min()) > 0.15


def test_shadow_pairs_requests_with_correlated_scores():
    table = generate_traces("shadow", n_requests=5000, seed=2)
    df = table.to_pandas()
    c = df[df.arm == "control"].set_index("request_id")
    s = df[df.arm == "shadow"].set_index("request_id").loc[c.index]
    assert (c.label.values == s.label.values).all()
    assert (c.ts.values == s.ts.values).all()
    agreement = ((c.score >= 0.5) == (s.score >= 0.5)).mean()
    assert 0.985 < agreement < 1.0


def test_sample_ratio_scenario_under_delivers_canary_traffic():
    table = generate_traces("sample_ratio", n_requests=100_000, seed=2, canary_share=0.05)
    share = pc.sum(pc.equal(table.column("arm"), "canary")).as_py() / table.num_rows
    assert share == pytest.approx(0.04, abs=0.003)


def test_bad_arguments_are_rejected():
    with pytest.raises(InvalidInputError, match="scenario"):
        generate_traces("nope")
    with pytest.raises(InvalidInputError, match="canary_share"):
        generate_traces(canary_share=1.5)
