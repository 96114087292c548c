"""Shared fixtures: small valid trace tables and stores."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest


def valid_frame(n: int = 6, *, prefix: str = "r") -> pd.DataFrame:
    """A small, valid trace DataFrame (control and canary alternate)."""
    return pd.DataFrame(
        {
            "request_id": [f"{prefix}{i}" for i in range(n)],
            "ts": pd.date_range("2026-01-01", periods=n, freq="s"),
            "model": "risk-default",
            "version": ["v1" if i % 2 == 0 else "v2" for i in range(n)],
            "arm": ["control" if i % 2 == 0 else "canary" for i in range(n)],
            "latency_ms": [10.0 + i for i in range(n)],
            "error": [False] * n,
            "score": [0.1 * (i % 10) for i in range(n)],
            "label": [bool(i % 3 == 0) for i in range(n)],
            "group": ["A" if i % 2 else "B" for i in range(n)],
        }
    )


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (to prove a rejected ingest wrote nothing)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def frame() -> pd.DataFrame:
    return valid_frame()
