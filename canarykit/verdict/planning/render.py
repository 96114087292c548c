"""A rollout plan drawn as aligned plain text or escaped HTML (pure functions of the report)."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from canarykit.verdict.planning.answers import MAX_RATE, format_effect

if TYPE_CHECKING:
    from canarykit.verdict.planning.report import CheckPlan, RolloutPlanReport, StepPlan

__all__ = ["plan_html", "plan_text"]


def _fmt_threshold(c: CheckPlan) -> str:
    t = c.threshold
    if t is None:
        return "-"
    op = "≤" if c.bound == "max" else "≥"
    q = f"p{(c.quantile or 0.0) * 100:g}"
    if c.kind == "latency_quantile":
        return f"{q} {op} {t:g} ms"
    if c.kind == "latency_quantile_ratio":
        return f"{q} {op} {t - 1.0:+.0%} vs control"
    if c.kind == "error_rate_ratio":
        return f"{op} {t - 1.0:+.0%} vs control"
    if c.kind == "error_rate":
        return f"{op} {t:.2%}"
    if c.kind == "sample_ratio":
        return f"share {t:.0%}"
    if c.kind == "fairness_gap_delta":
        return f"gap growth {op} {t:g}"
    return f"{op} {t:+g}"


def _fmt_minutes(m: float | None, window: float) -> str:
    return f"{m:g} min" if m is not None else f"not in {window:g} min"


def _fmt_rate(r: float | None) -> str:
    """Rounded up to 3 significant digits (the rate at which the check can pass)."""
    if r is None:
        return f"> {MAX_RATE:g} req/s"
    digits = max(0, 2 - math.floor(math.log10(r)))
    factor = 10.0**digits
    return f"{math.ceil(r * factor - 1e-9) / factor:.{digits}f} req/s"


_HEADER = (
    "check",
    "required",
    "threshold",
    "minutes to PROCEED",
    "detectable (90 % power)",
    "minimum rate",
)


def _cells(s: StepPlan) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for c in s.checks:
        planned = "inconclusive" not in c.note and "shadow mode" not in c.note
        detectable = "-" if not planned else "none in range"
        if c.detectable is not None:
            detectable = format_effect(c.kind, c.quantile, c.detectable)

        rows.append(
            (
                c.check,
                "yes" if c.required else "no",
                _fmt_threshold(c),
                _fmt_minutes(c.minutes_to_proceed, s.window_minutes),
                detectable,
                _fmt_rate(c.minimum_rate) if planned else "-",
            )
        )
    return rows


def _step_title(s: StepPlan) -> str:
    proceed = (
        f"PROCEED after {s.minutes_to_proceed:g} min"
        if s.minutes_to_proceed is not None
        else f"no PROCEED within {s.window_minutes:g} min"
    )
    return (
        f"step {s.step}: {s.share:.0%} of traffic for {s.window_minutes:g} min — expected "
        f"{s.expected_candidate:,.0f} candidate / {s.expected_control:,.0f} control requests "
        f"({s.control}); {proceed} on the expected path"
    )


def plan_text(r: RolloutPlanReport) -> str:
    """Aligned plain text: a table per step, then the assumptions, error control and notes."""
    lines = [
        f"Canary rollout plan at {r.rate:g} requests/s (both arms), a look every "
        f"{r.look_every_minutes:g} min, policy {r.policy_digest[:19]}…",
    ]
    for s in r.steps:
        rows = [_HEADER, *_cells(s)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
        lines += ["", _step_title(s)]
        for row in rows:
            cells = "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
            lines.append(("  " + cells).rstrip())
        notes = [f"    {c.check}: {c.note}" for c in s.checks if c.note]
        lines += notes
    lines += ["", "Assumptions:"] + [f"  {x}" for x in r.profile.lines()]
    lines += ["", "Error control:", f"  {r.error_control}"]
    lines += ["", "Notes:"] + [f"  {n}" for n in r.notes]
    return "\n".join(lines)


def plan_html(r: RolloutPlanReport) -> str:
    """The text's content as escaped HTML tables (for Jupyter's ``_repr_html_``)."""
    e = html.escape
    parts = [
        '<div class="canarykit-plan">',
        f"<p><b>Canary rollout plan</b> at {e(f'{r.rate:g}')} requests/s (both arms), a look "
        f"every {e(f'{r.look_every_minutes:g}')} min, policy <code>{e(r.policy_digest)}</code></p>",
    ]
    for s in r.steps:
        parts.append(f"<p>{e(_step_title(s))}</p>")
        parts.append("<table><thead><tr>")
        parts += [f"<th>{e(h)}</th>" for h in _HEADER]
        parts.append("</tr></thead><tbody>")
        for c, row in zip(s.checks, _cells(s), strict=True):
            title = f' title="{e(c.note)}"' if c.note else ""
            parts.append(f"<tr{title}>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("<p><b>Assumptions</b></p><ul>")
    parts += [f"<li>{e(x)}</li>" for x in r.profile.lines()]
    parts.append(f"</ul><p><b>Error control</b>: {e(r.error_control)}</p><ul>")
    parts += [f"<li>{e(n)}</li>" for n in r.notes]
    parts.append("</ul></div>")
    return "".join(parts)
