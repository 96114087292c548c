"""Shadow mode's paired table: requests scored by both the control and the shadow model.

A *pair* is a control row of the baseline and a shadow row of the candidate, of the same model
and the same ``request_id``, both scored and inside the window (the shadow arm's time range
bounds both). From the pairs one pass computes the joint score-bin table per label (paired
DeLong), the 2×2 table of decisions (``shadow_agreement``) and the paired score-difference
sums (``fsum``, compensated).

Two ways to find the pairs, with the same result:

- **by the stored pairing** (the fast path): every ingest gives both rows of a pair the same
  integer ``__pair_id`` and copies the shadow partner's score, time and version onto the
  control row (:mod:`canarykit.traces.pairing`), so the pairs are the control rows with a
  partner: two plain scans (the grouped table, the sums), no join. Used when the store's
  pairing is complete (:func:`~canarykit.traces.pairing.pair_ids_complete`);
- **by request_id** (the definition, and the fallback): a hash join on the ``request_id``
  strings, for stores written by an older canarykit, files read in place, other engines, and
  replays (:func:`~canarykit.traces.pairing.reference_pairing`), which check that the pair ids
  did not contradict ``request_id`` equality (``docs/security.md``).

Both give the same counts and tables, and the sums are DuckDB's ``fsum`` over the same pairs
(``tests/traces/test_pairing.py`` compares the two paths, sums bit for bit; so did the 5 M
pairs of the benchmark). ``fsum`` is compensated, not exact: the order in which the pairs
reach it — fixed by no DuckDB plan, on either path, with more than one thread — could in
principle move its last bit; the tables, counts and every check never depend on it.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.traces.summaries import Selection, SummaryPlan
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("shadow", n_requests=500, seed=1))
>>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0", mode="shadow")
>>> fast = paired_pass(store.connection, sel, SummaryPlan())
>>> with reference_pairing():
...     slow = paired_pass(store.connection, sel, SummaryPlan())
>>> fast.n_pairs, int(fast.agreement.sum()), fast == slow
(500, 500, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import numpy.typing as npt

from canarykit.traces.pairing import PAIR_COLUMN, pair_ids_complete, reference_pairing
from canarykit.traces.partial_summaries import PairedPartial
from canarykit.traces.summary_passes import bin_sql

if TYPE_CHECKING:
    from canarykit.traces.summaries import Selection, SummaryPlan

__all__ = ["PairedSummary", "paired_partial", "paired_pass", "reference_pairing", "summary_of"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PairedSummary:
    """Shadow mode: requests scored by both models."""

    n_pairs: int
    agreement: npt.NDArray[np.int64]  # [control decision, shadow decision]
    sum_diff: float
    sum_sq_diff: float
    bin_control: npt.NDArray[np.int64]
    bin_candidate: npt.NDArray[np.int64]
    label: npt.NDArray[np.bool_]
    count: npt.NDArray[np.int64]

    def __eq__(self, other: object) -> bool:
        """Equal when every number and table is identical (sums compared bit for bit)."""
        if not isinstance(other, PairedSummary):
            return NotImplemented
        return (
            self.n_pairs == other.n_pairs
            and float(self.sum_diff).hex() == float(other.sum_diff).hex()
            and float(self.sum_sq_diff).hex() == float(other.sum_sq_diff).hex()
            and all(
                np.array_equal(getattr(self, f), getattr(other, f))
                for f in ("agreement", "bin_control", "bin_candidate", "label", "count")
            )
        )

    __hash__ = None  # type: ignore[assignment]


def paired_pass(con: Any, selection: Selection, plan: SummaryPlan) -> PairedSummary:
    """The paired table of ``selection`` (see the module docstring for the two paths)."""
    if isinstance(con, duckdb.DuckDBPyConnection) and pair_ids_complete(con):
        return _by_pair_id(con, selection, plan)
    return _by_request_id(con, selection, plan)


def _arm_sql(selection: Selection, arm: str, key: str, columns: str) -> tuple[str, list[Any]]:
    time_sql, time_params = selection.time_condition("shadow")
    version = selection.baseline if arm == "control" else selection.candidate
    sql = (
        f"SELECT {key}, {columns} FROM traces WHERE model = ? AND {time_sql} AND arm = "
        f"'{arm}' AND version = ? AND score IS NOT NULL"
    )
    return sql, [selection.model, *time_params, version]


def _by_pair_id(
    con: duckdb.DuckDBPyConnection, selection: Selection, plan: SummaryPlan
) -> PairedSummary:
    return summary_of(_pair_id_partial(con, selection, plan, after=None))


def paired_partial(
    con: Any, selection: Selection, plan: SummaryPlan, *, after: str | None = None
) -> PairedPartial | None:
    """The mergeable paired figures of ``selection``'s pairs, or ``None`` (pairing incomplete).

    With ``after``, only the pairs ``[after, until)`` completes: both rows in ``selection``'s
    window and the later of the two at or after ``after``. Merged with the figures of the same
    selection ending at ``after`` they are the figures of the whole window (a pair is counted
    in exactly one slice). Without a complete stored pairing the pairs are found by
    ``request_id`` (a join) and are not sliced: ``None``, and every look pairs its window.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from canarykit.traces import TraceStore
    >>> from canarykit.traces.generate import generate_traces
    >>> from canarykit.traces.summaries import Selection, SummaryPlan
    >>> store = TraceStore()
    >>> _ = store.ingest(generate_traces("shadow", n_requests=500, seed=1,
    ...                                  start="2026-01-01T00:00:00", duration_minutes=10))
    >>> sel = Selection(model="risk-default", baseline="v2.2.4", candidate="v2.3.0",
    ...                 mode="shadow", since="2026-01-01T00:00:00", until="2026-01-01T00:10:00")
    >>> early = paired_partial(store.connection, replace(sel, until="2026-01-01T00:04:00"),
    ...                        SummaryPlan())
    >>> late = paired_partial(store.connection, sel, SummaryPlan(), after="2026-01-01T00:04:00")
    >>> merged = summary_of(early.merge(late))
    >>> full = paired_pass(store.connection, sel, SummaryPlan())
    >>> merged.n_pairs, bool((merged.agreement == full.agreement).all())
    (500, True)
    >>> np.array_equal(merged.count, full.count), np.array_equal(merged.label, full.label)
    (True, True)
    >>> abs(merged.sum_sq_diff - full.sum_sq_diff) < 1e-12   # fsum per slice, then added
    True
    """
    if not (isinstance(con, duckdb.DuckDBPyConnection) and pair_ids_complete(con)):
        return None
    return _pair_id_partial(con, selection, plan, after=after)


def _pair_id_partial(
    con: duckdb.DuckDBPyConnection, selection: Selection, plan: SummaryPlan, *, after: str | None
) -> PairedPartial:
    # the control rows of the baseline that have a shadow partner of the candidate, both in
    # the window (the shadow arm's) and scored: the partner's score, time and version are
    # copies on the row
    own, own_params = _window("ts", selection)
    partner, partner_params = _window("__pair_ts", selection)
    pairs = (
        f"SELECT score AS sc, __pair_score AS ss, label FROM traces WHERE model = ? "
        f"AND {own} AND arm = 'control' AND version = ? AND score IS NOT NULL "
        f"AND {PAIR_COLUMN} IS NOT NULL AND __pair_version = ? AND __pair_score IS NOT NULL "
        f"AND {partner}"
    )
    params = [selection.model, *own_params, selection.baseline, selection.candidate]
    params += partner_params
    if after is not None:  # the pairs this slice completes: the later row at or after it
        pairs += " AND (ts >= CAST(? AS TIMESTAMP) OR __pair_ts >= CAST(? AS TIMESTAMP))"
        params += [after, after]
    t = plan.decision_threshold
    nb = plan.paired_n_bins
    # two plain scans of the control rows, no join: the joint table with the decisions (so
    # the 2×2 table is a sum over it), and the compensated sums over every pair
    got = con.execute(
        f"SELECT {bin_sql('sc', nb)} AS bc, {bin_sql('ss', nb)} AS bs, "
        f"CASE WHEN label IS NULL THEN -1 ELSE CAST(label AS INTEGER) END AS lab, "
        f"CAST(sc >= {t!r} AS INTEGER) AS dc, CAST(ss >= {t!r} AS INTEGER) AS ds, "
        f"count(*) AS n FROM ({pairs}) GROUP BY ALL",
        params,
    ).fetchnumpy()
    total = con.execute(
        f"SELECT count(*), fsum(ss - sc), fsum((ss - sc) * (ss - sc)) FROM ({pairs})", params
    ).fetchall()[0]
    bc, bs, lab, dc, ds, counts = (
        np.asarray(got[c], dtype=np.int64) for c in ("bc", "bs", "lab", "dc", "ds", "n")
    )
    agreement = np.zeros((2, 2), np.int64)
    np.add.at(agreement, (dc, ds), counts)
    # the joint table (bc, bs, label): labelled pairs, summed over the decisions
    keep = lab >= 0
    return PairedPartial.of_cells(
        bc[keep],
        bs[keep],
        lab[keep],
        counts[keep],
        n_pairs=int(total[0]),
        agreement=(
            (int(agreement[0, 0]), int(agreement[0, 1])),
            (int(agreement[1, 0]), int(agreement[1, 1])),
        ),
        sum_diff=_or_zero(total[1]),
        sum_sq_diff=_or_zero(total[2]),
    )


def summary_of(partial: PairedPartial) -> PairedSummary:
    """The paired table of merged figures (the joint table sorted by bins and label)."""
    bin_control, bin_candidate, label, count = partial.cells()
    return PairedSummary(
        n_pairs=partial.n_pairs,
        agreement=np.array(partial.agreement, dtype=np.int64),
        sum_diff=partial.sum_diff,
        sum_sq_diff=partial.sum_sq_diff,
        bin_control=bin_control,
        bin_candidate=bin_candidate,
        label=label.astype(bool),
        count=count,
    )


def _window(column: str, selection: Selection) -> tuple[str, list[Any]]:
    """The shadow arm's time condition (as the definition applies it) on ``column``."""
    parts, params = [], []
    if selection.since is not None:
        parts.append(f"{column} >= CAST(? AS TIMESTAMP)")
        params.append(selection.since)
    if selection.until is not None:
        parts.append(f"{column} < CAST(? AS TIMESTAMP)")
        params.append(selection.until)
    return (" AND ".join(parts) or "TRUE"), params


