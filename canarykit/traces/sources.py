"""Input sources for ingest and for traces read in place: files, data lakes and Python objects.

Files are read by DuckDB directly, never through pandas, so a 10-million-row Parquet file is
validated and ingested in SQL with bounded memory. All the Parquet files of one call form ONE
source, read by one ``read_parquet([...], union_by_name = true, hive_partitioning = true)``
(CSV files likewise by one ``read_csv``), so a data lake of thousands of small files costs one
scan, not one view per file:

- a path is a file, a directory (every Parquet/CSV file below it, at any depth) or a glob
  (``lake/*/*.parquet``, ``lake/**/*.parquet``);
- files whose name starts with ``.`` or ``_`` (``_SUCCESS``, ``.crc``) are skipped below
  directories, as Hive and Spark do;
- files may differ in their columns (a column absent from a file is NULL there), and
  ``key=value`` directories of a Hive-partitioned layout (``model=risk/date=2026-01-01/``)
  become columns. Partition values are read as text (``1.10`` stays ``1.10``); the contract
  columns among them are then parsed like any other text column.

In-memory inputs are registered on the connection as views: a ``pyarrow.Table``, a
``pyarrow.dataset.Dataset`` (what ``deltalake`` and ``pyiceberg`` give; scanned lazily), a
``RecordBatchReader`` or anything with ``__arrow_c_stream__`` (read once into Arrow, since a
stream can be scanned only once and validation needs several passes), a pandas or polars
DataFrame, a polars LazyFrame (collected), a DuckDB relation, or a ``(connection, "table")``
pair. Each is read into memory at most once.

Examples
--------
>>> import pyarrow as pa
>>> [s.name for s in resolve_inputs([pa.table({"x": [1]})])]
['<arrow table, input 1>']
>>> resolve_inputs(42)
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: unsupported input of type int: expected a path, directory or glob of Parquet/CSV files, a pyarrow Table/RecordBatchReader/Dataset, a pandas or polars DataFrame/LazyFrame, a DuckDB relation or (DuckDB connection, table name)
"""

from __future__ import annotations

import glob
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import duckdb

from canarykit.errors import InvalidInputError
from canarykit.traces.schema import CONTRACT_COLUMNS

if TYPE_CHECKING:  # pyarrow is imported where an Arrow object is handled (0.1 s at startup)
    import pyarrow as pa

SourceKind = Literal["parquet", "csv", "arrow"]

__all__ = ["InputSource", "partition_values", "quote_ident", "quote_literal", "resolve_inputs"]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
FILE_COLUMN = "__file"
"""Name of the column holding the file of a row, in numbered relations over file sets."""

_EXPECTED = (
    "expected a path, directory or glob of Parquet/CSV files, a pyarrow "
    "Table/RecordBatchReader/Dataset, a pandas or polars DataFrame/LazyFrame, a DuckDB relation "
    "or (DuckDB connection, table name)"
)


