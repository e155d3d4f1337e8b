"""Parquet tables, through pandas and pyarrow (or fastparquet), imported when a Parquet
file is read, never by ``import kmeanskit``.

Before any data is read, pyarrow's reading of the file's metadata is checked: at most
:data:`~kmeanskit.tables._common.MAX_COLUMNS` columns, and at most
``max(MAX_CELLS, CELLS_PER_BYTE * file size)`` cells (run-length encoding lets a few
bytes stand for millions of rows). Integer, float (float16 included) and nullable
numeric columns are read as float64, booleans as 0 and 1; a feature column of any
other type (text, categories, dates, times, complex numbers, nested values) is refused
with its name and what it holds. The id column may be of any type.
"""

from __future__ import annotations

import numbers
from decimal import Decimal
from pathlib import Path

import numpy as np

from ._common import RawTable, TableError, check_width, name_columns, show

__all__ = ["CELLS_PER_BYTE", "MAX_CELLS", "read_parquet"]

_EXTRA = "pip install 'kmeanskit[tables]'"
#: cells any Parquet file may hold (64 Mi: 512 MiB as float64) ...
MAX_CELLS = 1 << 26
#: ... and beyond that, cells a byte of the file may stand for
CELLS_PER_BYTE = 256


def _row(i: int) -> str:
    return f"row {i + 1}"


def _engine() -> str:
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise ImportError(f"reading Parquet needs pandas and pyarrow: {_EXTRA}") from None
    for name in ("pyarrow", "fastparquet"):
        try:
            __import__(name)
        except ImportError:
            continue
        return name
    raise ImportError(f"reading Parquet needs pyarrow: {_EXTRA}")


def _unreadable(path: Path, exc: Exception) -> TableError:
    """What pyarrow, fastparquet or pandas raised on a file, as a TableError. Anything
    may come out of a damaged file: pyarrow rebuilds pandas' index from the JSON
    metadata the file holds, and met a KeyError there (found by
    benchmarks/fuzz/fuzz_table_reader.py). Only running out of memory is raised."""
    if isinstance(exc, MemoryError):
        raise exc
    first = (str(exc).splitlines() or [""])[0][:200]
    if type(exc).__module__.split(".")[0] not in ("pyarrow", "fastparquet"):
        first = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return TableError(f"{path} is not a readable Parquet file ({first})")


def _check_size(path: Path) -> None:
    """Refuse a file whose metadata declares more columns or cells than it is read for
    (pyarrow; with fastparquet alone the sizes are not checked first)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception as exc:  # pyarrow's own errors included
        raise _unreadable(path, exc) from None
    rows, width = int(meta.num_rows), int(meta.num_columns)
    check_width(path, width)
    size = path.stat().st_size
    limit = max(MAX_CELLS, CELLS_PER_BYTE * size)
    if rows * width > limit:
        raise TableError(
            f"{path}: the file declares {rows} rows of {width} columns in {size} bytes; "
            f"at most {limit} cells are read from a file of this size"
        )


def _frame(path: Path):
    import pandas as pd

    engine = _engine()
    if engine == "pyarrow":
        _check_size(path)
    try:
        return pd.read_parquet(path, engine=engine)
    except Exception as exc:  # pyarrow's and fastparquet's own errors included
        raise _unreadable(path, exc) from None


def _is_number(cell) -> bool:
    if isinstance(cell, complex | np.complexfloating):
        return False
    return isinstance(cell, numbers.Real | Decimal | np.number | np.bool_)


def _numeric(dtype) -> bool:
    """Booleans and real numbers of a pandas (or numpy) type, nullable ones included."""
    from pandas.api import types

    if types.is_complex_dtype(dtype):
        return False
    return types.is_bool_dtype(dtype) or types.is_numeric_dtype(dtype)


def _why_not(series) -> str | None:
    """Why a column cannot be a feature (after "is not numeric: "), or None."""
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if _numeric(dtype):
        return None
    if types.is_complex_dtype(dtype):
        return f"it holds complex numbers ({dtype})"
    if isinstance(dtype, pd.CategoricalDtype):
        return "it holds categories (category)"
    if getattr(dtype, "kind", None) in ("m", "M"):
        return f"it holds dates or times ({dtype})"
    text = types.is_string_dtype(dtype) and not types.is_object_dtype(dtype)
    if not (text or types.is_object_dtype(dtype)):
        return f"it holds {show(dtype)[1:-1]} values"  # a struct type names its fields
    for i, cell in enumerate(series.tolist()):
        if cell is None or cell is pd.NA or (isinstance(cell, float) and cell != cell):
            continue
        if isinstance(cell, str):
            return f"{_row(i)} has {show(cell)} (text)"
        if not _is_number(cell):
            return f"{_row(i)} has {show(cell)} ({type(cell).__name__})"
    return None


def read_parquet(path: Path) -> RawTable:
    """A Parquet file through pandas; a named (non-range) index becomes a column."""
    frame = _frame(path)  # first: it names the extra when pandas is missing
    import pandas as pd

    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    if frame.shape[1] == 0:
        raise TableError(f"{path} is empty (no columns)")
    check_width(path, frame.shape[1])
    if frame.shape[0] == 0:
        raise TableError(f"{path} has a header but no data rows")
    names, unnamed = name_columns([str(name) for name in frame.columns])

    def column(j: int):
        series = frame.iloc[:, j]
        if _numeric(series.dtype):
            with np.errstate(invalid="ignore"):  # a signalling NaN warns when cast
                return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return [None if value is pd.NA else value for value in series.tolist()]

    return RawTable(
        source=str(path),
        names=names,
        n_rows=frame.shape[0],
        column=column,
        where=_row,
        unnamed=unnamed,
        refuse=lambda j: _why_not(frame.iloc[:, j]),
    )
