"""The dashboard in a real browser: Debian's Chromium, driven by Playwright (no browser download).

``make test`` installs Chromium from Debian's packages and sets ``CANARYKIT_REQUIRE_BROWSER=1``,
so there the test always runs; elsewhere it is skipped when no Chromium is installed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from canarykit.dashboard.server import make_server, serve_in_thread
from canarykit.rollout import start_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces.store import ingest_new_or_existing
from canarykit.verdict import evaluate
from canarykit.verdict.policy import load_policy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None and os.environ.get("CANARYKIT_REQUIRE_BROWSER") == "1":
    pytest.fail("make test needs Debian's chromium (the Makefile installs it)", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium installed")


def at(minutes: float) -> str:
    return (START + dt.timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def live(tmp_path):
    db = tmp_path / "store.duckdb"
    plan = load_policy().rollout
    ingest_new_or_existing(db, rollout_traffic(SCENARIOS["aa"], plan, rate=40.0, seed=4))
    start_rollout(db, model=MODEL, at=START)
    evaluate(db, until=at(5))
    server = make_server(db, port=0)
    stop = serve_in_thread(server)
    host, port = server.server_address[:2]
    yield db, f"http://{host}:{port}"
    stop()


def test_the_page_shows_the_rollout_and_updates_itself_without_leaving_localhost(live, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    db, origin = live
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(origin + "/")
            page.wait_for_selector("#detail h2")
            assert "rollout 1: risk-default v2.2.4 → v2.3.0" in page.inner_text("#detail h2")
            assert page.inner_text("#detail h2 .badge") in ("CONTINUE", "PROCEED")
            assert page.locator("svg circle[data-look]").count() == 1
            assert page.locator('[data-check="sample_ratio"]').count() == 1
            # a new look recorded by the batch job appears without a reload
            evaluate(db, until=at(10))
            expect(page.locator("svg circle[data-look]")).to_have_count(2, timeout=20_000)
            assert "2 looks" in page.inner_text("#rollouts")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert requests
    assert all(url.startswith(origin + "/") for url in requests), requests


def test_a_drill_registry_shows_a_drill_banner(tmp_path):
    from playwright.sync_api import sync_playwright

    from canarykit.promotion import Promotion

    db = tmp_path / "store.duckdb"
    plan = load_policy().rollout
    ingest_new_or_existing(db, rollout_traffic(SCENARIOS["aa"], plan, rate=40.0, seed=4))
    start_rollout(db, model=MODEL, at=START)
    evaluate(db, until=at(5))
    pages = {}
    for name, drill in (("drill", True), ("production", False)):
        registry = tmp_path / f"{name}.sqlite"
        with Promotion(registry) as promotion:
            promotion.init_registry(actor="olga", drill=drill)
        server = make_server(db, registry=registry, port=0)
        stop = serve_in_thread(server)
        host, port = server.server_address[:2]
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    page = browser.new_page()
                    page.goto(f"http://{host}:{port}/")
                    page.wait_for_selector("#governance h2")
                    page.wait_for_selector("#governance table")
                    pages[name] = page.inner_text("#governance")
                finally:
                    browser.close()
        finally:
            stop()
    assert "DRILL" in pages["drill"]
    assert "a drill registry" in pages["drill"]
    assert "DRILL" not in pages["production"]
