"""Monte-Carlo validation of segment verdicts over repeated looks (``make validate``).

Each replication draws one step of traffic — ``rate`` requests/s for ``window_minutes``, a
``share`` on the canary, ``regions`` × ``routes`` segments — and looks at it ``looks`` times
(cumulative windows, equally spaced); with ``steps`` it draws a sequence of steps (e.g. 5 %
then 25 %), each looked at ``looks`` times, the e-values of each step's last look carried into
the next (:meth:`~canarykit.verdict.segment_rows.SegmentVerdict.carry`, as a recorded rollout
does, :mod:`canarykit.verdict.segment_look`). At every look the per-segment summaries of the prefix
are built with numpy (the same aggregates :func:`canarykit.traces.segment_summaries.summarize_segments`
returns: counts, errors, DDSketch bucket counts, exceedances, score histograms) and the
*production* code path :func:`canarykit.verdict.segments.segment_table` decides. Recorded per
replication: whether any look made a discovery (ever-STOP), the false discovery proportion at
the first look with a discovery (the latched STOP; a discovery is false unless it is a check
whose null is false in the affected region, :data:`NON_NULL`), and whether that STOP names the
affected region (power) and only it (attribution).

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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

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
from canarykit.verdict.segment_rows import Carried
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
    steps: tuple[tuple[float, float], ...] = ()
    found_by_step: tuple[float, ...] = ()

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


NON_NULL = {"aa": (), "errors": ("error_rate_delta", "error_rate"), "latency": ("latency_p99",)}
"""Checks whose null is false in the affected region (errors ×3: 0.6 % also breaks the 0.5 %
SLO); every other (segment, check) discovery is a false one."""


@dataclass(frozen=True, slots=True)
class _Task:
    scenario: str
    looks: int
    regions: int
    routes: int
    by_route: bool
    steps: tuple[tuple[int, float], ...]  # (requests, share) per step
    policy: Policy


@dataclass(slots=True)
class _Part:
    ever: int = 0
    fdp: float = 0.0
    found: int = 0
    attributed: int = 0
    when: list[int] = field(default_factory=list)
    step_found: list[int] = field(default_factory=list)
    hypotheses: int = 0
    segments: int = 0


def _chunk(job: tuple[_Task, int, np.random.SeedSequence]) -> _Part:
    task, replications, seed = job
    rng = np.random.default_rng(seed)
    specs = segment_checks(task.policy, "canary")
    thr = [float(s.threshold) for s in specs if s.kind == "latency_quantile"]
    affected = f"r{task.regions - 1}"
    true = {(affected, c) for c in NON_NULL[task.scenario]}
    out = _Part()
    routes = task.routes
    for _ in range(replications):
        carried: Carried = ()
        look_no = 0
        stopped = False
        for step, (n, share) in enumerate(task.steps, start=1):
            d = _draw(
                rng, n, regions=task.regions, routes=routes, share=share, scenario=task.scenario
            )
            seg_ids = d["segment"] if task.by_route else d["segment"] // routes
            canary = d["canary"].astype(bool)
            cuts = [round(n * (k + 1) / task.looks) for k in range(task.looks)]
            for cut in cuts:
                look_no += 1
                prefix = np.zeros(n, bool)
                prefix[:cut] = True
                segments = {}
                for s in np.unique(seg_ids[:cut]):
                    region = int(s // routes) if task.by_route else int(s)
                    key = (
                        (f"r{region}", f"route{int(s % routes)}")
                        if task.by_route
                        else (f"r{region}",)
                    )
                    in_seg = prefix & (seg_ids == s)
                    segments[key] = (
                        _arm(d, in_seg & ~canary, thr),
                        _arm(d, in_seg & canary, thr),
                    )
                summ = SegmentSummaries(
                    by=("region", "route") if task.by_route else ("region",),
                    segments=dict(sorted(segments.items())),
                    n_bins=N_BINS,
                )
                table = segment_table(task.policy, summ, share=share, specs=specs, carried=carried)
                out.hypotheses, out.segments = table.hypotheses, table.segments
                if table.failed:  # the first look with a discovery: the (latched) STOP
                    named = {(r.segment[0], r.check) for r in table.failed}
                    out.ever += 1
                    out.when.append(look_no)
                    out.step_found.append(step)
                    out.fdp += len(named - true) / len(named)
                    regions = {r for r, _ in named}
                    if true and affected in regions:
                        out.found += 1
                        out.attributed += int(regions == {affected})
                    stopped = True
                    break
            if stopped:
                break
            carried = table.carry()
    return out


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
    workers: int = 1,
    steps: tuple[tuple[float, float], ...] | None = None,
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
    workers : int
        Processes (replications are split into seeded chunks: results depend on ``workers``).
    steps : sequence of (share, window_minutes), optional
        A sequence of rollout steps instead of the one step ``(share, window_minutes)``; each
        is looked at ``looks`` times and carries its e-values into the next. ``mean_look_found``
        then counts looks across steps, and ``found_by_step`` gives the share of replications
        that STOPped in each step.
    """
    if scenario not in SCENARIOS:
        raise InvalidInputError(
            f"scenario: must be one of {', '.join(SCENARIOS)}, got {scenario!r}"
        )
    policy = policy or load_policy()
    plan = tuple(steps) if steps is not None else ((share, window_minutes),)
    if not plan or any(not (0.0 < sh < 1.0) or w <= 0 for sh, w in plan):
        raise InvalidInputError(
            f"steps: each step needs a share in (0, 1) and a window > 0, got {plan!r}"
        )
    task = _Task(
        scenario=scenario,
        looks=looks,
        regions=regions,
        routes=routes,
        by_route=by_route,
        steps=tuple((int(rate * w * 60), float(sh)) for sh, w in plan),
        policy=policy,
    )
    workers = max(1, min(workers, replications))
    seeds = np.random.SeedSequence(seed).spawn(workers)
    sizes = [replications // workers + (i < replications % workers) for i in range(workers)]
    jobs = [(task, size, sd) for size, sd in zip(sizes, seeds, strict=True)]
    if workers == 1:
        parts = [_chunk(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_chunk, jobs))
    ever = sum(p.ever for p in parts)
    fdp = sum(p.fdp for p in parts)
    found = sum(p.found for p in parts)
    attributed = sum(p.attributed for p in parts)
    when = [w for p in parts for w in p.when]
    hypotheses = max(p.hypotheses for p in parts)
    n_seg = max(p.segments for p in parts)
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
        steps=tuple((float(sh), float(w)) for sh, w in plan),
        found_by_step=tuple(
            sum(p.step_found.count(i) for p in parts) / reps for i in range(1, len(plan) + 1)
        ),
    )


