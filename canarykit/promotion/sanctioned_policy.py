"""Sanctioned policies: canary policy snapshots signed for purpose ``policy`` and bound per version.

A policy decides verdicts, so whoever picks the policy picks the verdict. Staging therefore binds
only a policy *sanctioned* by a key the trust file lists for purpose ``policy``
(``canarykit policy sign DIR``), and only when the signed snapshot is exactly the folder's: every
policy file (``*.yaml``, ``*.yml``, ``*.rego``) with the sha256 that was signed, no file more and
none missing. The bound snapshot — its files, name, digest and envelope — is stored in the
registry (table ``bound_policies``), so the Approved gate re-derives decisions, and a release
ships the policy, from the exact bytes that were sanctioned rather than from a folder anyone
can edit later.

The signature is a DSSE envelope (payload type :data:`~canarykit.promotion.evidence.PAYLOAD_TYPES`
``["policy"]``) over an in-toto Statement v1::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "<NAME>", "digest": {"sha256": "<snapshot digest hex>"}}],
     "predicateType": "https://canarykit.dev/policy-snapshot/v1",
     "predicate": {"name": "<NAME>", "digest": "sha256:<snapshot digest hex>",
                   "files": [{"name": "canary.yaml", "sha256": "<hex>"}, ...]}}

The snapshot digest is :func:`canarykit.verdict.snapshot.snapshot_digest` of the folder's policy
files — the digest every verdict evaluated under that folder carries. Without ``--out`` the
envelope is written into the folder as :data:`POLICY_SIGNATURE_FILE` (``policy.dsse.json``, not a
policy file, so not part of the snapshot), where ``promote --to Staging --policy DIR`` looks for
it when no ``--policy-signature`` is given.

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from canarykit.promotion.evidence import TrustStore, public_key_text
>>> from canarykit.verdict.policy import load_policy
>>> files = load_policy().files                      # the shipped policy's snapshot
>>> key = Ed25519PrivateKey.generate()
>>> envelope = sign_policy_files(files, key, "policy-key", name="shipped")
>>> trust = TrustStore.from_dict({"keys": [{"id": "policy-key", "public_key": public_key_text(key),
...                                          "purposes": ["policy"]}]})
>>> check = check_policy_signature(files, envelope, trust)
>>> check.verified, check.name, check.digest == load_policy().digest
(True, 'shipped', True)
>>> extra = {**files, "loose.rego": b"package canarykit.decision\\n"}
>>> check_policy_signature(extra, envelope, trust).problems[0][:71]
'the signed snapshot differs from the folder: extra file loose.rego (not'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError, PolicyError
from canarykit.promotion.evidence import (
    TrustStore,
    intoto_statement,
    load_private_key,
    open_envelope,
    sign_statement,
)
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

__all__ = [
    "POLICY_PREDICATE_TYPE",
    "POLICY_SIGNATURE_FILE",
    "BoundPolicy",
    "PolicySignatureCheck",
    "bound_policies",
    "bound_policy",
    "bound_policy_facts",
    "check_policy_signature",
    "default_signature_path",
    "policy_statement",
    "sign_policy",
    "sign_policy_files",
    "snapshot_problems",
    "store_bound_policy",
]

POLICY_PREDICATE_TYPE = "https://canarykit.dev/policy-snapshot/v1"
"""in-toto predicate type of a sanctioned policy snapshot."""
POLICY_SIGNATURE_FILE = "policy.dsse.json"
"""Where ``policy sign`` writes, and Staging looks for, a folder's signature by default."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_policy_name(name: Any) -> str:
    """Return ``name`` if it can name a sanctioned policy (1-128 of ``A-Za-z0-9._@+-``).

    Examples
    --------
    >>> check_policy_name("risk-policy-2026.11")
    'risk-policy-2026.11'
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError(
            f"--name: {str(name)[:40]!r} must be 1-128 letters, digits or ._@+- (starting with"
            " a letter or digit)"
        )
    return name


def snapshot_problems(files: Mapping[str, bytes], *, source: str = "policy") -> list[str]:
    """Why ``files`` cannot be a sanctioned policy (empty when it can).

    A sanctioned snapshot is a complete policy: exactly one valid YAML file *and* its decision
    rules (``*.rego``) beside it, so that the snapshot alone re-derives every decision (a lone
    YAML would borrow the rules shipped with whichever canarykit is installed).

    Examples
    --------
    >>> snapshot_problems({"canary.yaml": b"schema: canarykit.policy/1\\n"})[0][:61]
    'policy: no decision rules (*.rego) beside the YAML: a sanctio'
    """
    if not any(name.endswith(".rego") for name in files):
        return [
            f"{source}: no decision rules (*.rego) beside the YAML: a sanctioned policy carries"
            " its own (copy the shipped decision.rego into the folder)"
        ]
    from canarykit.verdict.policy import policy_from_files

    try:
        policy_from_files(files, source=source)
    except PolicyError as err:
        return [str(err)]
    return []


def policy_statement(files: Mapping[str, bytes], *, name: str) -> dict[str, Any]:
    """The in-toto Statement a policy signature covers (see the module docstring).

    Examples
    --------
    >>> st = policy_statement({"canary.yaml": b"x"}, name="p")
    >>> st["predicate"]["files"][0]["name"], st["subject"][0]["name"]
    ('canary.yaml', 'p')
    """
    digest = snapshot_digest(files)
    listed = [{"name": n, "sha256": _sha256(files[n])} for n in sorted(files)]
    return intoto_statement(
        [{"name": name, "digest": {"sha256": digest.removeprefix("sha256:")}}],
        POLICY_PREDICATE_TYPE,
        {"name": name, "digest": digest, "files": listed},
    )


def sign_policy_files(
    files: Mapping[str, bytes], private_key: Any, key_id: str, *, name: str
) -> dict[str, Any]:
    """A DSSE envelope (purpose ``policy``) over the statement of a snapshot's ``files``.

    Raises
    ------
    InvalidInputError
        The key is not usable, the key id or name malformed.
    """
    key = load_private_key(private_key)
    statement = policy_statement(files, name=check_policy_name(name))
    return sign_statement(statement, purpose="policy", private_key=key, key_id=key_id)


def sign_policy(
    path: str | Path, private_key: Any, key_id: str, *, name: str | None = None
) -> dict[str, Any]:
    """Sign the policy folder ``path``: its snapshot must be a complete, valid policy.

    Parameters
    ----------
    path : str or Path
        The policy folder (its ``*.yaml``/``*.yml``/``*.rego`` files form the snapshot).
    private_key : Ed25519PrivateKey, str or Path
        The key (or its unencrypted PEM file) whose public half the trust file lists for
        purpose ``policy``.
    key_id : str
        Its id in the trust file.
    name : str, optional
        The policy's name, shown by ``status`` and releases (default: the folder's name).

    Returns
    -------
    dict
        The DSSE envelope.

    Raises
    ------
    PolicyError
        The folder is missing, holds no policy, or its snapshot is not a complete valid policy.
    InvalidInputError
        The key, key id or name is not usable.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> from canarykit.verdict.policy import default_policy_path
    >>> folder = Path(tempfile.mkdtemp()) / "risk-policy"
    >>> _ = shutil.copytree(default_policy_path(), folder,
    ...                     ignore=shutil.ignore_patterns("promotion"))
    >>> envelope = sign_policy(folder, Ed25519PrivateKey.generate(), "policy-key")
    >>> envelope["payloadType"]
    'application/vnd.canarykit.policy-snapshot.v1+json'
    """
    root = Path(path)
    if not root.is_dir():
        raise PolicyError(
            f"{root}: not a policy folder (a sanctioned policy is a folder holding its YAML"
            " and its *.rego rules)"
        )
    files = load_snapshot_files(root)
    problems = snapshot_problems(files, source=str(root))
    if problems:
        raise PolicyError(problems[0])
    return sign_policy_files(
        files, private_key, key_id, name=name if name is not None else root.resolve().name
    )


def default_signature_path(path: str | Path) -> Path:
    """Where the signature of policy folder ``path`` is looked for when none is named.

    Examples
    --------
    >>> default_signature_path("policy").as_posix()
    'policy/policy.dsse.json'
    """
    return Path(path) / POLICY_SIGNATURE_FILE


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySignatureCheck:
    """A policy folder's snapshot checked against its signature (the Staging gate's facts)."""

    present: bool
    verified: bool
    digest: str
    name: str | None = None
    signed_digest: str | None = None
    key_ids: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the Rego input ``policy_snapshot``)."""
        return {
            "present": self.present,
            "verified": self.verified,
            "digest": self.digest,
            "name": self.name,
            "signed_digest": self.signed_digest,
            "key_ids": list(self.key_ids),
            "problems": list(self.problems),
        }


