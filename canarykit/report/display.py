"""Escaped HTML for notebook display of promotion results (pure object → string functions).

``StatusReport._repr_html_`` delegates here: the registry status renders in Jupyter as small
tables of versions, aliases, approvals and waivers. Values are read through each record's
``to_dict()`` and escaped, so a version named ``<script>`` shows as text.

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

__all__ = ["records_table", "status_html"]

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
    return str(value)


def records_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """An HTML table of ``records`` (dicts), with the ``columns`` that any record has.

    Examples
    --------
    >>> records_table([{"a": "<b>", "b": None}], ("a", "b", "c"))
    '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>&lt;b&gt;</td><td>-</td></tr></tbody></table>'
    """
    shown = [c for c in columns if any(c in r for r in records)]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in shown) + "</tr>"
        for r in records
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
