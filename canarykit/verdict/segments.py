"""Segment verdicts: where a regression lives (``evaluate --by region[,route]``).

For every segment (a value, or a combination of values, of extra trace columns) and every
check of a kind with a segment test (:data:`~canarykit.verdict.segment_policy.SEGMENT_KINDS`)
the segment's data gives an estimate, a marginal confidence sequence and a fail-side e-value
(:mod:`canarykit.stats.segment_tests`). All ``m`` (segment, check) e-values of the look go
through e-BH (:func:`canarykit.stats.ebh.ebh`) at the policy's ``segments.alpha``.

Guarantee
---------
Each e-value is the value *at the current look* of a statistic dominated by a test
supermartingale under its null ("this check does not fail in this segment"), so it is an
e-value at any stopping time. e-BH on e-values controls the false discovery rate at
``alpha`` under arbitrary dependence (Wang & Ramdas 2022). With ``on_fail: stop`` the first
look with a discovery STOPs and the STOP is latched, i.e. the decision is taken at a stopping
time: the FDR of the segments named at the STOP is at most ``alpha``, and when no segment
regresses the probability of *ever* STOPping on a segment, over all looks of the window, is at
most ``alpha``. In a recorded rollout each e-value is multiplied by the hypothesis's value at
the end of the earlier steps (``carried``, :mod:`canarykit.verdict.segment_look`), which
extends both statements to every look of every step. This budget is separate from the
overall checks' (a union bound gives at most ``policy.alpha + segments.alpha`` for a false
STOP from either). The ΔAUC e-value is asymptotic, as the ``auc_delta`` check. Intervals in the table are marginal confidence
sequences (each at level at least ``1 − alpha``), for reading, not for the decision.

Status of a row: ``fail`` — an e-BH discovery; ``inconclusive`` — too little data
(``segments.min_samples``), or not significant after e-BH; ``pass`` — enough data and the
marginal sequence inside the threshold. A small segment is never passed.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.traces.summaries import Selection
>>> from canarykit.verdict.policy import load_policy
>>> store = TraceStore()
>>> t = generate_traces("error_regression", n_requests=180_000, canary_share=0.25, seed=3,
...                     segments=True, affected={"region": "br-south"})
>>> _ = store.ingest(t)
>>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")
>>> seg = evaluate_segments(store, load_policy(), sel, by=["region"], share=0.25)
>>> seg.discoveries, seg.rows[0].segment_label, seg.rows[0].check
(1, 'region=br-south', 'error_rate_delta')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from canarykit.stats.auc_histogram import auc_delta_from_histograms
from canarykit.stats.ebh import ebh
from canarykit.stats.error_rate import error_rate_bound, error_rate_ratio_test
from canarykit.stats.order_statistics import OrderStatistics
from canarykit.stats.quantile_ratio import quantile_ratio_cs, quantile_ratio_rank_requests
from canarykit.stats.quantiles import _estimate_rank
from canarykit.stats.result import decide
from canarykit.stats.segment_tests import (
    auc_drop_log_e,
    error_ratio_one_sided_log_e,
    exceedance_log_e,
)
from canarykit.stats.sketch import LatencySketch, quantile_cs_from_sketch
from canarykit.traces.segment_figures import Keep, summarize_segments_kept
from canarykit.traces.segment_summaries import SegmentArm, SegmentSummaries
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import Selection
from canarykit.verdict.policy import CheckSpec, Policy
from canarykit.verdict.segment_policy import SEGMENT_KINDS
from canarykit.verdict.segment_rows import Carried, SegmentRow, SegmentVerdict
from canarykit.verdict.tuning import error_ratio_concentration

__all__ = [
    "SegmentRow",
    "SegmentVerdict",
    "evaluate_segments",
    "segment_checks",
    "segment_table",
]

SEGMENT_N_BINS = 100
"""Score bins of the per-segment ΔAUC histograms (coarse: a segment has few labels)."""


def segment_checks(policy: Policy, mode: str, *, has_control: bool = True) -> list[CheckSpec]:
    """The policy's checks that get a per-segment test, in policy order."""
    wanted = policy.segments.checks
    out = []
    for spec in policy.checks.values():
        if spec.kind not in SEGMENT_KINDS or not spec.applies_to(mode):
            continue
        if wanted is not None and spec.name not in wanted:
            continue
        if not has_control and spec.kind not in ("latency_quantile", "error_rate"):
            continue
        out.append(spec)
    return out


