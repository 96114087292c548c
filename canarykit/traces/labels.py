"""Late labels: outcomes that mature after the request, joined to stored traces by request id.

Everything is checked before the store is written (see :func:`plan_label_update`), so a rejected
label file leaves the store unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import duckdb

from canarykit.errors import InvalidInputError
from canarykit.traces.arrival import LABEL_INGEST_COLUMN
from canarykit.traces.parsing import parsed_expressions
from canarykit.traces.schema import ARMS
from canarykit.traces.sources import InputSource, quote_literal
from canarykit.traces.violations import MAX_ROWS_SHOWN, first_rows, format_violation

__all__ = ["LabelPlan", "LabelReport", "plan_label_update"]

_SET_LABEL = "SET label = l.label"
_MATCH = "t.request_id = l.request_id AND (l.arm IS NULL OR t.arm = l.arm)"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelReport:
    """What a late-label ingest did."""

    sources: tuple[str, ...]
    labels_read: int
    rows_updated: int
    rows_unchanged: int = 0
    labels_unknown: int = 0

    def __str__(self) -> str:
        extra = []
        if self.rows_unchanged:
            extra.append(f"{self.rows_unchanged} rows already had that label")
        if self.labels_unknown:
            extra.append(f"{self.labels_unknown} labels matched no stored trace and were skipped")
        tail = f" ({'; '.join(extra)})" if extra else ""
        return f"labelled {self.rows_updated} rows from {self.labels_read} labels{tail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelPlan:
    """A validated label update: the SQL to run and what it will do."""

    update_sql: str
    touched_sql: str  # per model: (model, NULL, NULL, rows, first ts, last ts) it will label
    labels_read: int
    rows_updated: int
    rows_unchanged: int
    labels_unknown: int

    def update_sql_for(self, ingest_id: int) -> str:
        """The update, writing ``ingest_id`` as the arrival of every label it sets."""
        return self.update_sql.replace(
            _SET_LABEL, f"{_SET_LABEL}, {LABEL_INGEST_COLUMN} = {int(ingest_id)}", 1
        )


def _label_select(con: duckdb.DuckDBPyConnection, src: InputSource, *, numbered: bool) -> str:
    cols = src.columns(con)
    missing = [c for c in ("request_id", "label") if c not in cols]
    if missing:
        raise InvalidInputError(
            f"{src.name}: missing required column(s) {', '.join(missing)} "
            "(late labels need request_id and label; arm is optional)"
        )
    keep = {k: v for k, v in cols.items() if k in ("request_id", "label", "arm")}
    try:
        exprs = parsed_expressions(keep)
    except InvalidInputError as err:
        raise InvalidInputError(f"{src.name}: {err}") from None
    arm = exprs.get("arm", "CAST(NULL AS VARCHAR)")
    has_arm = "true" if "arm" in cols else "false"
    row = ", __row" if numbered else ""
    return (
        f"SELECT {exprs['request_id']} AS request_id, {arm} AS arm, {exprs['label']} AS label, "
        f"{has_arm} AS has_arm{row} FROM {src.relation(con, numbered=numbered)}"
    )


def _validate(con: duckdb.DuckDBPyConnection, src: InputSource) -> int:
    arms = ", ".join(quote_literal(a) for a in ARMS)
    rules = [
        ("request_id", "must be a non-empty string", "(request_id IS NULL OR request_id = '')"),
        ("label", "must be boolean (true/false or 1/0)", "label IS NULL"),
        (
            "arm",
            f"must be one of {', '.join(ARMS)}",
            f"(has_arm AND (arm IS NULL OR arm NOT IN ({arms})))",
        ),
    ]
    counts = ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond in rules)
    row = con.execute(
        f"SELECT count(*), {counts} FROM ({_label_select(con, src, numbered=False)})"
    ).fetchall()[0]
    assert row is not None
    for (column, rule, cond), broken in zip(rules, row[1:], strict=True):
        if broken:
            numbered = _label_select(con, src, numbered=True)
            rows = first_rows(con, f"({numbered})", cond)
            raise InvalidInputError(format_violation(src.name, column, rule, int(broken), rows))
    return int(row[0])


def plan_label_update(
    con: duckdb.DuckDBPyConnection,
    sources: list[InputSource],
    *,
    on_unknown: Literal["error", "skip"],
    progress: Callable[[str], None] | None,
) -> LabelPlan:
    """Validate label inputs against the store and return the update to run.

    Raises
    ------
    InvalidInputError
        A broken rule, a repeated key, an unknown request (unless ``on_unknown="skip"``), or a
        label that differs from one already stored.
    """
    read = 0
    for i, src in enumerate(sources, start=1):
        if progress is not None:
            progress(f"validating {src.name} ({i}/{len(sources)})")
        read += _validate(con, src)
    names = ", ".join(s.name for s in sources)
    union = " UNION ALL ".join(_label_select(con, s, numbered=False) for s in sources)
    # a key repeats, or a request is labelled both for all arms (no arm) and for one arm
    row = con.execute(
        f"SELECT count(*) FROM (SELECT request_id FROM ({union}) GROUP BY request_id "
        "HAVING count(*) > count(DISTINCT coalesce(arm, '')) OR (bool_or(arm IS NULL) AND count(*) > 1))"
    ).fetchall()[0]
    if row and row[0]:
        raise InvalidInputError(
            f"{names}: columns (request_id, arm): must be unique in a label "
            f"ingest ({row[0]} keys repeat)"
        )
    unknown_sql = f"FROM ({union}) l WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE {_MATCH})"
    row = con.execute(f"SELECT count(*) {unknown_sql}").fetchall()[0]
    unknown = int(row[0]) if row else 0
    if unknown and on_unknown == "error":
        first = [
            str(r[0])
            for r in con.execute(
                f"SELECT l.request_id {unknown_sql} ORDER BY 1 LIMIT {MAX_ROWS_SHOWN}"
            ).fetchall()
        ]
        raise InvalidInputError(
            f"{names}: column request_id: must match a stored trace ({unknown} labels match none, "
            f"first: {', '.join(first)}); use on_unknown='skip' (--skip-unknown) to skip them"
        )
    joined = f"FROM ({union}) l JOIN traces t ON {_MATCH}"
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE t.label IS NOT NULL AND t.label <> l.label), "
        f"count(*) FILTER (WHERE t.label = l.label), count(*) {joined}"
    ).fetchall()[0]
    assert row is not None
    conflicts, unchanged, matched = int(row[0]), int(row[1]), int(row[2])
    if conflicts:
        # named by the label file's rows (not the stored rows they match: a label without an
        # arm matches every arm of its request)
        clash = (
            f"EXISTS (SELECT 1 FROM traces t WHERE {_MATCH} AND t.label IS NOT NULL "
            "AND t.label <> l.label)"
        )
        for src in sources:
            numbered = f"({_label_select(con, src, numbered=True)}) l"
            count = con.execute(f"SELECT count(*) FROM {numbered} WHERE {clash}").fetchall()[0][0]
            if count:
                raise InvalidInputError(
                    format_violation(
                        src.name,
                        "label",
                        "differs from the label already stored (stored labels are never "
                        "overwritten)",
                        int(count),
                        first_rows(con, numbered, clash),
                    )
                )
    update = f"UPDATE traces t {_SET_LABEL} FROM ({union}) l WHERE {_MATCH} AND t.label IS NULL"
    touched = (
        f"SELECT t.model, NULL, NULL, count(*), min(t.ts), max(t.ts) FROM ({union}) l JOIN traces t "
        f"ON {_MATCH} WHERE t.label IS NULL GROUP BY t.model"
    )
    return LabelPlan(
        update_sql=update,
        touched_sql=touched,
        labels_read=read,
        rows_updated=matched - unchanged,
        rows_unchanged=unchanged,
        labels_unknown=unknown,
    )
