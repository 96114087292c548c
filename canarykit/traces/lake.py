"""Data where it already lives: Hive-partitioned Parquet directories and Delta tables, pruned.

Both engines read a lake through the same list of files, chosen here *before* any file is
opened: partition pruning on the model and the time window.

- A **Hive-partitioned directory** (``lake/model=risk/date=2026-01-01/part-0.parquet``, as
  Hive, Spark and ``pyarrow.dataset`` write it): a file is skipped when its ``model=`` directory
  names another model, or its date directory (``date=``, ``dt=``, ``day=`` or ``event_date=``,
  an ISO date) lies more than a day outside ``[since, until)`` — a day of margin on each side,
  because a writer may cut its date partitions in its local time zone (±14 h of UTC). Pruning
  keeps every file that may hold a row of the window, so the summaries — which filter rows by
  model and time anyway — are the same with or without it; only fewer files are read.
- A **Delta table** (a directory with ``_delta_log/``): the Parquet files of its current
  snapshot, listed by ``deltalake`` (``DeltaTable.file_uris`` with filters on the same partition
  columns), never the files a later commit removed. Spark reads Delta natively only with
  the ``delta-spark`` jars (a download); canarykit instead reads the snapshot's files, on both
  engines. Tables whose readers need deletion vectors or column mapping are refused (their
  files alone do not give the table's rows), as are layouts whose partition values are not
  in ``key=value`` directories.

Examples
--------
>>> f = LakeFilter(model="risk", since="2026-01-02T00:00:00", until="2026-01-03T06:00:00")
>>> days = ("2025-12-31", "2026-01-01", "2026-01-03", "2026-01-04", "2026-01-05")
>>> [f.keeps({"model": "risk", "date": d}) for d in days]
[False, True, True, True, False]
>>> f.keeps({"model": "fraud", "date": "2026-01-02"}), f.keeps({"region": "eu"})
(False, True)
"""

from __future__ import annotations

import datetime as dt
import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.traces.sources import partition_values, resolve_inputs

__all__ = ["TIME_KEYS", "LakeFilter", "is_delta_table", "lake_files"]

TIME_KEYS = ("date", "dt", "day", "event_date")
"""Partition keys read as the day of the rows below them (in some time zone: ±1 day of UTC)."""
MARGIN = dt.timedelta(days=1)