STEP_MINUTES = (45, 60, 75, 90)
"""Lengths of the longer 25 % steps at 100 requests/s in the validation (a look every 5 minutes)."""

STEP_LENGTH = (
    "How long to hold the step: at 100 requests/s the 25 % step needs about 55 minutes for "
    "power 0.8 against errors x3 and about 65 minutes against p99 +40 % (interpolated between "
    "the 45-, 60- and 75-minute rows, a look every 5 minutes); a 30-minute step gives "
    "0.45 / 0.29, a 75-minute step 0.945 / 0.925, with no false discovery in the A/A runs at "
    "90 minutes (18 looks). What counts is the traffic in the step: at 300 requests/s a "
    "30-minute step gives 0.98 / 0.95."
)
"""Practical reading of the step-length rows (seed 2026, 200 runs each)."""

INFORMATION_LIMIT = (
    "Why 0.8 is out of reach in a 30-minute step at 100 requests/s: the first discovery among"
    " m = 40 tests at FDR 0.05 needs e >= m/alpha = 800, and {e >= 800 at some look} is a "
    "test of level 1/800 (Ville), so its power is at most that of the Neyman-Pearson test at "
    "level 1/800 that knows the alternative and the nuisance and looks once, at the end (for "
    "latency: the control's p99 known, the least favourable candidate at exactly 1 % above "
    "1.10 x it; for errors: conditionally on the total error count, the usual least "
    "favourable reduction of a rate ratio). A second discovery would halve the bar, but the "
    "only other non-null hypothesis (the 0.5 % error SLO against a true 0.6 %) carries almost"
    " no evidence. In the affected region of one 25 % step (about 5,600 canary and 16,900 "
    "control requests; errors: about 34 vs 34 errors) that ceiling is 0.69 for errors x3 "
    "against the x1.25 margin and 0.70 for p99 +40 % against the x1.10 margin (canary "
    "exceedances of 1.10 x the control's p99: 1.52 % vs 1 % allowed); the log-likelihood "
    "ratio of that oracle averages 6.3 / 6.6 nats, below ln 800 = 6.7 (its own P(e >= 800) is"
    " 0.45 / 0.49). A fixed-horizon Bonferroni test at 0.05/40 (exact binomial, one look, "
    "nuisance known) would reach 0.64 / 0.70, and is not valid under repeated looks. Over the"
    " 5 % and 25 % steps together the Neyman-Pearson ceiling is 0.83 / 0.82: only an oracle "
    "could reach 0.8 there. At 300 requests/s every ceiling is above 0.97."
)
"""The information limit of the acceptance scenario (computed by exact simulation of the
likelihood ratios, 400,000 draws; see the final report of issue 16)."""