def _or_zero(value: Any) -> float:
    """A sum as the definition returns it: NULL (no pairs) and -0.0 become 0.0."""
    if value is None or np.ma.is_masked(value):
        return 0.0
    return float(value) or 0.0


def _by_request_id(con: Any, selection: Selection, plan: SummaryPlan) -> PairedSummary:
    """The definition: a join on ``request_id`` (any engine whose SQL the passes speak)."""
    c_sql, c_params = _arm_sql(selection, "control", "request_id", "score, label")
    s_sql, s_params = _arm_sql(selection, "shadow", "request_id", "score")
    pairs = (
        f"SELECT c.score AS sc, s.score AS ss, c.label AS label "
        f"FROM ({c_sql}) c JOIN ({s_sql}) s USING (request_id)"
    )
    t = plan.decision_threshold
    sql = (
        f"SELECT bc, bs, label, dc, ds, GROUPING_ID(bc, bs, label, dc, ds) AS gid, "
        f"count(*), fsum(ss - sc), fsum((ss - sc) * (ss - sc)) "
        f"FROM (SELECT *, {bin_sql('sc', plan.paired_n_bins)} AS bc, "
        f"{bin_sql('ss', plan.paired_n_bins)} AS bs, "
        f"sc >= {t!r} AS dc, ss >= {t!r} AS ds FROM ({pairs})) "
        f"GROUP BY GROUPING SETS ((bc, bs, label), (dc, ds), ())"
    )
    agreement = np.zeros((2, 2), np.int64)
    n_pairs, s1, s2 = 0, 0.0, 0.0
    joint: list[tuple[int, int, int, int]] = []
    for bcv, bsv, label, dc, ds, gid, n, sd, sq in con.execute(
        sql, [*c_params, *s_params]
    ).fetchall():
        if gid == 0b00011:  # (bc, bs, label)
            if label is not None:
                joint.append((int(bcv), int(bsv), int(bool(label)), int(n)))
        elif gid == 0b11100:  # (dc, ds)
            agreement[int(dc), int(ds)] += int(n)
        else:  # grand total
            n_pairs, s1, s2 = int(n), float(sd or 0.0), float(sq or 0.0)
    arr = np.array(joint, dtype=np.int64).reshape(-1, 4)
    # GROUP BY returns groups in any order: sorted, the table (and every sum over it) is the
    # same on every run
    arr = arr[np.lexsort((arr[:, 2], arr[:, 1], arr[:, 0]))]
    return PairedSummary(
        n_pairs=n_pairs,
        agreement=agreement,
        sum_diff=s1,
        sum_sq_diff=s2,
        bin_control=arr[:, 0],
        bin_candidate=arr[:, 1],
        label=arr[:, 2].astype(bool),
        count=arr[:, 3],
    )
