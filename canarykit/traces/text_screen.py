"""A cheap screen for control characters in text columns, run before the per-row rule.

The contract refuses control characters (``U+0000``–``U+001F``, ``U+007F``) in
``request_id``, ``model`` and ``version``: they would reach terminals, logs and messages.
DuckDB's ``regexp_matches`` costs about 200 ns a row, 2 s for 10 million request ids, and
validation runs on every evaluation of files read in place. UTF-8 encodes those code points as
the single bytes ``0x00``–``0x1F`` and ``0x7F`` and never uses such a byte inside another code
point, so a column whose string bytes hold none of them cannot break the rule. The screen
streams the column as Arrow and looks at its byte buffers with numpy; only when it finds such
a byte does validation count the rows with the exact SQL rule (and name them). A false alarm
(bytes of a sliced buffer outside the rows) only costs that exact count.

``how="distinct"`` screens the distinct values instead (for columns with few values, such as
``model`` and ``version``).

Examples
--------
>>> import duckdb
>>> con = duckdb.connect()
>>> has_control_text(con, "(SELECT 'a-1' AS request_id)", "request_id", "bytes")
False
>>> has_control_text(con, "(SELECT 'a' || chr(10) AS request_id)", "request_id", "bytes")
True
>>> has_control_text(con, "(SELECT 'ok' AS model)", "model", "distinct")
False
"""

from __future__ import annotations

import duckdb
import numpy as np

from canarykit.traces.sources import quote_ident

__all__ = ["has_control_text"]

BATCH_ROWS = 1 << 20


def _control_bytes(data: np.ndarray) -> bool:
    # the minimum is one vectorised reduction without a temporary array; DEL needs a compare
    return data.size > 0 and (int(data.min()) < 0x20 or bool((data == 0x7F).any()))


def has_control_text(con: duckdb.DuckDBPyConnection, view: str, column: str, how: str) -> bool:
    """Whether ``column`` of the relation ``view`` may hold a control character.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    view : str
        A parenthesised SQL relation (validation's parsed view).
    column : str
        A text column of ``view``.
    how : {"bytes", "distinct"}
        Screen every row's bytes, or the distinct values' bytes.

    Returns
    -------
    bool
        False only when no value holds such a character; True means "count the rows".
    """
    import pyarrow as pa

    q = quote_ident(column)
    select = f"SELECT DISTINCT {q} FROM {view}" if how == "distinct" else f"SELECT {q} FROM {view}"
    reader = con.sql(select).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        values = batch.column(0)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            # string views keep short strings inline: read them through a plain layout
            values = values.cast(pa.large_string())
        data = values.buffers()[2]
        if data is not None and _control_bytes(np.frombuffer(data, dtype=np.uint8)):
            return True
    return False
