"""Escaped HTML for notebook display (pure object → string functions).

The ``_repr_html_`` of the registry status, store info, a replay result, the decision log and
an event log delegate here: small tables with short digests (``sha256:1a2b3c4d5e6f…``) and
stage / decision badges. Values are read through each record's ``to_dict()`` and escaped, so a
version named ``<script>`` shows as text.

Examples
--------
>>> from canarykit.promotion.results import StatusReport
>>> status_html(StatusReport())
'<div class="canarykit-status"><p>(no versions registered)</p></div>'
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "decisions_html",
    "events_html",
    "records_table",
    "replay_html",
    "status_html",
    "store_info_html",
]

_BADGES = {
    "Candidate": "#57606a",
    "Staging": "#0969da",
    "Approved": "#1a7f37",
    "Revoked": "#cf222e",
    "PROCEED": "#1a7f37",
    "STOP": "#cf222e",
    "CONTINUE": "#9a6700",
}

_VERSION_COLUMNS = (
    "model",
    "version",
    "stage",
    "submitter",
    "submitted_at",
    "policy_digest",
    "revalidate_by",
)
_ALIAS_COLUMNS = ("model", "alias", "version", "generation", "updated_at")
_APPROVAL_COLUMNS = ("model", "version", "stage", "role", "actor", "time", "note")
_WAIVER_COLUMNS = ("waiver_id", "model", "version", "check", "reason", "owner", "expires")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    text = str(value)
    if text.startswith("sha256:") and len(text) > 19:
        return text[:19] + "…"  # short digest; the full one is in to_dict()/to_frame()
    return text


def _html_cell(value: Any) -> str:
    text = _cell(value)
    colour = _BADGES.get(text)
    if colour is None:
        return html.escape(text)
    return (
        f'<span style="background:{colour};color:#fff;font-weight:600;padding:0 .4em;'
        f'border-radius:3px">{html.escape(text)}</span>'
    )


def records_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """An HTML table of ``records`` (dicts), with the ``columns`` that any record has.

    Examples
    --------
    >>> records_table([{"a": "<b>", "b": None}], ("a", "b", "c"))
    '<div style="overflow-x:auto"><table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>&lt;b&gt;</td><td>-</td></tr></tbody></table></div>'
    """
    shown = [c for c in columns if any(c in r for r in records)]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown)
    body = "".join(
        "<tr>" + "".join(f"<td>{_html_cell(r.get(c))}</td>" for c in shown) + "</tr>"
        for r in records
    )
    return (
        f'<div style="overflow-x:auto"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def status_html(report: Any) -> str:
    """Escaped HTML of a promotion :class:`~canarykit.promotion.results.StatusReport`."""
    versions = [v.to_dict() for v in report.versions]
    if not versions:
        return '<div class="canarykit-status"><p>(no versions registered)</p></div>'
    aliases = [a.to_dict() for a in report.aliases]
    for a in aliases:
        if a.get("version") is None:
            a["version"] = "BLOCKED (no version may start)"
    approvals = [a.to_dict() for a in report.approvals]
    waivers = [w.to_dict() for w in report.waivers]
    parts = ['<div class="canarykit-status">', "<h4>Versions</h4>"]
    parts.append(records_table(versions, _VERSION_COLUMNS))
    for title, rows, columns in (
        ("Aliases", aliases, _ALIAS_COLUMNS),
        ("Approvals", approvals, _APPROVAL_COLUMNS),
        ("Waivers", waivers, _WAIVER_COLUMNS),
    ):
        if rows:
            parts.append(f"<h4>{title}</h4>")
            parts.append(records_table(rows, columns))
    parts.append("</div>")
    return "".join(parts)


def store_info_html(info: Any) -> str:
    """A trace store's content: one row per (model, version, arm)."""
    data = info.to_dict()
    if not data["groups"]:
        return f"<p>{html.escape(str(data['path']))} holds no traces</p>"
    columns = ("model", "version", "arm", "rows", "errors", "scored", "labelled", "start", "end")
    return (
        f"<div><strong>{html.escape(str(data['path']))}</strong>: {data['rows']:,} traces"
        f"{records_table(data['groups'], columns)}</div>"
    )


def replay_html(result: Any) -> str:
    """A replay: identical (with digests) or the list of differences."""
    v = result.original
    head = (
        f"replay of {html.escape(v.model)} {html.escape(v.baseline)} → "
        f"{html.escape(v.candidate)}: {_html_cell(v.decision)} "
    )
    if result.identical:
        return (
            f"<div>{head}<strong>identical</strong> (data {html.escape(_cell(v.data_digest))}, "
            f"policy {html.escape(_cell(v.policy_digest))})</div>"
        )
    rows = [{"difference": d} for d in result.differences]
    return f"<div>{head}<strong>different</strong>{records_table(rows, ('difference',))}</div>"


def decisions_html(records: Sequence[Any]) -> str:
    """The decision log, newest first."""
    rows = [
        {
            "created_at": str(r.created_at),
            "decision": r.decision,
            "model": r.model,
            "baseline": r.baseline,
            "candidate": r.candidate,
            "mode": r.mode,
            "window": f"{r.window_start} .. {r.window_end}",
            "data_digest": r.data_digest,
            "policy_digest": r.policy_digest,
        }
        for r in records
    ]
    if not rows:
        return "<p>no decisions logged</p>"
    return records_table(rows, tuple(rows[0]))


def events_html(events: Sequence[Any]) -> str:
    """An event stream: id, kind, time, model, version, CHG-ID, actor and cursor."""
    rows = [
        {k: e.to_dict()[k] for k in ("id", "kind", "time", "model", "version", "chg_id", "actor")}
        | {"decision": e.data.get("decision"), "cursor": e.cursor}
        for e in events
    ]
    if not rows:
        return "<p>no events</p>"
    return records_table(rows, tuple(rows[0]))