def _signed_files(predicate: Mapping[str, Any]) -> dict[str, str] | None:
    listed = predicate.get("files")
    if not isinstance(listed, list):
        return None
    out: dict[str, str] = {}
    for entry in listed:
        if not isinstance(entry, Mapping):
            return None
        name, sha = entry.get("name"), entry.get("sha256")
        if not isinstance(name, str) or not isinstance(sha, str) or name in out:
            return None
        out[name] = sha
    return out


def _differences(signed: Mapping[str, str], files: Mapping[str, bytes]) -> list[str]:
    here = {n: _sha256(b) for n, b in files.items()}
    extra = sorted(set(here) - set(signed))
    missing = sorted(set(signed) - set(here))
    changed = sorted(n for n in set(here) & set(signed) if here[n] != signed[n])
    parts = []
    if extra:
        parts.append(f"extra file {', '.join(extra)} (not signed)")
    if missing:
        parts.append(f"missing file {', '.join(missing)} (signed, not in the folder)")
    if changed:
        parts.append(f"changed file {', '.join(changed)} (bytes differ from the signed sha256)")
    return parts


def check_policy_signature(
    files: Mapping[str, bytes], envelope: Any, trust: TrustStore | None
) -> PolicySignatureCheck:
    """Check that ``envelope`` sanctions exactly the snapshot ``files``.

    ``verified`` holds only when the envelope opens for purpose ``policy`` (payload type, a
    signature by a key trusted for ``policy``), carries the policy-snapshot predicate, its
    signed file list equals ``files`` name for name and sha256 for sha256, its subject and
    predicate digests are the snapshot digest, and the snapshot is a complete valid policy.
    Every problem is listed, in words that name the difference.
    """
    digest = snapshot_digest(files)
    problems = snapshot_problems(files, source="the folder's snapshot")
    if envelope is None:
        problems.insert(
            0,
            "the policy snapshot is not signed: sign it with `canarykit policy sign DIR --key"
            " KEY.pem --key-id ID` (a key the trust file lists for purpose policy) and pass"
            f" --policy-signature FILE, or leave the signature at DIR/{POLICY_SIGNATURE_FILE}",
        )
        return PolicySignatureCheck(
            present=False, verified=False, digest=digest, problems=tuple(problems)
        )
    opened = open_envelope(envelope, trust, purpose="policy")
    problems[:0] = [f"signature: {p}" for p in opened.problems]
    statement = opened.statement or {}
    predicate = statement.get("predicate")
    predicate = predicate if isinstance(predicate, Mapping) else {}
    name = predicate.get("name") if isinstance(predicate.get("name"), str) else None
    signed_digest = predicate.get("digest") if isinstance(predicate.get("digest"), str) else None
    if opened.statement is not None and statement.get("predicateType") != POLICY_PREDICATE_TYPE:
        problems.append(
            f"statement.predicateType: {str(statement.get('predicateType'))[:60]!r} is not the"
            f" policy-snapshot type {POLICY_PREDICATE_TYPE!r}"
        )
    signed = _signed_files(predicate) if opened.statement is not None else None
    if opened.statement is not None and signed is None:
        problems.append("predicate.files: not a list of {name, sha256} with distinct names")
    if signed is not None:
        differences = _differences(signed, files)
        if differences:
            problems.append(
                "the signed snapshot differs from the folder: "
                + "; ".join(differences)
                + f" — the signature is for {name or 'a policy'} {str(signed_digest)[:80]},"
                f" the folder's snapshot is {digest}"
            )
        lines = "".join(f"{n}\0{signed[n]}\n" for n in sorted(signed))
        listed_digest = "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()
        subjects = statement.get("subject")
        subject_digests = [
            s["digest"].get("sha256")
            for s in (subjects if isinstance(subjects, list) else [])
            if isinstance(s, Mapping) and isinstance(s.get("digest"), Mapping)
        ]
        if signed_digest != listed_digest or subject_digests != [
            listed_digest.removeprefix("sha256:")
        ]:
            problems.append(
                "the statement is inconsistent: its subject and predicate digests are not the"
                " digest of its signed file list"
            )
    if name is None and opened.statement is not None:
        problems.append("predicate.name: required")
    verified = opened.verified and not problems
    return PolicySignatureCheck(
        present=True,
        verified=verified,
        digest=digest,
        name=name,
        signed_digest=signed_digest,
        key_ids=opened.key_ids,
        problems=tuple(problems),
    )


