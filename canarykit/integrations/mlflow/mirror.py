"""Mirror canarykit's decisions into MLflow, and find where MLflow differs (drift).

Three operations over one comparison (:func:`differences` of the state canarykit derives from
its verified log, :mod:`~canarykit.integrations.mlflow.desired`, and what MLflow shows):

- :func:`verify` reads MLflow and lists the differences (``canarykit mlflow verify``,
  ``check-startup --mlflow``); it writes nothing;
- :func:`sync` writes what differs — sets or deletes ``canarykit.*`` tags, sets or deletes
  managed aliases, rewrites the description — and checks again; a second run writes nothing
  (``canarykit mlflow sync``);
- :func:`~canarykit.integrations.mlflow.after_action.mirror_after_action` runs :func:`sync`
  after a canarykit action whose gate allowed it and whose audit event is committed.

A difference is drift: someone changed MLflow outside canarykit (set ``@production`` by hand,
tagged a version ``canarykit.stage=Approved``, deleted a tag). MLflow is never read back into
canarykit: a hand-set tag changes nothing canarykit believes.

Examples
--------
>>> from canarykit.integrations.mlflow.desired import DesiredState, DesiredVersion
>>> desired = DesiredState(model="m", registered_model="m", uri=None, aliases={"production": "1"},
...     versions=(DesiredVersion(version="v1", number="1", description="d",
...                              tags={"canarykit.stage": "Approved"}),))
>>> actual = Actual(exists=True, aliases={"production": "2"},
...                 versions={"1": ({"canarykit.stage": "Approved"}, "d")})
>>> for d in differences(desired, actual):
...     print(d.message)
@production of MLflow model m points to version 2; canarykit says version 1 (m v1)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from canarykit.errors import CanaryError
from canarykit.integrations.mlflow.client import call, connect, tracking_uri
from canarykit.integrations.mlflow.desired import TAG_PREFIX, DesiredState

__all__ = [
    "Actual",
    "Difference",
    "MirrorReport",
    "differences",
    "read_actual",
    "sync",
    "verify",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Actual:
    """What MLflow shows for the registered model: managed tags and descriptions by version
    number, and every alias."""

    exists: bool
    aliases: Mapping[str, str] = field(default_factory=dict)
    versions: Mapping[str, tuple[Mapping[str, str], str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One way MLflow differs from canarykit's state; ``fix`` is how sync repairs it."""

    kind: str  # "model", "alias", "tag", "description"
    subject: str
    expected: str | None
    found: str | None
    message: str
    fix: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorReport:
    """The outcome of a verify or a sync of one model."""

    model: str
    registered_model: str | None
    uri: str | None
    differences: tuple[Difference, ...] = ()
    applied: tuple[str, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """MLflow was reached and shows canarykit's state (after a sync: now does)."""
        return self.error is None and not self.differences

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "ok": self.ok,
            "model": self.model,
            "registered_model": self.registered_model,
            "uri": self.uri,
            "differences": [d.to_dict() for d in self.differences],
            "applied": list(self.applied),
            "error": self.error,
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        """One line per difference or error, then a summary line."""
        where = f"{self.model} → MLflow {self.registered_model or '-'}"
        lines = [f"DRIFT {where}: {d.message}" for d in self.differences]
        if self.error:
            lines.append(f"ERROR {where}: {self.error}")
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"applied: {a}" for a in self.applied]
        if self.ok:
            lines.append(f"OK {where}: MLflow shows canarykit's state")
        return "\n".join(lines)


def read_actual(client: Any, name: str) -> Actual:
    """The aliases, ``canarykit.*`` tags and descriptions MLflow shows for ``name``."""
    found = call(
        f"search registered model {name!r}",
        client.search_registered_models,
        filter_string=f"name = '{_quote(name)}'",
    )
    model = next((m for m in found if m.name == name), None)
    if model is None:
        return Actual(exists=False)
    listed = call(
        f"list the versions of {name!r}",
        client.search_model_versions,
        filter_string=f"name = '{_quote(name)}'",
    )
    versions = {
        str(v.version): (
            {k: str(val) for k, val in (v.tags or {}).items() if k.startswith(TAG_PREFIX)},
            v.description or "",
        )
        for v in listed
    }
    aliases = {str(a): str(n) for a, n in (model.aliases or {}).items()}
    return Actual(exists=True, aliases=aliases, versions=versions)


def _quote(name: str) -> str:
    return name.replace("\\", "\\\\").replace("'", "\\'")


