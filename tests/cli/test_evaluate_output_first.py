"""An ``evaluate`` whose output cannot be written fails before it records anything.

Found by a README walk-through: ``evaluate STORE --out FOLDER`` printed ``is a folder``, exit
2, yet the verdict was already in the store's decision log — and inside a rollout a look was
recorded. Exit 2 promises that nothing was written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from canarykit.cli.main import main
from canarykit.rollout import start_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces import TraceStore
from canarykit.verdict.policy import load_policy


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "s.duckdb"
    traffic = rollout_traffic(SCENARIOS["aa"], load_policy().rollout[:1], rate=20.0, seed=3)
    with TraceStore(db) as s:
        s.ingest(traffic)
    return db


@pytest.mark.parametrize("bad", ["folder", "link", "under_a_file"])
def test_an_unwritable_out_fails_before_the_verdict_is_logged(store, tmp_path, bad, capsys):
    target = {"folder": tmp_path, "link": tmp_path / "l.json", "under_a_file": store / "v.json"}[
        bad
    ]
    if bad == "link":
        target.symlink_to(tmp_path / "elsewhere.json")
    before = _digest(store)
    assert main(["evaluate", str(store), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert _digest(store) == before
    assert main(["log", "--db", str(store)]) == 0
    assert "PROCEED" not in capsys.readouterr().out


def test_an_unwritable_out_records_no_look(store, tmp_path, capsys):
    with TraceStore(store) as s:
        start_rollout(s, model=MODEL, at=START.isoformat() + "Z")
    until = (START + dt.timedelta(minutes=5)).isoformat() + "Z"
    before = _digest(store)
    assert main(["evaluate", str(store), "--until", until, "--out", str(tmp_path)]) == 2
    capsys.readouterr()
    assert _digest(store) == before
    assert main(["rollout", "status", str(store)]) == 0
    assert "look 1" not in capsys.readouterr().out
    # the same look with a writable --out is recorded as look 1
    assert main(["evaluate", str(store), "--until", until, "--out", str(tmp_path / "v.json")]) in (
        0,
        3,
    )
    assert (tmp_path / "v.json").exists()
