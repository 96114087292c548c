"""Concurrent processes on one store: nothing lost, nothing duplicated, nobody fails for a lock."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pyarrow.parquet as pq
import pytest

from canarykit.errors import StorageError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.traces.store import ingest_new_or_existing

pytestmark = pytest.mark.simulation


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "canarykit", *args]


def test_eight_ingests_create_one_store_while_four_evaluate(tmp_path):
    files = []
    for i in range(8):
        path = tmp_path / f"part{i}.parquet"
        table = generate_traces("identical", n_requests=5_000, canary_share=0.25, seed=100 + i)
        pq.write_table(table, path)
        files.append(path)
    db = tmp_path / "new.duckdb"
    ingests = [
        subprocess.Popen(
            command("ingest", str(f), "--db", str(db)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    deadline = time.monotonic() + 60
    while not db.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    evaluations = [
        subprocess.Popen(
            command("evaluate", str(db), "--format", "json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.args, *p.communicate(timeout=300), p.returncode) for p in ingests + evaluations]
    for args, out, err, code in results[:8]:
        assert code == 0, (args, err)
        assert "ingested 5000 of 5000 rows" in out, (args, out)
    for args, _, err, code in results[8:]:
        assert code in (0, 1, 3), (args, err)
        assert "Traceback" not in err
    with duckdb.connect(str(db), read_only=True) as con:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (request_id, arm)) FROM traces"
        ).fetchall()[0]
        ingests_logged = con.execute("SELECT count(*) FROM ingests").fetchall()[0][0]
    assert total == distinct == 8 * 5_000
    assert ingests_logged == 8
    assert not list(tmp_path.glob(".new.duckdb.*"))  # no private build files left behind


def test_a_failed_first_ingest_leaves_no_store(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("request_id,ts\nr1,not-a-time\n")
    db = tmp_path / "never.duckdb"
    with pytest.raises(Exception, match=r"bad\.csv"):
        ingest_new_or_existing(db, str(bad))
    assert list(tmp_path.iterdir()) == [bad]


def test_a_held_lock_is_waited_for_then_reported(tmp_path):
    db = tmp_path / "held.duckdb"
    ingest_new_or_existing(db, generate_traces("identical", n_requests=100, seed=1))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(db)!r}); print('held', flush=True); time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"lock timeout 0\.5 s"):
        TraceStore(db, lock_timeout=0.5)
    assert time.monotonic() - started >= 0.5
    with TraceStore(db, read_only=True, lock_timeout=30) as store:  # waits for the holder
        assert store.count() == 100
    holder.communicate()


def test_a_new_store_is_never_created_through_a_dangling_link(tmp_path):
    from canarykit.errors import StorageError
    from canarykit.traces.generate import generate_traces

    victim = tmp_path / "elsewhere" / "victim.duckdb"
    victim.parent.mkdir()
    link = tmp_path / "store.duckdb"
    link.symlink_to(victim)
    with pytest.raises(StorageError, match="a broken symbolic link"):
        ingest_new_or_existing(link, generate_traces("identical", n_requests=50))
    assert not victim.exists()
    assert not list(tmp_path.glob(".store.duckdb.*"))  # no private file left behind
