"""The self-contained HTML report of a verdict: the page a risk team archives with a ticket.

One file, no external resources: the decision and its reasons, the rollout step, every check
(failing checks first; estimate, interval, threshold, and per check a collapsible summary with
method, level, p-value and sample sizes), per-arm and per-group tables, the digests that make
the verdict reproducible, the verdict JSON itself (``<script type="application/json"
id="verdict">``), and the plots embedded as 2× PNG images whose alt text states each result.
The page fits a phone (viewport meta; the checks table scrolls sideways); statuses are white
on a coloured badge (≥ 4.5:1 contrast on light and dark themes). Everything that comes from
data or users (model names, versions, reasons, notes) is escaped.

Examples
--------
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict.evaluate import evaluate
>>> verdict = evaluate(generate_traces("too_little_data", seed=1), log=False)
>>> page = report_html(verdict)
>>> page.startswith("<!DOCTYPE html>"), "CONTINUE" in page, page.count("<img ")
(True, True, 1)
>>> 'name="viewport"' in page, 'id="verdict"' in page
(True, True)
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarykit import __version__
from canarykit.errors import InvalidInputError
from canarykit.report.data import ReportData, load_report_data
from canarykit.report.decision import check_decision
from canarykit.report.forest import forest_plot
from canarykit.report.overview import draw_panels, overview_title
from canarykit.report.style import STATUS_COLOURS, new_axes
from canarykit.safe_io import write_file
from canarykit.verdict.checks import CheckOutcome
from canarykit.verdict.formatting import format_number
from canarykit.verdict.verdict import Verdict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_data_uri", "ordered_checks", "report_html", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;
color:#1f2328;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #d0d7de}
.decision{font-size:1.4em;font-weight:700;padding:.15em .5em;border-radius:4px;color:#fff}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:600}dd{margin:0}code{font-size:.85em;word-break:break-all}
figure{margin:1em 0}figcaption{font-size:.85em;color:#59636e}img{max-width:100%}
.warning{background:#fff8c5;border:1px solid #d4a72c;padding:.5em}
.scroll{overflow-x:auto;max-width:100%}.badge{color:#fff;font-weight:600;padding:0 .4em;
border-radius:3px;white-space:nowrap}details summary{cursor:pointer}
dd{overflow-wrap:anywhere}
@media (max-width:600px){body{margin:1em auto}th,td{padding:.2em .3em}dl{grid-template-columns:1fr}
dd{margin-bottom:.3em}}
.refuted{background:#ffebe9;border:2px solid #cf222e;padding:.5em;font-weight:bold}
"""
_PANELS = (
    ("latency", "Latency quantiles of both arms with their confidence-sequence bands."),
    ("errors", "Candidate error rate at every look, with the running confidence sequence."),
    ("roc", "ROC curves of both arms; ΔAUC and its interval from the auc_delta check."),
    ("fairness", "Per-group rates of each arm with per-group intervals."),
)