# -- the registry's record of the bound policy ------------------------------------------------
_TABLE = """
CREATE TABLE IF NOT EXISTS bound_policies (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    files_json TEXT NOT NULL,
    envelope_json TEXT NOT NULL,
    key_ids_json TEXT NOT NULL,
    bound_at_ns INTEGER NOT NULL,
    PRIMARY KEY (model, version)
)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundPolicy:
    """The sanctioned policy snapshot bound to a version at Staging, as the registry keeps it.

    ``files`` are the exact bytes that were signed (name → bytes); ``envelope`` is the DSSE
    envelope that sanctioned them; ``key_ids`` the ``policy`` keys whose signatures verified.
    """

    model: str
    version: str
    name: str
    digest: str
    files: Mapping[str, bytes] = field(repr=False)
    envelope: Mapping[str, Any] = field(repr=False)
    key_ids: tuple[str, ...] = ()
    bound_at_ns: int = 0

    @property
    def intact(self) -> bool:
        """Whether the stored files still hash to the stored digest."""
        return snapshot_digest(self.files) == self.digest

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (files as name → sha256; the envelope is :attr:`envelope`)."""
        return {
            "model": self.model,
            "version": self.version,
            "name": self.name,
            "digest": self.digest,
            "files": {n: "sha256:" + _sha256(b) for n, b in sorted(self.files.items())},
            "key_ids": list(self.key_ids),
        }


