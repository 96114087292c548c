"""Monte-Carlo validation of segment verdicts over repeated looks (``make validate``).

Each replication draws one step of traffic — ``rate`` requests/s for ``window_minutes``, a
``share`` on the canary, ``regions`` × ``routes`` segments — and looks at it ``looks`` times
(cumulative windows, equally spaced). At every look the per-segment summaries of the prefix
are built with numpy (the same aggregates :func:`canarykit.traces.segment_summaries.summarize_segments`
returns: counts, errors, DDSketch bucket counts, exceedances, score histograms) and the
*production* code path :func:`canarykit.verdict.segments.segment_table` decides. Recorded per
replication: whether any look made a discovery (ever-STOP), the false discovery proportion at
the first look with a discovery (the latched STOP), and whether the affected segment was found
by the end of the step and only it (power with attribution).

Scenarios: ``aa`` (nothing differs), ``errors`` (error probability × 3 on the canary in the
affected region), ``latency`` (a slow path on 1 % of the affected region's canary requests,
× 8: p99 ≈ +40 %).

Examples
--------
>>> r = simulate_segments("aa", replications=2, looks=2, rate=20.0, seed=1)
>>> r.replications, 0.0 <= r.ever_stop <= 1.0
(2, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from canarykit.errors import InvalidInputError
from canarykit.stats.sketch import LatencySketch
from canarykit.traces.segment_summaries import (
    SEGMENT_RELATIVE_ACCURACY,
    SegmentArm,
    SegmentSummaries,
)
from canarykit.verdict.policy import Policy, load_policy
from canarykit.verdict.segments import segment_checks, segment_table

__all__ = ["SegmentSimulation", "simulate_segments"]

SCENARIOS = ("aa", "errors", "latency")
N_BINS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentSimulation:
    """Outcome of :func:`simulate_segments` (rates over replications)."""

    scenario: str
    replications: int
    looks: int
    segments: int
    hypotheses: int
    ever_stop: float
    fdr: float
    power: float
    attributed: float
    mean_look_found: float

    def se(self, rate: float) -> float:
        """Monte-Carlo standard error of a rate."""
        return math.sqrt(max(rate * (1.0 - rate), 1e-12) / self.replications)


def _draw(
    rng: np.random.Generator,
    n: int,
    *,
    regions: int,
    routes: int,
    share: float,
    scenario: str,
) -> dict[str, npt.NDArray[np.generic]]:
    region = rng.integers(0, regions, size=n)
    route = (rng.random(n) < 0.3).astype(np.int64) if routes == 2 else np.zeros(n, np.int64)
    canary = rng.random(n) < share
    hit = canary & (region == regions - 1)
    latency = np.round(40.0 * np.exp(0.5 * rng.standard_normal(n)), 1)
    if scenario == "latency":
        slow = hit & (rng.random(n) < 0.01)
        latency = np.where(slow, np.round(latency * 8.0, 1), latency)
    p_err = np.where(hit & (scenario == "errors"), 0.006, 0.002)
    error = rng.random(n) < p_err
    label = rng.random(n) < 0.25
    score = expit(-1.5 + 1.19 * label + rng.standard_normal(n))
    return {
        "segment": region * routes + route,
        "canary": canary,
        "latency": latency,
        "error": error,
        "label": label,
        "bin": np.minimum((score * N_BINS).astype(np.int64), N_BINS - 1),
    }


def _arm(
    d: dict[str, npt.NDArray[np.generic]], mask: npt.NDArray[np.bool_], thr: list[float]
) -> SegmentArm:
    lat = d["latency"][mask].astype(float)
    sketch = LatencySketch.from_values(lat, relative_accuracy=SEGMENT_RELATIVE_ACCURACY)
    label = d["label"][mask].astype(bool)
    b = d["bin"][mask].astype(np.int64)
    return SegmentArm(
        n=int(mask.sum()),
        errors=int(d["error"][mask].sum()),
        n_latency=int(lat.size),
        exceed={t: int((lat > t).sum()) for t in thr},
        keys=sketch.keys,
        counts=sketch.counts,
        zero_count=sketch.zero_count,
        positives=np.bincount(b[label], minlength=N_BINS).astype(np.int64),
        negatives=np.bincount(b[~label], minlength=N_BINS).astype(np.int64),
    )


def simulate_segments(
    scenario: str,
    *,
    replications: int = 100,
    looks: int = 6,
    regions: int = 8,
    routes: int = 2,
    by_route: bool = False,
    rate: float = 100.0,
    share: float = 0.25,
    window_minutes: float = 30.0,
    policy: Policy | None = None,
    seed: int = 0,
) -> SegmentSimulation:
    """Run the simulation (see the module docstring).

    Parameters
    ----------
    scenario : {"aa", "errors", "latency"}
    replications, looks : int
    regions, routes : int
        Segments drawn: ``regions`` equal regions × ``routes`` routes (1 or 2; ``beta`` on
        30 %). The regression, if any, is in the last region, every route.
    by_route : bool
        Segment by (region, route) intersections instead of region alone.
    rate, share, window_minutes : float
        Requests per second, canary share and length of the step.
    policy : Policy, optional
        Default: the shipped policy (its ``segments:`` defaults).
    seed : int
    """
    if scenario not in SCENARIOS:
        raise InvalidInputError(
            f"scenario: must be one of {', '.join(SCENARIOS)}, got {scenario!r}"
        )
    policy = policy or load_policy()
    specs = segment_checks(policy, "canary")
    thr = [float(s.threshold) for s in specs if s.kind == "latency_quantile"]
    n = int(rate * window_minutes * 60)
    rng = np.random.default_rng(seed)
    cuts = [round(n * (k + 1) / looks) for k in range(looks)]
    affected = {f"r{regions - 1}"} if scenario != "aa" else set()
    ever, fdp, found, attributed, when = 0, 0.0, 0, 0, []
    hypotheses = 0
    n_seg = 0
    for _ in range(replications):
        d = _draw(rng, n, regions=regions, routes=routes, share=share, scenario=scenario)
        seg_ids = d["segment"] if by_route else d["segment"] // routes
        first: int | None = None
        last_found: set[str] = set()
        for look, cut in enumerate(cuts, start=1):
            prefix = np.zeros(n, bool)
            prefix[:cut] = True
            segments = {}
            for s in np.unique(seg_ids[:cut]):
                region = int(s // routes) if by_route else int(s)
                key = (f"r{region}", f"route{int(s % routes)}") if by_route else (f"r{region}",)
                in_seg = prefix & (seg_ids == s)
                segments[key] = (
                    _arm(d, in_seg & ~d["canary"].astype(bool), thr),
                    _arm(d, in_seg & d["canary"].astype(bool), thr),
                )
            summ = SegmentSummaries(
                by=("region", "route") if by_route else ("region",),
                segments=dict(sorted(segments.items())),
                n_bins=N_BINS,
            )
            table = segment_table(policy, summ, share=share, specs=specs)
            hypotheses, n_seg = table.hypotheses, table.segments
            regions_found = {r.segment[0] for r in table.failed}
            if table.failed and first is None:
                first = look
                false = sum(1 for r in table.failed if r.segment[0] not in affected)
                fdp += false / len(table.failed)
            last_found = regions_found
        if first is not None:
            ever += 1
            when.append(first)
        if affected and affected <= last_found:
            found += 1
            attributed += int(last_found == affected)
    reps = max(replications, 1)
    return SegmentSimulation(
        scenario=scenario,
        replications=replications,
        looks=looks,
        segments=n_seg,
        hypotheses=hypotheses,
        ever_stop=ever / reps,
        fdr=fdp / reps,
        power=found / reps,
        attributed=attributed / reps,
        mean_look_found=float(np.mean(when)) if when else math.nan,
    )
