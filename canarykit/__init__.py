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

from canarykit.errors import (
    CanaryError,
    GateDeniedError,
    InvalidInputError,
    PolicyError,
    StorageError,
)

__version__ = "0.1.0"
"""The release (``pyproject.toml``'s ``version``; a test keeps the two equal). A literal, not
``importlib.metadata``: reading the installed metadata costs ~30 ms on every command."""

__all__ = [
    "CanaryError",
    "GateDeniedError",
    "InvalidInputError",
    "PolicyError",
    "StorageError",
    "__version__",
]
