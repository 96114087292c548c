"""A CSV file with a row of the wrong length is refused naming that row.

Found by a README walk-through: one row with a 12th field made DuckDB's sniffer give up on
the dialect and read every line as one field, which canarykit reported as "missing required
columns request_id, ts, model, …" — the wrong diagnosis.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces import TraceStore
from canarykit.traces.generate import generate_traces
from canarykit.verdict import evaluate


@pytest.fixture
def csv_lines(tmp_path: Path) -> list[str]:
    path = tmp_path / "ok.csv"
    pacsv.write_csv(generate_traces("identical", n_requests=400, seed=3), path)
    return path.read_text().splitlines()


@pytest.mark.parametrize("change", ["extra", "missing"])
def test_a_ragged_row_is_named(tmp_path, csv_lines, change):
    lines = list(csv_lines)
    lines[150] = lines[150] + ",extra" if change == "extra" else lines[150].rsplit(",", 1)[0]
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    fields = len(lines[0].split(","))
    with pytest.raises(InvalidInputError) as caught:
        evaluate(str(path), log=False)
    message = str(caught.value)
    assert "row 150:" in message
    assert f"where the header has {fields}" in message
    with pytest.raises(InvalidInputError, match="row 150:"):
        TraceStore().ingest(str(path))


def test_a_well_formed_csv_still_reads(tmp_path, csv_lines):
    path = tmp_path / "ok.csv"
    path.write_text("\n".join(csv_lines) + "\n")
    assert evaluate(str(path), log=False).decision in ("PROCEED", "CONTINUE", "STOP")
