"""Plain-text and HTML renderings of a verdict: pure object → string functions.

Everything user-supplied (model names, versions, reasons) is escaped in HTML, so a model named
``<script>`` shows as text.

Examples
--------
>>> from canarykit.verdict.verdict import Verdict
>>> v = Verdict(decision="CONTINUE", reasons=("more data",), model="<script>", baseline="a",
...             candidate="b", mode="canary", window={"start": None, "end": None}, checks=(),
...             policy_digest="sha256:x", data_digest="sha256:y", canarykit_version="0",
...             created_at="2026-01-01T00:00:00Z")
>>> "&lt;script&gt;" in verdict_html(v), "<script>" in verdict_html(v)
(True, False)
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from canarykit.verdict.checks import CheckOutcome
    from canarykit.verdict.verdict import Verdict

__all__ = [
    "badge_html",
    "check_html",
    "format_number",
    "verdict_html",
    "verdict_markdown",
    "verdict_text",
]

_COLOURS = {
    "PROCEED": "#1a7f37",
    "STOP": "#cf222e",
    "CONTINUE": "#9a6700",
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "inconclusive": "#9a6700",
}


def format_number(value: float | None) -> str:
    """Compact rendering: 4 significant digits, ``-`` for missing values.

    Examples
    --------
    >>> format_number(0.0012345), format_number(None), format_number(123456.0)
    ('0.001234', '-', '1.235e+05')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.4g}"


def _rows(verdict: Verdict) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for c in verdict.checks:
        threshold = "-" if c.threshold is None else f"{c.bound} {format_number(c.threshold)}"
        rows.append(
            (
                c.name,
                c.status,
                format_number(c.estimate),
                f"[{format_number(c.ci_low)}, {format_number(c.ci_high)}]",
                threshold,
                "yes" if c.required else "no",
                f"{c.n_control:,}",
                f"{c.n_candidate:,}",
            )
        )
    return rows


_HEADER = (
    "check",
    "status",
    "estimate",
    "interval",
    "threshold",
    "required",
    "n control",
    "n candidate",
)


def _rollout_line(verdict: Verdict) -> str:
    r = verdict.rollout
    if r is None:
        return ""
    observed = "-" if r.observed_split is None else f"{r.observed_split:.1%}"
    step = "custom split" if r.step is None else f"step {r.step} of {r.steps}"
    nxt = f" → {r.next_split:.0%}" if r.next_split is not None else ""
    if r.rollout_id is None:
        return (
            f"rollout: {step} (planned {r.planned_split:.0%}, observed {observed}); "
            f"next: {r.next_action}{nxt}"
        )
    timing = ""
    if r.minutes_in_step is not None and r.window_minutes is not None:
        left = r.minutes_left if r.minutes_left is not None else 0.0
        timing = f", {r.minutes_in_step:.1f} of {r.window_minutes:g} min" + (
            f" ({left:.1f} left)" if left > 0 else " (window over)"
        )
    return (
        f"rollout {r.rollout_id}: {step} (planned {r.planned_split:.0%}, observed {observed}), "
        f"look {r.look}{timing}; next: {r.next_action}{nxt}"
    )


def _rollout_notes(verdict: Verdict) -> list[str]:
    r = verdict.rollout
    if r is None or r.rollout_id is None:
        return []
    notes = [f"control: {r.control}"] if r.control else []
    if r.not_applicable:
        notes.append("not applicable at this step: " + ", ".join(r.not_applicable))
    if r.stopped:
        notes.append(f"STOP latched at step {r.stopped.get('step')}, look {r.stopped.get('look')}")
    elif r.proceeded_look is not None:
        notes.append(f"step PROCEEDed at look {r.proceeded_look}")
    return notes


def _forecast_lines(verdict: Verdict) -> list[str]:
    return [str(f.get("summary", "")) for f in verdict.forecast]


