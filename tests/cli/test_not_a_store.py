"""A path that is not a DuckDB trace store is refused in canarykit's words, without the network.

Found by a README walk-through: ``info --db canarykit-registry.sqlite`` made DuckDB try to
download its SQLite extension from the internet; ``info --db FILE.parquet`` said "Cannot launch
in-memory database in read-only mode!"; a folder or an empty file got DuckDB's own wording.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from canarykit.cli.main import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "clean_canary.parquet"


def _paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    sqlite = tmp_path / "registry.sqlite"
    con = sqlite3.connect(sqlite)
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    return {
        "sqlite": (sqlite, "no DuckDB header"),
        "parquet": (SAMPLE, "no DuckDB header"),
        "text": (text, "no DuckDB header"),
        "empty": (empty, "an empty file"),
        "folder": (tmp_path, "is a folder"),
    }


@pytest.mark.parametrize("kind", ["sqlite", "parquet", "text", "empty", "folder"])
@pytest.mark.parametrize("command", ["info", "log", "ingest"])
def test_not_a_store_is_one_line_in_our_words(tmp_path, kind, command, capsys):
    path, words = _paths(tmp_path)[kind]
    before = path.read_bytes() if path.is_file() else None
    argv = {
        "info": ["info", "--db", str(path)],
        "log": ["log", "--db", str(path)],
        "ingest": ["ingest", str(SAMPLE), "--db", str(path)],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert words in err
    assert "DuckDB" not in err.replace("DuckDB trace store", "").replace("DuckDB header", "")
    if before is not None:
        assert path.read_bytes() == before


def test_no_extension_is_downloaded(tmp_path):
    """DuckDB is never allowed to install an extension (no network at run time)."""
    path, _ = _paths(tmp_path)["sqlite"]
    code = (
        "import duckdb\n"
        "from canarykit.traces.store_connection import connect\n"
        "con = connect(':memory:', read_only=False, timeout=0)\n"
        "print(con.execute(\"SELECT current_setting('autoinstall_known_extensions')\").fetchall())\n"
        f"try:\n    con.execute(\"ATTACH '{path}' (TYPE sqlite)\")\n"
        "except duckdb.Error as err:\n    print('refused', str(err).splitlines()[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "[(False,)]" in out
    assert "refused" in out
    assert "download" not in out.lower()


def test_a_duckdb_file_of_someone_else_is_not_evaluated_nor_changed(tmp_path, capsys):
    import duckdb

    other = tmp_path / "analytics.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE x AS SELECT 1 AS a")
    con.close()
    before = other.read_bytes()
    assert main(["evaluate", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no traces table" in err
    assert len(err.splitlines()) == 1
    assert other.read_bytes() == before


def test_an_empty_window_names_the_source_and_the_window(capsys):
    assert main(["evaluate", str(SAMPLE), "--since", "2027-01-01T00:00:00Z"]) == 2
    err = capsys.readouterr().err
    assert "holds no traces in the window [2027-01-01T00:00:00Z" in err
    model = "clean-canary"
    argv = ["evaluate", str(SAMPLE), "--model", model, "--since", "2027-01-01T00:00:00Z"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--model '{model}': no traces in the window" in err
    assert "its traces run from" in err


def test_a_store_the_user_has_open_in_duckdb_is_evaluated(tmp_path):
    """DuckDB refuses a second connection to a file with another configuration: canarykit's
    no-download setting is applied on its connection, not as a connect() option, so a
    notebook's own ``duckdb.connect`` of the store does not block an evaluation."""
    import duckdb

    from canarykit.traces import TraceStore
    from canarykit.traces.generate import generate_traces
    from canarykit.verdict import evaluate

    db = tmp_path / "s.duckdb"
    with TraceStore(db) as store:
        store.ingest(generate_traces("identical", n_requests=500, seed=1))
    mine = duckdb.connect(str(db), read_only=True)
    try:
        assert mine.execute("SELECT count(*) FROM traces").fetchall()[0][0] == 500
        assert evaluate(str(db), log=False).decision in ("PROCEED", "CONTINUE", "STOP")
    finally:
        mine.close()
