"""Binary tables: NumPy ``.npy`` and ``.npz`` (dense or scipy sparse), and Parquet.

Parquet needs pandas and pyarrow (or fastparquet), imported when a Parquet file is
read, never by ``import kmeanskit``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._common import RawTable, TableError

__all__ = ["read_npy", "read_npz", "read_parquet"]

#: the keys of a matrix written by ``scipy.sparse.save_npz``
_SPARSE_KEYS = {"format", "shape"}
#: the names a dense array in a several-array ``.npz`` is found by
_PREFERRED = ("X", "data")
_EXTRA = "pip install 'kmeanskit[tables]'"


def _row(i: int) -> str:
    return f"row {i + 1}"


def _dense_table(path: Path, array: np.ndarray, what: str) -> RawTable:
    if array.dtype.names is not None:
        raise TableError(f"{path}: {what} is a structured array; save a 2-D numeric array")
    if array.dtype.kind not in "biuf":
        raise TableError(f"{path}: {what} holds {array.dtype} values, not numbers")
    if array.ndim != 2:
        hint = " (reshape(-1, 1) for one feature)" if array.ndim == 1 else ""
        raise TableError(
            f"{path}: {what} has {array.ndim} dimensions, shape {array.shape}; "
            f"a table needs 2{hint}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise TableError(f"{path} is empty ({what} has shape {array.shape})")
    return RawTable(
        source=str(path),
        names=[f"x{j}" for j in range(array.shape[1])],
        n_rows=array.shape[0],
        column=lambda j: array[:, j],
        where=_row,
    )


def read_npy(path: Path) -> RawTable:
    """A 2-D numeric array saved with :func:`numpy.save`."""
    with open(path, "rb") as fh:
        if fh.read(6) != b"\x93NUMPY":
            raise TableError(f"{path} is not a valid .npy file (no NumPy header)")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise TableError(f"{path} holds Python objects, not numbers") from None
        raise TableError(f"{path} is not a valid .npy file ({exc})") from None
    except (EOFError, OSError) as exc:
        raise TableError(f"{path} is not a valid .npy file ({exc})") from None
    return _dense_table(path, array, "the array")


def read_npz(path: Path) -> RawTable:
    """A ``.npz`` archive: a matrix saved by :func:`scipy.sparse.save_npz` (returned as
    CSR), its single array, or its array named ``X`` or ``data``."""
    if not zipfile.is_zipfile(path):
        raise TableError(f"{path} is not a valid .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            sparse = _SPARSE_KEYS <= set(names)
            if sparse:
                pass
            elif not names:
                raise TableError(f"{path} is empty (the archive holds no arrays)")
            elif len(names) == 1:
                name = names[0]
            else:
                found = [name for name in _PREFERRED if name in names]
                if not found:
                    listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
                    raise TableError(
                        f"{path} holds {len(names)} arrays ({listed}); name the table X or data"
                    )
                name = found[0]
            array = None if sparse else archive[name]
        if sparse:
            matrix = sp.load_npz(path)
    except TableError:
        raise
    except (ValueError, KeyError, EOFError, OSError, zipfile.BadZipFile) as exc:
        if "allow_pickle" in str(exc):
            raise TableError(f"{path} holds Python objects, not numbers") from None
        raise TableError(f"{path} is not a valid .npz file ({exc})") from None
    if not sparse:
        return _dense_table(path, array, f"array '{name}'")
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise TableError(f"{path} is empty (the matrix has shape {matrix.shape})")
    if matrix.dtype.kind not in "biuf":
        raise TableError(f"{path}: the matrix holds {matrix.dtype} values, not real numbers")
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    matrix.sum_duplicates()
    return RawTable(
        source=str(path),
        names=[f"x{j}" for j in range(matrix.shape[1])],
        n_rows=matrix.shape[0],
        column=lambda j: matrix[:, j],
        where=_row,
        matrix=matrix,
    )


def _parquet_frame(path: Path):
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(f"reading Parquet needs pandas and pyarrow: {_EXTRA}") from None
    engine = None
    for name in ("pyarrow", "fastparquet"):
        try:
            __import__(name)
        except ImportError:
            continue
        engine = name
        break
    if engine is None:
        raise ImportError(f"reading Parquet needs pyarrow: {_EXTRA}")
    try:
        return pd.read_parquet(path, engine=engine)
    except Exception as exc:  # pyarrow's and fastparquet's own errors included
        ours = isinstance(exc, ValueError | TypeError | OSError)
        if not ours and type(exc).__module__.split(".")[0] not in ("pyarrow", "fastparquet"):
            raise
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise TableError(f"{path} is not a readable Parquet file ({first})") from None


def read_parquet(path: Path) -> RawTable:
    """A Parquet file through pandas; a named (non-range) index becomes a column."""
    import pandas as pd

    frame = _parquet_frame(path)
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    if frame.shape[1] == 0:
        raise TableError(f"{path} is empty (no columns)")
    if frame.shape[0] == 0:
        raise TableError(f"{path} has a header but no data rows")
    names = [str(name) for name in frame.columns]

    def column(j: int):
        series = frame.iloc[:, j]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            if not pd.api.types.is_complex_dtype(series):
                return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return [None if value is pd.NA else value for value in series.tolist()]

    return RawTable(source=str(path), names=names, n_rows=frame.shape[0], column=column, where=_row)
