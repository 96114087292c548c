"""The on-disk form of a release: file names, signed statements, byte-exact renderings.

A release folder holds exactly::

    release_manifest.json            the manifest (schemas/release_manifest.schema.json)
    release_manifest.dsse.json       DSSE envelope, purpose ``release``: an in-toto Statement v1
                                     whose subject is the artifact and whose predicate is the
                                     manifest
    release_notes.md                 its sha256 is the manifest's ``release_notes_digest``
    policy_snapshot/<policy files>   the files of the policy bound at Staging
    policy_snapshot/snapshot.json    {"digest", "files": {name: sha256}, "name"}
    policy_snapshot/snapshot.dsse.json   the DSSE envelope (purpose ``policy``) that sanctioned
                                     the snapshot (:mod:`canarykit.promotion.sanctioned_policy`)

Every byte is covered by the release signature: the manifest file must be byte-for-byte the
rendering (:func:`json_bytes`) of the signed predicate, and the manifest records the digest of
the notes, of every policy file and of the policy envelope. JSON files are rendered one way
only — ``json.dumps(value, indent=2, sort_keys=True)`` plus a newline, ASCII — so a change of
even one space is a different file.

Signatures never cross purposes: the manifest envelope has the ``release`` payload type, the
snapshot envelope the ``policy`` type, and artifact signatures are bare Ed25519 signatures over
the digest text ``sha256:<hex>``; a DSSE signature is over the pre-authentication encoding
(``DSSEv1 ...``), which is never a digest text, so no signature of one kind verifies as another.

Examples
--------
>>> json_bytes({"b": 1, "a": [1]})
b'{\\n  "a": [\\n    1\\n  ],\\n  "b": 1\\n}\\n'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canarykit.promotion.documents import decode_text, parse_document, read_bounded
from canarykit.promotion.evidence import TrustStore, digest_bytes, intoto_statement
from canarykit.promotion.sanctioned_policy import PolicySignatureCheck, check_policy_signature
from canarykit.verdict.snapshot import POLICY_SUFFIXES, snapshot_digest

__all__ = [
    "MANIFEST",
    "MANIFEST_ENVELOPE",
    "MANIFEST_PREDICATE_TYPE",
    "NOTES",
    "RELEASE_FILES",
    "SNAPSHOT",
    "SNAPSHOT_ENVELOPE",
    "SNAPSHOT_META",
    "json_bytes",
    "manifest_statement",
    "policy_files",
    "policy_signature_problems",
    "read_json_bytes",
    "snapshot_meta",
    "snapshot_problems",
    "verify_policy_snapshot",
]

MANIFEST = "release_manifest.json"
MANIFEST_ENVELOPE = "release_manifest.dsse.json"
NOTES = "release_notes.md"
SNAPSHOT = "policy_snapshot"
SNAPSHOT_META = "snapshot.json"
SNAPSHOT_ENVELOPE = "snapshot.dsse.json"
RELEASE_FILES = (SNAPSHOT, MANIFEST, MANIFEST_ENVELOPE, NOTES)
"""The entries of a release folder, and nothing else."""
MANIFEST_PREDICATE_TYPE = "https://canarykit.dev/release-manifest/v2"


def json_bytes(value: Any) -> bytes:
    """The one rendering of a release's JSON files (indent 2, sorted keys, ASCII, newline)."""
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def read_json_bytes(data: bytes, *, where: str) -> Any:
    """Parse a release JSON file's bytes (strict UTF-8, bounded nesting).

    Raises
    ------
    InvalidInputError
        One line naming ``where`` when the bytes are not UTF-8 JSON.

    Examples
    --------
    >>> read_json_bytes(json_bytes({"a": 1}), where="x.json")
    {'a': 1}
    """
    return parse_document(decode_text(data, where=where), where=where)


def _sha256_hex(digest: str) -> str:
    return digest.removeprefix("sha256:")


