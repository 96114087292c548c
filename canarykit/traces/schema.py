"""The public trace contract (DESIGN.md §3): the columns of table ``traces``.

Batch jobs and other tools depend on these names and types; change them only with a new
contract version.

Examples
--------
>>> [c.name for c in REQUIRED_COLUMNS]
['request_id', 'ts', 'model', 'version', 'arm', 'latency_ms', 'error']
>>> ARMS
('control', 'canary', 'shadow')
>>> TS_MIN.isoformat(), TS_END.isoformat()
('1970-01-01T00:00:00', '2200-01-01T00:00:00')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "ARMS",
    "CONTRACT_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TS_END",
    "TS_MIN",
    "TS_RANGE_TEXT",
    "Column",
    "column",
]

ARMS = ("control", "canary", "shadow")
"""Allowed values of ``arm``: production, a live slice of traffic, or mirrored traffic."""

TS_MIN = dt.datetime(1970, 1, 1)
"""Earliest accepted ``ts`` (UTC, inclusive): the Unix epoch."""
TS_END = dt.datetime(2200, 1, 1)
"""End of the accepted ``ts`` range (UTC, exclusive).

Traces are records of requests actually served, so a time before the Unix epoch or centuries
ahead is a broken clock or a bad export. The bound also keeps every stored time inside what
Python's ``datetime``, pandas' nanosecond timestamps (up to 2262) and JSON consumers can
represent, so a stored row can always be read back.
"""
TS_RANGE_TEXT = "[1970-01-01, 2200-01-01) UTC"
"""The accepted range as error messages and the README state it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One column of the trace contract."""

    name: str
    sql_type: str
    required: bool
    meaning: str


REQUIRED_COLUMNS: tuple[Column, ...] = (
    Column(
        name="request_id",
        sql_type="VARCHAR",
        required=True,
        meaning="id of the request; shared by control and shadow in shadow mode",
    ),
    Column(
        name="ts",
        sql_type="TIMESTAMP",
        required=True,
        meaning=(
            "when the request was served, UTC (naive input is taken as UTC); "
            "1970-01-01 <= ts < 2200-01-01"
        ),
    ),
    Column(name="model", sql_type="VARCHAR", required=True, meaning="model name"),
    Column(name="version", sql_type="VARCHAR", required=True, meaning="model version"),
    Column(name="arm", sql_type="VARCHAR", required=True, meaning="control, canary or shadow"),
    Column(
        name="latency_ms",
        sql_type="DOUBLE",
        required=True,
        meaning=">= 0; NULL only when error is true",
    ),
    Column(name="error", sql_type="BOOLEAN", required=True, meaning="the request failed"),
)

OPTIONAL_COLUMNS: tuple[Column, ...] = (
    Column(
        name="score",
        sql_type="DOUBLE",
        required=False,
        meaning="model score in [0, 1], higher = positive class",
    ),
    Column(
        name="label",
        sql_type="BOOLEAN",
        required=False,
        meaning="observed outcome; NULL until it matures",
    ),
)

CONTRACT_COLUMNS: tuple[Column, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def column(name: str) -> Column:
    """Look up a contract column by name (``KeyError`` if it is not part of the contract)."""
    for col in CONTRACT_COLUMNS:
        if col.name == name:
            return col
    raise KeyError(name)