def verdict_text(verdict: Verdict) -> str:
    """Aligned table of the checks under a header with decision and reasons."""
    lines = [
        f"{verdict.decision}  {verdict.model} {verdict.baseline} → {verdict.candidate} "
        f"({verdict.mode})",
        f"window: {verdict.window.get('start') or '-'} .. {verdict.window.get('end') or '-'}",
    ]
    if verdict.rollout:
        lines.append(_rollout_line(verdict))
        lines += [f"  {n}" for n in _rollout_notes(verdict)]
    lines += [f"  - {r}" for r in verdict.reasons]
    if verdict.forecast:
        lines.append("time to decision (if the candidate keeps performing as observed):")
        lines += [f"  * {f}" for f in _forecast_lines(verdict)]
    rows = [_HEADER, *_rows(verdict)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    lines.append("")
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if verdict.segments is not None:
        lines += ["", verdict.segments.to_text()]
    lines.append("")
    engine = verdict.engine.get("name", "duckdb")
    computed = (
        ""
        if engine == "duckdb"
        else f"  (summaries by {engine} {verdict.engine.get('version', '')})"
    )
    lines.append(f"policy {verdict.policy_digest}  data {verdict.data_digest}{computed.rstrip()}")
    return "\n".join(lines)


def badge_html(status: str) -> str:
    """A status or decision as white text on its colour (≥ 4.5:1 on light and dark themes).

    Examples
    --------
    >>> badge_html("pass")
    '<span style="background:#1a7f37;color:#fff;font-weight:600;padding:0 .4em;border-radius:3px">pass</span>'
    """
    colour = _COLOURS.get(status, "#555555")
    return (
        f'<span style="background:{colour};color:#fff;font-weight:600;padding:0 .4em;'
        f'border-radius:3px">{html.escape(status)}</span>'
    )


def _check_row_html(c: CheckOutcome, cells: tuple[str, ...]) -> str:
    tds = "".join(
        f"<td>{badge_html(x) if i == 1 else html.escape(x)}</td>" for i, x in enumerate(cells)
    )
    return f'<tr title="{html.escape(c.summary)}">{tds}</tr>'


def check_html(check: CheckOutcome) -> str:
    """Escaped HTML of one check: status, estimate, interval, threshold, summary and method.

    Examples
    --------
    >>> from canarykit.verdict.checks import CheckOutcome
    >>> c = CheckOutcome(name="<b>x</b>", kind="error_rate", status="pass", estimate=0.001,
    ...     ci_low=0.0, ci_high=0.002, confidence_level=0.95, pvalue=None, threshold=0.005,
    ...     bound="max", n_control=10, n_candidate=10, method="m", required=True, summary="ok")
    >>> "&lt;b&gt;x&lt;/b&gt;" in check_html(c), "<b>x" in check_html(c)
    (True, False)
    """
    e = html.escape
    threshold = (
        "-" if check.threshold is None else f"{check.bound} {format_number(check.threshold)}"
    )
    rows = [
        ("estimate", format_number(check.estimate)),
        (
            f"{check.confidence_level:.0%} interval",
            f"[{format_number(check.ci_low)}, {format_number(check.ci_high)}]",
        ),
        ("threshold", threshold),
        ("p-value", format_number(check.pvalue)),
        ("n control / candidate", f"{check.n_control:,} / {check.n_candidate:,}"),
        ("required", "yes" if check.required else "no"),
        ("method", check.method),
    ]
    if check.note:
        rows.append(("note", check.note))
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return (
        f'<div class="canarykit-check"><div><strong>{e(check.name)}</strong> '
        f"{badge_html(check.status)}</div>"
        f"<div>{e(check.summary)}</div><table><tbody>{body}</tbody></table></div>"
    )


def verdict_html(verdict: Verdict) -> str:
    """Self-contained, escaped HTML fragment for Jupyter and reports."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in _HEADER)
    body = "".join(
        _check_row_html(c, row) for c, row in zip(verdict.checks, _rows(verdict), strict=True)
    )
    reasons = "".join(f"<li>{e(r)}</li>" for r in verdict.reasons)
    rollout = (
        f"<div>{e(_rollout_line(verdict))}</div>"
        + "".join(f"<div><small>{e(n)}</small></div>" for n in _rollout_notes(verdict))
        if verdict.rollout
        else ""
    )
    forecast = (
        "<div>time to decision (if the candidate keeps performing as observed):</div><ul>"
        + "".join(f"<li>{e(f)}</li>" for f in _forecast_lines(verdict))
        + "</ul>"
        if verdict.forecast
        else ""
    )
    return (
        '<div class="canarykit-verdict">'
        f'<div><strong style="font-size:1.2em">{badge_html(verdict.decision)}</strong> '
        f"{e(verdict.model)} {e(verdict.baseline)} → {e(verdict.candidate)} ({e(verdict.mode)})</div>"
        f"<div>window {e(str(verdict.window.get('start') or '-'))} .. "
        f"{e(str(verdict.window.get('end') or '-'))}</div>{rollout}"
        f"<ul>{reasons}</ul>{forecast}"
        f'<div style="overflow-x:auto"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
        f"{_segments_html(verdict)}"
        f"<div><small>policy {e(verdict.policy_digest)} · data {e(verdict.data_digest)} · "
        f"canarykit {e(verdict.canarykit_version)}</small></div></div>"
    )


def _segments_html(verdict: Verdict) -> str:
    if verdict.segments is None:
        return ""
    from canarykit.report.segments import segments_html

    return f"<div><strong>Where</strong></div>{segments_html(verdict.segments, limit=20)}"


_MD_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~"})


def _md(text: str) -> str:
    """Escape Markdown (and HTML) so a model name cannot format or inject anything."""
    return " ".join(str(text).split()).translate(_MD_ESCAPE)


def verdict_markdown(verdict: Verdict) -> str:
    """GitHub-flavoured Markdown: decision, rollout, reasons, forecast and a table of checks.

    Examples
    --------
    >>> from canarykit.verdict.verdict import Verdict
    >>> v = Verdict(decision="CONTINUE", reasons=("more data",), model="m|<b>", baseline="a",
    ...             candidate="b", mode="canary", window={"start": None, "end": None}, checks=(),
    ...             policy_digest="sha256:x", data_digest="sha256:y", canarykit_version="0",
    ...             created_at="2026-01-01T00:00:00Z")
    >>> print(verdict_markdown(v).splitlines()[0])
    ### canarykit: **CONTINUE** — m\\|\\<b\\> a → b (canary)
    """
    lines = [
        f"### canarykit: **{verdict.decision}** — {_md(verdict.model)} {_md(verdict.baseline)} → "
        f"{_md(verdict.candidate)} ({_md(verdict.mode)})",
        "",
    ]
    if verdict.rollout:
        lines += [_md(_rollout_line(verdict)), ""]
    lines += [f"- {_md(r)}" for r in verdict.reasons]
    if verdict.forecast:
        lines += ["", "**Time to decision** (if the candidate keeps performing as observed):"]
        lines += [f"- {_md(f)}" for f in _forecast_lines(verdict)]
    lines += ["", "| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    for row in _rows(verdict):
        lines.append("| " + " | ".join(_md(cell) for cell in row) + " |")
    if verdict.segments is not None:
        from canarykit.report.segments import segments_markdown

        lines += ["", segments_markdown(verdict.segments, escape=_md)]
    lines += ["", f"policy `{verdict.policy_digest}` · data `{verdict.data_digest}`"]
    return "\n".join(lines) + "\n"