def manifest_statement(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The in-toto Statement a ``release`` key signs: subject the artifact, predicate the manifest.

    Examples
    --------
    >>> st = manifest_statement({"model": "m", "version": "v1",
    ...                          "artifact_digest": "sha256:" + "0" * 64})
    >>> st["subject"][0]["name"], st["predicate"]["model"]
    ('m@v1', 'm')
    """
    return intoto_statement(
        [
            {
                "name": f"{manifest['model']}@{manifest['version']}",
                "digest": {"sha256": _sha256_hex(str(manifest["artifact_digest"]))},
            }
        ],
        MANIFEST_PREDICATE_TYPE,
        manifest,
    )


def snapshot_meta(*, name: str | None, digest: str, files: Mapping[str, str]) -> dict[str, Any]:
    """The content of ``policy_snapshot/snapshot.json``.

    Examples
    --------
    >>> snapshot_meta(name="p", digest="sha256:00", files={"b.rego": "sha256:2", "a.yaml": "x"})
    {'name': 'p', 'digest': 'sha256:00', 'files': {'a.yaml': 'x', 'b.rego': 'sha256:2'}}
    """
    return {"name": name, "digest": digest, "files": dict(sorted(files.items()))}


def _entries(folder: Path) -> tuple[dict[str, bytes], list[str]]:
    """Regular files of ``folder`` by name, and problems with anything else in it."""
    files: dict[str, bytes] = {}
    problems: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file():
            problems.append(
                f"files: {path.name!r} is not a regular file (links and folders never belong)"
            )
            continue
        files[path.name] = read_bounded(path, what="policy snapshot file")
    return files, problems


def snapshot_problems(
    folder: str | Path,
    *,
    expected_digest: str,
    expected_files: Mapping[str, str] | None = None,
    name: str | None = None,
) -> list[str]:
    """Does ``policy_snapshot/`` hold exactly the snapshot of ``expected_digest``?

    Every file of the folder other than ``snapshot.json`` and ``snapshot.dsse.json`` is a
    policy file of the snapshot: an extra file (a ``.rego`` dropped in), a missing one, a
    changed one or another release's snapshot gives a different digest. ``snapshot.json`` must
    be the exact rendering of the digest, the files and the name.

    Returns
    -------
    list of str
        Problems, each starting with ``files:``, ``digest:`` or ``snapshot.json:``.
    """
    root = Path(folder)
    if root.is_symlink() or not root.is_dir():
        return [f"files: {root.name}/ is missing or not a folder"]
    present, problems = _entries(root)
    meta = present.pop(SNAPSHOT_META, None)
    present.pop(SNAPSHOT_ENVELOPE, None)
    hashes = {n: digest_bytes(data) for n, data in present.items()}
    if expected_files is not None:
        for n in sorted(set(expected_files) - set(hashes)):
            problems.append(f"files: {n!r} is missing from the snapshot")
        for n in sorted(set(hashes) - set(expected_files)):
            problems.append(f"files: {n!r} is not part of the snapshot (an extra file)")
        for n in sorted(set(hashes) & set(expected_files)):
            if hashes[n] != expected_files[n]:
                problems.append(f"files: {n!r} has digest {hashes[n]}, not {expected_files[n]}")
    odd = [n for n in hashes if Path(n).suffix not in POLICY_SUFFIXES]
    problems += [f"files: {n!r} is not a policy file ({', '.join(POLICY_SUFFIXES)})" for n in odd]
    digest = snapshot_digest(present)
    if digest != expected_digest:
        problems.append(
            f"digest: the snapshot's files have digest {digest}, not the bound {expected_digest}"
            " (a file was added, removed or changed, or the snapshot is another release's)"
        )
    wanted = json_bytes(
        snapshot_meta(name=name, digest=expected_digest, files=expected_files or hashes)
    )
    if meta is None:
        problems.append(f"{SNAPSHOT_META}: missing")
    elif meta != wanted:
        problems.append(f"{SNAPSHOT_META}: is not the record of this snapshot (edited or foreign)")
    return problems


def policy_files(folder: str | Path) -> dict[str, bytes]:
    """The policy files of a released ``policy_snapshot/`` folder: every regular file but
    ``snapshot.json`` and ``snapshot.dsse.json`` (an extra file counts, so it is noticed).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("canary.yaml", "notes.txt", SNAPSHOT_META):
    ...     _ = (folder / name).write_text("x")
    >>> sorted(policy_files(folder))
    ['canary.yaml', 'notes.txt']
    """
    root = Path(folder)
    if root.is_symlink() or not root.is_dir():
        return {}
    files, _ = _entries(root)
    files.pop(SNAPSHOT_META, None)
    files.pop(SNAPSHOT_ENVELOPE, None)
    return files


def policy_signature_problems(
    files: Mapping[str, bytes],
    envelope: Any,
    trust: TrustStore | None,
    *,
    expected_digest: str,
    name: str | None = None,
) -> tuple[PolicySignatureCheck, list[str]]:
    """Does ``envelope`` sanction exactly ``files``, as the snapshot of ``expected_digest``?

    The envelope must open for purpose ``policy`` and cover the files name for name and byte
    for byte (:func:`~canarykit.promotion.sanctioned_policy.check_policy_signature`), and the
    digest it signed must be ``expected_digest`` — the one bound to the version — so another
    release's signed snapshot never passes, however valid its own signature.

    Returns
    -------
    (PolicySignatureCheck, list of str)
        The check and every problem (empty when it holds).
    """
    check = check_policy_signature(files, envelope, trust)
    problems = list(check.problems)
    if check.signed_digest is not None and check.signed_digest != expected_digest:
        problems.append(
            f"the signature sanctions snapshot {check.signed_digest}, not the bound"
            f" {expected_digest} (another release's snapshot)"
        )
    if name is not None and check.name is not None and check.name != name:
        problems.append(f"the signature names policy {check.name!r}, the release {name!r}")
    return check, problems


def verify_policy_snapshot(
    snapshot_dir: str | Path, trust: TrustStore | None, *, expected_digest: str
) -> list[str]:
    """Problems with a written ``policy_snapshot/`` (empty when it is exactly the bound snapshot).

    The snapshot must hold exactly its policy files (no extra ``.rego``, none missing), their
    digest must be ``expected_digest`` — the digest bound to the version, never one read from
    the folder, so another release's signed snapshot does not pass — and ``snapshot.dsse.json``
    must be signed by a key trusted for ``policy`` over exactly those files.

    Parameters
    ----------
    snapshot_dir : str or Path
        The ``policy_snapshot`` folder of a release.
    trust : TrustStore or None
        The trust file (None: nothing can verify).
    expected_digest : str
        The snapshot digest the version is bound to (the manifest's or the registry's).

    Returns
    -------
    list of str
        Every problem found; empty when the snapshot verifies.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> from canarykit.promotion.evidence import public_key_text
    >>> from canarykit.promotion.sanctioned_policy import sign_policy_files
    >>> from canarykit.verdict.policy import load_policy
    >>> files = load_policy().files
    >>> key = Ed25519PrivateKey.generate()
    >>> trust = TrustStore.from_dict({"keys": [{"id": "p", "public_key": public_key_text(key),
    ...                                          "purposes": ["policy"]}]})
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name, data in files.items():
    ...     _ = (folder / name).write_bytes(data)
    >>> hashes = {n: digest_bytes(b) for n, b in files.items()}
    >>> digest = snapshot_digest(files)
    >>> meta = snapshot_meta(name="shipped", digest=digest, files=hashes)
    >>> _ = (folder / SNAPSHOT_META).write_bytes(json_bytes(meta))
    >>> envelope = sign_policy_files(files, key, "p", name="shipped")
    >>> _ = (folder / SNAPSHOT_ENVELOPE).write_bytes(json_bytes(envelope))
    >>> verify_policy_snapshot(folder, trust, expected_digest=digest)
    []
    >>> _ = (folder / "loose.rego").write_text("package canarykit.decision\\n")
    >>> sorted({p.split(":")[0] for p in verify_policy_snapshot(folder, trust,
    ...                                                          expected_digest=digest)})
    ['digest', 'files', 'the signed snapshot differs from the folder']
    """
    folder = Path(snapshot_dir)
    meta: Any = None
    if folder.is_dir() and (folder / SNAPSHOT_META).is_file():
        try:
            meta = read_json_bytes(
                read_bounded(folder / SNAPSHOT_META, what=SNAPSHOT_META), where=SNAPSHOT_META
            )
        except ValueError:
            meta = None
    name = meta.get("name") if isinstance(meta, Mapping) else None
    name = name if isinstance(name, str) else None
    listed = meta.get("files") if isinstance(meta, Mapping) else None
    problems = snapshot_problems(
        folder,
        expected_digest=expected_digest,
        expected_files={str(k): str(v) for k, v in listed.items()}
        if isinstance(listed, Mapping)
        else None,
        name=name,
    )
    envelope_path = folder / SNAPSHOT_ENVELOPE
    if envelope_path.is_symlink() or not envelope_path.is_file():
        return [*problems, f"signature: {SNAPSHOT_ENVELOPE} is missing (the snapshot is unsigned)"]
    try:
        envelope = read_json_bytes(
            read_bounded(envelope_path, what=SNAPSHOT_ENVELOPE), where=SNAPSHOT_ENVELOPE
        )
    except ValueError as err:
        return [*problems, f"signature: {err}"]
    _, found = policy_signature_problems(
        policy_files(folder), envelope, trust, expected_digest=expected_digest, name=name
    )
    return problems + found
