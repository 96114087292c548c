"""What MLflow should show for a model: derived from canarykit's verified audit log only.

The mirror writes, and drift detection compares against, exactly this state. It is computed only
out of the events that count in the verified hash chain — the facts the gates read
(:func:`~canarykit.promotion.verified_state.load_state`) — never from the registry's table rows
(which anyone with the file can edit) and never from MLflow itself (DESIGN.md §10).

A canarykit version is mirrored when its counted submission recorded an MLflow origin
(``canarykit submit … --from-mlflow models:/NAME/N``): that origin names the registered model
and its version number. One canarykit model maps to one MLflow registered model.

For each mirrored version the tags (all prefixed ``canarykit.``):

=============================  ==============================================================
``canarykit.model``            the canarykit model name
``canarykit.version``          the canarykit version
``canarykit.stage``            Candidate, Staging, Approved or Revoked (verified)
``canarykit.artifact_digest``  the digest canarykit computed from the downloaded files
``canarykit.policy_digest``    the policy snapshot bound at Staging
``canarykit.verdict_digest``   the signed verdict of its promotion to Approved
``canarykit.chg_id``           the change ticket of its promotion to Approved
``canarykit.approvers``        ``product:NAME,security:NAME`` (the approvals of that verdict)
``canarykit.revalidate_by``    when the approval lapses (ISO 8601)
``canarykit.release``          the digest of its latest release manifest
=============================  ==============================================================

and a description naming the stage, the change, the approvers and the release. Every alias
the verified log records for the model (and ``production``) is managed: ``@alias`` points to
the MLflow version of the canarykit version the alias names, and is absent when the alias is
blocked (revocation without a previous version) or names a version not submitted from MLflow.

Examples
--------
>>> desired = DesiredState(model="m", registered_model=None, uri=None)
>>> desired.linked, desired.managed_aliases
(False, ('production',))
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from canarykit.promotion.audit import AuditEvent, list_events
from canarykit.promotion.clock import format_instant
from canarykit.promotion.session import DEFAULT_ALIAS
from canarykit.promotion.verified_state import load_state

__all__ = ["TAG_PREFIX", "DesiredState", "DesiredVersion", "desired_state", "mlflow_origin"]

TAG_PREFIX = "canarykit."
_ROLES = ("product", "security")


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredVersion:
    """One mirrored version: its MLflow number, tags and description."""

    version: str
    number: str
    tags: Mapping[str, str]
    description: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "version": self.version,
            "mlflow_version": self.number,
            "tags": dict(self.tags),
            "description": self.description,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredState:
    """What MLflow should show for one canarykit model (module docstring)."""

    model: str
    registered_model: str | None
    uri: str | None
    versions: tuple[DesiredVersion, ...] = ()
    aliases: Mapping[str, str | None] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def linked(self) -> bool:
        """Whether any version of the model was submitted from MLflow."""
        return self.registered_model is not None

    @property
    def managed_aliases(self) -> tuple[str, ...]:
        """The alias names canarykit manages in MLflow for this model."""
        return tuple(sorted({DEFAULT_ALIAS, *self.aliases}))

    def by_number(self) -> dict[str, DesiredVersion]:
        """Mirrored versions by MLflow version number."""
        return {v.number: v for v in self.versions}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "model": self.model,
            "registered_model": self.registered_model,
            "versions": [v.to_dict() for v in self.versions],
            "aliases": dict(self.aliases),
            "notes": list(self.notes),
        }


def mlflow_origin(payload: Mapping[str, Any]) -> dict[str, str] | None:
    """The ``origin.mlflow`` a submission event records (name, version, uri), or None."""
    origin = payload.get("origin")
    found = origin.get("mlflow") if isinstance(origin, Mapping) else None
    if not isinstance(found, Mapping):
        return None
    name, number = found.get("name"), found.get("version")
    if not isinstance(name, str) or not isinstance(number, str):
        return None
    uri = found.get("uri")
    return {"name": name, "version": number, "uri": uri if isinstance(uri, str) else ""}


def _counted(conn: sqlite3.Connection, model: str) -> list[AuditEvent]:
    """The model's events that count in the verified log (a revocation always counts)."""
    state = load_state(conn)
    return [
        e for e in list_events(conn, model=model) if e.kind == "revocation" or state.counts(e.seq)
    ]


