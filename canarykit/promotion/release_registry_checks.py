"""The checks of a release against the registry (``release verify --registry``).

The version exists, is Approved, not revoked and within its ``revalidate_by``; the artifact,
policy and verdict digests and the evidence links are the registry's; the manifest's approvals
are those the registry and its audit log recorded up to the release; and the audit chain is
intact, holds the manifest's checkpoint, verifies against the embedded signed checkpoint and
records this very release. Each check returns ``(status, message)``
(:mod:`~canarykit.promotion.release_checks`).

Examples
--------
>>> _approval_key({"stage": "Approved", "role": "security", "actor": "sam"})
('Approved', 'security', 'sam', '', '')
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.approvals import list_approvals
from canarykit.promotion.audit import list_events, verify_chain
from canarykit.promotion.clock import format_instant
from canarykit.promotion.evidence import digest_bytes
from canarykit.promotion.release import evidence_links
from canarykit.promotion.release_checks import CHECKS, Check, _fail, _ok
from canarykit.promotion.release_folder_checks import _Release, _signed_checkpoint
from canarykit.promotion.states import Stage
from canarykit.promotion.verdicts import verdict_digest
from canarykit.promotion.versions import get_version

__all__: list[str] = []


def _approval_key(a: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(a.get(k) or "") for k in ("stage", "role", "actor", "time", "verdict_digest"))


def _registry_checks(
    release: _Release, conn: sqlite3.Connection, now_ns: int | None
) -> list[tuple[str, Check]]:
    model, version = release.fact("model"), release.fact("version")
    try:
        record = get_version(conn, str(model), str(version))
    except InvalidInputError as err:
        failed = _fail([f"the registry has no {model} {version} ({err})"])
        return [(name, failed) for name in CHECKS if name.startswith("registry")]
    out: list[tuple[str, Check]] = []
    problems = []
    if record.revoked:
        problems.append(f"{model} {version} has been revoked")
    elif record.stage != Stage.APPROVED.value:
        problems.append(f"{model} {version} is {record.stage}, not Approved")
    lapse = record.revalidate_by_ns
    if now_ns is not None and (lapse is None or lapse <= now_ns):
        when = "never set" if lapse is None else f"lapsed at {format_instant(lapse)}"
        problems.append(f"its revalidate_by is {when}")
    out.append(
        (
            "registry-version",
            _fail(problems) if problems else _ok(f"{model} {version} is Approved, not revoked"),
        )
    )

    problems = []
    pairs = {
        "artifact_digest": (release.fact("artifact_digest"), record.artifact_digest),
        "policy_digest": (release.fact("policy_digest"), record.policy_digest),
        "verdict_digest": (
            release.fact("verdict_digest"),
            verdict_digest(record.verdict) if record.verdict else None,
        ),
        "evidence_links": (
            release.fact("evidence_links"),
            evidence_links(conn, str(model), str(version)),
        ),
    }
    for name, (released, registered) in pairs.items():
        if released != registered:
            problems.append(f"{name}: the release says {released}, the registry {registered}")
    out.append(
        (
            "registry-digests",
            _fail(problems) if problems else _ok("artifact, policy and verdict digests match"),
        )
    )

    checkpoint = release.fact("audit_checkpoint")
    seq = checkpoint.get("seq") if isinstance(checkpoint, Mapping) else None
    events = list_events(conn, model=str(model))
    up_to = seq if isinstance(seq, int) else 0
    at_release = {
        _approval_key(e.payload)
        for e in events
        if e.kind == "approval" and e.version == version and e.seq <= up_to
    }
    recorded = {
        _approval_key({**a.to_dict(), "verdict_digest": a.verdict_digest})
        for a in list_approvals(conn, str(model), str(version))
    }
    listed = release.fact("approvals")
    in_manifest = {
        _approval_key(a)
        for a in (listed if isinstance(listed, list) else [])
        if isinstance(a, Mapping)
    }
    problems = [
        f"{' '.join(k[:3])} at {k[3]} is not recorded in the registry"
        for k in sorted(in_manifest - (recorded & at_release))
    ]
    problems += [
        f"{' '.join(k[:3])} at {k[3]} was recorded before the release but is not in the manifest"
        for k in sorted(at_release - in_manifest)
    ]
    out.append(
        (
            "registry-approvals",
            _fail(problems)
            if problems
            else _ok(f"{len(in_manifest)} approvals, as the registry recorded them"),
        )
    )

    chain = verify_chain(conn)
    problems = [f"audit chain: {p}" for p in chain.problems[:3]]
    head = checkpoint.get("head_hash") if isinstance(checkpoint, Mapping) else None
    everything = list_events(conn)
    at_seq = [e for e in everything if e.seq == seq]
    if not at_seq or at_seq[0].hash != head:
        problems.append(f"the audit log does not hold the release's checkpoint (event {seq})")
    manifest_digest = (
        None if release.manifest_bytes is None else digest_bytes(release.manifest_bytes)
    )
    logged = [
        e
        for e in events
        if e.kind == "release"
        and e.version == version
        and e.payload.get("manifest_digest") == manifest_digest
    ]
    if not logged:
        problems.append("the audit log records no release of this manifest")
    envelope = _signed_checkpoint(release)
    if envelope is not None:
        from canarykit.promotion.checkpoints import verify_checkpoints

        for found in verify_checkpoints(
            everything,
            [envelope],
            None,
            sources=["the release's signed checkpoint"],
            require_signature=False,
        ):
            problems += list(found.problems)
    out.append(
        (
            "registry-audit",
            _fail(problems)
            if problems
            else _ok(
                f"chain intact; event {logged[0].seq} records this release at checkpoint {seq}"
            ),
        )
    )
    return out
