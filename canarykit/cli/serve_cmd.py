"""``canarykit serve DB [--registry REG] [--host 127.0.0.1] [--port 8765]``: the live dashboard."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from canarykit.cli.common import mark_if_drill


def register(subparsers: Any) -> None:
    """Add the serve command."""
    serve = subparsers.add_parser(
        "serve",
        help="a local, read-only live dashboard of the rollouts in a store",
        description="Serve a read-only web page of the store's rollouts (and, with --registry, "
        "the governance state) that updates itself as looks are appended, plus JSON endpoints "
        "(/api/rollouts, /api/verdict?model=M) and Prometheus /metrics. Binds to 127.0.0.1 "
        "unless told otherwise, and warns when bound elsewhere. Stop with Ctrl-C.",
    )
    serve.add_argument("db", metavar="DB", help="DuckDB trace store")
    serve.add_argument("--registry", help="promotion registry (adds the governance view)")
    serve.add_argument(
        "--mlflow",
        action="store_true",
        help="with --registry: check MLflow for drift on each refresh of a mirrored model",
    )
    serve.add_argument(
        "--mlflow-uri",
        metavar="URI",
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI, else the recorded one)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    serve.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="how the startup line is printed (json: url, host, port, localhost)",
    )
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from canarykit.dashboard.server import make_server
    from canarykit.errors import InvalidInputError

    if not 0 <= args.port <= 65535:
        raise InvalidInputError(f"--port: must be 0..65535, got {args.port}")
    mark_if_drill(args, args.registry)
    try:
        server = make_server(
            args.db,
            registry=args.registry,
            host=args.host,
            port=args.port,
            mlflow=args.mlflow,
            mlflow_uri=args.mlflow_uri,
        )
    except OSError as err:
        raise InvalidInputError(
            f"--host/--port: cannot listen on {args.host}:{args.port}: {err.strerror}"
        ) from None
    host, port = server.server_address[:2]
    from canarykit.dashboard.server import binding_notice

    notice = binding_notice(str(host), int(port))
    if args.format == "json":
        import json

        print(
            json.dumps(
                {
                    "url": f"http://{host!s}:{port}/",
                    "host": str(host),
                    "port": int(port),
                    "localhost_only": not notice.startswith("WARNING"),
                    "notice": notice,
                    **({"drill": True} if getattr(args, "_drill", False) else {}),
                }
            ),
            flush=True,
        )
    else:
        print(f"canarykit serve: {notice}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("canarykit serve: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