def desired_state(conn: sqlite3.Connection, model: str) -> DesiredState:
    """What MLflow should show for ``model``, from the verified audit log (module docstring)."""
    state = load_state(conn)
    events = _counted(conn, model)
    links: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    registered: str | None = None
    uri: str | None = None
    facts: dict[str, dict[str, str]] = {}
    for e in events:
        v = e.version or ""
        if e.kind == "submission" and v not in links:
            origin = mlflow_origin(e.payload)
            if origin is None:
                continue
            if registered is not None and origin["name"] != registered:
                notes.append(
                    f"{model} {v}: submitted from MLflow model {origin['name']}, not"
                    f" {registered}: not mirrored (one MLflow registered model per model)"
                )
                continue
            registered, uri = origin["name"], origin["uri"] or uri
            links[v] = origin
        elif e.kind == "promotion" and e.payload.get("to") == "Approved":
            approved = facts.setdefault(v, {})
            digest = str(e.payload.get("verdict_digest") or "")
            approved["verdict_digest"] = digest
            if e.chg_id:
                approved["chg_id"] = e.chg_id
            by = e.payload.get("revalidate_by_ns")
            if isinstance(by, int):
                approved["revalidate_by"] = format_instant(by)
            people = sorted(
                f"{role}:{person}"
                for person, role, verdict, _key in state.approvals.get((model, v), ())
                if verdict == digest and role in _ROLES
            )
            approved["approvers"] = ",".join(dict.fromkeys(people))
        elif e.kind == "release":
            facts.setdefault(v, {})["release"] = str(e.payload.get("manifest_digest") or "")
    versions = []
    for v, origin in links.items():
        mv = (model, v)
        recorded = state.fields.get(mv, {})
        tags = {
            "model": model,
            "version": v,
            "stage": "Revoked" if mv in state.revoked else str(state.stages.get(mv, "")),
            "artifact_digest": str(recorded.get("artifact_digest") or ""),
            "policy_digest": str(recorded.get("policy_digest") or ""),
            **facts.get(v, {}),
        }
        tags = {TAG_PREFIX + k: value for k, value in tags.items() if value}
        versions.append(
            DesiredVersion(
                version=v, number=origin["version"], tags=tags, description=_describe(tags)
            )
        )
    aliases: dict[str, str | None] = {}
    for (m, alias), target in sorted(state.aliases.items(), key=lambda kv: kv[0]):
        if m != model:
            continue
        link = links.get(str(target)) if target is not None else None
        aliases[alias] = None if link is None else link["version"]
        if target is not None and link is None and registered is not None:
            notes.append(
                f"{alias} of {model} is {target}, which was not submitted from MLflow:"
                f" @{alias} is kept absent in MLflow"
            )
    return DesiredState(
        model=model,
        registered_model=registered,
        uri=uri or None,
        versions=tuple(versions),
        aliases=aliases,
        notes=tuple(notes),
    )


def _describe(tags: Mapping[str, str]) -> str:
    """The version description canarykit writes (from the tags it derived)."""

    def tag(name: str) -> str:
        return tags.get(TAG_PREFIX + name, "")

    parts = [f"canarykit: {tag('model')} {tag('version')} is {tag('stage')}"]
    if tag("chg_id"):
        parts.append(f"approved under {tag('chg_id')}")
    if tag("approvers"):
        parts.append(f"by {tag('approvers').replace(',', ', ')}")
    if tag("release"):
        parts.append(f"release manifest {tag('release')}")
    return (
        "; ".join(parts) + ". Mirrored from canarykit's verified audit log: change it with"
        " canarykit, not here (edits here are reported as drift by canarykit mlflow verify)."
    )
