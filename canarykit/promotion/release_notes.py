r"""The release notes (``release_notes.md``) of a release, and the escaping that keeps them inert.

The notes are rendered from the manifest (:mod:`~canarykit.promotion.release_manifest`):
changes (the change tickets), risks, limitations, the verdict summary and the approvals. Every
value that is not canarykit's own (ticket fields, waiver reasons, names) goes through
:func:`md_text`, or :func:`md_code` between backticks, so nothing in it can start a heading, a
list item, a table row, a link, emphasis or HTML. The manifest records the digest of the notes
and the release signature covers it.

Examples
--------
>>> print(md_text("# title"))
\# title
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["DRILL_NOTE", "md_code", "md_text"]


DRILL_NOTE = (
    "**DRILL**: made from a drill registry (`config init --drill`): a rehearsal, never a"
    " production release (`release verify` fails it)"
)


_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


_MARKDOWN = re.compile(r"([\\`*_\[\](){}#|~!])")


_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def md_text(value: Any) -> str:
    r"""``value`` as inert text on one line of Markdown: nothing in it can start a heading, a
    list item, a table row or cell, a link, emphasis, code or HTML.

    Line breaks (``\n``, ``\r``, U+2028 …) become a visible ``↵``, other control and
    bidirectional-override characters are dropped, Markdown punctuation is backslash-escaped
    and ``& < >`` become HTML entities. Ticket fields (impact, title, steps, backout plan),
    waiver reasons and names reach the release notes only through this.

    Examples
    --------
    >>> print(md_text("x\n## Approvals\n- eve"))
    x ↵ \#\# Approvals ↵ - eve
    >>> print(md_text("a | b <script>alert(1)</script>"))
    a \| b &lt;script&gt;alert\(1\)&lt;/script&gt;
    """
    text = _LINE_BREAKS.sub(" ↵ ", str(value))
    text = _CONTROLS.sub("", text)
    return _MARKDOWN.sub(r"\\\1", text).translate(_HTML)


def md_code(value: Any) -> str:
    r"""``value`` for a Markdown code span (between backticks): one line, no backtick.

    Inside a code span Markdown and HTML are not interpreted, so only what could end the span
    or the line is replaced (a backtick by ``'``, a line break by ``↵``).

    Examples
    --------
    >>> print(md_code("a`b\n<i>"))
    a'b ↵ <i>
    """
    text = _LINE_BREAKS.sub(" ↵ ", str(value))
    return _CONTROLS.sub("", text).replace("`", "'")


def _notes(manifest: Mapping[str, Any]) -> str:
    """The release notes: every value that is not canarykit's own is escaped (:func:`md_text`,
    :func:`md_code` between backticks)."""
    e, c = md_text, md_code
    canary = manifest["canary"]
    lines = [
        f"# Release {e(manifest['model'])} {e(manifest['version'])}",
        "",
        *([DRILL_NOTE, ""] if manifest.get("drill") is True else []),
        f"- artifact: `{c(manifest['artifact_digest'])}`",
        f"- policy snapshot: `{c(manifest['policy_digest'])}`"
        + (f" ({e(policy['name'])})" if (policy := manifest["policy_snapshot"])["name"] else ""),
        f"- verdict: `{c(manifest['verdict_digest'])}`",
        f"- audit checkpoint: event {e(manifest['audit_checkpoint']['seq'])},"
        f" head `{c(manifest['audit_checkpoint']['head_hash'])}`",
        *[
            f"- {e(kind.replace('_', ' '))}:"
            f" `{c(link.get('digest') if isinstance(link, Mapping) else link)}`"
            for kind, link in sorted(manifest["evidence_links"].items())
        ],
        f"- revalidate by: {e(manifest['revalidate_by'])}",
        f"- rollback: `{c(manifest['rollback']['alias'])}` returns to"
        f" {e(manifest['rollback']['target'] or 'nothing (the alias would be blocked)')}",
        "",
        "## Changes",
        "",
    ]
    for ticket in manifest["tickets"]:
        title = f" {e(ticket['title'])}:" if ticket.get("title") else ""
        lines.append(
            f"- **{e(ticket['id'])}** ({e(ticket['type'])}, risk {e(ticket['risk'])}):{title}"
            f" {e(ticket['impact'])}"
        )
        lines += [f"  - step: {e(step)}" for step in ticket["steps"]]
        lines.append(f"  - backout: {e(ticket['backout_plan'])}")
        lines += [f"  - validate: {e(v)}" for v in ticket["post_change_validation"]]
    lines += ["", "## Risks", ""]
    lines += [
        f"- {e(t['id'])}: risk {e(t['risk'])} — {e(t['impact'])}" for t in manifest["tickets"]
    ]
    lines.append(
        f"- highest open SBOM severity: {e(manifest['evidence']['sbom_max_open_severity'])}"
    )
    lines += [
        f"- waiver {e(w['waiver_id'])} lifts `{c(w['check'])}` until {e(w['expires'])}:"
        f" {e(w['reason'])} (owner {e(w['owner'])})"
        for w in manifest["waivers"]
    ]
    lines += ["", "## Limitations", ""]
    open_checks = [check for check in canary["checks"] if check["status"] != "pass"]
    lines += [
        f"- check `{c(check['name'])}` was {e(check['status'])} at release" for check in open_checks
    ]
    lines.append(
        f"- the approval holds until {e(manifest['revalidate_by'])}; revalidate before then"
    )
    if not manifest["evidence"]["attestation_verified"]:
        lines.append("- no verified SLSA provenance attestation was supplied")
    lines += [
        "",
        "## Verdict summary",
        "",
        f"- decision: **{e(canary['decision'])}** ({e(canary['strategy'])} vs"
        f" {e(canary['baseline'])}, window {e(canary['window']['start'])} →"
        f" {e(canary['window']['end'])})",
        f"- data digest: `{c(canary['data_digest'])}`;"
        f" verdict digest: `{c(canary['verdict_digest'])}`",
        f"- guardrails: {', '.join(e(g) for g in manifest['guardrails'])}",
        "",
        "| check | status |",
        "|---|---|",
    ]
    lines += [f"| {e(check['name'])} | {e(check['status'])} |" for check in canary["checks"]]
    lines += [f"- reason: {e(r)}" for r in canary["reasons"]]
    lines += ["", "## Approvals", ""]
    lines += [
        f"- {e(a['role'])} ({e(a['stage'])}): {e(a['actor'])} at {e(a['time'])}"
        for a in manifest["approvals"]
    ]
    return "\n".join(lines) + "\n"
