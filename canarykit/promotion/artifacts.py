"""The digest of a model artifact: one file, or a folder of files (an MLflow model).

A file's digest is the sha256 of its bytes (:func:`~canarykit.promotion.evidence.digest_file`).
A folder's digest is the sha256 of its *listing*: one line ``NAME\\0SHA256\\n`` per regular file,
``NAME`` its path below the folder with ``/`` separators, lines sorted by name — the canonical
form of a policy snapshot (:func:`canarykit.verdict.snapshot.snapshot_digest`), so any added,
removed, renamed or changed file changes it, and nothing else (timestamps, permissions) does.
A symbolic link or any other special file in the folder is refused, never followed.

``canarykit submit --artifact``, ``promote --artifact``, ``check-startup --artifact`` and
``submit --from-mlflow`` (on the files it downloads) all compute this one digest.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "MLmodel").write_text("flavors: {}\\n")
>>> (folder / "data").mkdir(); _ = (folder / "data" / "model.bin").write_bytes(b"w")
>>> digest_artifact(folder) == digest_artifact(folder)
True
>>> digest_artifact(folder / "MLmodel") == digest_artifact(folder)
False
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from canarykit.errors import InvalidInputError
from canarykit.promotion.evidence import digest_file

__all__ = ["digest_artifact", "digest_folder"]


def digest_artifact(path: str | Path) -> str:
    """``"sha256:<hex>"`` of an artifact file, or of a folder (module docstring).

    Raises
    ------
    InvalidInputError
        The path cannot be read, or a folder holds a link or a special file, or no file.
    """
    if Path(path).is_dir() and not Path(path).is_symlink():
        return digest_folder(path)
    return digest_file(path)


def digest_folder(path: str | Path) -> str:
    """The listing digest of a folder of artifact files (module docstring).

    Raises
    ------
    InvalidInputError
        The folder holds a symbolic link or a special file, holds no file, or cannot be read.
    """
    root = Path(path)
    lines: list[str] = []
    try:
        for folder, dirs, files in os.walk(root, followlinks=False):
            for name in sorted(dirs + files):
                full = Path(folder) / name
                mode = full.lstat().st_mode
                relative = full.relative_to(root).as_posix()
                if stat.S_ISLNK(mode):
                    raise InvalidInputError(
                        f"{root}: {relative} is a symbolic link (an artifact folder holds files only)"
                    )
                if stat.S_ISREG(mode):
                    lines.append(f"{relative}\0{digest_file(full).removeprefix('sha256:')}\n")
                elif not stat.S_ISDIR(mode):
                    raise InvalidInputError(f"{root}: {relative} is not a regular file")
    except OSError as err:
        raise InvalidInputError(f"{root}: cannot read artifact folder ({err.strerror})") from None
    if not lines:
        raise InvalidInputError(f"{root}: the artifact folder holds no file")
    listing = "".join(sorted(lines)).encode("utf-8")
    return "sha256:" + hashlib.sha256(listing).hexdigest()