def _sketch(arm: SegmentArm, accuracy: float) -> LatencySketch:
    return LatencySketch.from_key_counts(
        arm.keys, arm.counts, zero_count=arm.zero_count, relative_accuracy=accuracy
    )


def _test(
    spec: CheckSpec,
    control: SegmentArm,
    candidate: SegmentArm,
    *,
    alpha: float,
    t_opt: float,
    share: float,
    alpha_opt: float,
    accuracy: float,
) -> dict[str, Any]:
    """Estimate, marginal interval, log e-value and method of one (segment, check).

    ``alpha_opt`` tunes the e-values' mixtures for the bar a single discovery must clear
    (``alpha/m``): power only, never validity.
    """
    level = 1.0 - alpha
    if spec.kind == "latency_quantile":
        p = float(spec.quantile or 0.5)
        cs = quantile_cs_from_sketch(
            _sketch(candidate, accuracy), p, confidence_level=level, t_opt=t_opt
        )
        count = candidate.exceed.get(float(spec.threshold), 0)
        log_e = exceedance_log_e(
            count, candidate.n_latency, 1.0 - p, t_opt=t_opt, alpha_opt=alpha_opt
        )
        method = f"count above {spec.threshold:g} ms vs {1 - p:g} (beta-binomial mixture)"
        return _out(cs.estimate, cs.ci_low, cs.ci_high, log_e, method, cs.note)
    if spec.kind == "latency_quantile_ratio":
        return _latency_ratio(spec, control, candidate, alpha, t_opt, share, alpha_opt, accuracy)
    if spec.kind == "error_rate":
        res = error_rate_bound(candidate.errors, candidate.n, confidence_level=level, t_opt=t_opt)
        log_e = exceedance_log_e(
            candidate.errors, candidate.n, spec.threshold, t_opt=t_opt, alpha_opt=alpha_opt
        )
        method = f"errors vs rate {spec.threshold:g} (beta-binomial mixture)"
        return _out(res.estimate, res.ci_low, res.ci_high, log_e, method, res.note)
    if spec.kind == "error_rate_ratio":
        rho = 0.5 if share >= 1.0 else share
        k = error_ratio_concentration(rho)
        res = error_rate_ratio_test(
            n_control=control.n,
            n_control_errors=control.errors,
            n_candidate=candidate.n,
            n_candidate_errors=candidate.errors,
            rho_candidate=rho,
            k=k,
            confidence_level=level,
        )
        log_e = error_ratio_one_sided_log_e(
            control.errors, candidate.errors, rho_candidate=rho, margin=spec.threshold
        )
        method = (
            f"conditional binomial e-process, one-sided Beta prior beyond the margin (planned "
            f"share {rho:g}); interval: Lindon-Malek (k={k:g})"
        )
        return _out(res.estimate, res.ci_low, res.ci_high, log_e, method, res.note)
    # auc_delta
    planned_se = 0.02
    res = auc_delta_from_histograms(
        control.positives,
        control.negatives,
        candidate.positives,
        candidate.negatives,
        margin=spec.threshold,
        confidence_level=level,
        sequential=True,
        planned_se=planned_se,
        min_class_count=spec.min_count,
    )
    counts = (
        int(control.positives.sum()),
        int(control.negatives.sum()),
        int(candidate.positives.sum()),
        int(candidate.negatives.sum()),
    )
    log_e = 0.0
    if min(counts) >= max(1, spec.min_count):
        log_e = auc_drop_log_e(
            res.estimate, res.se, margin=spec.threshold, planned_se=planned_se, alpha_opt=alpha_opt
        )
    method = "DeLong, one-sided normal mixture (asymptotic)"
    return _out(res.estimate, res.ci_low, res.ci_high, log_e, method, res.note)


