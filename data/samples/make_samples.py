"""Regenerate the bundled sample traces in this folder (deterministic: same bytes every run).

Usage: ``python data/samples/make_samples.py`` (from the project root, inside the venv).
See README.md beside this file for what each file holds.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from canarykit.traces.generate import generate_traces, split_late_labels

HERE = Path(__file__).parent

# name -> (scenario, requests, canary share, seed)
SAMPLES = {
    "clean_canary": ("identical", 60_000, 0.25, 11),
    "error_regression": ("error_regression", 60_000, 0.25, 12),
    "latency_tail": ("latency_tail", 60_000, 0.25, 13),
    "auc_drop": ("auc_drop", 60_000, 0.25, 14),
    "fairness_regression": ("fairness_regression", 60_000, 0.25, 15),
    "shadow": ("shadow", 30_000, 0.05, 16),
    "too_little_data": ("too_little_data", 300, 0.05, 17),
}


def _write(table: pa.Table, path: Path) -> None:
    """Compact Parquet: zstd, delta-encoded timestamps, byte-stream-split doubles."""
    doubles = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    encodings = {"ts": "DELTA_BINARY_PACKED"} if "ts" in table.column_names else {}
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=19,
        use_dictionary=[c for c in table.column_names if c not in encodings],
        use_byte_stream_split=doubles,
        column_encoding=encodings or None,
    )


def main() -> None:
    for name, (scenario, n, share, seed) in SAMPLES.items():
        table = generate_traces(
            scenario, n_requests=n, canary_share=share, seed=seed, model=name.replace("_", "-")
        )
        if name == "shadow":
            table, labels = split_late_labels(table)
            _write(labels, HERE / "shadow_labels.parquet")
        _write(table, HERE / f"{name}.parquet")
        print(f"{name}.parquet: {table.num_rows} rows")


if __name__ == "__main__":
    main()