def figure_data_uri(figure: Figure, *, dpi: int = 100) -> str:
    """``data:image/png;base64,…`` of a figure (rendered with the Agg canvas, no display)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value), quote=True)


def _number(value: float | None) -> str:
    return _e(format_number(value))


def _definition_list(items: list[tuple[str, Any]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


def _rollout_items(verdict: Verdict) -> list[tuple[str, Any]]:
    r = verdict.rollout
    if r is None:
        return []
    step = "custom split" if r.step is None else f"step {r.step} of {r.steps}"
    observed = "-" if r.observed_split is None else f"{r.observed_split:.2%}"
    nxt = r.next_action + ("" if r.next_split is None else f" → {r.next_split:.0%}")
    items: list[tuple[str, Any]] = [
        ("rollout step", f"{step} (planned split {r.planned_split:.0%}, observed {observed})"),
        ("next", nxt),
    ]
    if r.rollout_id is not None:
        items += [
            ("rollout", f"{r.rollout_id}, look {r.look} of this step"),
            ("step started", r.step_started_at),
            (
                "time in step",
                f"{r.minutes_in_step or 0.0:.1f} of {r.window_minutes or 0.0:g} minutes",
            ),
            ("control", r.control),
        ]
        if r.not_applicable:
            items.append(("not applicable at this step", ", ".join(r.not_applicable)))
        if r.stopped:
            items.append(
                ("STOP latched", f"step {r.stopped.get('step')}, look {r.stopped.get('look')}")
            )
        if r.tuning:
            items.append(
                (
                    "tuning",
                    f"{r.tuning.get('source')}; rate {r.tuning.get('rate')} requests/s; "
                    f"expected candidate requests {r.tuning.get('expected_candidate')}",
                )
            )
    return items


def _badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#555555")
    return f'<span class="badge" style="background:{colour}">{_e(status)}</span>'


def _check_row(c: CheckOutcome) -> str:
    threshold = "-" if c.threshold is None else f"{c.bound} {format_number(c.threshold)}"
    interval = f"[{format_number(c.ci_low)}, {format_number(c.ci_high)}]"
    more = (
        f"method: {_e(c.method)}<br>level {_e(f'{c.confidence_level:g}')}, p-value "
        f"{_number(c.pvalue)}, n control {c.n_control:,}, n candidate {c.n_candidate:,}"
        + (f"<br><em>{_e(c.note)}</em>" if c.note else "")
    )
    cells = [
        f"<td><strong>{_e(c.name)}</strong></td>",
        f"<td>{_badge(c.status)}</td>",
        f"<td>{_number(c.estimate)}</td>",
        f"<td>{_e(interval)}</td>",
        f"<td>{_e(threshold)}</td>",
        f"<td>{'yes' if c.required else 'no'}</td>",
        f"<td><details><summary>{_e(c.summary)}</summary>{more}</details></td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


_CHECK_HEADER = ("check", "status", "estimate", "interval", "threshold", "required", "summary")
_STATUS_ORDER = {"fail": 0, "inconclusive": 1, "pass": 2}


def ordered_checks(verdict: Verdict) -> list[CheckOutcome]:
    """Failing checks first, then inconclusive, then passing (policy order within each)."""
    return sorted(verdict.checks, key=lambda c: _STATUS_ORDER.get(c.status, 3))


def _checks_table(verdict: Verdict) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in _CHECK_HEADER)
    body = "".join(_check_row(c) for c in ordered_checks(verdict))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _arm_table(data: ReportData) -> str:
    """Requests, errors and latency quantiles per arm (from the report's summaries)."""
    from canarykit.report.plots import arm_sketch

    rows = []
    for arm in (data.summaries.control, data.summaries.candidate):
        sketch = arm_sketch(arm)
        quantiles = [sketch.quantile(q) for q in (0.5, 0.95, 0.99)] if sketch.count else [None] * 3
        rate = arm.errors / arm.n if arm.n else None
        cells = [arm.arm, f"{arm.n:,}", f"{arm.errors:,}", format_number(rate)]
        cells += [format_number(q) for q in quantiles]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    head = ("arm", "requests", "errors", "error rate", "p50 ms", "p95 ms", "p99 ms")
    return (
        '<div class="scroll"><table><thead><tr>'
        + "".join(f"<th>{_e(h)}</th>" for h in head)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _group_table(data: ReportData) -> str:
    """Selection rate, TPR and FPR per group and arm (labelled, scored requests)."""
    rows = []
    for arm in (data.summaries.control, data.summaries.candidate):
        for features, cells in sorted(arm.confusion.items()):
            totals: dict[tuple[Any, ...], list[int]] = {}
            for group, label, decision, count in zip(
                cells["groups"], cells["label"], cells["decision"], cells["count"], strict=True
            ):
                t = totals.setdefault(tuple(group), [0, 0, 0, 0])  # tp, fn, fp, tn
                t[(0 if decision else 1) if label else (2 if decision else 3)] += int(count)
            for group, (tp, fn, fp, tn) in sorted(totals.items(), key=lambda kv: str(kv[0])):
                n = tp + fn + fp + tn
                values = [
                    arm.arm,
                    ", ".join(f"{f}={g}" for f, g in zip(features, group, strict=False)),
                    f"{n:,}",
                    format_number((tp + fp) / n if n else None),
                    format_number(tp / (tp + fn) if tp + fn else None),
                    format_number(fp / (fp + tn) if fp + tn else None),
                ]
                rows.append("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in values) + "</tr>")
    if not rows:
        return "<p>No scored and labelled requests per group.</p>"
    head = ("arm", "group", "labelled", "selection rate", "TPR", "FPR")
    return (
        '<div class="scroll"><table><thead><tr>'
        + "".join(f"<th>{_e(h)}</th>" for h in head)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _verdict_json(verdict: Verdict) -> str:
    """The verdict contract, embedded for tools; ``<``, ``>`` and ``&`` are JSON-escaped, so
    no text from the verdict (a model named ``</script>``) can end or open a tag."""
    text = (
        verdict.to_json(indent=None)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return f'<script type="application/json" id="verdict">{text}</script>'


def _alt_checks(verdict: Verdict) -> str:
    parts = [
        f"{c.name} {c.status} (estimate {format_number(c.estimate)}, interval "
        f"[{format_number(c.ci_low)}, {format_number(c.ci_high)}]"
        + ("" if c.threshold is None else f", {c.bound} {format_number(c.threshold)}")
        + ")"
        for c in ordered_checks(verdict)
    ]
    return f"Decision {verdict.decision}. Checks: " + "; ".join(parts) + "."


def _figure_html(uri: str, caption: str, *, alt: str = "", width: int | None = None) -> str:
    size = f' width="{width}"' if width else ""
    return (
        f'<figure><img src="{_e(uri)}" alt="{_e(alt or caption)}"{size}>'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _sharp(figure: Figure, dpi: int) -> tuple[str, int]:
    """A PNG at twice ``dpi`` shown at its 1× width (crisp on high-density screens)."""
    width = round(figure.get_size_inches()[0] * dpi)
    return figure_data_uri(figure, dpi=2 * dpi), width


def _plots_html(verdict: Verdict, data: ReportData | None, dpi: int) -> str:
    from matplotlib.figure import Figure

    checks = forest_plot(verdict)
    assert isinstance(checks, Figure)  # forest_plot() without a target makes a new Figure
    uri, width = _sharp(checks, dpi)
    parts = [
        _figure_html(
            uri,
            "Every check: estimate (dot, coloured by status), interval (bar; arrows where "
            "unbounded) and threshold (dashed red line).",
            alt=_alt_checks(verdict),
            width=width,
        )
    ]
    if data is not None:
        axes = {name: new_axes(None, figsize=(7.0, 4.4)) for name, _ in _PANELS}
        draw_panels(data, axes)
        alts = _panel_alts(verdict, data)
        for name, caption in _PANELS:
            panel = axes[name].figure
            assert isinstance(panel, Figure)
            uri, width = _sharp(panel, dpi)
            parts.append(_figure_html(uri, caption, alt=alts.get(name, caption), width=width))
    return "".join(parts)


def _panel_alts(verdict: Verdict, data: ReportData) -> dict[str, str]:
    """Alt text stating what each distribution panel shows, in numbers."""
    from canarykit.report.plots import arm_sketch

    out = {}
    arms = []
    for arm in (data.summaries.control, data.summaries.candidate):
        sketch = arm_sketch(arm)
        if sketch.count:
            arms.append(
                f"{arm.arm} p50 {format_number(sketch.quantile(0.5))} ms, p95 "
                f"{format_number(sketch.quantile(0.95))} ms, p99 "
                f"{format_number(sketch.quantile(0.99))} ms"
            )
    out["latency"] = "Latency quantiles: " + ("; ".join(arms) or "no latencies") + "."
    for name, kind in (("errors", "error_rate"), ("roc", "auc_delta"), ("fairness", None)):
        found = [
            c
            for c in verdict.checks
            if (c.kind == kind if kind else c.kind == "fairness_gap_delta")
        ]
        out[name] = " ".join(c.summary + f" ({c.status})." for c in found) or (
            f"No {name} check in this verdict."
        )
    return out


def _where(verdict: Verdict, dpi: int) -> str:
    """The "where" section of a verdict with segments: its table and heatmap."""
    if verdict.segments is None:
        return ""
    from canarykit.report.segments import plot_segments, segments_html

    figure = plot_segments(verdict.segments)
    alt = (
        f"heatmap of log10 e-values by segment and check; {verdict.segments.discoveries} "
        "segment regressions found"
    )
    return (
        f"<h2>Where</h2>{segments_html(verdict.segments)}"
        f'<figure><img alt="{_e(alt)}" src="{figure_data_uri(figure, dpi=dpi)}"></figure>'
    )


def report_html(
    verdict: Verdict, data: ReportData | None = None, *, title: str | None = None, dpi: int = 100
) -> str:
    """The report page of ``verdict`` as one self-contained HTML document.

    Parameters
    ----------
    verdict : Verdict
    data : ReportData, optional
        Summaries of the verdict's traces (:func:`.data.load_report_data`); adds the
        distribution plots. Without it the page has the forest plot of the checks only.
    title : str, optional
        Page title; default "canarykit report: <decision> — <model> <baseline> → <candidate>".
    dpi : int
        Resolution of the embedded PNG images.
    """
    colour = STATUS_COLOURS.get(verdict.decision, "#555555")
    heading = title or f"canarykit report: {overview_title(verdict)}"
    sel = verdict.selection
    facts: list[tuple[str, Any]] = [
        ("model", verdict.model),
        ("baseline (control)", verdict.baseline),
        ("candidate", verdict.candidate),
        ("mode", verdict.mode),
        ("window", f"{verdict.window.get('start') or '-'} .. {verdict.window.get('end') or '-'}"),
        *_rollout_items(verdict),
        ("selection until (exclusive)", sel.get("until")),
        ("planned split (given)", sel.get("split")),
        ("verdict created at", verdict.created_at),
    ]
    digests = [
        ("policy digest", verdict.policy_digest),
        ("data digest", verdict.data_digest),
        ("canarykit version (verdict)", verdict.canarykit_version),
        ("canarykit version (report)", __version__),
    ]
    warning = ""
    if data is not None and not data.data_matches:
        warning = (
            '<p class="warning">The traces read for the plots have data digest '
            f"<code>{_e(data.summaries.data_digest)}</code>, not the verdict's: the source "
            "changed since the verdict was made. The plots show the current data; "
            "<code>canarykit replay</code> says what differs.</p>"
        )
    if data is not None and not data.policy_matches:
        warning += (
            '<p class="warning">The plots draw the thresholds of policy '
            f"<code>{_e(data.policy.digest)}</code>, not the verdict's own policy (its snapshot "
            "is not in the source): pass the verdict's policy to match them.</p>"
        )
    decision = check_decision(verdict, data.policy if data is not None else None)
    refuted = ""
    if not decision.follows:
        refuted = (
            f'<p class="refuted">THIS DECISION DOES NOT FOLLOW FROM THE CHECKS BELOW: '
            f"{_e(decision.message)}. Do not act on it; recompute it with "
            "<code>canarykit replay</code>.</p>"
        )
    reasons = "".join(f"<li>{_e(r)}</li>" for r in verdict.reasons) or "<li>-</li>"
    forecast = ""
    if verdict.forecast:
        forecast = (
            "<h2>Time to decision</h2><p>If the candidate keeps performing as observed:</p><ul>"
            + "".join(f"<li>{_e(f.get('summary', ''))}</li>" for f in verdict.forecast)
            + "</ul>"
        )
    tables = ""
    if data is not None:
        tables = f"<h2>Arms</h2>{_arm_table(data)}<h2>Groups</h2>{_group_table(data)}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(heading)}</h1>{refuted}"
        f'<p><span class="decision" style="background:{colour}">{_e(verdict.decision)}</span> '
        f"{_e(verdict.model)} {_e(verdict.baseline)} → {_e(verdict.candidate)} "
        f"({_e(verdict.mode)})</p>"
        f"<h2>Reasons</h2><ul>{reasons}</ul>{forecast}"
        f"<h2>Canary</h2>{_definition_list(facts)}"
        f"<h2>Checks</h2>{_checks_table(verdict)}{_where(verdict, dpi)}{tables}"
        f"<h2>Reproducibility</h2>{_definition_list(digests)}"
        "<p>Recompute this verdict from the stored traces and the policy snapshot with "
        "<code>canarykit replay VERDICT.json SOURCE</code>; the verdict JSON is embedded in "
        "this page (<code>script#verdict</code>).</p>"
        f"{warning}<h2>Plots</h2>{_plots_html(verdict, data, dpi)}{_verdict_json(verdict)}"
        "</body></html>\n"
    )


def write_report(
    verdict: Verdict,
    source: Any,
    out: str | Path,
    *,
    policy: Any = None,
    dpi: int = 100,
) -> Path:
    """Recompute the plot summaries from ``source`` and write the report page to ``out``.

    Raises
    ------
    InvalidInputError
        The verdict's decision does not follow from its checks (see
        :func:`.decision.check_decision`); nothing is written.
    StorageError
        ``out`` cannot be written.
    """
    data = load_report_data(verdict, source, policy=policy)
    decision = check_decision(verdict, data.policy)
    if not decision.follows:
        raise InvalidInputError(f"verdict: {decision.message}")
    page = report_html(verdict, data, dpi=dpi)
    return write_file(out, page, what="report")  # atomic, never through a symbolic link
