"""``--out`` onto a character device or a named pipe writes into it, never replaces it.

A user walk-through found that ``evaluate … --out mynull`` (a copy of ``/dev/null`` made with
``mknod``) turned the device into a regular file: the atomic write renamed a temporary file
over it. Run as root in CI or a container, ``--out /dev/null`` would have broken ``/dev/null``
for the whole machine.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from canarykit.cli.main import main
from canarykit.errors import InvalidInputError
from canarykit.safe_io import write_file

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "clean_canary.parquet"


def test_evaluate_out_dev_null_keeps_the_device(capsys):
    before = os.stat("/dev/null")
    code = main(["evaluate", str(SAMPLE), "--out", "/dev/null"])
    capsys.readouterr()
    after = os.stat("/dev/null")
    assert code in (0, 1, 3)
    assert stat.S_ISCHR(after.st_mode)
    assert after.st_rdev == before.st_rdev


def test_a_named_pipe_is_written_into_not_replaced(tmp_path: Path):
    pipe = tmp_path / "verdict.fifo"
    os.mkfifo(pipe)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()))
    reader.start()
    write_file(pipe, '{"decision": "PROCEED"}\n')
    reader.join(timeout=10)
    assert got == [b'{"decision": "PROCEED"}\n']
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_a_special_file_is_never_replaced_when_written_once(tmp_path: Path):
    pipe = tmp_path / "once.fifo"
    os.mkfifo(pipe)
    with pytest.raises(InvalidInputError, match="exists already"):
        write_file(pipe, "x", exclusive=True)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
def test_a_copy_of_dev_null_made_with_mknod_stays_a_device(tmp_path: Path, capsys):
    null = tmp_path / "mynull"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    code = main(["evaluate", str(SAMPLE), "--out", str(null)])
    capsys.readouterr()
    assert code in (0, 1, 3)
    assert stat.S_ISCHR(os.stat(null).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
def test_a_block_device_is_refused(tmp_path: Path):
    block = tmp_path / "disk"
    os.mknod(block, stat.S_IFBLK | 0o600, os.makedev(7, 200))
    with pytest.raises(InvalidInputError, match="not a regular file"):
        write_file(block, "verdict")
    assert stat.S_ISBLK(os.stat(block).st_mode)