def quote_ident(name: str) -> str:
    """Quote an SQL identifier for DuckDB (``group`` → ``"group"``).

    Examples
    --------
    >>> print(quote_ident("group"), quote_ident('a"b'))
    "group" "a""b"
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote an SQL string literal for DuckDB.

    Examples
    --------
    >>> quote_literal("O'Hara")
    "'O''Hara'"
    """
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSource:
    """One input, named as the user knows it (a path, a glob, ``<polars DataFrame, input 1>``).

    A file source holds one or more files of one format (``files``), read together; an
    ``arrow`` source holds an object DuckDB scans (``data``: an Arrow table or dataset).
    """

    name: str
    kind: SourceKind
    files: tuple[str, ...] = ()
    data: Any = field(default=None, repr=False)

    @property
    def path(self) -> str | None:
        """The file, when the source is exactly one file."""
        return self.files[0] if len(self.files) == 1 else None

    @property
    def is_file_set(self) -> bool:
        """Whether several files are read together (rows are then located by file)."""
        return len(self.files) > 1

    @property
    def labels(self) -> tuple[str, ...]:
        """What an ingest report lists for this source: its files, or its name."""
        return self.files or (self.name,)

    def relation(
        self, con: duckdb.DuckDBPyConnection, *, numbered: bool = False, hive: bool = True
    ) -> str:
        """SQL ``FROM`` expression reading this source on ``con``.

        With ``numbered=True`` a column ``__row`` holds the 1-based data row number within its
        file (for CSV the header line is not counted), and for a file set a column ``__file``
        the file. Numbering an in-memory or CSV source costs a window pass, so it is only used
        to locate rows once a rule is known to be broken. ``hive=False`` reads the files'
        own columns, without the ``key=value`` directories of their paths.
        """
        options = _set_options(hive)
        if self.kind == "parquet":
            extra = f", file_row_number = true, filename = {quote_literal(FILE_COLUMN)}"
            src = f"read_parquet({self._file_list()}, {options}{extra if numbered else ''})"
            if not numbered:
                return f"(SELECT * FROM {src})"
            keep = f", {FILE_COLUMN}" if self.is_file_set else ""
            return (
                f"(SELECT * EXCLUDE (file_row_number, {FILE_COLUMN}), "
                f"file_row_number + 1 AS __row{keep} FROM {src})"
            )
        if self.kind == "csv":
            src = self._csv_reader(con, with_file=numbered and self.is_file_set, hive=hive)
        else:
            src = self._registered_view(con)
        if not numbered:
            return f"(SELECT * FROM {src})"
        if not self.is_file_set:
            return f"(SELECT *, row_number() OVER () AS __row FROM {src})"
        # a streaming row_number() follows the files' order; rebase it at each file's start
        return (
            f"(SELECT * EXCLUDE (__n), __n - min(__n) OVER (PARTITION BY {FILE_COLUMN}) + 1 "
            f"AS __row FROM (SELECT *, row_number() OVER () AS __n FROM {src}))"
        )

    def columns(self, con: duckdb.DuckDBPyConnection, *, hive: bool = True) -> dict[str, str]:
        """Column name → DuckDB type of this source, in file order (partition columns last)."""
        try:
            rows = con.execute(f"DESCRIBE SELECT * FROM {self.relation(con, hive=hive)}").fetchall()
        except duckdb.Error as err:
            raise InvalidInputError(f"{self.name}: cannot be read: {_first_line(err)}") from None
        return {str(r[0]): str(r[1]) for r in rows}

    def _file_list(self) -> str:
        return "[" + ", ".join(quote_literal(f) for f in self.files) + "]"

    def _csv_reader(
        self, con: duckdb.DuckDBPyConnection, *, with_file: bool = False, hive: bool = True
    ) -> str:
        # Contract columns are read as text so that a bad value is reported by our rules
        # (with its row number) instead of failing the CSV sniffer's type detection.
        files = self._file_list()
        options = f"header = true, {_set_options(hive)}"
        own = f"header = true, {_set_options(False)}"  # partition columns are text already
        try:
            header = con.execute(f"DESCRIBE SELECT * FROM read_csv({files}, {own})").fetchall()
        except duckdb.Error as err:
            raise InvalidInputError(
                f"{self.name}: cannot be read as CSV: {_first_line(err)}"
            ) from None
        present = {str(r[0]) for r in header}
        if len(present) == 1 and any(d in next(iter(present)) for d in ",;\t|"):
            # the sniffer found no dialect and read each line as one field: say which row
            for file in self.files:
                _check_field_counts(file)
        contract = [c.name for c in CONTRACT_COLUMNS if c.name in present]
        types = ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in contract)
        named = f", filename = {quote_literal(FILE_COLUMN)}" if with_file else ""
        return f"read_csv({files}, {options}, types = {{{types}}}{named})"

    def _registered_view(self, con: duckdb.DuckDBPyConnection) -> str:
        view = f"__canarykit_input_{id(self.data):x}"
        con.register(view, self.data)
        return quote_ident(view)


def _check_field_counts(path: str) -> None:
    """Refuse a CSV file whose rows do not all have as many fields as its header.

    DuckDB's sniffer answers such a file by reading every line as one field, which would be
    reported as missing columns; this names the first row that breaks the count instead.
    """
    import csv

    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            sample = handle.read(65536)
            handle.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
            rows = csv.reader(handle, dialect)
            header = next(rows, None)
            if header is None:
                return
            for number, row in enumerate(rows, start=1):
                if row and len(row) != len(header):
                    raise InvalidInputError(
                        f"{path}: row {number}: {len(row)} fields where the header has "
                        f"{len(header)} (every line of a CSV file needs the same number of fields)"
                    )
    except OSError as err:
        raise InvalidInputError(f"{path}: cannot be read: {err.strerror or err}") from None


def _set_options(hive: bool) -> str:
    if not hive:
        return "union_by_name = true, hive_partitioning = false"
    return "union_by_name = true, hive_partitioning = true, hive_types_autocast = false"


