"""Engines that compute the summaries: DuckDB (built in) and Spark (optional extra).

The statistics need only small summaries (:mod:`canarykit.summaries`), and those summaries
are SQL: the passes of :mod:`canarykit.traces.summary_passes`, :mod:`canarykit.traces.rank_values`
and :mod:`canarykit.traces.summaries`. They are written once, in DuckDB's dialect. Another
engine runs the *same* statements through a connection adapter that transpiles them
(:mod:`canarykit.engines.sql_dialect`, SQLGlot) — there is no second hand-written copy.

- ``duckdb``: the default; the trace store or Parquet/CSV files read in place.
- ``spark``: :mod:`canarykit.engines.spark` (``pip install 'canarykit[spark]'``), for traces that
  live in a data lake or a Spark/Databricks platform; only the summaries leave the cluster.

Nothing here is imported by ``canarykit --help``; pyspark and sqlglot are imported lazily.
"""

from __future__ import annotations

ENGINE_NAMES = ("duckdb", "spark")

__all__ = ["ENGINE_NAMES"]
