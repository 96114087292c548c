"""Request and error counts per arm and time bucket, for plots of checks as looks accumulate.

One ``GROUP BY arm, bucket`` pass over the selected window; the counts are small (one row per
arm and minute), so the report layer can replay the running confidence sequences look by look.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.traces.summaries import Selection
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=2000, seed=1, duration_minutes=10))
>>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="canary")
>>> t = error_timeline(store, sel, bucket_minutes=5)
>>> len(t.ends), int(t.control_requests.sum() + t.candidate_requests.sum())
(2, 2000)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from canarykit.errors import InvalidInputError
from canarykit.traces.store import TraceStore
from canarykit.traces.summaries import Selection

__all__ = ["ErrorTimeline", "error_timeline"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorTimeline:
    """Requests and errors per time bucket for the control and candidate arms.

    Attributes
    ----------
    start : datetime or None
        First selected request (naive UTC); ``None`` when nothing was selected.
    ends : tuple of datetime
        Exclusive end (naive UTC) of each bucket, increasing; empty buckets are kept at zero.
    control_requests, control_errors, candidate_requests, candidate_errors : ndarray of int64
        Counts per bucket (not cumulative).
    """

    start: dt.datetime | None
    ends: tuple[dt.datetime, ...]
    control_requests: npt.NDArray[np.int64]
    control_errors: npt.NDArray[np.int64]
    candidate_requests: npt.NDArray[np.int64]
    candidate_errors: npt.NDArray[np.int64]

    @property
    def minutes(self) -> npt.NDArray[np.float64]:
        """End of each bucket in minutes since :attr:`start`."""
        if self.start is None:
            return np.zeros(0)
        return np.array([(e - self.start).total_seconds() / 60.0 for e in self.ends])


def error_timeline(
    store: TraceStore, selection: Selection, *, bucket_minutes: float = 1.0
) -> ErrorTimeline:
    """Count requests and errors per arm in buckets of ``bucket_minutes`` (one SQL pass).

    Buckets start at the first selected request; the last one ends after the last request.
    """
    if not bucket_minutes > 0:
        raise InvalidInputError(f"bucket_minutes: must be > 0, got {bucket_minutes!r}")
    where, params = selection.where()
    width_us = round(bucket_minutes * 60e6)
    rows = store.connection.execute(
        "WITH sel AS (SELECT arm, error, epoch_us(ts) AS us FROM traces WHERE " + where + ") "
        "SELECT arm, CAST((us - (SELECT min(us) FROM sel)) // ? AS BIGINT) AS b, "
        "(SELECT min(us) FROM sel) AS t0, count(*), count(*) FILTER (WHERE error) "
        "FROM sel GROUP BY arm, b ORDER BY arm, b",
        [*params, width_us],
    ).fetchall()
    if not rows:
        empty = np.zeros(0, np.int64)
        return ErrorTimeline(
            start=None,
            ends=(),
            control_requests=empty,
            control_errors=empty,
            candidate_requests=empty,
            candidate_errors=empty,
        )
    n_buckets = max(int(r[1]) for r in rows) + 1
    counts = {
        arm: (np.zeros(n_buckets, np.int64), np.zeros(n_buckets, np.int64))
        for arm in ("control", "candidate")
    }
    for arm, bucket, _, n, errors in rows:
        role = "control" if arm == "control" else "candidate"
        counts[role][0][int(bucket)] = int(n)
        counts[role][1][int(bucket)] = int(errors)
    t0 = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(rows[0][2]))
    ends = tuple(t0 + dt.timedelta(microseconds=width_us * (i + 1)) for i in range(n_buckets))
    return ErrorTimeline(
        start=t0,
        ends=ends,
        control_requests=counts["control"][0],
        control_errors=counts["control"][1],
        candidate_requests=counts["candidate"][0],
        candidate_errors=counts["candidate"][1],
    )
