"""DuckDB trace store: the trace contract, validation, ingest, late labels, windows and info.

This is the only layer that imports duckdb (DESIGN.md §1).
"""

from canarykit.traces.info import StoreGroup, StoreInfo
from canarykit.traces.labels import LabelReport
from canarykit.traces.schema import ARMS, CONTRACT_COLUMNS, REQUIRED_COLUMNS
from canarykit.traces.store import IngestReport, TraceStore
from canarykit.traces.window import TraceWindow

__all__ = [
    "ARMS",
    "CONTRACT_COLUMNS",
    "REQUIRED_COLUMNS",
    "IngestReport",
    "LabelReport",
    "StoreGroup",
    "StoreInfo",
    "TraceStore",
    "TraceWindow",
]
