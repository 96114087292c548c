"""The control-character screen agrees with the per-row regex rule it stands in front of."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from canarykit.errors import InvalidInputError
from canarykit.traces.generate import generate_traces
from canarykit.traces.store import TraceStore
from canarykit.traces.text_screen import has_control_text

CONTROL = re.compile("[\x00-\x1f\x7f]")
ALPHABET = ["a", "Z", "0", "-", "é", "€", "😀", "\u0085", "\u2028", "\x7f", "\x00", "\n", "\x1b"]


def _strings(rng: np.random.Generator, n: int, p_bad: float) -> list[str | None]:
    safe = [c for c in ALPHABET if not CONTROL.search(c)]
    out: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.05:
            out.append(None)
            continue
        pool = ALPHABET if rng.random() < p_bad else safe
        out.append("".join(rng.choice(pool, size=int(rng.integers(1, 20)))))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("how", ["bytes", "distinct"])
def test_screen_never_misses_what_the_regex_finds(seed: int, how: str) -> None:
    rng = np.random.default_rng(seed)
    values = _strings(rng, 3000, p_bad=0.0 if seed % 2 else 0.001)
    con = duckdb.connect()
    con.register("t", pa.table({"request_id": pa.array(values, pa.string())}))
    truth = any(v is not None and CONTROL.search(v) for v in values)
    screened = has_control_text(con, "(SELECT * FROM t)", "request_id", how)
    # the screen may only err towards "look closer" (then the exact rule counts the rows)
    assert screened or not truth
    # and, with whole (unsliced) buffers, it is exact
    assert screened == truth


def test_string_views_and_sliced_buffers() -> None:
    values = pa.array(["ok-1", "bad\x01", "ok-2", "short"], pa.string())
    con = duckdb.connect()
    # a slice shares the parent's data buffer: the bad bytes lie outside the rows
    con.register("s", pa.table({"request_id": values.slice(2)}))
    assert not CONTROL.search("".join(values.slice(2).to_pylist()))
    # a false alarm is allowed here; the validation then counts rows exactly (no error)
    has_control_text(con, "(SELECT * FROM s)", "request_id", "bytes")
    con.register("v", pa.table({"request_id": pa.array(["x", "y\x02"], pa.string_view())}))
    assert has_control_text(con, "(SELECT * FROM v)", "request_id", "bytes")


def test_validation_of_a_sliced_table_still_passes_and_names_bad_rows() -> None:
    table = generate_traces("identical", n_requests=200, seed=3)
    ids = table.column("request_id").to_pylist()
    ids[0] = "bad\x01id"
    bad = table.set_column(0, "request_id", pa.array(ids))
    with TraceStore.from_files(bad.slice(1)) as store:  # the bad row is outside the slice
        assert store.count() == bad.num_rows - 1
    with pytest.raises(InvalidInputError, match=r"request_id: must not contain control .* row 1\b"):
        TraceStore.from_files(bad)
