"""Deterministic generator of realistic request traces for the scenarios canarykit must handle.

Every table follows the trace contract (DESIGN.md §3) plus two segment columns, ``group`` (the
default policy's sensitive feature) and ``region``. Generation is vectorised and seeded: the
same arguments always give the same table, bit for bit.

Scenarios (:data:`SCENARIOS`) and what the candidate does differently from control:

===================== =====================================================================
``identical``         nothing (an A/A canary)
``error_regression``  error probability × ``error_factor`` (default 3: 0.2 % → 0.6 %)
``latency_tail``      a slow path on ``tail_share`` (1 %) of requests, × ``tail_factor`` (8):
                      p99 grows by ≈ 40 % while p95 moves ≈ 5 %
``latency_shift``     every latency × 1.10
``auc_drop``          weaker score signal: AUC ≈ 0.80 → ≈ 0.75
``fairness_regression`` scores of negatives in group ``C`` shifted up: FPR and selection-rate
                      gaps grow by ≈ 0.2
``shadow``            shadow mode: the same requests scored by both models (``arm`` control and
                      shadow share ``request_id``, ``ts`` and ``label``); scores correlated
``too_little_data``   as ``identical`` but with 300 requests in all
``sample_ratio``      the canary receives 80 % of its planned share (a traffic-split bug)
===================== =====================================================================

Baseline model (both arms unless the scenario says otherwise): latency lognormal with median
``latency_median_ms`` (40 ms) and log-sd 0.5 (p95 ≈ 91 ms, p99 ≈ 128 ms); error probability
``error_rate`` (0.2 %), 30 % of failed requests without a latency; label prevalence 0.20/0.25/0.30
in groups A/B/C (shares 0.5/0.3/0.2); score = logistic(−1.5 + d·label + noise) with d giving
AUC ≈ 0.80.

Examples
--------
>>> t = generate_traces("identical", n_requests=1000, seed=1)
>>> t.num_rows, sorted(set(t.column("arm").to_pylist()))
(1000, ['canary', 'control'])
>>> generate_traces("identical", n_requests=1000, seed=1).equals(t)
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit, ndtri

from canarykit.errors import InvalidInputError

__all__ = ["SCENARIOS", "TraceScenario", "generate_traces", "split_late_labels"]

MODEL = "risk-default"
CONTROL_VERSION = "v2.2.4"
CANDIDATE_VERSION = "v2.3.0"
GROUPS = np.array(["A", "B", "C"])
GROUP_SHARES = (0.5, 0.3, 0.2)
GROUP_PREVALENCE = np.array([0.20, 0.25, 0.30])
REGIONS = np.array(["north", "south"])
SEGMENT_REGIONS = np.array(
    ["us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-east", "br-south", "af-south"]
)
SEGMENT_ROUTES = np.array(["default", "beta"])
BETA_SHARE = 0.3


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceScenario:
    """Knobs of a scenario (see the module docstring); defaults are the identical canary."""

    name: str
    error_factor: float = 1.0
    latency_factor: float = 1.0
    tail_share: float = 0.0
    tail_factor: float = 1.0
    auc: float = 0.80
    fairness_shift: float = 0.0
    shadow: bool = False
    share_factor: float = 1.0
    n_requests: int | None = None


SCENARIOS: dict[str, TraceScenario] = {
    s.name: s
    for s in (
        TraceScenario(name="identical"),
        TraceScenario(name="error_regression", error_factor=3.0),
        TraceScenario(name="latency_tail", tail_share=0.01, tail_factor=8.0),
        TraceScenario(name="latency_shift", latency_factor=1.10),
        TraceScenario(name="auc_drop", auc=0.75),
        TraceScenario(name="fairness_regression", fairness_shift=1.2),
        TraceScenario(name="shadow", shadow=True),
        TraceScenario(name="too_little_data", n_requests=300),
        TraceScenario(name="sample_ratio", share_factor=0.8),
    )
}


def _separation(auc: float) -> float:
    """Mean shift d between unit normals giving ``auc`` = Φ(d/√2)."""
    return float(np.sqrt(2.0) * ndtri(auc))


def generate_traces(
    scenario: str | TraceScenario = "identical",
    *,
    n_requests: int = 20_000,
    canary_share: float = 0.05,
    seed: int = 0,
    start: str = "2026-01-01T00:00:00",
    duration_minutes: float = 30.0,
    latency_median_ms: float = 40.0,
    error_rate: float = 0.002,
    label_coverage: float = 1.0,
    model: str = MODEL,
    segments: bool = False,
    affected: dict[str, str] | None = None,
) -> pa.Table:
    """Generate a trace table for a scenario.

    Parameters
    ----------
    scenario : str or TraceScenario
        A name from :data:`SCENARIOS` or custom knobs.
    n_requests : int
        Requests served in the window (the scenario may override it). In shadow mode every
        request yields two rows (control and shadow).
    canary_share : float
        Share of traffic on the canary, in [0, 1] (0: control only, as before a rollout;
        1: the 100 % step); ignored in shadow mode.
    seed : int
        Seed of the ``numpy`` PCG64 generator.
    start, duration_minutes
        Window of the request timestamps (UTC, naive).
    latency_median_ms, error_rate
        Baseline latency median and error probability.
    label_coverage : float
        Share of rows whose label has matured (others have NULL labels).
    model : str
        Value of the ``model`` column (control is ``v2.2.4``, the candidate ``v2.3.0``).
    segments : bool
        Replace ``region`` by eight regions (:data:`SEGMENT_REGIONS`, equal shares) and add a
        ``route`` column (``beta`` on 30 % of requests), drawn from a separate random stream:
        every other column is the same as without it.
    affected : dict, optional
        Confine the scenario's regression to one segment, e.g. ``{"region": "br-south"}``
        (needs ``segments=True``); elsewhere the candidate behaves as control.

    Returns
    -------
    pyarrow.Table
        Columns ``request_id, ts, model, version, arm, latency_ms, error, score, label, group,
        region``, ordered by ``ts``.
    """
    spec = SCENARIOS.get(scenario) if isinstance(scenario, str) else scenario
    if spec is None:
        raise InvalidInputError(
            f"scenario: {scenario!r} is not one of {', '.join(sorted(SCENARIOS))}"
        )
    if not 0.0 <= canary_share <= 1.0:
        raise InvalidInputError(f"canary_share: must be in [0, 1], got {canary_share}")
    if not 0.0 <= label_coverage <= 1.0:
        raise InvalidInputError(f"label_coverage: must be in [0, 1], got {label_coverage}")
    n = int(spec.n_requests or n_requests)
    if n < 1:
        raise InvalidInputError(f"n_requests: must be >= 1, got {n}")
    rng = np.random.default_rng(seed)

    offsets = np.sort(rng.integers(0, int(duration_minutes * 60e3), size=n)) * 1000  # ms resolution
    start_us = int(dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC).timestamp() * 1e6)
    group_idx = rng.choice(len(GROUPS), size=n, p=GROUP_SHARES)
    region_idx = rng.integers(0, len(REGIONS), size=n)
    label = rng.random(n) < GROUP_PREVALENCE[group_idx]
    shared_noise = rng.standard_normal(n)

    if spec.shadow:
        candidate = np.concatenate([np.zeros(n, bool), np.ones(n, bool)])
        request = np.concatenate([np.arange(n), np.arange(n)])
        arm = np.where(candidate, "shadow", "control")
    else:
        candidate = rng.random(n) < canary_share * spec.share_factor
        request = np.arange(n)
        arm = np.where(candidate, "canary", "control")
    rows = candidate.size
    g = group_idx[request]
    y = label[request]
    seg_cols, hit = _segment_columns(n, seed, segments, affected)
    effect = candidate if hit is None else candidate & hit[request]

    # latency and errors: independent per row, candidate modified by the scenario
    latency = latency_median_ms * np.exp(0.5 * rng.standard_normal(rows))
    latency = np.where(effect, latency * spec.latency_factor, latency)
    slow = effect & (rng.random(rows) < spec.tail_share)
    latency = np.where(slow, latency * spec.tail_factor, latency)
    p_error = np.where(effect, error_rate * spec.error_factor, error_rate)
    error = rng.random(rows) < p_error
    latency = np.round(latency, 1)
    latency_valid = ~(error & (rng.random(rows) < 0.3))

    # scores: shared request-level noise (so shadow scores correlate) plus model noise
    d = np.where(effect, _separation(spec.auc), _separation(0.80))
    own_noise = rng.standard_normal(rows)
    noise = (0.9992 * shared_noise[request] + 0.04 * own_noise) if spec.shadow else own_noise
    latent = -1.5 + d * y + noise
    latent = np.where(effect & (g == 2) & ~y, latent + spec.fairness_shift, latent)
    score = np.round(expit(latent), 4)
    label_known = rng.random(n)[request] < label_coverage

    ids = pc.utf8_lpad(pa.array(request.astype(np.int64)).cast(pa.string()), 8, "0")
    prefix = f"{spec.name}-s{seed}-"
    order = np.lexsort((candidate, offsets[request]))
    table = pa.table(
        {
            "request_id": pc.binary_join_element_wise(prefix, ids, ""),
            "ts": pa.array(start_us + offsets[request], pa.int64()).cast(pa.timestamp("us")),
            "model": pa.array(np.full(rows, model)),
            "version": pa.array(np.where(candidate, CANDIDATE_VERSION, CONTROL_VERSION)),
            "arm": pa.array(arm),
            "latency_ms": pa.array(latency, mask=~latency_valid),
            "error": pa.array(error),
            "score": pa.array(score),
            "label": pa.array(y, mask=~label_known),
            "group": pa.array(GROUPS[g]),
            "region": pa.array(REGIONS[region_idx[request]]),
        }
    )
    for name, values in seg_cols.items():
        table = (
            table.set_column(table.schema.get_field_index(name), name, pa.array(values[request]))
            if name in table.column_names
            else table.append_column(name, pa.array(values[request]))
        )
    return table.take(pa.array(order))


def _segment_columns(
    n: int, seed: int, segments: bool, affected: dict[str, str] | None
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Per-request ``region``/``route`` of ``segments=True`` (own stream) and the affected mask."""
    if not segments:
        if affected:
            raise InvalidInputError("affected: needs segments=True")
        return {}, None
    seg_rng = np.random.default_rng([seed, 16])
    cols = {
        "region": SEGMENT_REGIONS[seg_rng.integers(0, len(SEGMENT_REGIONS), size=n)],
        "route": np.where(seg_rng.random(n) < BETA_SHARE, "beta", "default"),
    }
    if not affected:
        return cols, None
    hit = np.ones(n, dtype=bool)
    for name, value in affected.items():
        if name not in cols or value not in set(cols[name].tolist()):
            raise InvalidInputError(
                f"affected: {name}={value!r} is not a generated segment "
                f"(region in {', '.join(SEGMENT_REGIONS)}; route in default, beta)"
            )
        hit &= cols[name] == value
    return cols, hit


def split_late_labels(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Split a generated table into traces without labels and a ``(request_id, label)`` table.

    The label table holds one row per request with a known label (shadow rows share it), as a
    labelling pipeline would deliver it later.

    Examples
    --------
    >>> traces, labels = split_late_labels(generate_traces("shadow", n_requests=100, seed=2))
    >>> traces.column("label").null_count, labels.num_rows
    (200, 100)
    """
    labels = table.select(["request_id", "label"]).filter(pc.is_valid(table.column("label")))
    labels = (
        labels.group_by("request_id")
        .aggregate([("label", "min")])
        .rename_columns(["request_id", "label"])
    )
    labels = labels.sort_by("request_id")
    no_label = table.set_column(
        table.schema.get_field_index("label"), "label", pa.nulls(table.num_rows, pa.bool_())
    )
    return no_label, labels
