"""``canarykit submit MODEL VERSION --from-mlflow models:/NAME/N``.

The artifact digest is computed by canarykit from the bytes it downloads from MLflow — the
version's files, through MLflow's own artifact download — exactly as ``--artifact`` computes
it for a file or a folder (:func:`~canarykit.promotion.artifacts.digest_artifact`). No MLflow
tag, description or checksum is read: MLflow is not trusted for the digest (DESIGN.md §10).

The submission event records the origin (``{"mlflow": {"name", "version", "uri"}}``) so the
mirror knows which MLflow version carries this canarykit version's tags; the origin is a
pointer, never evidence (the gates still check signatures over the recorded digest).

Examples
--------
>>> parse_models_uri("models:/risk-default/3")
('risk-default', '3')
>>> parse_models_uri("models:/risk-default@champion")
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: --from-mlflow: 'models:/risk-default@champion' must be models:/NAME/N with a version number (an @alias or a stage can move, so canarykit records one fixed version)
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarykit.errors import InvalidInputError, shorten
from canarykit.integrations.mlflow.client import call, connect, tracking_uri
from canarykit.integrations.mlflow.desired import desired_state
from canarykit.promotion.artifacts import digest_artifact

if TYPE_CHECKING:
    from canarykit.promotion.api import Promotion
    from canarykit.promotion.versions import VersionRecord

__all__ = ["download_version", "parse_models_uri", "submit_from_mlflow"]

_MODELS_URI = re.compile(r"models:/(?P<name>[^/@\s]{1,256})/(?P<version>[1-9][0-9]{0,9})")


def parse_models_uri(source: str) -> tuple[str, str]:
    """``(name, version number)`` of ``models:/NAME/N``.

    Raises
    ------
    InvalidInputError
        Anything else, e.g. an ``@alias`` or stage URI (they move).
    """
    match = _MODELS_URI.fullmatch(str(source))
    if match is None:
        raise InvalidInputError(
            f"--from-mlflow: {shorten(str(source))!r} must be models:/NAME/N with a version"
            " number (an @alias or a stage can move, so canarykit records one fixed version)"
        )
    return match.group("name"), match.group("version")


@contextmanager
def _registry_env(uri: str) -> Iterator[None]:
    """MLflow resolves ``models:/`` and ``runs:/`` download URIs through its default tracking
    and registry URIs: point both at ``uri`` for the download only (and keep its progress bar
    off the command's stderr)."""
    values = {
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_REGISTRY_URI": uri,
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    saved = {n: os.environ.get(n) for n in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for n, value in saved.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value


def download_version(client: Any, uri: str, name: str, number: str, into: Path) -> Path:
    """Download the files of MLflow model ``name`` version ``number`` into ``into``; returns
    the downloaded file or folder.

    Raises
    ------
    MlflowUnavailableError
        MLflow cannot be reached, has no such version, or the download fails.
    InvalidInputError
        The version is not READY (still being created, or its creation failed).
    """
    found = call(f"read models:/{name}/{number}", client.get_model_version, name, number)
    status = str(getattr(found, "status", "READY") or "READY")
    if status != "READY":
        raise InvalidInputError(
            f"--from-mlflow: models:/{name}/{number} is {status}, not READY (wait until MLflow"
            " finished registering it)"
        )
    source = call(
        f"locate the files of models:/{name}/{number}",
        client.get_model_version_download_uri,
        name,
        number,
    )
    import mlflow.artifacts

    with _registry_env(uri):
        local = call(
            f"download the files of models:/{name}/{number}",
            mlflow.artifacts.download_artifacts,
            artifact_uri=source,
            dst_path=str(into),
            tracking_uri=uri,
        )
    return Path(local)


def submit_from_mlflow(
    promotion: Promotion,
    model: str,
    version: str,
    *,
    source: str,
    actor: str,
    key: Any = None,
    uri: str | None = None,
) -> VersionRecord:
    """Submit ``model`` ``version`` as Candidate with the digest of the files of MLflow
    version ``source`` (``models:/NAME/N``), recording the origin for the mirror.

    Parameters
    ----------
    promotion : Promotion
        The registry.
    model, version : str
        The canarykit model and version.
    source : str
        ``models:/NAME/N``.
    actor : str
        The submitter (signs the act with ``key``, as for every submission).
    key : optional
        The submitter's key or signer.
    uri : str, optional
        The tracking URI (default ``$MLFLOW_TRACKING_URI``).

    Raises
    ------
    InvalidInputError
        A malformed ``source``; a model already mirrored to another registered model; an
        MLflow version already submitted as another canarykit version.
    MlflowUnavailableError
        MLflow cannot be reached or has no such version (nothing is submitted).
    """
    name, number = parse_models_uri(source)
    resolved = tracking_uri(uri)
    desired = desired_state(promotion.store.conn, model)
    if desired.registered_model not in (None, name):
        raise InvalidInputError(
            f"--from-mlflow: {model} is mirrored to MLflow model {desired.registered_model!r};"
            f" {source} belongs to another registered model (one per canarykit model)"
        )
    taken = [v.version for v in desired.versions if v.number == number]
    if taken:
        raise InvalidInputError(
            f"--from-mlflow: {source} was submitted already as {model} {taken[0]}"
        )
    client = connect(resolved)
    with tempfile.TemporaryDirectory(prefix="canarykit-mlflow-") as folder:
        local = download_version(client, resolved, name, number, Path(folder))
        digest = digest_artifact(local)
    return promotion.submit(
        model,
        version,
        actor=actor,
        key=key,
        artifact_digest=digest,
        origin={"mlflow": {"name": name, "version": number, "uri": resolved}},
    )
