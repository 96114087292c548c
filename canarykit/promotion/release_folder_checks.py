"""The checks of a release folder on its own: files, signatures, manifest, notes, policy, artifact.

A release folder (:mod:`~canarykit.promotion.release_format`) is read once
(:class:`_Release`); each check here takes it (and the trust file, or the artifact) and returns
``(status, message)``. The checks against a registry are
:mod:`~canarykit.promotion.release_registry_checks`;
:func:`~canarykit.promotion.release_verify.verify_release` runs them all.

Examples
--------
>>> import tempfile
>>> _check_files(_Release(Path(tempfile.mkdtemp())))[0]
'FAIL'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canarykit.promotion.artifacts import digest_artifact
from canarykit.promotion.documents import read_bounded
from canarykit.promotion.evidence import EnvelopeCheck, TrustStore, digest_bytes, open_envelope
from canarykit.promotion.release_checks import Check, _fail, _ok, _skip
from canarykit.promotion.release_format import (
    MANIFEST,
    MANIFEST_ENVELOPE,
    MANIFEST_PREDICATE_TYPE,
    NOTES,
    RELEASE_FILES,
    SNAPSHOT,
    SNAPSHOT_ENVELOPE,
    json_bytes,
    policy_files,
    policy_signature_problems,
    read_json_bytes,
    snapshot_problems,
)
from canarykit.promotion.schema_check import load_schema, validate

__all__: list[str] = []


class _Release:
    """The files of a release folder, read once (bytes; parsed JSON where it parses)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest_bytes = _read(folder / MANIFEST)
        self.envelope_bytes = _read(folder / MANIFEST_ENVELOPE)
        self.manifest: Any = _parse(self.manifest_bytes, MANIFEST)
        self.envelope: Any = _parse(self.envelope_bytes, MANIFEST_ENVELOPE)
        self.opened: EnvelopeCheck | None = None

    def predicate(self) -> Any:
        statement = None if self.opened is None else self.opened.statement
        return statement.get("predicate") if isinstance(statement, Mapping) else None

    def fact(self, *path: str) -> Any:
        """A value of the manifest file (or of the signed manifest when the file is unreadable)."""
        value = self.manifest if isinstance(self.manifest, Mapping) else self.predicate()
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return value


def _read(path: Path) -> bytes | None:
    """The file's bytes (None for a link or a missing file); larger than
    :data:`~canarykit.promotion.documents.MAX_BYTES`: a one-line InvalidInputError."""
    if path.is_symlink() or not path.is_file():
        return None
    return read_bounded(path, what="release file")


def _parse(data: bytes | None, where: str) -> Any:
    if data is None:
        return None
    try:
        return read_json_bytes(data, where=where)
    except ValueError:
        return None


def _check_files(release: _Release) -> Check:
    folder = release.folder
    present = {p.name: p for p in folder.iterdir()}
    problems = [f"{name} is missing" for name in RELEASE_FILES if name not in present]
    problems += [
        f"{name} is not part of a release (an extra entry)"
        for name in sorted(set(present) - set(RELEASE_FILES))
    ]
    problems += [
        f"{name} is a symbolic link"
        for name in RELEASE_FILES
        if name in present and present[name].is_symlink()
    ]
    if problems:
        return _fail(problems)
    return _ok(f"the folder holds exactly {', '.join(sorted(RELEASE_FILES))}")


def _check_signature(release: _Release, trust: TrustStore | None) -> Check:
    if release.envelope_bytes is None:
        return _fail([f"{MANIFEST_ENVELOPE} is missing: the manifest is unsigned"])
    if release.envelope is None:
        return _fail([f"{MANIFEST_ENVELOPE} is not JSON"])
    release.opened = open_envelope(release.envelope, trust, purpose="release")
    problems = list(release.opened.problems)
    if json_bytes(release.envelope) != release.envelope_bytes:
        problems.append(f"{MANIFEST_ENVELOPE} is not in its written form (edited)")
    if problems:
        return _fail(problems)
    return _ok(f"signed by {', '.join(release.opened.key_ids)} (trusted for release)")


def _signed_checkpoint(release: _Release) -> Any:
    """The embedded ``audit_checkpoint.signed_checkpoint`` envelope, or None."""
    checkpoint = release.fact("audit_checkpoint")
    signed = checkpoint.get("signed_checkpoint") if isinstance(checkpoint, Mapping) else None
    return signed.get("envelope") if isinstance(signed, Mapping) else None


def _check_checkpoint(release: _Release, trust: TrustStore | None) -> Check:
    from canarykit.promotion.checkpoints import parse_checkpoint

    checkpoint = release.fact("audit_checkpoint")
    if not isinstance(checkpoint, Mapping) or checkpoint.get("signed_checkpoint") is None:
        return _skip(
            "no signed audit checkpoint embedded (the chain head is signed with the manifest)"
        )
    envelope = _signed_checkpoint(release)
    claimed = parse_checkpoint(envelope)
    if claimed is None:
        return _fail(["audit_checkpoint.signed_checkpoint is not a canarykit audit checkpoint"])
    opened = open_envelope(envelope, trust, purpose="checkpoint")
    problems = [f"signature: {p}" for p in opened.problems]
    head_seq, head_hash = checkpoint.get("seq"), checkpoint.get("head_hash")
    if not isinstance(head_seq, int) or claimed.seq > head_seq:
        problems.append(
            f"the signed checkpoint anchors event {claimed.seq}, after the release's chain head"
            f" (event {head_seq})"
        )
    elif claimed.seq == head_seq and claimed.head_hash != head_hash:
        problems.append(
            f"the signed checkpoint anchors event {claimed.seq} with another hash than the"
            " release's chain head"
        )
    if problems:
        return _fail(problems)
    return _ok(
        f"event {claimed.seq} ({claimed.head_hash[:19]}…) signed by"
        f" {', '.join(opened.key_ids)} (trusted for checkpoint)"
    )


