"""The dashboard's HTTP routes: JSON endpoints, Prometheus text, read-only, localhost first."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from canarykit.dashboard.server import binding_notice, make_server, serve_in_thread
from canarykit.rollout import start_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces.store import ingest_new_or_existing
from canarykit.verdict import evaluate
from canarykit.verdict.policy import load_policy


def at(minutes: float) -> str:
    return (START + dt.timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def store(tmp_path):
    db = tmp_path / "store.duckdb"
    plan = load_policy().rollout
    ingest_new_or_existing(db, rollout_traffic(SCENARIOS["aa"], plan, rate=40.0, seed=4))
    start_rollout(db, model=MODEL, at=START)
    for minute in (5, 10):
        evaluate(db, until=at(minute))
    return db


@pytest.fixture
def server(store):
    srv = make_server(store, port=0)
    stop = serve_in_thread(srv)
    host, port = srv.server_address[:2]
    yield f"http://{host}:{port}"
    stop()


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # localhost only
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode(), dict(err.headers)


def test_the_api_serves_rollouts_looks_and_the_latest_verdict(server):
    status, body, headers = get(server + "/api/rollouts")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    rollouts = json.loads(body)
    assert [r["rollout_id"] for r in rollouts] == [1]
    assert rollouts[0]["looks"] == 2
    detail = json.loads(get(server + "/api/rollouts/1")[1])
    assert [lk["look"] for lk in detail["looks"]] == [1, 2]
    assert {c["name"] for c in detail["looks"][-1]["checks"]} >= {"latency_p95", "sample_ratio"}
    assert [a["arm"] for a in detail["latency"]] == ["control", "canary"]
    verdict = json.loads(get(server + f"/api/verdict?model={MODEL}")[1])
    assert verdict["schema"] == "canarykit.verdict/1"
    assert verdict["rollout"]["look"] == 2
    assert get(server + "/api/verdict?model=nope")[0] == 404
    assert get(server + "/api/verdict")[0] == 400
    assert get(server + "/api/rollouts/9")[0] == 404


def test_metrics_are_prometheus_text(server):
    status, body, headers = get(server + "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = body.splitlines()
    assert "# TYPE canarykit_decision gauge" in lines
    decided = [ln for ln in lines if ln.startswith("canarykit_decision{") and ln.endswith(" 1")]
    assert len(decided) == 1
    assert any(ln.startswith("canarykit_srm_pvalue{") for ln in lines)
    assert any(
        ln.startswith('canarykit_check_upper{candidate="v2.3.0",check="latency_p95"')
        for ln in lines
    )


def test_the_page_is_self_contained_and_read_only(server):
    status, body, headers = get(server + "/")
    assert status == 200
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    # the only URL in the page is the SVG namespace name (an identifier, never fetched)
    assert "http://" not in body.replace(server, "").replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in body
    request = urllib.request.Request(server + "/api/rollouts", method="POST", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 405
    caught.value.close()


def test_the_token_changes_when_a_look_is_appended(server, store):
    before = json.loads(get(server + "/api/token")[1])["token"]
    evaluate(store, until=at(15))
    after = json.loads(get(server + "/api/token")[1])["token"]
    assert before != after
    assert json.loads(get(server + "/api/rollouts")[1])[0]["looks"] == 3


def test_the_binding_is_said_and_warned():
    assert "localhost only" in binding_notice("127.0.0.1", 1)
    assert "localhost only" in binding_notice("::1", 1)
    assert binding_notice("0.0.0.0", 1).startswith("WARNING")


def test_the_governance_view_reads_the_registry(store, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "promotion"))
    from promotion_world import MODEL as REGISTRY_MODEL
    from promotion_world import make_world

    (tmp_path / "world").mkdir()
    with make_world(tmp_path / "world") as world:
        world.submit("v1")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the page judges windows by now
        window = [(now + dt.timedelta(hours=h)).isoformat() for h in (-1, 48)]
        world.chg("CHG-2001", ["v1"], start=window[0], end=window[1])
        registry = world.promotion.store.path if hasattr(world.promotion.store, "path") else None
        registry = registry or tmp_path / "world" / "registry.sqlite"
    srv = make_server(store, registry=registry, port=0)
    stop = serve_in_thread(srv)
    host, port = srv.server_address[:2]
    try:
        status, body, _ = get(f"http://{host}:{port}/api/governance?model={REGISTRY_MODEL}")
    finally:
        stop()
    assert status == 200
    g = json.loads(body)
    assert [v["version"] for v in g["status"]["versions"]] == ["v1"]
    assert g["audit"]["ok"] is True
    ticket = g["changes"][0]
    assert ticket["ticket"]["id"] == "CHG-2001"
    assert ticket["state"] == "open"
    assert len(ticket["approvals"]) == 2


def test_a_drill_registry_says_drill(store, tmp_path):
    from canarykit.promotion import Promotion

    registry = tmp_path / "drill.sqlite"
    with Promotion(registry, drill=True) as promotion:
        assert promotion.drill
    production = tmp_path / "production.sqlite"
    with Promotion(production) as promotion:
        promotion.init_registry(actor="olga", drill=False)
    bodies = {}
    for name, path in (("drill", registry), ("production", production)):
        srv = make_server(store, registry=path, port=0)
        stop = serve_in_thread(srv)
        host, port = srv.server_address[:2]
        try:
            status, body, _ = get(f"http://{host}:{port}/api/governance?model=m")
        finally:
            stop()
        assert status == 200
        bodies[name] = json.loads(body)
    assert bodies["drill"]["drill"] is True
    assert bodies["production"]["drill"] is False
