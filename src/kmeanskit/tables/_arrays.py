"""NumPy tables: ``.npy`` and ``.npz`` (a dense array, or a scipy sparse matrix).

Every array's header is checked before its data is read (:mod:`._npyfile`): a file
declaring more bytes than it holds, a table of more than :data:`MAX_COLUMNS` columns,
or a sparse matrix of more than that many rows with fewer stored values than rows, is
refused before anything of its declared size is allocated. Booleans are read as 0 and
1, float16 values exactly as float64; complex numbers, dates, text and Python objects
are refused.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._common import MAX_COLUMNS, RawTable, TableError, check_width, show
from ._npyfile import npy_entries, open_npz, read_entry, read_npy_file, shape_text

__all__ = ["read_npy", "read_npz"]

#: the keys of a matrix written by ``scipy.sparse.save_npz``
_SPARSE_KEYS = {"format", "shape"}
#: the sparse formats read (``save_npz`` of a CSR, CSC or COO matrix or array)
_SPARSE_FORMATS = ("csr", "csc", "coo")
#: the names a dense array in a several-array ``.npz`` is found by
_PREFERRED = ("X", "data")


def _row(i: int) -> str:
    return f"row {i + 1}"


def _dense_check(path: Path, what: str):
    """The checks of a dense table's header (``check(shape, dtype)``)."""

    def check(shape: tuple, dtype: np.dtype) -> None:
        if dtype.names is not None:
            raise TableError(f"{path}: {what} is a structured array; save a 2-D numeric array")
        if dtype.kind not in "biuf":
            raise TableError(f"{path}: {what} holds {dtype} values, not numbers")
        if len(shape) != 2:
            hint = " (reshape(-1, 1) for one feature)" if len(shape) == 1 else ""
            raise TableError(
                f"{path}: {what} has {len(shape)} dimensions, shape {shape_text(shape)}; "
                f"a table needs 2{hint}"
            )
        if shape[0] == 0 or shape[1] == 0:
            raise TableError(f"{path} is empty ({what} has shape {shape})")
        check_width(path, shape[1], what)

    return check


def _dense_table(path: Path, array: np.ndarray) -> RawTable:
    return RawTable(
        source=str(path),
        names=[f"x{j}" for j in range(array.shape[1])],
        n_rows=array.shape[0],
        column=lambda j: array[:, j],
        where=_row,
    )


def read_npy(path: Path) -> RawTable:
    """A 2-D numeric array saved with :func:`numpy.save`."""
    return _dense_table(path, read_npy_file(path, _dense_check(path, "the array")))


def read_npz(path: Path) -> RawTable:
    """A ``.npz`` archive: a matrix saved by :func:`scipy.sparse.save_npz` (returned as
    CSR), its single array, or its array named ``X`` or ``data``."""
    with open_npz(path) as zf:
        entries = npy_entries(zf)
        names = list(entries)
        if _SPARSE_KEYS <= set(names):
            return _sparse_table(path, zf, entries)
        if not names:
            raise TableError(f"{path} is empty (the archive holds no arrays)")
        if len(names) == 1:
            name = names[0]
        else:
            found = [name for name in _PREFERRED if name in names]
            if not found:
                # names quoted as show() does: one line (found by fuzz_table_reader.py)
                listed = ", ".join(show(name)[1:-1] for name in names[:10])
                listed += ", ..." if len(names) > 10 else ""
                raise TableError(
                    f"{path} holds {len(names)} arrays ({listed}); name the table X or data"
                )
            name = found[0]
        check = _dense_check(path, f"array {show(name)}")
        array = read_entry(path, zf, entries[name], check)
    return _dense_table(path, array)


