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

The checks and their results are :mod:`~canarykit.promotion.release_checks` (their names are
importable from here too); the checks of the folder on its own are
:mod:`~canarykit.promotion.release_folder_checks`, those against a registry
:mod:`~canarykit.promotion.release_registry_checks`.

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
from pathlib import Path

from canarykit.errors import InvalidInputError
from canarykit.promotion.evidence import TrustStore
from canarykit.promotion.release_checks import (
    CHECKS,
    EXIT_OK,
    EXIT_VERIFY_FAILED,
    Check,
    ReleaseCheck,
    ReleaseVerification,
)
from canarykit.promotion.release_folder_checks import (
    _check_artifact,
    _check_checkpoint,
    _check_files,
    _check_manifest,
    _check_notes,
    _check_policy_signature,
    _check_signature,
    _check_snapshot,
    _check_subject,
    _Release,
)
from canarykit.promotion.release_registry_checks import _registry_checks

__all__ = [
    "CHECKS",
    "EXIT_OK",
    "EXIT_VERIFY_FAILED",
    "ReleaseCheck",
    "ReleaseVerification",
    "verify_release",
]

DRILL_MESSAGE = (
    "DRILL: the manifest says it was made from a drill registry (config init --drill): a"
    " rehearsal, never a production release"
)


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
