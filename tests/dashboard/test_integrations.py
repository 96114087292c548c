"""The Argo Rollouts, Flagger and GitHub Actions examples, parsed and run against canarykit.

Each example in ``docs/integrations/`` is read as its tool would read it; the endpoint it names
is called on a live ``canarykit serve`` (host replaced by the test server's), and its conditions
are applied to the answer for a PROCEED, a STOP and a CONTINUE canary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from canarykit.dashboard.server import make_server, serve_in_thread
from canarykit.traces.store import ingest_new_or_existing
from canarykit.verdict import evaluate

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "integrations"
SAMPLES = ROOT / "data" / "samples"
CASES = {"clean-canary": "PROCEED", "latency-tail": "STOP", "too-little-data": "CONTINUE"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("integrations") / "store.duckdb"
    ingest_new_or_existing(db, [str(SAMPLES / f"{m.replace('-', '_')}.parquet") for m in CASES])
    for model, expected in CASES.items():
        assert evaluate(db, model=model).decision == expected
    return db


@pytest.fixture(scope="module")
def origin(store):
    server = make_server(store, port=0)
    stop = serve_in_thread(server)
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    stop()


def local(url: str, origin: str, **args: str) -> str:
    for key, value in args.items():
        url = url.replace("{{args." + key + "}}", value)
    parts = urlsplit(url)
    return origin + parts.path + ("?" + parts.query if parts.query else "")


def call(url: str, *, post: bool = False) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, method="POST" if post else "GET", data=b'{"name": "x"}' if post else None
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def condition(expression: str, result: str) -> bool:
    """Argo's ``result == "X"`` conditions (the only form the template uses)."""
    left, right = (part.strip() for part in expression.split("=="))
    assert left == "result"
    return result == json.loads(right)


@pytest.mark.parametrize(
    ("model", "outcome"),
    [
        ("clean-canary", "success"),
        ("latency-tail", "failure"),
        ("too-little-data", "inconclusive"),
    ],
)
def test_the_argo_analysis_template(origin, model, outcome):
    template = yaml.safe_load((DOCS / "argo-analysis-template.yaml").read_text())
    assert template["kind"] == "AnalysisTemplate"
    metric = template["spec"]["metrics"][0]
    web = metric["provider"]["web"]
    assert web["jsonPath"] == "{$.decision}"
    status, body = call(local(web["url"], origin, model=model))
    assert status == 200
    result = body["decision"]
    success = condition(metric["successCondition"], result)
    failure = condition(metric["failureCondition"], result)
    got = "success" if success else "failure" if failure else "inconclusive"
    assert got == outcome
    assert metric["failureLimit"] == 0


@pytest.mark.parametrize(
    ("model", "rollout_ok", "promote_ok"),
    [
        ("clean-canary", True, True),
        ("latency-tail", False, False),
        ("too-little-data", True, False),
    ],
)
def test_the_flagger_webhooks(origin, model, rollout_ok, promote_ok):
    canary = yaml.safe_load((DOCS / "flagger-canary.yaml").read_text())
    hooks = {h["type"]: h for h in canary["spec"]["analysis"]["webhooks"]}
    for kind, expected in (("rollout", rollout_ok), ("confirm-promotion", promote_ok)):
        url = local(hooks[kind]["url"].replace("risk-default", model), origin)
        status, body = call(url, post=True)  # Flagger posts its payload
        assert (200 <= status < 300) is expected, (kind, status, body)
        assert body["decision"] == CASES[model]


@pytest.mark.parametrize(
    ("model", "code", "summary"),
    [
        ("clean-canary", 0, "**PROCEED**"),
        ("latency-tail", 1, "**STOP**"),
        ("too-little-data", 3, "**CONTINUE**"),
    ],
)
def test_the_github_actions_workflow_waits_on_continue(store, tmp_path, model, code, summary):
    workflow = yaml.safe_load((DOCS / "github-actions-canary.yml").read_text())
    steps = workflow["jobs"]["verdict"]["steps"]
    script = next(s["run"] for s in steps if s.get("name") == "look until the canary is decided")
    out = tmp_path / "summary.md"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DB": str(store),
        "MODEL": model,
        "LOOK_EVERY_SECONDS": "0",
        "MAX_LOOKS": "2",
        "GITHUB_STEP_SUMMARY": str(out),
    }
    result = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == code, result.stdout + result.stderr
    assert summary in out.read_text()
    looks = out.read_text().count("### canarykit:")
    assert looks == (2 if code == 3 else 1)