def _part(path, zf, entries, key: str, kinds: str, ndim: int) -> np.ndarray:
    """One array of a sparse matrix (a writable copy), of ``ndim`` dimensions and a
    dtype kind in ``kinds``."""
    if key not in entries:
        raise TableError(
            f"{path}: the sparse matrix has no '{key}' array; save it with scipy.sparse.save_npz"
        )

    def check(shape: tuple, dtype: np.dtype) -> None:
        if dtype.names is not None or dtype.kind not in kinds:
            if key == "data":
                raise TableError(f"{path}: the matrix holds {dtype} values, not real numbers")
            raise TableError(f"{path}: the sparse matrix's '{key}' array holds {dtype} values")
        if len(shape) != ndim:
            raise TableError(
                f"{path}: the sparse matrix's '{key}' array has shape {shape_text(shape)}; "
                f"it should have {ndim} dimension{'s' * (ndim != 1)}"
            )

    return np.array(read_entry(path, zf, entries[key], check))


def _sparse_shape(path, zf, entries) -> tuple[str, int, int]:
    """The format and shape a ``save_npz`` file declares, checked."""
    fmt = _part(path, zf, entries, "format", "SU", 0).item()
    if isinstance(fmt, bytes):
        fmt = fmt.decode("ascii", errors="replace")
    if fmt not in _SPARSE_FORMATS:
        raise TableError(
            f"{path}: a sparse matrix in format {show(fmt)} is not read; "
            "save it as CSR, CSC or COO (scipy.sparse.save_npz)"
        )
    shape = _part(path, zf, entries, "shape", "iu", 1)
    if shape.shape != (2,) or shape.min() < 0:
        raise TableError(
            f"{path} is not a valid .npz file (the sparse matrix's shape is "
            f"{show(shape.tolist())}; it should be two sizes)"
        )
    rows, cols = (int(size) for size in shape)
    if 0 in (rows, cols):
        raise TableError(f"{path} is empty (the matrix has shape {(rows, cols)})")
    check_width(path, cols, "the sparse matrix")
    return fmt, rows, cols


def _sparse_table(path: Path, zf: zipfile.ZipFile, entries: dict) -> RawTable:
    fmt, rows, cols = _sparse_shape(path, zf, entries)
    data = _part(path, zf, entries, "data", "biuf", 1)
    if fmt != "coo":
        index = [_part(path, zf, entries, key, "iu", 1) for key in ("indices", "indptr")]
    elif "coords" in entries and "row" not in entries:
        coords = _part(path, zf, entries, "coords", "iu", 2)
        if coords.shape[0] != 2:
            raise TableError(
                f"{path}: the sparse matrix's 'coords' array has shape {coords.shape}; "
                "a table's has 2 rows"
            )
        index = [coords[0], coords[1]]
    else:
        index = [_part(path, zf, entries, key, "iu", 1) for key in ("row", "col")]
    nnz = data.shape[0]
    if rows > max(nnz, MAX_COLUMNS):  # its CSR form allocates a number a row
        raise TableError(
            f"{path}: the sparse matrix declares {rows} rows with only {nnz} stored "
            f"value{'s' * (nnz != 1)}; "
            f"past {MAX_COLUMNS} rows a matrix needs a value a row"
        )
    try:
        if fmt == "coo":
            if not index[0].shape == index[1].shape == data.shape:
                raise ValueError("row, column and data arrays differ in length")
            matrix = sp.coo_matrix((data, tuple(index)), shape=(rows, cols))  # checks ranges
        else:
            kind = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
            matrix = kind((data, *index), shape=(rows, cols))
            matrix.check_format(full_check=True)  # indices in range, indptr increasing
        with np.errstate(invalid="ignore"):  # a signalling NaN warns when cast
            matrix = sp.csr_matrix(matrix, dtype=np.float64)
            matrix.sum_duplicates()
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise TableError(f"{path} is not a valid .npz file (the sparse matrix: {first})") from None
    return RawTable(
        source=str(path),
        names=[f"x{j}" for j in range(cols)],
        n_rows=rows,
        column=lambda j: matrix[:, j],
        where=_row,
        matrix=matrix,
    )
