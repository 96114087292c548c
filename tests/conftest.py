"""Shared fixtures: small valid trace tables and stores."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest


def valid_frame(n: int = 6, *, prefix: str = "r") -> pd.DataFrame:
    """A small, valid trace DataFrame (control and canary alternate)."""
    return pd.DataFrame(
        {
            "request_id": [f"{prefix}{i}" for i in range(n)],
            "ts": pd.date_range("2026-01-01", periods=n, freq="s"),
            "model": "risk-default",
            "version": ["v1" if i % 2 == 0 else "v2" for i in range(n)],
            "arm": ["control" if i % 2 == 0 else "canary" for i in range(n)],
            "latency_ms": [10.0 + i for i in range(n)],
            "error": [False] * n,
            "score": [0.1 * (i % 10) for i in range(n)],
            "label": [bool(i % 3 == 0) for i in range(n)],
            "group": ["A" if i % 2 else "B" for i in range(n)],
        }
    )


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (to prove a rejected ingest wrote nothing)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def frame() -> pd.DataFrame:
    return valid_frame()


# -- a real MLflow tracking server (issue 18) ----------------------------------------------------
MLFLOW_SERVER_ENV = "CANARYKIT_MLFLOW_SERVER"
"""Path of an ``mlflow`` executable to run the test server with (default: this interpreter's
``python -m mlflow``, from the ``dev`` extra)."""
REQUIRE_MLFLOW_ENV = "CANARYKIT_REQUIRE_MLFLOW"


def _mlflow_server_command() -> list[str] | None:
    import importlib.util
    import os
    import shutil
    import sys

    given = os.environ.get(MLFLOW_SERVER_ENV)
    if given:
        found = shutil.which(given)
        return [found] if found else None
    try:
        server = importlib.util.find_spec("mlflow.server")
        flask = importlib.util.find_spec("flask")
    except ImportError:
        return None
    return [sys.executable, "-m", "mlflow"] if server and flask else None


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``http://127.0.0.1:PORT`` of an MLflow tracking server with a SQLite backend store,
    started once per test session (``mlflow server`` as a subprocess) and stopped after.

    Skipped when the MLflow client or server cannot be found, unless
    ``CANARYKIT_REQUIRE_MLFLOW`` is set (``make test`` sets it): then it fails.
    """
    import importlib.util
    import os
    import socket
    import subprocess
    import time
    import urllib.request

    command = _mlflow_server_command()
    client = importlib.util.find_spec("mlflow") is not None
    if command is None or not client:
        why = (
            "MLflow is not installed (pip install -e '.[dev]' installs the server; or set"
            f" {MLFLOW_SERVER_ENV} to an mlflow executable)"
        )
        if os.environ.get(REQUIRE_MLFLOW_ENV):
            pytest.fail(f"{REQUIRE_MLFLOW_ENV} is set but {why}")
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("mlflow-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (folder / "server.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    process = subprocess.Popen(
        [
            *command,
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
        env=env,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"mlflow server did not start (exit {process.poll()}): {tail}")
            time.sleep(0.3)
        yield uri
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
