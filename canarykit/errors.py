"""The exception hierarchy shared by every layer of canarykit.

Every error a *user* can cause derives from :class:`CanaryError`. The CLI maps
them to exit status 2 and prints ``str(error)`` as a single line on stderr;
anything else is a bug in canarykit and is allowed to show a traceback.

Examples
--------
>>> try:
...     raise InvalidInputError("traces.csv: column latency_ms: must be >= 0 (2 rows, first: 3, 7)")
... except CanaryError as err:
...     print(err)
traces.csv: column latency_ms: must be >= 0 (2 rows, first: 3, 7)
"""

from __future__ import annotations

__all__ = [
    "CanaryError",
    "GateDeniedError",
    "InvalidInputError",
    "PolicyError",
    "StorageError",
]


class CanaryError(Exception):
    """Root of all errors caused by input, configuration or a denied action."""


class InvalidInputError(CanaryError, ValueError):
    """Input data or an argument breaks a documented rule (names file/column/row and the rule)."""


class PolicyError(CanaryError):
    """A policy file (YAML or Rego) is malformed or cannot be evaluated."""


class StorageError(CanaryError):
    """The trace store or registry cannot be opened, read or written."""


class GateDeniedError(CanaryError):
    """A promotion gate refused a transition; the message lists the reasons."""
