"""The digest of an artifact folder (an MLflow model): ``--artifact DIR`` and ``--from-mlflow``
compute the same one (issue 18)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from canarykit.errors import InvalidInputError
from canarykit.promotion.artifacts import digest_artifact, digest_folder
from canarykit.promotion.evidence import digest_file
from canarykit.verdict.snapshot import snapshot_digest


def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "data").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "data" / "model.bin").write_bytes(b"weights")
    return folder


def test_a_folder_digest_is_the_snapshot_form_of_its_files(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    files = {"MLmodel": b"flavors: {}\n", "data/model.bin": b"weights"}
    assert digest_folder(folder) == snapshot_digest(files)  # the policy snapshot's canonical form
    listing = "".join(f"{n}\0{hashlib.sha256(b).hexdigest()}\n" for n, b in sorted(files.items()))
    assert digest_artifact(folder) == "sha256:" + hashlib.sha256(listing.encode()).hexdigest()
    assert digest_artifact(folder / "MLmodel") == digest_file(folder / "MLmodel")


@pytest.mark.parametrize(
    "change",
    ["edit a byte", "add a file", "remove a file", "rename a file", "move into a folder"],
)
def test_any_change_of_the_files_changes_the_digest(tmp_path: Path, change: str) -> None:
    folder = model_folder(tmp_path)
    before = digest_folder(folder)
    if change == "edit a byte":
        (folder / "data" / "model.bin").write_bytes(b"weightz")
    elif change == "add a file":
        (folder / "extra.txt").write_text("")
    elif change == "remove a file":
        (folder / "MLmodel").unlink()
    elif change == "rename a file":
        (folder / "MLmodel").rename(folder / "MLmodel2")
    else:
        (folder / "MLmodel").rename(folder / "data" / "MLmodel")
    assert digest_folder(folder) != before


def test_timestamps_and_modes_do_not_change_it(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    before = digest_folder(folder)
    (folder / "MLmodel").chmod(0o600)
    (folder / "empty-dir").mkdir()
    assert digest_folder(folder) == before


def test_links_special_files_and_empty_folders_are_refused(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    (tmp_path / "secret").write_text("x")
    (folder / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(InvalidInputError, match="link is a symbolic link"):
        digest_artifact(folder)
    (folder / "link").unlink()
    os.mkfifo(folder / "fifo")
    with pytest.raises(InvalidInputError, match="fifo is not a regular file"):
        digest_artifact(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match="holds no file"):
        digest_artifact(empty)


def test_help_and_the_core_never_import_mlflow() -> None:
    code = (
        "import sys\n"
        "from canarykit.cli.main import build_parser\n"
        "import canarykit.promotion.api, canarykit.verdict.evaluate, canarykit.dashboard.data\n"
        "build_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