def _latency_ratio(
    spec: CheckSpec,
    control: SegmentArm,
    candidate: SegmentArm,
    alpha: float,
    t_opt: float,
    share: float,
    alpha_opt: float,
    accuracy: float,
) -> dict[str, Any]:
    """The two-sample quantile-ratio test from bucket edges at the ranks it asks for.

    One run: the pass side (upper bound) at ``alpha/2``, the fail side (lower bound and
    ``T_fail`` at the threshold, the e-value) with its mixtures tuned for ``alpha_opt`` (the
    bar of one discovery): the reported interval's level is at least ``1 − alpha``.
    """
    p = float(spec.quantile or 0.5)
    t_opt_c = t_opt * (1.0 - share) / max(share, 1e-9) if share < 1.0 else t_opt
    sketches = (_sketch(control, accuracy), _sketch(candidate, accuracy))
    a_pass, a_fail = alpha / 2.0, min(alpha_opt, alpha / 2.0)
    requests = quantile_ratio_rank_requests(
        sketches[0].count,
        sketches[1].count,
        p,
        alpha_pass=a_pass,
        alpha_fail=a_fail,
        t_opt_control=t_opt_c,
        t_opt_candidate=t_opt,
    )
    stats = [
        sk.order_statistics(np.union1d(req.ranks, [_estimate_rank(sk.count, p)]).astype(np.int64))
        if sk.count
        else OrderStatistics(n=0, ranks=np.zeros(0, np.int64), values=np.zeros(0))
        for sk, req in zip(sketches, requests, strict=True)
    ]
    res = quantile_ratio_cs(
        stats[0],
        stats[1],
        p,
        alpha_pass=a_pass,
        alpha_fail=a_fail,
        t_opt_control=t_opt_c,
        t_opt_candidate=t_opt,
        threshold=spec.threshold,
    )
    log_e = res.log_e_fail if math.isfinite(res.log_e_fail) else 0.0
    method = "two-sample quantile-ratio T_fail (0.1 % bucket edges)"
    return _out(res.estimate, res.ci_low, res.ci_high, log_e, method, res.note)


LOG_E_FLOOR = -1.0e6
"""Where an e-value is 0 (``log e = −inf``): a finite log (JSON keeps it; ``null`` reads back as
``+inf``), still ``e = 0`` in floating point, never raised to ``e = 1`` (which, carried into a
later step, would make the product larger than an e-value)."""


def _finite_log_e(log_e: float) -> float:
    if math.isnan(log_e):
        return 0.0  # degenerate data, no evidence: the constant e-value 1
    return max(float(log_e), LOG_E_FLOOR)


def _out(
    estimate: float, low: float, high: float, log_e: float, method: str, note: str
) -> dict[str, Any]:
    return {
        "estimate": float(estimate),
        "ci_low": float(low),
        "ci_high": float(high),
        "log_e": _finite_log_e(log_e),
        "method": method,
        "note": note,
    }


def evaluate_segments(
    store: TraceStore,
    policy: Policy,
    selection: Selection,
    *,
    by: Sequence[str],
    share: float,
    has_control: bool = True,
    carried: Carried = (),
    carried_from_step: int | None = None,
    keep: Keep | None = None,
) -> SegmentVerdict:
    """Per-segment checks of ``selection`` with e-BH across segments and checks.

    Parameters
    ----------
    store : TraceStore
    policy : Policy
        Its ``segments:`` section sets ``alpha``, ``on_fail``, ``min_samples``,
        ``max_segments``, ``t_opt`` and the checks.
    selection : Selection
        The window and arms of the overall verdict.
    by : sequence of str
        Segment columns (intersections when several).
    share : float
        Planned canary share (the error-ratio e-process's null; 0.5 in shadow mode).
    has_control : bool
        ``False`` at a 100 % step: only the absolute checks run.
    carried, carried_from_step : optional
        Log e-values of earlier rollout steps, multiplied into this step's
        (:func:`segment_table`).
    keep : Keep, optional
        A rollout look's step: its segment summaries are kept from look to look
        (:mod:`canarykit.traces.segment_figures`); the table is the same.

    Returns
    -------
    SegmentVerdict
        Rows ranked: discoveries first, then by e-value.
    """
    sp = policy.segments
    specs = segment_checks(policy, selection.mode, has_control=has_control)
    thresholds = [s.threshold for s in specs if s.kind == "latency_quantile"]
    summ = summarize_segments_kept(
        store,
        selection,
        keep,
        by=by,
        latency_thresholds=thresholds,
        scores=any(s.kind == "auc_delta" for s in specs),
        n_bins=SEGMENT_N_BINS,
        max_segments=sp.max_segments,
    )
    return segment_table(
        policy,
        summ,
        share=0.5 if selection.mode == "shadow" else share,
        specs=specs,
        carried=carried,
        carried_from_step=carried_from_step,
    )


