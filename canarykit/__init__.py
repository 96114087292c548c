"""canarykit: sequential, replayable canary verdicts and controlled promotion for ML models.

The package is layered (see DESIGN.md §1); imports point downward only::

    traces/     DuckDB trace store (the only layer that imports duckdb)
    stats/      pure numpy/scipy statistics on arrays and summaries
    verdict/    policy, checks, decision rule, Verdict, replay, decision log
    promotion/  registry, gates, approvals, waivers, windows, aliases, audit log
    report/     text, HTML and plots (the only layer that imports matplotlib)
    cli/        the ``canarykit`` command
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from canarykit.errors import (
    CanaryError,
    GateDeniedError,
    InvalidInputError,
    PolicyError,
    StorageError,
)

try:
    __version__ = version("canarykit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "CanaryError",
    "GateDeniedError",
    "InvalidInputError",
    "PolicyError",
    "StorageError",
    "__version__",
]
