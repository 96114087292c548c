"""Benchmark data: a large trace Parquet file written in chunks (bounded memory), cached on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from canarykit.traces.generate import generate_traces

CHUNK = 1_000_000


def trace_parquet(
    rows: int,
    folder: Path,
    *,
    canary_share: float = 0.05,
    scenario: str = "identical",
    requests: int | None = None,
) -> Path:
    """``folder/traces-<scenario>-<rows>-<share>.parquet`` (generated once, then reused).

    ``requests`` (default ``rows``) requests are generated; in shadow mode each yields two rows,
    so ``requests=rows // 2`` gives ``rows`` rows.
    """
    requests = rows if requests is None else requests
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"traces-{scenario}-{rows}-{canary_share}.parquet"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    writer: pq.ParquetWriter | None = None
    start = dt.datetime(2026, 1, 1)
    minutes_per_chunk = 30.0 * CHUNK / max(requests, 1)
    try:
        for i, first in enumerate(range(0, requests, CHUNK)):
            n = min(CHUNK, requests - first)
            chunk_start = start + dt.timedelta(minutes=minutes_per_chunk * i)
            table = generate_traces(
                scenario,
                n_requests=n,
                canary_share=canary_share,
                seed=1000 + i,
                start=chunk_start.isoformat(),
                duration_minutes=minutes_per_chunk,
            )
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=256_000)
    finally:
        if writer is not None:
            writer.close()
    tmp.rename(path)
    return path