def segment_table(
    policy: Policy,
    summ: SegmentSummaries,
    *,
    share: float,
    specs: Sequence[CheckSpec],
    carried: Carried = (),
    carried_from_step: int | None = None,
) -> SegmentVerdict:
    """The ranked segment verdict from per-segment summaries (no I/O: simulations call it).

    ``carried`` holds, per (segment, check), the log e-value with which earlier rollout steps
    ended (:meth:`SegmentVerdict.carry` of their last look); each row's log e-value is this
    step's plus the carried one — the product of per-step e-values, each a test
    supermartingale started afresh at its step, hence a test supermartingale over the whole
    rollout (see :mod:`canarykit.verdict.segment_look`). Rows without a carried value start at
    ``e = 1``.

    Examples
    --------
    >>> from canarykit.traces.segment_summaries import SegmentArm, SegmentSummaries
    >>> from canarykit.verdict.policy import load_policy
    >>> policy = load_policy()
    >>> arm = SegmentArm(n=40, errors=0)
    >>> summ = SegmentSummaries(by=("region",), segments={("x",): (arm, arm)}, n_bins=100)
    >>> table = segment_table(policy, summ, share=0.5, specs=[policy.checks["error_rate"]])
    >>> table.rows[0].status, "too little data" in table.rows[0].note
    ('inconclusive', True)
    """
    sp = policy.segments
    raw: list[dict[str, Any]] = []
    before = {(seg, check): value for seg, check, value in carried}
    alpha_opt = sp.alpha / max(1, len(summ.segments) * len(specs))
    for key, (control, candidate) in summ.segments.items():
        for spec in specs:
            one_arm = spec.kind in ("latency_quantile", "error_rate")
            small = candidate.n < sp.min_samples_candidate or (
                not one_arm and control.n < sp.min_samples_control
            )
            result = _test(
                spec,
                control,
                candidate,
                alpha=sp.alpha,
                t_opt=sp.t_opt,
                share=share,
                alpha_opt=alpha_opt,
                accuracy=summ.relative_accuracy,
            )
            earlier = before.get((tuple(key), spec.name), 0.0)
            if earlier:
                result["log_e"] = result["log_e"] + earlier
                result["note"] = "; ".join(
                    x
                    for x in (
                        f"e-value x {math.exp(min(earlier, 700.0)):.3g} carried from earlier steps",
                        result["note"],
                    )
                    if x
                )
            raw.append(
                {
                    "segment": key,
                    "spec": spec,
                    "small": small,
                    "n_control": 0 if one_arm else control.n,
                    "n_candidate": candidate.n,
                    **result,
                }
            )
    e_values = np.exp(np.minimum([r["log_e"] for r in raw], 700.0)) if raw else np.zeros(0)
    outcome = ebh(e_values, alpha=sp.alpha)
    rows = []
    for r, found, adj in zip(raw, outcome.rejected, outcome.adjusted, strict=True):
        spec = r["spec"]
        marginal = decide(r["ci_low"], r["ci_high"], spec.threshold, bound=spec.bound)
        note = r["note"]
        if found:
            status = "fail"
        elif r["small"]:
            status = "inconclusive"
            note = "; ".join(
                x
                for x in (
                    f"too little data (candidate {r['n_candidate']}, control "
                    f"{r['n_control']}; segments.min_samples "
                    f"{sp.min_samples_candidate}/{sp.min_samples_control})",
                    note,
                )
                if x
            )
        elif marginal == "pass":
            status = "pass"
        else:
            status = "inconclusive"
            if marginal == "fail":
                note = "; ".join(
                    x
                    for x in ("beyond the threshold marginally, not significant after e-BH", note)
                    if x
                )
        rows.append(
            SegmentRow(
                segment=tuple(r["segment"]),
                check=spec.name,
                kind=spec.kind,
                status=status,  # type: ignore[arg-type]
                estimate=r["estimate"],
                ci_low=r["ci_low"],
                ci_high=r["ci_high"],
                threshold=spec.threshold,
                bound=spec.bound,
                log_e_value=r["log_e"],
                adjusted_pvalue=float(adj),
                n_control=r["n_control"],
                n_candidate=r["n_candidate"],
                method=r["method"],
                note=note,
            )
        )
    order = {"fail": 0, "inconclusive": 1, "pass": 2}
    rows.sort(key=lambda x: (order[x.status], -x.log_e_value, x.segment, x.check))
    return SegmentVerdict(
        by=tuple(summ.by),
        alpha=sp.alpha,
        on_fail=sp.on_fail,
        confidence_level=1.0 - sp.alpha,
        hypotheses=len(rows),
        segments=len(summ.segments),
        discoveries=int(outcome.k),
        e_threshold=float(outcome.threshold),
        rows=tuple(rows),
        carried=tuple(sorted(carried)),
        carried_from_step=carried_from_step,
    )
