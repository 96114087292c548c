"""Input sources for ingest: file paths and globs, Arrow tables, pandas DataFrames.

Files are read by DuckDB directly (``read_parquet`` / ``read_csv``), never through pandas, so a
10-million-row Parquet file is validated and ingested in SQL with bounded memory. In-memory
tables are registered on the connection as views.

Examples
--------
>>> import pyarrow as pa
>>> [s.name for s in resolve_inputs([pa.table({"x": [1]})])]
['<arrow table, input 1>']
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from canarykit.errors import InvalidInputError
from canarykit.traces.schema import CONTRACT_COLUMNS

SourceKind = Literal["parquet", "csv", "arrow"]

__all__ = ["InputSource", "quote_ident", "quote_literal", "resolve_inputs"]


def quote_ident(name: str) -> str:
    """Quote an SQL identifier for DuckDB (``group`` → ``"group"``)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote an SQL string literal for DuckDB."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSource:
    """One input of an ingest, named as the user knows it (a path or ``<pandas DataFrame, input 1>``)."""

    name: str
    kind: SourceKind
    path: str | None = None
    table: pa.Table | None = None

    def relation(self, con: duckdb.DuckDBPyConnection, *, numbered: bool = False) -> str:
        """SQL ``FROM`` expression reading this source on ``con``.

        With ``numbered=True`` a column ``__row`` holds the 1-based data row number (for CSV
        the header line is not counted). Numbering an in-memory or CSV source costs a window
        pass, so it is only used to locate rows once a rule is known to be broken.
        """
        if self.kind == "parquet":
            assert self.path is not None
            src = f"read_parquet({quote_literal(self.path)}, file_row_number = true)"
            if numbered:
                return (
                    f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __row FROM {src})"
                )
            return f"(SELECT * EXCLUDE (file_row_number) FROM {src})"
        if self.kind == "csv":
            assert self.path is not None
            src = self._csv_reader(con)
        else:
            src = self._registered_view(con)
        if numbered:
            return f"(SELECT *, row_number() OVER () AS __row FROM {src})"
        return f"(SELECT * FROM {src})"

    def columns(self, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        """Column name → DuckDB type of this source, in file order."""
        try:
            rows = con.execute(f"DESCRIBE SELECT * FROM {self.relation(con)}").fetchall()
        except duckdb.Error as err:
            raise InvalidInputError(f"{self.name}: cannot be read: {_first_line(err)}") from None
        return {str(r[0]): str(r[1]) for r in rows}

    def _csv_reader(self, con: duckdb.DuckDBPyConnection) -> str:
        # Contract columns are read as text so that a bad value is reported by our rules
        # (with its row number) instead of failing the CSV sniffer's type detection.
        assert self.path is not None
        path = quote_literal(self.path)
        try:
            header = con.execute(
                f"DESCRIBE SELECT * FROM read_csv({path}, header = true)"
            ).fetchall()
        except duckdb.Error as err:
            raise InvalidInputError(
                f"{self.name}: cannot be read as CSV: {_first_line(err)}"
            ) from None
        present = {str(r[0]) for r in header}
        contract = [c.name for c in CONTRACT_COLUMNS if c.name in present]
        types = ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in contract)
        return f"read_csv({path}, header = true, types = {{{types}}})"

    def _registered_view(self, con: duckdb.DuckDBPyConnection) -> str:
        view = f"__canarykit_input_{id(self.table):x}"
        con.register(view, self.table)
        return quote_ident(view)


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _from_path(pattern: str) -> list[InputSource]:
    matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
    if not matches:
        raise InvalidInputError(f"{pattern}: no file matches this pattern")
    sources = []
    for match in matches:
        path = Path(match)
        if not path.is_file():
            raise InvalidInputError(f"{match}: no such file")
        suffix = (
            "".join(path.suffixes[-2:]).lower()
            if path.suffix.lower() == ".gz"
            else path.suffix.lower()
        )
        if suffix in (".parquet", ".pq"):
            kind: SourceKind = "parquet"
        elif suffix in (".csv", ".csv.gz", ".tsv"):
            kind = "csv"
        else:
            raise InvalidInputError(
                f"{match}: unsupported file type {path.suffix!r} (expected .parquet or .csv)"
            )
        sources.append(InputSource(name=str(match), kind=kind, path=str(path)))
    return sources


def resolve_inputs(inputs: Iterable[Any] | Any) -> list[InputSource]:
    """Turn paths, globs, Arrow tables and pandas DataFrames into a list of :class:`InputSource`.

    Parameters
    ----------
    inputs : path, glob, pyarrow.Table, pandas.DataFrame, or a sequence of them

    Raises
    ------
    InvalidInputError
        A path that does not exist, a glob that matches nothing, an unsupported file type.
    """
    if isinstance(inputs, str | Path | pa.Table) or _is_dataframe(inputs):
        items: Sequence[Any] = [inputs]
    else:
        items = list(inputs)
    if not items:
        raise InvalidInputError("no input given: pass at least one file, table or DataFrame")
    sources: list[InputSource] = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, str | Path):
            sources.extend(_from_path(str(item)))
        elif isinstance(item, pa.Table):
            sources.append(
                InputSource(name=f"<arrow table, input {position}>", kind="arrow", table=item)
            )
        elif _is_dataframe(item):
            table = pa.Table.from_pandas(item, preserve_index=False)
            sources.append(
                InputSource(name=f"<pandas DataFrame, input {position}>", kind="arrow", table=table)
            )
        else:
            raise InvalidInputError(
                f"unsupported input of type {type(item).__name__}: "
                "expected a path, glob, pyarrow.Table or pandas.DataFrame"
            )
    return sources


def _is_dataframe(obj: Any) -> bool:
    return (
        type(obj).__name__ == "DataFrame" and hasattr(obj, "to_numpy") and hasattr(obj, "columns")
    )
