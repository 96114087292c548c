"""The MLflow client, imported lazily, with bounded retries and one-line errors.

MLflow's HTTP client retries a failed request up to 7 times with exponential backoff (minutes
against a tracking server that is down). A mirror must never hold a canarykit command that
long, so every call here runs with ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` = 0 and a short timeout
(:func:`bounded_requests`); the mirror retries whole operations itself
(:mod:`~canarykit.integrations.mlflow.mirror`).

Examples
--------
>>> tracking_uri("http://ann:secret@mlflow.example:5000/")
'http://mlflow.example:5000'
>>> tracking_uri(None, env={})
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: --mlflow-uri: no MLflow tracking URI: give --mlflow-uri URI or set MLFLOW_TRACKING_URI
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from canarykit.errors import InvalidInputError, StorageError, one_line

__all__ = [
    "TRACKING_ENV",
    "MlflowUnavailableError",
    "bounded_requests",
    "call",
    "connect",
    "tracking_uri",
]

TRACKING_ENV = "MLFLOW_TRACKING_URI"
T = TypeVar("T")
_REQUEST_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
}


class MlflowUnavailableError(StorageError):
    """MLflow could not be reached or refused a request (the message names the call)."""


def tracking_uri(
    given: str | None, *, recorded: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The tracking URI to use: ``given`` (``--mlflow-uri``), else ``$MLFLOW_TRACKING_URI``,
    else the URI recorded when the version was submitted from MLflow; user and password are
    removed (they are never recorded or printed).

    Raises
    ------
    InvalidInputError
        No URI from any of the three, or one that is not an http(s), file or databricks URI.
    """
    environ = os.environ if env is None else env
    uri = given or environ.get(TRACKING_ENV) or recorded
    if not uri:
        raise InvalidInputError(
            "--mlflow-uri: no MLflow tracking URI: give --mlflow-uri URI or set MLFLOW_TRACKING_URI"
        )
    parts = urllib.parse.urlsplit(str(uri))
    if parts.scheme not in ("http", "https", "file", "databricks", ""):
        raise InvalidInputError(
            f"--mlflow-uri: {one_line(str(uri), 80)!r} must be an http(s)://, file: or databricks"
            " tracking URI"
        )
    if parts.scheme in ("http", "https") and parts.hostname:
        netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        parts = parts._replace(netloc=netloc, path=parts.path.rstrip("/"))
    return urllib.parse.urlunsplit(parts)


@contextmanager
def bounded_requests() -> Iterator[None]:
    """Run MLflow calls without its long retry loop (restores the environment after).

    The variables are read by MLflow at each request; a caller that set them keeps its values.
    """
    saved: dict[str, str | None] = {name: os.environ.get(name) for name in _REQUEST_ENV}
    for name, value in _REQUEST_ENV.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def connect(uri: str) -> Any:
    """An ``mlflow.tracking.MlflowClient`` for ``uri`` (tracking and registry).

    Raises
    ------
    InvalidInputError
        The MLflow client is not installed (``pip install 'canarykit[mlflow]'``).
    """
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise InvalidInputError(
            "mlflow: the MLflow client is not installed: pip install 'canarykit[mlflow]'"
        ) from None
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def call(what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` under :func:`bounded_requests`; any failure becomes a one-line
    :class:`MlflowUnavailableError` naming ``what``.

    A "does not exist" answer is an error too: callers that expect absence ask for lists.
    """
    with bounded_requests():
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # MLflow raises MlflowException, requests errors, OSError...
            raise MlflowUnavailableError(f"mlflow: {what}: {_reason(err)}") from None


def _reason(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    first = text.splitlines()[0]
    if "Max retries exceeded" in text or "Connection refused" in text:
        first = "cannot connect (connection refused or host unreachable)"
    return one_line(first, 160)