def validation_sections(scale: float = 1.0, seed: int = 2026) -> list[tuple[str, str]]:
    """The segment section of ``docs/validation.md`` (``make validate``).

    One worker (results depend on the number of workers, see :func:`simulate_segments`), so
    the section reproduces exactly on any machine; about an hour of one core at scale 1.
    """
    workers = 1
    policy = load_policy()
    sequence = {"steps": ((0.05, 30.0), (0.25, 30.0))}
    runs: list[tuple[str, str, int, dict[str, Any]]] = [
        ("A/A, 8 regions x 2 routes (16 segments)", "aa", 200, {"by_route": True}),
        ("A/A, 8 regions", "aa", 200, {}),
        ("A/A, 8 regions, 5 % then 25 % (carried)", "aa", 200, sequence),
        ("errors x3 in 1 of 8 regions, 100 req/s", "errors", 200, {}),
        ("p99 +40 % in 1 of 8 regions, 100 req/s", "latency", 200, {}),
        ("errors x3, 100 req/s, 5 % then 25 % (carried)", "errors", 200, sequence),
        ("p99 +40 %, 100 req/s, 5 % then 25 % (carried)", "latency", 200, sequence),
        ("errors x3 in 1 of 8 regions, 300 req/s", "errors", 100, {"rate": 300.0}),
        ("p99 +40 % in 1 of 8 regions, 300 req/s", "latency", 100, {"rate": 300.0}),
    ]
    for minutes in STEP_MINUTES:  # longer 25 % steps at 100 req/s, still a look every 5 minutes
        step = {"window_minutes": float(minutes), "looks": minutes // 5}
        runs += [
            (f"errors x3 in 1 of 8 regions, 100 req/s, {minutes}-minute step", "errors", 200, step),
            (
                f"p99 +40 % in 1 of 8 regions, 100 req/s, {minutes}-minute step",
                "latency",
                200,
                step,
            ),
        ]
    longest = {"window_minutes": float(STEP_MINUTES[-1]), "looks": STEP_MINUTES[-1] // 5}
    runs.append((f"A/A, 8 regions, {STEP_MINUTES[-1]}-minute step", "aa", 200, longest))
    rows = [
        "| scenario | replications | tests per look | ever STOP (se) | FDR at the STOP (se) | "
        "power: STOP names the region (se) | only that region | mean look of the STOP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, scenario, n, kw in runs:
        r = simulate_segments(
            scenario,
            replications=max(10, round(n * scale)),
            policy=policy,
            seed=seed,
            workers=workers,
            **{"looks": 6, **kw},
        )
        power = f"{r.power:.3f} ({r.se(r.power):.3f})" if scenario != "aa" else "–"
        only = f"{r.attributed:.3f}" if scenario != "aa" else "–"
        rows.append(
            f"| {label} | {r.replications} | {r.hypotheses} | {r.ever_stop:.3f} "
            f"({r.se(r.ever_stop):.3f}) | {r.fdr:.3f} ({r.se(max(r.fdr, 1e-3)):.3f}) | {power} "
            f"| {only} | {'–' if math.isnan(r.mean_look_found) else f'{r.mean_look_found:.2f}'} |"
        )
    text = (
        "Segment verdicts (`evaluate --by`): a 30-minute 25 % step at 100 (or 300) "
        "requests/s, a look every 5 minutes (6 looks, cumulative windows), the default "
        "policy's five segment checks (latency p95 and p99, error rate and ratio, ΔAUC) "
        "in every segment, e-BH at FDR 0.05 over all (segment, check) e-values at each look, "
        "the first look with a discovery taken as the (latched) STOP. The 'N-minute step' rows "
        "hold the 25 % step at 100 requests/s for N minutes instead, still a look every 5 "
        "minutes (N/5 looks). The 'carried' rows run "
        "a 30-minute 5 % step, then the 25 % step (12 looks), each (segment, check) e-value "
        "of the 25 % step multiplied by its value at the 5 % step's last look, as a recorded "
        "rollout does (`canarykit.verdict.segment_look`); the mean look counts across both "
        "steps. Per-segment summaries are built with numpy and decided by the production "
        "`segment_table`. Stated guarantees: FDR at the STOP <= 0.05; in the A/A rows every "
        "discovery is false, so ever STOP = FDR <= 0.05, over all steps. Power is the share "
        "of replications whose STOP names the affected region.\n\n"
        + "\n".join(rows)
        + "\n\n"
        + STEP_LENGTH
        + "\n\n"
        + INFORMATION_LIMIT
    )
    return [("Segments: where a regression lives, over repeated looks", text)]