def partition_values(path: str) -> dict[str, str]:
    """The ``key=value`` directories of ``path`` as DuckDB reads them (values URL-decoded).

    Examples
    --------
    >>> partition_values("lake/model=risk/date=2026-01-01/part-0.parquet")
    {'model': 'risk', 'date': '2026-01-01'}
    """
    values = {}
    for part in Path(path).parent.parts:
        key, sep, value = part.partition("=")
        if sep and key:
            values[key] = unquote(value)
    return values


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


# -- paths ------------------------------------------------------------------------------------
def _kind_of(path: Path) -> SourceKind | None:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _below(directory: Path) -> list[Path]:
    """Parquet/CSV files below ``directory`` at any depth, skipping hidden ones."""
    found = []
    for path in directory.rglob("*"):
        parts = path.relative_to(directory).parts
        if any(p.startswith((".", "_")) for p in parts) or not path.is_file():
            continue
        if _kind_of(path) is not None:
            found.append(path)
    return found


def _unsupported(path: Path) -> InvalidInputError:
    suffix = path.suffix or path.name
    return InvalidInputError(
        f"{path}: unsupported file type {suffix!r} (expected .parquet or .csv)"
    )


def _expand(item: str) -> list[Path]:
    """The files a path, directory or glob names, sorted; a one-line error if there are none."""
    path = Path(item)
    if glob.has_magic(item) and not path.exists():
        matches = [Path(m) for m in glob.glob(item, recursive=True)]
        if not matches:
            raise InvalidInputError(f"{item}: no file matches this pattern")
        files: set[Path] = set()
        for match in matches:
            if match.is_dir():
                files.update(_below(match))
            elif _kind_of(match) is not None:
                files.add(match)
            elif not _hidden(match):
                raise _unsupported(match)
        if not files:
            raise InvalidInputError(
                f"{item}: this pattern matches no Parquet or CSV file (only directories)"
            )
        return sorted(files)
    if path.is_dir():
        found = _below(path)
        if not found:
            raise InvalidInputError(f"{item}: directory holds no Parquet or CSV file")
        return sorted(found)
    if not path.is_file():
        raise InvalidInputError(f"{item}: no such file")
    if _kind_of(path) is None:
        raise _unsupported(path)
    return [path]


def _file_sources(items: list[str]) -> list[InputSource]:
    """One source per format over every file the path items name (a file once, in order)."""
    by_kind: dict[SourceKind, list[str]] = {"parquet": [], "csv": []}
    names: dict[SourceKind, list[str]] = {"parquet": [], "csv": []}
    seen: set[str] = set()
    for item in items:
        for path in _expand(item):
            kind = _kind_of(path)
            assert kind is not None
            text = str(path)
            if text in seen:
                continue
            seen.add(text)
            by_kind[kind].append(text)
            if item not in names[kind]:
                names[kind].append(item)
    sources = []
    for set_kind, files in by_kind.items():
        if not files:
            continue
        given = names[set_kind]
        if len(files) == 1:
            name = files[0]
        elif len(given) == 1:
            name = given[0]
        else:
            name = f"{given[0]} and {len(given) - 1} more"
        sources.append(InputSource(name=name, kind=set_kind, files=tuple(files)))
    return sources