def differences(desired: DesiredState, actual: Actual) -> list[Difference]:
    """Every way ``actual`` differs from ``desired`` (module docstring), in a stable order."""
    name = str(desired.registered_model)
    if not actual.exists:
        return [
            Difference(
                kind="model",
                subject=name,
                expected="exists",
                found=None,
                message=f"MLflow has no registered model {name!r} (deleted or renamed outside"
                " canarykit)",
            )
        ]
    found: list[Difference] = []
    by_number = desired.by_number()
    for alias in desired.managed_aliases:
        want, have = desired.aliases.get(alias), actual.aliases.get(alias)
        if want == have:
            continue
        said = (
            f"version {want} ({desired.model} {by_number[want].version})"
            if want is not None and want in by_number
            else "it is not set"
        )
        shown = f"points to version {have}" if have is not None else "is not set"
        found.append(
            Difference(
                kind="alias",
                subject=f"@{alias}",
                expected=want,
                found=have,
                message=f"@{alias} of MLflow model {name} {shown}; canarykit says {said}",
                fix=("set_alias", alias, want) if want is not None else ("delete_alias", alias),
            )
        )
    for number in sorted(set(actual.versions) | set(by_number), key=_number_key):
        mine = by_number.get(number)
        tags, description = actual.versions.get(number, ({}, ""))
        if mine is not None and number not in actual.versions:
            found.append(
                Difference(
                    kind="model",
                    subject=f"version {number}",
                    expected="exists",
                    found=None,
                    message=f"MLflow model {name} has no version {number} ({desired.model}"
                    f" {mine.version} was submitted from it)",
                )
            )
            continue
        wanted = dict(mine.tags) if mine is not None else {}
        for key in sorted(set(tags) | set(wanted)):
            want, have = wanted.get(key), tags.get(key)
            if want == have:
                continue
            if mine is None:
                text = f"tag {key}={have!r} was not set by canarykit (not a canarykit version)"
            elif have is None:
                text = f"tag {key} is missing; canarykit says {want!r}"
            elif want is None:
                text = f"tag {key}={have!r} was not set by canarykit"
            else:
                text = f"tag {key} is {have!r}; canarykit says {want!r}"
            found.append(
                Difference(
                    kind="tag",
                    subject=f"version {number} {key}",
                    expected=want,
                    found=have,
                    message=f"version {number} of {name}: {text}",
                    fix=("set_tag", number, key, want)
                    if want is not None
                    else ("delete_tag", number, key),
                )
            )
        if mine is not None and description != mine.description:
            found.append(
                Difference(
                    kind="description",
                    subject=f"version {number} description",
                    expected=mine.description,
                    found=description,
                    message=f"version {number} of {name}: the description is not canarykit's",
                    fix=("describe", number, mine.description),
                )
            )
    return found


def _number_key(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (1 << 62, number)


def _apply(client: Any, name: str, diff: Difference) -> str:
    op = diff.fix
    if op[0] == "set_alias":
        call(f"set @{op[1]}", client.set_registered_model_alias, name, op[1], op[2])
        return f"@{op[1]} → version {op[2]}"
    if op[0] == "delete_alias":
        call(f"delete @{op[1]}", client.delete_registered_model_alias, name, op[1])
        return f"@{op[1]} removed"
    if op[0] == "set_tag":
        call(f"tag version {op[1]}", client.set_model_version_tag, name, op[1], op[2], op[3])
        return f"version {op[1]}: {op[2]}={op[3]}"
    if op[0] == "delete_tag":
        call(f"untag version {op[1]}", client.delete_model_version_tag, name, op[1], op[2])
        return f"version {op[1]}: {op[2]} removed"
    call(
        f"describe version {op[1]}",
        client.update_model_version,
        name,
        op[1],
        description=op[2],
    )
    return f"version {op[1]}: description"


def _compare(desired: DesiredState, uri: str) -> tuple[Any, list[Difference]]:
    client = connect(uri)
    actual = read_actual(client, str(desired.registered_model))
    return client, differences(desired, actual)


def verify(desired: DesiredState, *, uri: str | None = None) -> MirrorReport:
    """Read MLflow and list where it differs from ``desired``; writes nothing.

    An unreachable MLflow is an ``error`` (the report is not ok), never an empty difference.
    """
    base = _report(desired, uri)
    if not desired.linked:
        return base
    try:
        _, found = _compare(desired, str(base.uri))
    except CanaryError as err:
        return _replace(base, error=str(err))
    return _replace(base, differences=tuple(found))


def sync(desired: DesiredState, *, uri: str | None = None) -> MirrorReport:
    """Write what differs into MLflow, then compare again (idempotent: a second sync applies
    nothing). A difference sync cannot repair (a deleted registered model or version) stays
    in the report."""
    base = _report(desired, uri)
    if not desired.linked:
        return base
    applied: list[str] = []
    try:
        client, found = _compare(desired, str(base.uri))
        for diff in found:
            if diff.fix:
                applied.append(_apply(client, str(desired.registered_model), diff))
        if applied:
            _, found = _compare(desired, str(base.uri))
    except CanaryError as err:
        return _replace(base, applied=tuple(applied), error=str(err))
    return _replace(base, differences=tuple(found), applied=tuple(applied))


def _report(desired: DesiredState, uri: str | None) -> MirrorReport:
    resolved = tracking_uri(uri, recorded=desired.uri) if desired.linked else uri
    return MirrorReport(
        model=desired.model,
        registered_model=desired.registered_model,
        uri=resolved,
        notes=desired.notes,
    )


def _replace(report: MirrorReport, **changes: Any) -> MirrorReport:
    return dataclasses.replace(report, **changes)