_REFUSED_FEATURES = ("deletionVectors", "columnMapping")


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (
        moment.replace(tzinfo=None)
        if moment.tzinfo is None
        else moment.astimezone(dt.UTC).replace(tzinfo=None)
    )


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class LakeFilter:
    """Which partitions may hold rows of one evaluation (``None``: no restriction).

    ``since``/``until`` are UTC timestamps (``until`` exclusive), as ``evaluate`` takes them.
    """

    model: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def active(self) -> bool:
        """Whether the filter restricts anything."""
        return any(v is not None for v in (self.model, self.since, self.until))

    def keeps(self, partitions: dict[str, str]) -> bool:
        """Whether a file with these ``key=value`` directories may hold a selected row."""
        if self.model is not None and partitions.get("model", self.model) != self.model:
            return False
        for key in TIME_KEYS:
            day = _day(partitions[key]) if key in partitions else None
            if day is None:
                continue
            first, last = self._days()
            if (first is not None and day < first) or (last is not None and day > last):
                return False
        return True

    def _days(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last partition day that may hold a row of the window (with margin)."""
        start, end = _moment(self.since), _moment(self.until)
        first = None if start is None else start.date() - MARGIN
        last = None
        if end is not None:  # until is exclusive: a window ending at midnight ends the day before
            last = (
                end.date() - dt.timedelta(days=1) if end.time() == dt.time() else end.date()
            ) + MARGIN
        return first, last

    def delta_filters(self, partition_columns: list[str]) -> list[tuple[str, str, Any]]:
        """The same restriction as ``deltalake`` partition filters (ISO dates compare as text)."""
        filters: list[tuple[str, str, Any]] = []
        if self.model is not None and "model" in partition_columns:
            filters.append(("model", "=", self.model))
        first, last = self._days()
        for key in TIME_KEYS:
            if key not in partition_columns:
                continue
            if first is not None:
                filters.append((key, ">=", first.isoformat()))
            if last is not None:
                filters.append((key, "<=", last.isoformat()))
        return filters


def is_delta_table(path: str | Path) -> bool:
    """Whether ``path`` is a Delta table (a directory with a ``_delta_log`` folder)."""
    return (Path(path) / "_delta_log").is_dir()


def lake_files(item: str | Path, lake_filter: LakeFilter | None = None) -> tuple[list[str], str]:
    """The Parquet/CSV files of a file, directory, glob or Delta table that the filter keeps.

    Returns
    -------
    (files, base)
        The files, sorted, and the directory their ``key=value`` partitions are relative to.

    Raises
    ------
    InvalidInputError
        Nothing to read, a Delta table canarykit cannot read through its files, or no
        partition left by the filter (naming the model and window).
    """
    text = str(item)
    chosen = lake_filter or LakeFilter()
    if is_delta_table(text):
        return _delta_files(text, chosen), text
    files = [f for s in resolve_inputs(text) for f in s.files]
    base = text if Path(text).is_dir() else _glob_base(text)
    kept = [f for f in files if chosen.keeps(_relative_partitions(f, base))]
    if not kept:
        raise InvalidInputError(f"{text}: {_nothing_left(chosen)}")
    return kept, base


def _glob_base(pattern: str) -> str:
    """The directory of a file or the fixed leading part of a glob."""
    parts = Path(pattern).parts
    fixed = [
        p for p in parts[: next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))]
    ]
    base = Path(*fixed) if fixed else Path(".")
    return str(base if base.is_dir() else base.parent)


def _relative_partitions(file: str, base: str) -> dict[str, str]:
    try:
        rel = Path(file).relative_to(base)
    except ValueError:
        rel = Path(file)
    return partition_values(str(rel))


def _nothing_left(f: LakeFilter) -> str:
    window = f"[{f.since or '…'}, {f.until or '…'})"
    model = f"model {f.model}" if f.model else "any model"
    return f"no partition may hold rows of {model} in {window} (partition pruning)"


def _delta_files(path: str, lake_filter: LakeFilter) -> list[str]:
    try:
        from deltalake import DeltaTable
    except ImportError:
        raise InvalidInputError(
            f"{path}: a Delta table; reading it needs the deltalake package "
            "(pip install 'canarykit[lake]')"
        ) from None
    try:
        table = DeltaTable(path)
        protocol = table.protocol()
        features = set(protocol.reader_features or ())
        refused = sorted(features & set(_REFUSED_FEATURES))
        if refused:
            raise InvalidInputError(
                f"{path}: a Delta table whose readers need {', '.join(refused)}: its Parquet "
                "files alone do not give its rows (rewrite it without them, or export Parquet)"
            )
        partition_columns = list(table.metadata().partition_columns)
        filters = lake_filter.delta_filters(partition_columns)
        try:  # deltalake ≥ 1.x names the filters file_pruning_predicate
            uris = table.file_uris(file_pruning_predicate=filters or None)
        except TypeError:
            uris = table.file_uris(partition_filters=filters or None)
    except InvalidInputError:
        raise
    except Exception as err:  # deltalake's own errors (a broken log, a missing file)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InvalidInputError(f"{path}: cannot be read as a Delta table: {first}") from None
    files = sorted(u.removeprefix("file://") for u in uris)
    for file in files:
        missing = [c for c in partition_columns if c not in _relative_partitions(file, path)]
        if missing:
            raise InvalidInputError(
                f"{path}: Delta file {Path(file).name} is not in key=value directories for "
                f"partition column(s) {', '.join(missing)}; canarykit reads a Delta table "
                "through its Parquet files and needs that layout"
            )
    if not files:
        raise InvalidInputError(f"{path}: {_nothing_left(lake_filter)}")
    return files
