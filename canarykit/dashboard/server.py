"""Routes and the HTTP server of the dashboard (standard library, read-only, localhost first).

Routes:

==============================  ===============================================================
``/``                           the page (:mod:`.page`)
``/api/rollouts``               every rollout, newest first (current step, last decision)
``/api/rollouts/<id>``          one rollout: plan, steps, every look, latency by arm
``/api/verdict?model=M``        the latest logged verdict of model M (the verdict contract)
``/api/gate?model=M``           the latest decision as an HTTP status for webhooks (Flagger):
                                200 PROCEED; 423 CONTINUE (or 200 with ``&allow=CONTINUE``);
                                409 STOP; 404 no verdict. ``POST`` is accepted here and
                                ignored (Flagger posts its payload); nothing is written
``/api/governance?model=M``     stage, approvals, waivers, aliases, events, audit chain
                                (only with a registry)
``/api/token``                  changes whenever the store changes (the page polls it)
``/metrics``                    Prometheus text of every rollout's latest look
``/healthz``                    ``ok``
==============================  ===============================================================

Every other route is ``GET``-only. The server binds to 127.0.0.1 by default; :func:`binding_notice` says so, and warns when it is
bound to another address (anyone who can reach it can read every verdict).

Examples
--------
>>> binding_notice("127.0.0.1", 8765)
'http://127.0.0.1:8765/ (read-only; bound to localhost only)'
>>> binding_notice("0.0.0.0", 8765).startswith("WARNING")
True
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from canarykit.dashboard import data
from canarykit.dashboard.metrics import prometheus_text
from canarykit.dashboard.page import CSP, dashboard_html
from canarykit.errors import CanaryError

__all__ = ["Dashboard", "binding_notice", "make_server"]

POLL_MS = 2000
_ROLLOUT = re.compile(r"^/api/rollouts/(\d{1,9})$")


def binding_notice(host: str, port: int) -> str:
    """The line ``serve`` prints: where it listens, and a warning unless it is loopback."""
    url = f"http://{host}:{port}/"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return f"{url} (read-only; bound to localhost only)"
    return (
        f"WARNING: {url} is bound to {host}, not localhost: anyone who can reach this machine "
        "can read every verdict and the governance state (read-only)"
    )


class Dashboard:
    """What the routes read: a trace store and, optionally, a registry."""

    def __init__(
        self,
        db: str | Path,
        registry: str | Path | None = None,
        *,
        binding: str = "",
        mlflow: bool = False,
        mlflow_uri: str | None = None,
    ) -> None:
        self.db = Path(db)
        self.registry = Path(registry) if registry is not None else None
        self.binding = binding
        self.mlflow, self.mlflow_uri = mlflow, mlflow_uri

    def page(self) -> str:
        """The HTML document."""
        return dashboard_html(
            title=self.db.name,
            governance=self.registry is not None,
            poll_ms=POLL_MS,
            binding=self.binding,
        )

    def metrics(self) -> str:
        """Prometheus text of every rollout's latest look."""
        rollouts = []
        for summary in data.list_rollout_summaries(self.db):
            detail = data.rollout_detail(self.db, summary["rollout_id"])
            current = [lk for lk in detail["looks"] if lk["step"] == detail["current_step"]]
            rollouts.append({**summary, "checks": current[-1]["checks"] if current else []})
        return prometheus_text(rollouts)

    def route(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        """``(status, content type, body)`` for a GET of ``path``."""
        if path == "/":
            return 200, "text/html; charset=utf-8", self.page()
        if path == "/healthz":
            return 200, "text/plain; charset=utf-8", "ok\n"
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics()
        if path == "/api/token":
            return _json({"token": data.change_token(self.db)})
        if path == "/api/rollouts":
            return _json(data.list_rollout_summaries(self.db))
        match = _ROLLOUT.match(path)
        if match:
            return _json(data.rollout_detail(self.db, int(match.group(1))))
        model = (query.get("model") or [""])[0]
        if path == "/api/verdict":
            if not model:
                return _json({"error": "model: required (?model=M)"}, 400)
            verdict = data.latest_verdict(self.db, model)
            if verdict is None:
                return _json({"error": f"model {model}: no verdict logged"}, 404)
            return _json(verdict)
        if path == "/api/gate":
            return self.gate(model, allow=(query.get("allow") or [""])[0])
        if path == "/api/governance":
            if self.registry is None:
                return _json({"error": "no registry: start serve with --registry"}, 404)
            if not model:
                return _json({"error": "model: required (?model=M)"}, 400)
            return _json(
                data.governance(
                    self.registry, model, mlflow=self.mlflow, mlflow_uri=self.mlflow_uri
                )
            )
        return _json({"error": f"{path}: not found"}, 404)

    def gate(self, model: str, *, allow: str = "") -> tuple[int, str, str]:
        """The latest decision of ``model`` as a webhook status (module docstring)."""
        if not model:
            return _json({"error": "model: required (?model=M)"}, 400)
        verdict = data.latest_verdict(self.db, model)
        if verdict is None:
            return _json({"error": f"model {model}: no verdict logged"}, 404)
        decision = verdict["decision"]
        body = {"model": model, "decision": decision, "reasons": verdict.get("reasons", [])}
        if decision == "PROCEED" or (decision == "CONTINUE" and allow.upper() == "CONTINUE"):
            return _json(body, 200)
        return _json(body, 409 if decision == "STOP" else 423)


def _json(value: Any, status: int = 200) -> tuple[int, str, str]:
    return status, "application/json", json.dumps(value, allow_nan=False, default=str)


def _handler(dashboard: Dashboard) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "canarykit-dashboard"
        sys_version = ""

        def _send(self, status: int, content_type: str, body: str, *, head: bool = False) -> None:
            payload = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not head:
                self.wfile.write(payload)

        def _get(self, *, head: bool) -> None:
            parts = urlsplit(self.path)
            try:
                status, kind, body = dashboard.route(parts.path, parse_qs(parts.query))
            except CanaryError as err:
                status, kind, body = _json({"error": " ".join(str(err).split())[:300]}, 404)
            except Exception as err:  # a read failed: say so, keep serving
                status, kind, body = _json(
                    {"error": f"internal error: {type(err).__name__}: {str(err)[:200]}"}, 500
                )
            self._send(status, kind, body, head=head)

        def do_GET(self) -> None:  # http.server's naming
            self._get(head=False)

        def do_HEAD(self) -> None:
            self._get(head=True)

        def _refuse(self) -> None:
            self._send(405, "application/json", json.dumps({"error": "read-only: GET only"}))

        def do_POST(self) -> None:  # webhooks (Flagger) post to the gate; nothing is written
            if urlsplit(self.path).path != "/api/gate":
                self._refuse()
                return
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            self.rfile.read(length)  # the webhook payload is read and ignored
            self._get(head=False)

        do_PUT = do_DELETE = do_PATCH = _refuse

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the dashboard does not log every poll."""

    return Handler


def make_server(
    db: str | Path,
    *,
    registry: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    mlflow: bool = False,
    mlflow_uri: str | None = None,
) -> ThreadingHTTPServer:
    """A ready server (``port=0`` picks a free port: read ``server.server_address``); with
    ``mlflow`` the governance view checks MLflow for drift on each request."""
    if not Path(db).is_file():
        raise CanaryError(f"{db}: no such trace store")
    if registry is not None and not Path(registry).is_file():
        raise CanaryError(f"{registry}: no such registry")
    dashboard = Dashboard(db, registry, mlflow=mlflow, mlflow_uri=mlflow_uri)
    server = ThreadingHTTPServer((host, port), _handler(dashboard))
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    dashboard.binding = binding_notice(str(bound_host), int(bound_port))
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> Callable[[], None]:
    """Run ``server`` in a background thread; returns a function that stops it (for tests)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
