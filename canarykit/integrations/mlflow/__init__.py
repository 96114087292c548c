"""canarykit as the gatekeeper of an MLflow Model Registry (``pip install 'canarykit[mlflow]'``).

MLflow keeps the models; canarykit decides. ``canarykit submit … --from-mlflow models:/NAME/N``
takes a registered version's files (their digest computed from the downloaded bytes), and every
decision canarykit then writes — a transition, an alias move, a rollback, a revocation, a
release — is mirrored into MLflow after its gate allowed it and its audit event is committed:
``canarykit.*`` version tags, ``@alias`` aliases and a version description
(:mod:`~canarykit.integrations.mlflow.desired`). A failed mirror is retried and reported and
never undoes the decision; ``canarykit mlflow sync`` re-applies the state; ``canarykit mlflow
verify`` and ``check-startup --mlflow`` report drift — MLflow showing anything else than what
the verified audit log says (:mod:`~canarykit.integrations.mlflow.mirror`).

MLflow is downstream and never a source of truth: canarykit never reads a tag, alias or
description back into a decision.

Modules: :mod:`.client` (lazy client, bounded retries), :mod:`.desired` (the state to mirror),
:mod:`.mirror` (verify, sync), :mod:`.after_action` (the mirror after an action, the dashboard's
status), :mod:`.source` (``--from-mlflow``).
Nothing here imports ``mlflow`` at import time.
"""

from __future__ import annotations

from canarykit.integrations.mlflow.after_action import mirror_after_action
from canarykit.integrations.mlflow.client import MlflowUnavailableError, tracking_uri
from canarykit.integrations.mlflow.desired import DesiredState, desired_state
from canarykit.integrations.mlflow.mirror import MirrorReport, sync, verify
from canarykit.integrations.mlflow.source import parse_models_uri, submit_from_mlflow

__all__ = [
    "DesiredState",
    "MirrorReport",
    "MlflowUnavailableError",
    "desired_state",
    "mirror_after_action",
    "parse_models_uri",
    "submit_from_mlflow",
    "sync",
    "tracking_uri",
    "verify",
]