# -- Python objects ---------------------------------------------------------------------------
def _module(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def _is_dataframe(obj: Any) -> bool:
    return (
        _module(obj) == "pandas"
        and type(obj).__name__ == "DataFrame"
        and hasattr(obj, "to_numpy")
        and hasattr(obj, "columns")
    )


def _is_arrow_dataset(obj: Any) -> bool:
    if _module(obj) != "pyarrow":
        return False
    import pyarrow.dataset as pads

    return isinstance(obj, pads.Dataset)


def _is_connection_and_table(obj: Any) -> bool:
    return (
        isinstance(obj, tuple)
        and len(obj) == 2
        and isinstance(obj[0], duckdb.DuckDBPyConnection)
        and isinstance(obj[1], str)
    )


def _arrow_table(value: Any) -> pa.Table | None:
    """``value`` as an Arrow table when it is one, or a stream of record batches."""
    if _module(value) != "pyarrow" and not hasattr(value, "__arrow_c_stream__"):
        return None
    import pyarrow as pa

    if isinstance(value, pa.Table):
        return value
    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    if isinstance(value, pa.RecordBatchReader):
        return value.read_all()
    if hasattr(value, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(value).read_all()
    return None


def _from_object(item: Any, position: int) -> InputSource:
    """An ``arrow`` source for one Python object (module docstring lists what is accepted)."""
    kind_name = _describe(item)
    name = f"<{kind_name}, input {position}>"
    try:
        data = _to_arrow(item)
    except InvalidInputError as err:
        raise InvalidInputError(f"{name}: {err}") from None
    except Exception as err:  # the user's object failed to export itself (polars, Arrow, ...)
        raise InvalidInputError(f"{name}: cannot be read as a table: {_first_line(err)}") from None
    if data is None:
        raise InvalidInputError(f"unsupported input of type {_type_name(item)}: {_EXPECTED}")
    return InputSource(name=name, kind="arrow", data=data)


def _type_name(item: Any) -> str:
    module = type(item).__module__
    qualname = type(item).__qualname__
    return qualname if module == "builtins" else f"{module}.{qualname}"


def _describe(item: Any) -> str:
    module, cls = _module(item), type(item).__name__
    if module == "pyarrow":
        import pyarrow as pa

        if isinstance(item, pa.Table):
            return "arrow table"
        if isinstance(item, pa.RecordBatchReader):
            return "arrow record batch reader"
    if _is_arrow_dataset(item):
        return "arrow dataset"
    if isinstance(item, duckdb.DuckDBPyRelation):
        return "duckdb relation"
    if _is_connection_and_table(item):
        return f"duckdb table {item[1]}"
    if module in ("pandas", "polars"):
        return f"{module} {cls}"
    return cls


def _to_arrow(item: Any) -> Any:
    """An object DuckDB can scan (Arrow table or dataset) for ``item``, or ``None``."""
    if _is_arrow_dataset(item):
        return item  # scanned lazily, once per query, with projection pushdown
    if _is_connection_and_table(item):
        con, table = item
        try:
            relation = con.table(table)
        except duckdb.Error:
            raise InvalidInputError(f"no table {table} in the DuckDB connection") from None
        return relation.to_arrow_table()
    if isinstance(item, duckdb.DuckDBPyRelation):
        return item.to_arrow_table()
    if isinstance(item, duckdb.DuckDBPyConnection):
        raise InvalidInputError(
            "a DuckDB connection needs a table name: pass (connection, 'table')"
        )
    if _is_dataframe(item):
        # pyarrow < 26 reads a tz-aware column through an accessor pandas 3 deprecates: the
        # warning is pandas' and pyarrow's business, not the user's (the values are the same)
        import pyarrow as pa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            return pa.Table.from_pandas(item, preserve_index=False)
    if _module(item) == "polars":
        if hasattr(item, "collect") and not hasattr(item, "to_arrow"):
            item = item.collect()  # a LazyFrame: run the query once
        if hasattr(item, "to_arrow"):
            return item.to_arrow()
    table = _arrow_table(item)
    if table is not None:
        return table
    to_dataset = getattr(item, "to_pyarrow_dataset", None)
    if callable(to_dataset):
        return to_dataset()  # a deltalake DeltaTable: its current version, scanned lazily
    to_arrow = getattr(item, "to_arrow", None)
    if callable(to_arrow):
        return _arrow_table(to_arrow())  # e.g. a pyiceberg scan
    return None


def resolve_inputs(inputs: Any) -> list[InputSource]:
    """Turn paths, directories, globs and table-like objects into a list of :class:`InputSource`.

    Parameters
    ----------
    inputs : path, directory, glob, table-like object, or a list of them
        Every Parquet file of all the paths forms one source, every CSV file another; each
        object is one source. Table-like objects are listed in the module docstring; a
        DuckDB table is given as a ``(connection, "table")`` pair.

    Returns
    -------
    list of InputSource

    Raises
    ------
    InvalidInputError
        One line: a path that does not exist, a directory or glob without Parquet/CSV files,
        an unsupported file type, or an object of an unsupported type (named).

    Examples
    --------
    >>> import pandas as pd
    >>> [s.kind for s in resolve_inputs([pd.DataFrame({"x": [1]}), pd.DataFrame({"x": [2]})])]
    ['arrow', 'arrow']
    >>> resolve_inputs("no-such-dir/**/*.parquet")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: no-such-dir/**/*.parquet: no file matches this pattern
    """
    if isinstance(inputs, list) or (
        isinstance(inputs, tuple) and not _is_connection_and_table(inputs)
    ):
        items: list[Any] = list(inputs)
    else:
        items = [inputs]
    if not items:
        raise InvalidInputError("no input given: pass at least one file, table or DataFrame")
    paths = [str(item) for item in items if isinstance(item, str | Path)]
    sources = _file_sources(paths) if paths else []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, str | Path):
            sources.append(_from_object(item, position))
    return sources
