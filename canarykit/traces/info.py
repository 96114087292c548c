"""What a trace store holds: models, versions, arms, row counts, time range, label coverage.

Examples
--------
>>> info = StoreInfo(path=":memory:", groups=())
>>> print(info.to_text())
:memory: holds no traces
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from canarykit.traces.window import TraceWindow

__all__ = ["StoreGroup", "StoreInfo", "read_info"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreGroup:
    """Rows of one (model, version, arm)."""

    model: str
    version: str
    arm: str
    rows: int
    errors: int
    scored: int
    labelled: int
    start: dt.datetime | None
    end: dt.datetime | None

    @property
    def label_coverage(self) -> float:
        """Share of rows that carry a label (0 when there are no rows)."""
        return self.labelled / self.rows if self.rows else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreInfo:
    """Summary of a store, one :class:`StoreGroup` per (model, version, arm)."""

    path: str
    groups: tuple[StoreGroup, ...]

    @property
    def rows(self) -> int:
        """Total number of trace rows."""
        return sum(g.rows for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dictionary (timestamps as ISO strings, UTC)."""
        groups = []
        for g in self.groups:
            d = asdict(g)
            d["start"] = g.start.isoformat() if g.start else None
            d["end"] = g.end.isoformat() if g.end else None
            d["label_coverage"] = g.label_coverage
            groups.append(d)
        return {"path": self.path, "rows": self.rows, "groups": groups}

    def to_text(self) -> str:
        """Aligned table for a terminal."""
        if not self.groups:
            return f"{self.path} holds no traces"
        header = (
            "model",
            "version",
            "arm",
            "rows",
            "errors",
            "scored",
            "labelled",
            "first ts (UTC)",
            "last ts (UTC)",
        )
        body = [
            (
                g.model,
                g.version,
                g.arm,
                f"{g.rows:,}",
                f"{g.errors:,}",
                f"{g.scored:,}",
                f"{g.label_coverage:.0%}",
                _ts(g.start),
                _ts(g.end),
            )
            for g in self.groups
        ]
        widths = [max(len(r[i]) for r in (header, *body)) for i in range(len(header))]
        numeric = {3, 4, 5, 6}
        lines = [f"{self.path}: {self.rows:,} traces"]
        for r in (header, *body):
            cells = [
                c.rjust(w) if i in numeric else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def to_frame(self) -> Any:
        """One row per (model, version, arm) as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.to_dict()["groups"])

    def _repr_html_(self) -> str:
        from canarykit.report.display import store_info_html

        return store_info_html(self)


def _ts(value: dt.datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else "-"


def read_info(
    con: duckdb.DuckDBPyConnection, path: str, window: TraceWindow | None = None
) -> StoreInfo:
    """One GROUP BY over ``traces`` (restricted to ``window`` when given)."""
    where, params = (window or TraceWindow()).where()
    rows = con.execute(
        "SELECT model, version, arm, count(*), count(*) FILTER (WHERE error), count(score), "
        f"count(label), min(ts), max(ts) FROM traces WHERE {where} GROUP BY ALL ORDER BY ALL",
        params,
    ).fetchall()
    groups = tuple(
        StoreGroup(
            model=r[0],
            version=r[1],
            arm=r[2],
            rows=int(r[3]),
            errors=int(r[4]),
            scored=int(r[5]),
            labelled=int(r[6]),
            start=r[7],
            end=r[8],
        )
        for r in rows
    )
    return StoreInfo(path=path, groups=groups)
