"""The "where" table of segment verdicts: plain text, HTML and a segments × checks heatmap.

Pure object → string functions (everything escaped), and one plot that imports matplotlib
lazily (a pyplot-free :class:`~matplotlib.figure.Figure`).

Examples
--------
>>> from canarykit.verdict.segment_rows import SegmentRow, SegmentVerdict
>>> row = SegmentRow(segment=("br-south",), check="latency_p99", kind="latency_quantile_ratio",
...                  status="fail", estimate=1.4, ci_low=1.2, ci_high=1.6, threshold=1.1,
...                  bound="max", log_e_value=9.0, adjusted_pvalue=0.004, n_control=900,
...                  n_candidate=300, method="m")
>>> sv = SegmentVerdict(by=("region",), alpha=0.05, on_fail="stop", confidence_level=0.95,
...                     hypotheses=8, segments=8, discoveries=1, e_threshold=160.0, rows=(row,))
>>> print(segments_text(sv).splitlines()[0])
segments by region: 8 segments x 1 checks = 8 tests, e-BH at FDR 0.05: 1 discovery (on fail: stop)
>>> "<table" in segments_html(sv) and "region=br-south" in segments_html(sv)
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from canarykit.report.style import STATUS_COLOURS, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from canarykit.verdict.segment_rows import SegmentRow, SegmentVerdict

__all__ = ["plot_segments", "segments_html", "segments_markdown", "segments_text"]


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"


def _e(row: SegmentRow) -> str:
    if row.log_e_value > 20:
        return f"e^{row.log_e_value:.1f}"
    return _fmt(row.e_value)


def _header(sv: SegmentVerdict) -> str:
    checks = len({r.check for r in sv.rows})
    plural = "discovery" if sv.discoveries == 1 else "discoveries"
    return (
        f"segments by {','.join(sv.by)}: {sv.segments} segments x {checks} checks = "
        f"{sv.hypotheses} tests, e-BH at FDR {sv.alpha:g}: {sv.discoveries} {plural} "
        f"(on fail: {sv.on_fail})"
    )


def _cells(r: SegmentRow) -> list[str]:
    return [
        r.segment_label,
        r.check,
        r.status,
        _fmt(r.estimate),
        f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
        f"{'<=' if r.bound == 'max' else '>='} {_fmt(r.threshold)}",
        _e(r),
        _fmt(r.adjusted_pvalue),
        f"{r.n_candidate}/{r.n_control}",
    ]


_HEAD = ["segment", "check", "status", "estimate", "interval", "rule", "e-value", "adj. p", "n t/c"]


def segments_text(sv: SegmentVerdict, *, limit: int = 20) -> str:
    """Aligned plain-text "where" table: discoveries first, then by e-value (``limit`` rows)."""
    shown = [_cells(r) for r in sv.rows[:limit]]
    widths = [
        max(len(h), *(len(c[i]) for c in shown)) if shown else len(h) for i, h in enumerate(_HEAD)
    ]
    lines = [_header(sv), "  ".join(h.ljust(w) for h, w in zip(_HEAD, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in shown]
    if len(sv.rows) > limit:
        lines.append(f"... {len(sv.rows) - limit} more rows (verdict.segments.to_frame())")
    lines.append(
        f"intervals: marginal confidence sequences (level >= {sv.confidence_level:.0%}); e-BH "
        f"(a discovery needs e >= {_fmt(sv.e_threshold)} at this look's count)"
    )
    return "\n".join(line.rstrip() for line in lines)


def segments_markdown(sv: SegmentVerdict, *, escape: Callable[[str], str], limit: int = 20) -> str:
    """Markdown "where" table (cells passed through ``escape``), for CI job summaries."""
    lines = [f"**Where** — {escape(_header(sv))}", ""]
    lines += ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    lines += ["| " + " | ".join(escape(c) for c in _cells(r)) + " |" for r in sv.rows[:limit]]
    if len(sv.rows) > limit:
        lines.append(f"\n{len(sv.rows) - limit} more rows in the verdict JSON (`segments`).")
    return "\n".join(lines)


def segments_html(sv: SegmentVerdict, *, limit: int = 200) -> str:
    """HTML "where" table (escaped), with coloured status badges."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEAD)
    body = []
    for r in sv.rows[:limit]:
        cells = _cells(r)
        colour = STATUS_COLOURS.get(r.status, "#555555")
        cells_html = [html.escape(c) for c in cells]
        cells_html[2] = (
            f'<span class="badge" style="background:{colour};color:#fff;padding:0 .4em">'
            f"{html.escape(r.status)}</span>"
        )
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells_html) + "</tr>")
    more = (
        f"<p>{len(sv.rows) - limit} more rows in <code>verdict.segments.to_frame()</code>.</p>"
        if len(sv.rows) > limit
        else ""
    )
    return (
        f"<p>{html.escape(_header(sv))}</p>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{more}"
        f"<p>Intervals are marginal confidence sequences (level ≥ {sv.confidence_level:.0%}); the "
        "decision is e-BH over every (segment, check) e-value at this look.</p>"
    )


def plot_segments(sv: SegmentVerdict, *, ax: Axes | None = None, **kwargs: Any) -> Any:
    """Heatmap of segments (rows) × checks (columns): colour = log10 e-value, mark = status.

    Cells hold ``log10 e`` (clipped to [-2, 10]); discoveries are marked ``✕``, passes ``✓``,
    inconclusive cells ``?``. The e-BH bar of this look is in the colour bar's label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    segs = sorted({r.segment_label for r in sv.rows})
    checks = list(dict.fromkeys(r.check for r in sv.rows))
    grid = np.full((len(segs), len(checks)), np.nan)
    marks: dict[tuple[int, int], str] = {}
    for r in sv.rows:
        i, j = segs.index(r.segment_label), checks.index(r.check)
        grid[i, j] = max(-2.0, min(10.0, r.log_e_value / math.log(10.0)))
        marks[(i, j)] = {"fail": "x", "pass": "ok", "inconclusive": "?"}[r.status]
    axes = new_axes(ax, figsize=(1.4 + 1.1 * len(checks), 1.0 + 0.32 * len(segs)))
    image = axes.imshow(grid, aspect="auto", cmap="Reds", vmin=-2.0, vmax=10.0, **kwargs)
    axes.set_xticks(range(len(checks)), checks, rotation=30, ha="right")
    axes.set_yticks(range(len(segs)), segs)
    for (i, j), mark in marks.items():
        axes.text(
            j,
            i,
            mark,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if grid[i, j] > 6 else "black",
        )
    bar = 10.0 if not math.isfinite(sv.e_threshold) else math.log10(sv.e_threshold)
    axes.figure.colorbar(image, ax=axes, label=f"log10 e-value (e-BH bar {bar:.1f})")
    axes.set_title(f"where: {', '.join(sv.by)} (FDR {sv.alpha:g}, {sv.discoveries} found)")
    return axes.figure
