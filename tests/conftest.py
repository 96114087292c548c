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
REQUIRE_MLFLOW_ENV = "CANARYKIT_REQUIRE_MLFLOW"


def mlflow_available() -> bool:
    """Whether the MLflow client and a server to run are installed (the ``dev`` extra, or
    ``$CANARYKIT_MLFLOW_SERVER``)."""
    import importlib.util

    from canarykit.integrations.mlflow.local_server import server_command

    return importlib.util.find_spec("mlflow") is not None and server_command() is not None


def skip_without_mlflow() -> None:
    """Skip when MLflow is not installed — or fail when ``CANARYKIT_REQUIRE_MLFLOW`` is set
    (``make test`` sets it, so CI never skips silently)."""
    import os

    if mlflow_available():
        return
    why = (
        "MLflow is not installed (pip install -e '.[dev]' installs the server; or set"
        " CANARYKIT_MLFLOW_SERVER to an mlflow executable)"
    )
    if os.environ.get(REQUIRE_MLFLOW_ENV):
        pytest.fail(f"{REQUIRE_MLFLOW_ENV} is set but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``http://127.0.0.1:PORT`` of a real MLflow tracking server (``mlflow server``, SQLite
    backend store) started once per test session and stopped after
    (:func:`canarykit.integrations.mlflow.local_server.start_local_server`)."""
    skip_without_mlflow()
    from canarykit.integrations.mlflow.local_server import start_local_server

    with start_local_server(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server.uri
