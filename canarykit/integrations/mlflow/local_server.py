"""A throw-away local MLflow tracking server, for the notebooks and the test suite.

``mlflow server`` with a SQLite backend store and a local artifact folder, on a free port of
127.0.0.1, started as a subprocess and stopped with :meth:`LocalServer.stop` (or on leaving a
``with`` block). It needs the full ``mlflow`` package (the ``dev`` extra), not only the client
of the ``mlflow`` extra; ``$CANARYKIT_MLFLOW_SERVER`` may name another ``mlflow`` executable.
Never use it for real models: it binds to localhost and keeps everything in one folder.

Examples
--------
>>> server_command(env={"CANARYKIT_MLFLOW_SERVER": "/nonexistent/mlflow"}) is None
True
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self

from canarykit.errors import StorageError

__all__ = ["SERVER_ENV", "LocalServer", "server_command", "start_local_server"]

SERVER_ENV = "CANARYKIT_MLFLOW_SERVER"


def server_command(env: Mapping[str, str] | None = None) -> list[str] | None:
    """How to run ``mlflow``: ``$CANARYKIT_MLFLOW_SERVER``, else ``python -m mlflow`` when
    this interpreter has the MLflow server installed; None when neither is there."""
    environ = os.environ if env is None else env
    given = environ.get(SERVER_ENV)
    if given:
        found = shutil.which(given)
        return [found] if found else None
    try:
        ready = importlib.util.find_spec("mlflow.server") and importlib.util.find_spec("flask")
    except ImportError:
        return None
    return [sys.executable, "-m", "mlflow"] if ready else None


@dataclass(slots=True)
class LocalServer:
    """A running local MLflow server (``uri``) whose data lives in ``folder``."""

    uri: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 15 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_local_server(folder: str | Path, *, timeout: float = 120.0) -> LocalServer:
    """Start ``mlflow server`` on 127.0.0.1 with its store in ``folder``; returns when it
    answers ``/health``.

    Raises
    ------
    StorageError
        MLflow's server is not installed, or it did not start within ``timeout`` seconds (the
        end of its log is in the message).
    """
    command = server_command()
    if command is None:
        raise StorageError(
            "mlflow: the MLflow server is not installed (pip install mlflow, or"
            f" pip install -e '.[dev]'; or set {SERVER_ENV} to an mlflow executable)"
        )
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = (root / "server.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # no background job workers
    process = subprocess.Popen(
        [
            *command,
            "server",
            *("--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"),
            *("--artifacts-destination", str(root / "artifacts")),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        env=env,
    )
    server = LocalServer(uri=f"http://127.0.0.1:{port}", folder=root, process=process, log=log)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{server.uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = (root / "server.log").read_text(errors="replace")[-600:]
            raise StorageError(f"mlflow: the local server did not start: {' '.join(tail.split())}")
        time.sleep(0.3)
