"""HTML output is escaped (a model named ``<script>`` shows as text) and well formed."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

from canarykit.promotion.alias import AliasState
from canarykit.promotion.results import StatusReport
from canarykit.promotion.versions import VersionRecord
from canarykit.report.data import load_report_data
from canarykit.report.display import status_html
from canarykit.report.html import report_html
from canarykit.traces.generate import generate_traces

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class TagChecker(HTMLParser):
    """Checks that every non-void element is closed, in order; collects tags and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append(f"end tag for void element {tag}")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(markup)
    checker.close()
    assert checker.errors == []
    assert checker.stack == [], f"unclosed: {checker.stack}"
    return checker


def names(checker: TagChecker) -> list[str]:
    return [t for t, _ in checker.tags]


# -- the report page -------------------------------------------------------------------------
def test_report_page_is_valid_and_self_contained(fairness_case):
    verdict = fairness_case.verdict
    page = report_html(verdict, fairness_case.data, dpi=40)
    assert page.startswith("<!DOCTYPE html>")
    checker = parse(page)
    tags = names(checker)
    for tag in ("html", "head", "body", "title"):
        assert tags.count(tag) == 1
    # the only script is the embedded verdict JSON (a data block, never executed)
    assert [attrs for tag, attrs in checker.tags if tag == "script"] == [
        {"type": "application/json", "id": "verdict"}
    ]
    embedded = page.split('<script type="application/json" id="verdict">')[1].split("</script>")[0]
    assert json.loads(embedded) == json.loads(verdict.to_json())
    images = [attrs for tag, attrs in checker.tags if tag == "img"]
    assert len(images) == 5  # forest + latency, errors, ROC, fairness
    for attrs in images:
        assert attrs["alt"]
        prefix = "data:image/png;base64,"
        assert attrs["src"].startswith(prefix)
        assert base64.b64decode(attrs["src"][len(prefix) :])[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing is fetched from elsewhere
    for _, attrs in checker.tags:
        for key in ("src", "href"):
            assert not (attrs.get(key) or "").startswith(("http:", "https:", "//"))


def test_report_page_has_decision_reasons_checks_digests_and_rollout(fairness_case):
    verdict = fairness_case.verdict
    text = " ".join(parse(report_html(verdict, fairness_case.data, dpi=30)).text)
    assert "STOP" in text
    for reason in verdict.reasons:
        assert reason in text
    for check in verdict.checks:
        assert check.name in text
        assert check.summary in text
        assert check.method in text
    assert verdict.policy_digest in text
    assert verdict.data_digest in text
    assert "step 2 of 3 (planned split 25%" in text
    assert "roll back" in text
    assert "canarykit replay" in text


def test_report_escapes_a_script_model_name(script_case):
    page = report_html(script_case.verdict, script_case.data, dpi=30)
    checker = parse(page)
    assert names(checker).count("script") == 1  # the embedded verdict JSON only
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" in "".join(checker.text)  # shown as text


def test_report_warns_when_the_source_changed(fairness_case):
    other = generate_traces("fairness_regression", n_requests=12_000, canary_share=0.25, seed=8)
    data = load_report_data(fairness_case.verdict, other)
    assert not data.data_matches
    page = report_html(fairness_case.verdict, data, dpi=30)
    assert 'class="warning"' in page
    assert "source changed" in page


def test_report_without_data_has_the_forest_plot_only(fairness_case):
    checker = parse(report_html(fairness_case.verdict))
    assert names(checker).count("img") == 1


# -- rich display in Jupyter -----------------------------------------------------------------
def test_verdict_repr_html_is_escaped_and_balanced(script_case):
    markup = script_case.verdict._repr_html_()
    checker = parse(markup)
    assert "script" not in names(checker)
    assert "&lt;script&gt;" in markup
    assert [t for t in names(checker) if t == "tr"]
    assert "table" in names(checker)


def test_check_repr_html_is_escaped_and_balanced(script_case):
    from dataclasses import replace

    check = replace(script_case.verdict.checks[0], summary="p95 <b>fine</b> & well")
    markup = check._repr_html_()
    checker = parse(markup)
    assert "b" not in names(checker)
    assert "p95 <b>fine</b> & well" in "".join(checker.text)
    assert check.name in markup
    assert check.status in markup


def test_status_report_renders_escaped_tables():
    version = VersionRecord(
        model="risk-default",
        version="<script>v9</script>",
        artifact_digest="sha256:" + "a" * 64,
        submitter="ann",
        submitted_at_ns=1_764_000_000_000_000_000,
        stage="Approved",
        updated_at_ns=1_764_000_000_000_000_000,
    )
    alias = AliasState(
        model="risk-default",
        alias="production",
        version="<script>v9</script>",
        generation=1,
        updated_at_ns=1_764_000_000_000_000_000,
    )
    report = StatusReport(versions=(version,), aliases=(alias,))
    markup = report._repr_html_()
    assert markup == status_html(report)
    checker = parse(markup)
    assert "script" not in names(checker)
    assert names(checker).count("table") == 2
    text = "".join(checker.text)
    assert "<script>v9</script>" in text
    assert "Approved" in text
    assert "production" in text


def test_status_report_shows_a_blocked_alias():
    version = VersionRecord(
        model="m",
        version="v1",
        artifact_digest="sha256:" + "b" * 64,
        submitter="ann",
        submitted_at_ns=0,
        stage="Revoked",
        updated_at_ns=0,
    )
    alias = AliasState(model="m", alias="production", version=None, generation=2, updated_at_ns=0)
    markup = status_html(StatusReport(versions=(version,), aliases=(alias,)))
    assert "BLOCKED (no version may start)" in markup
    parse(markup)


def test_report_page_is_deterministic(fairness_case):
    """Same verdict, same traces → the same bytes (an archived page can be regenerated)."""
    first = report_html(fairness_case.verdict, fairness_case.data, dpi=30)
    again = report_html(fairness_case.verdict, fairness_case.data, dpi=30)
    assert first == again


def test_report_page_fits_a_phone_and_puts_failing_checks_first(fairness_case):
    verdict = fairness_case.verdict
    page = report_html(verdict, fairness_case.data, dpi=30)
    checker = parse(page)
    metas = [attrs for tag, attrs in checker.tags if tag == "meta"]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    assert '<div class="scroll"><table>' in page
    order = [page.index(f"<strong>{c.name}</strong>") for c in verdict.checks]
    statuses = [c.status for _, c in sorted(zip(order, verdict.checks, strict=True))]
    rank = {"fail": 0, "inconclusive": 1, "pass": 2}
    assert statuses == sorted(statuses, key=rank.__getitem__)
    assert statuses[0] == "fail"
    # method and sample sizes are one click away, not columns
    assert page.count("<details><summary>") == len(verdict.checks)
    # per-arm and per-group tables
    assert "<h2>Arms</h2>" in page
    assert "<h2>Groups</h2>" in page
    assert "selection rate" in page


def test_report_images_are_sharp_and_their_alt_text_states_the_results(fairness_case):
    verdict = fairness_case.verdict
    checker = parse(report_html(verdict, fairness_case.data, dpi=30))
    images = [attrs for tag, attrs in checker.tags if tag == "img"]
    forest = images[0]
    assert f"Decision {verdict.decision}" in forest["alt"]
    for check in verdict.checks:
        assert f"{check.name} {check.status}" in forest["alt"]
    assert "Latency quantiles: control p50" in images[1]["alt"]
    for attrs in images:
        shown = int(attrs["width"])
        png = base64.b64decode(attrs["src"].split(",", 1)[1])
        stored = int.from_bytes(png[16:20], "big")  # IHDR width
        assert stored == 2 * shown or abs(stored - 2 * shown) <= 2