def store_bound_policy(
    conn: sqlite3.Connection,
    *,
    model: str,
    version: str,
    check: PolicySignatureCheck,
    files: Mapping[str, bytes],
    envelope: Mapping[str, Any],
    now_ns: int,
) -> BoundPolicy:
    """Record the sanctioned snapshot bound to ``model``/``version`` (inside the gate's
    transaction, after the Staging gate allowed it)."""
    conn.execute(_TABLE)
    record = BoundPolicy(
        model=model,
        version=version,
        name=str(check.name),
        digest=check.digest,
        files=dict(files),
        envelope=dict(envelope),
        key_ids=check.key_ids,
        bound_at_ns=now_ns,
    )
    conn.execute(
        "INSERT OR REPLACE INTO bound_policies (model, version, name, digest, files_json,"
        " envelope_json, key_ids_json, bound_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            model,
            version,
            record.name,
            record.digest,
            json.dumps(
                {n: base64.b64encode(b).decode("ascii") for n, b in sorted(files.items())},
                sort_keys=True,
            ),
            json.dumps(dict(envelope), sort_keys=True),
            json.dumps(list(check.key_ids)),
            now_ns,
        ),
    )
    return record


def _from_row(row: sqlite3.Row) -> BoundPolicy | None:
    try:
        files = {n: base64.b64decode(t, validate=True) for n, t in json.loads(row[4]).items()}
        envelope = json.loads(row[5])
        key_ids = tuple(str(k) for k in json.loads(row[6]))
    except (ValueError, TypeError, AttributeError, binascii.Error):
        return None  # an edited row: treated as no bound policy (the gates deny)
    return BoundPolicy(
        model=row[0],
        version=row[1],
        name=row[2],
        digest=row[3],
        files=files,
        envelope=envelope if isinstance(envelope, dict) else {},
        key_ids=key_ids,
        bound_at_ns=row[7],
    )


_SELECT = (
    "SELECT model, version, name, digest, files_json, envelope_json, key_ids_json, bound_at_ns"
    " FROM bound_policies"
)


def bound_policy(conn: sqlite3.Connection, model: str, version: str) -> BoundPolicy | None:
    """The sanctioned policy bound to ``model``/``version`` at Staging, or None.

    None also when the version was bound before policies were signed, or its row was edited
    into something unreadable. Callers that rely on it (the Approved gate, releases) check
    :attr:`BoundPolicy.intact` and that :attr:`BoundPolicy.digest` is the version's
    ``policy_digest``.

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> bound_policy(RegistryStore(":memory:").conn, "m", "v1") is None
    True
    """
    try:
        row = conn.execute(
            _SELECT + " WHERE model = ? AND version = ?", (model, version)
        ).fetchone()
    except sqlite3.OperationalError:  # a registry created before the table existed
        return None
    return None if row is None else _from_row(row)


def bound_policies(conn: sqlite3.Connection, model: str | None = None) -> list[BoundPolicy]:
    """Every readable bound policy (of one model, or all), by model and version."""
    try:
        rows = conn.execute(
            _SELECT + " WHERE (? IS NULL OR model = ?) ORDER BY model, version", (model, model)
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [b for row in rows if (b := _from_row(row)) is not None]


def bound_policy_facts(
    bound: BoundPolicy | None, *, policy_digest: str | None, trust: TrustStore | None
) -> dict[str, Any]:
    """The Approved gate's view of the bound policy (Rego input ``bound_policy``).

    ``ok`` holds when the registry keeps the sanctioned snapshot of the version's bound digest,
    its files still hash to it, and its envelope still verifies for purpose ``policy`` against
    today's trust file and still covers exactly those files.
    """
    if bound is None:
        return {
            "present": False,
            "ok": False,
            "name": None,
            "digest": None,
            "problems": [
                "no sanctioned policy snapshot is stored for this version (bind a signed policy"
                " at Staging: canarykit policy sign DIR, then promote --to Staging --policy DIR)"
            ],
        }
    problems = []
    if not bound.intact:
        problems.append("the stored policy files no longer hash to the bound digest")
    if bound.digest != policy_digest:
        problems.append(
            f"the stored snapshot {bound.digest} is not the version's bound digest {policy_digest}"
        )
    check = check_policy_signature(bound.files, bound.envelope, trust)
    problems += [f"the stored signature no longer holds: {p}" for p in check.problems]
    return {
        "present": True,
        "ok": not problems,
        "name": bound.name,
        "digest": bound.digest,
        "problems": problems,
    }
