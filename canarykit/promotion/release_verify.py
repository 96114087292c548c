"""``canarykit release verify``: is this release folder what was approved?

:func:`verify_release` runs every check below on a release folder and reports each one as
``OK``, ``FAIL`` or ``SKIP`` (a check that needs ``--artifact`` or ``--registry`` when it is not
given). The release verifies when no check fails; the CLI exits :data:`EXIT_OK` (0) then and
:data:`EXIT_VERIFY_FAILED` (6) otherwise (1, 2 and 3 mean STOP, usage and CONTINUE).

=====================  =====================================================================
check                  passes when
=====================  =====================================================================
files                  the folder holds exactly the release's entries (no extra, none
                       missing, no links)
signature              ``release_manifest.dsse.json`` is a DSSE envelope with the ``release``
                       payload type, signed only by keys the trust file lists for ``release``
manifest               ``release_manifest.json`` is byte for byte the signed manifest and
                       passes the schema
subject                the signed statement's subject is the manifest's artifact digest
notes                  ``release_notes.md`` has the digest the manifest records
policy-snapshot        ``policy_snapshot/`` holds exactly the files the manifest lists, with
                       their digests, whose snapshot digest is the manifest's ``policy_digest``
policy-signature       ``snapshot.dsse.json`` is the envelope the manifest records: it sanctions
                       exactly the folder's policy files, as the bound digest, signed by a
                       ``policy`` key
artifact               (``--artifact``) the file's sha256 is the manifest's artifact digest
checkpoint             the signed audit checkpoint the manifest embeds
                       (``audit_checkpoint.signed_checkpoint``) is signed by a key the trust
                       file lists for ``checkpoint`` and anchors the manifest's chain head (the
                       same event and hash, or an earlier event); SKIP when none is embedded
registry-version       (``--registry``) the version exists, is Approved, not revoked, and its
                       ``revalidate_by`` has not lapsed
registry-digests       (``--registry``) artifact, policy, verdict digests and evidence links
                       are the registry's
registry-approvals     (``--registry``) the manifest's approvals are those the registry and
                       its audit log recorded up to the release
registry-audit         (``--registry``) the audit chain is intact, holds the manifest's
                       checkpoint, the embedded signed checkpoint verifies against the log
                       (no rewrite, deletion or truncation at or before it), and the log
                       records this very release (its manifest digest)
=====================  =====================================================================

A release made from a drill registry says ``"drill": true`` in its (signed) manifest and DRILL in
its notes; ``release verify`` adds a failing ``drill`` check for it, so a rehearsal never
verifies as a production release.

Examples
--------
>>> [c for c in CHECKS if c.startswith("registry")]
['registry-version', 'registry-digests', 'registry-approvals', 'registry-audit']
>>> EXIT_VERIFY_FAILED
6
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.approvals import list_approvals
from canarykit.promotion.artifacts import digest_artifact
from canarykit.promotion.audit import list_events, verify_chain
from canarykit.promotion.clock import format_instant
from canarykit.promotion.documents import read_bounded
from canarykit.promotion.evidence import (
    EnvelopeCheck,
    TrustStore,
    digest_bytes,
    open_envelope,
)
from canarykit.promotion.release import evidence_links
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
from canarykit.promotion.states import Stage
from canarykit.promotion.verdicts import verdict_digest
from canarykit.promotion.versions import get_version

__all__ = [
    "CHECKS",
    "EXIT_OK",
    "EXIT_VERIFY_FAILED",
    "ReleaseCheck",
    "ReleaseVerification",
    "verify_release",
]

EXIT_OK = 0
EXIT_VERIFY_FAILED = 6
DRILL_MESSAGE = (
    "DRILL: the manifest says it was made from a drill registry (config init --drill): a"
    " rehearsal, never a production release"
)

CHECKS = (
    "files",
    "signature",
    "manifest",
    "subject",
    "notes",
    "policy-snapshot",
    "policy-signature",
    "artifact",
    "checkpoint",
    "registry-version",
    "registry-digests",
    "registry-approvals",
    "registry-audit",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseCheck:
    """One check of :func:`verify_release`: ``status`` is ``OK``, ``FAIL`` or ``SKIP``.

    Examples
    --------
    >>> ReleaseCheck(name="notes", status="OK", message="digest matches").to_text()
    'OK    notes: digest matches'
    """

    name: str
    status: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"check": self.name, "status": self.status, "message": self.message}

    def to_text(self) -> str:
        """One line: status, check name, message."""
        return f"{self.status:<5} {self.name}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseVerification:
    """Every check of a release folder; ``ok`` when none failed.

    Examples
    --------
    >>> v = ReleaseVerification(release_dir="rel", checks=(
    ...     ReleaseCheck(name="files", status="OK", message="4 entries"),
    ...     ReleaseCheck(name="artifact", status="SKIP", message="not checked")))
    >>> v.ok, v.exit_code, v.to_text().splitlines()[-1]
    (True, 0, 'release rel: VERIFIED (1 passed, 1 skipped)')
    """

    release_dir: str
    checks: tuple[ReleaseCheck, ...]

    @property
    def ok(self) -> bool:
        """No check failed."""
        return all(c.status != "FAIL" for c in self.checks)

    @property
    def exit_code(self) -> int:
        """:data:`EXIT_OK` or :data:`EXIT_VERIFY_FAILED`."""
        return EXIT_OK if self.ok else EXIT_VERIFY_FAILED

    @property
    def failures(self) -> tuple[ReleaseCheck, ...]:
        """The failed checks."""
        return tuple(c for c in self.checks if c.status == "FAIL")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "release_dir": self.release_dir,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_text(self) -> str:
        """One line per check, then the outcome."""
        count = {s: sum(c.status == s for c in self.checks) for s in ("OK", "FAIL", "SKIP")}
        if self.ok:
            last = f"VERIFIED ({count['OK']} passed, {count['SKIP']} skipped)"
        else:
            last = f"NOT VERIFIED ({count['FAIL']} failed, {count['OK']} passed)"
        return "\n".join(
            [*(c.to_text() for c in self.checks), f"release {self.release_dir}: {last}"]
        )


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


Check = tuple[str, str]  # (status, message)


def _ok(message: str) -> Check:
    return "OK", message


def _fail(problems: list[str]) -> Check:
    return "FAIL", "; ".join(problems)


def _skip(message: str) -> Check:
    return "SKIP", message


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


def verify_release(
    release_dir: str | Path,
    *,
    trust: TrustStore | None,
    artifact: str | Path | None = None,
    registry: sqlite3.Connection | None = None,
    now_ns: int | None = None,
) -> ReleaseVerification:
    """Check a release folder (see the module docstring for every check).

    Parameters
    ----------
    release_dir : str or Path
        The folder ``canarykit release`` wrote.
    trust : TrustStore or None
        The trust file whose ``release`` and ``policy`` keys may sign (None: the signature
        checks fail).
    artifact : str or Path, optional
        The artifact file to compare with the released digest.
    registry : sqlite3.Connection, optional
        The registry (read only) to compare the release with.
    now_ns : int, optional
        The time at which ``revalidate_by`` must not have lapsed (registry checks).

    Returns
    -------
    ReleaseVerification

    Raises
    ------
    InvalidInputError
        ``release_dir`` is not a folder, or the artifact cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> result = verify_release(folder, trust=None)
    >>> result.exit_code, result.checks[1].to_text()
    (6, 'FAIL  signature: release_manifest.dsse.json is missing: the manifest is unsigned')
    """
    folder = Path(release_dir)
    if folder.is_symlink() or not folder.is_dir():
        raise InvalidInputError(
            f"{folder}: not a release folder (it does not exist or is not a folder)"
        )
    release = _Release(folder)
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("files", lambda: _check_files(release)),
        ("signature", lambda: _check_signature(release, trust)),
        ("manifest", lambda: _check_manifest(release)),
        ("subject", lambda: _check_subject(release)),
        ("notes", lambda: _check_notes(release)),
        ("policy-snapshot", lambda: _check_snapshot(release)),
        ("policy-signature", lambda: _check_policy_signature(release, trust)),
        ("artifact", lambda: _check_artifact(release, artifact)),
        ("checkpoint", lambda: _check_checkpoint(release, trust)),
    ]
    checks = [
        ReleaseCheck(name=name, status=s, message=m) for name, step in steps for s, m in [step()]
    ]
    if isinstance(release.manifest, Mapping) and release.manifest.get("drill") is True:
        checks.append(ReleaseCheck(name="drill", status="FAIL", message=DRILL_MESSAGE))
    if registry is None:
        checks += [
            ReleaseCheck(name=name, status="SKIP", message="not checked (give --registry REG)")
            for name in CHECKS
            if name.startswith("registry")
        ]
    else:
        checks += [
            ReleaseCheck(name=name, status=s, message=m)
            for name, (s, m) in _registry_checks(release, registry, now_ns)
        ]
    return ReleaseVerification(release_dir=str(folder), checks=tuple(checks))