def _check_manifest(release: _Release) -> Check:
    if release.manifest_bytes is None:
        return _fail([f"{MANIFEST} is missing"])
    if release.manifest is None:
        return _fail([f"{MANIFEST} is not JSON"])
    problems = []
    predicate = release.predicate()
    if predicate is None:
        problems.append("there is no signed manifest to compare it with")
    elif json_bytes(predicate) != release.manifest_bytes:
        problems.append(
            f"{MANIFEST} is not byte for byte the signed manifest"
            + (" (same content, other bytes)" if predicate == release.manifest else " (edited)")
        )
    schema_problems = validate(release.manifest, load_schema("release_manifest.schema.json"))
    problems += [f"schema: {p}" for p in schema_problems[:3]]
    if problems:
        return _fail(problems)
    return _ok(f"is the signed manifest of {release.fact('model')} {release.fact('version')}")


def _check_subject(release: _Release) -> Check:
    statement = None if release.opened is None else release.opened.statement
    if not isinstance(statement, Mapping):
        return _fail(["there is no signed statement"])
    problems = []
    if statement.get("predicateType") != MANIFEST_PREDICATE_TYPE:
        problems.append(f"predicateType is not {MANIFEST_PREDICATE_TYPE}")
    digest = release.fact("artifact_digest")
    subjects = statement.get("subject")
    wanted = {
        "name": f"{release.fact('model')}@{release.fact('version')}",
        "digest": {"sha256": str(digest).removeprefix("sha256:")},
    }
    if subjects != [wanted]:
        problems.append(f"the signed subject is not the artifact {digest} of the manifest")
    if problems:
        return _fail(problems)
    return _ok(f"the signed subject is the artifact {digest}")


def _check_notes(release: _Release) -> Check:
    data = _read(release.folder / NOTES)
    if data is None:
        return _fail([f"{NOTES} is missing"])
    recorded = release.fact("release_notes_digest")
    if digest_bytes(data) != recorded:
        return _fail([f"{NOTES} has digest {digest_bytes(data)}, the manifest records {recorded}"])
    return _ok(f"{NOTES} has the digest the manifest records")


def _snapshot_entry(release: _Release) -> Mapping[str, Any]:
    entry = release.fact("policy_snapshot")
    return entry if isinstance(entry, Mapping) else {}


def _check_snapshot(release: _Release) -> Check:
    entry = _snapshot_entry(release)
    files = entry.get("files")
    digest = release.fact("policy_digest")
    if not isinstance(files, Mapping) or not isinstance(digest, str):
        return _fail(["the manifest records no policy snapshot"])
    problems = []
    if entry.get("digest") != digest:
        problems.append("the manifest's policy_snapshot.digest is not its policy_digest")
    name = entry.get("name")
    problems += snapshot_problems(
        release.folder / SNAPSHOT,
        expected_digest=digest,
        expected_files={str(k): str(v) for k, v in files.items()},
        name=name if isinstance(name, str) else None,
    )
    if problems:
        return _fail(problems)
    return _ok(f"{len(files)} policy files, snapshot digest {digest}")


def _check_policy_signature(release: _Release, trust: TrustStore | None) -> Check:
    entry = _snapshot_entry(release)
    data = _read(release.folder / SNAPSHOT / SNAPSHOT_ENVELOPE)
    if data is None:
        return _fail([f"{SNAPSHOT}/{SNAPSHOT_ENVELOPE} is missing: the snapshot is unsigned"])
    problems = []
    if digest_bytes(data) != entry.get("envelope_digest"):
        problems.append(f"{SNAPSHOT_ENVELOPE} is not the envelope the manifest records")
    name = entry.get("name")
    check, found = policy_signature_problems(
        policy_files(release.folder / SNAPSHOT),
        _parse(data, SNAPSHOT_ENVELOPE),
        trust,
        expected_digest=str(release.fact("policy_digest")),
        name=name if isinstance(name, str) else None,
    )
    problems += found
    if problems:
        return _fail(problems)
    return _ok(f"policy {check.name} sanctioned by {', '.join(check.key_ids)} (trusted for policy)")


def _check_artifact(release: _Release, artifact: str | Path | None) -> Check:
    if artifact is None:
        return _skip("not checked (give --artifact FILE)")
    digest = digest_artifact(artifact)  # a file, or a folder (an MLflow model)
    recorded = release.fact("artifact_digest")
    if digest != recorded:
        return _fail([f"{Path(artifact).name} has digest {digest}, the release is for {recorded}"])
    return _ok(f"{Path(artifact).name} is the released artifact {digest}")
