"""Signing a policy folder for purpose ``policy``: the snapshot's statement and its envelope.

:func:`sign_policy` signs a policy folder whose snapshot is a complete, valid policy
(:func:`snapshot_problems`); :func:`sign_policy_files` signs a snapshot given as files, over
the in-toto Statement :func:`policy_statement` builds. :func:`default_signature_path` is where
a folder's signature is written and looked for. The statement's fields are described in
:mod:`~canarykit.promotion.sanctioned_policy`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError, PolicyError
from canarykit.promotion.evidence import intoto_statement, load_private_key, sign_statement
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

__all__ = [
    "POLICY_PREDICATE_TYPE",
    "POLICY_SIGNATURE_FILE",
    "check_policy_name",
    "default_signature_path",
    "policy_statement",
    "sign_policy",
    "sign_policy_files",
    "snapshot_problems",
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
