"""Policy snapshots: the YAML and Rego files that decided a verdict, and their digest.

A *policy snapshot* is the set of policy files (``*.yaml``, ``*.yml``, ``*.rego``) in a policy
folder, or a single file. Its digest is stamped into every verdict and bound to promotions, so the
canonical form is part of canarykit's contract:

    for each file, sorted by its name relative to the snapshot root (POSIX separators):
        "<relative name>\\0<sha256 hex of the file bytes>\\n"
    digest = "sha256:" + sha256 hex of the concatenation (UTF-8)

File bytes are hashed as stored (no newline or encoding normalisation), so any edit changes
the digest, while moving the folder or touching timestamps does not.

Examples
--------
>>> snapshot_digest({"canary.yaml": b"alpha: 0.05\\n"})
'sha256:...'
>>> snapshot_digest({"a.rego": b"x"}) == snapshot_digest({"a.rego": b"x"})
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from canarykit.errors import PolicyError

POLICY_SUFFIXES = (".yaml", ".yml", ".rego")

__all__ = ["POLICY_SUFFIXES", "load_snapshot_files", "snapshot_digest"]


def load_snapshot_files(path: str | Path) -> dict[str, bytes]:
    """Read the policy files of a folder (non-recursive) or a single policy file.

    Parameters
    ----------
    path : str or Path
        A policy folder or one ``.yaml``/``.yml``/``.rego`` file.

    Returns
    -------
    dict of str to bytes
        File name (relative to the folder) → raw bytes, sorted by name.

    Raises
    ------
    PolicyError
        If the path does not exist or holds no policy file.
    """
    root = Path(path)
    if root.is_file():
        if root.suffix not in POLICY_SUFFIXES:
            raise PolicyError(f"{root}: not a policy file (expected {', '.join(POLICY_SUFFIXES)})")
        return {root.name: root.read_bytes()}
    if not root.is_dir():
        raise PolicyError(f"{root}: policy path does not exist")
    files = {
        p.name: p.read_bytes()
        for p in sorted(root.iterdir())
        if p.is_file() and p.suffix in POLICY_SUFFIXES
    }
    if not files:
        raise PolicyError(f"{root}: folder holds no policy file ({', '.join(POLICY_SUFFIXES)})")
    return files


def snapshot_digest(files: Mapping[str, bytes]) -> str:
    """Digest of a policy snapshot in the canonical form documented in this module."""
    lines = "".join(
        f"{name}\0{hashlib.sha256(files[name]).hexdigest()}\n" for name in sorted(files)
    )
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()
