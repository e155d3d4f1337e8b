"""Read a table of samples (rows) and features (columns) from a file.

Formats by suffix: ``.csv``, ``.tsv``, ``.txt`` and ``.dat`` (delimited text),
``.parquet`` (the ``tables`` extra), ``.npy`` and ``.npz`` (dense or scipy sparse).

Messages name the file, where the problem is and the column as ``'name' (index)``,
the 0-based index that ``--columns`` takes. In a text file "line N" is the file's own
line (the header is line 1); in the other formats "row N" counts data rows from 1.

What a hostile or damaged file meets: the sizes a file declares (a ``.npy`` header's
shape, a sparse matrix's shape, a Parquet file's row count) are checked against what
the file holds and against :data:`~kmeanskit.tables._common.MAX_COLUMNS` before
anything of that size is allocated; what reaches ``X`` is finite float64 of magnitude
at most :data:`~kmeanskit.tables._common.MAX_ABS`; names and ids are kept as text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ._arrays import read_npy, read_npz
from ._columns import choose, parse_features
from ._common import MAX_ABS, RawTable, TableError, column_label, show
from ._parquet import read_parquet
from ._text import read_text

__all__ = ["Table", "TableError", "read_table"]

logger = logging.getLogger(__name__)

_TEXT = (".csv", ".tsv", ".txt", ".dat")
_BINARY = {".npy": read_npy, ".npz": read_npz, ".parquet": read_parquet, ".pq": read_parquet}
_MISSING = ("error", "mean", "median", "drop")
_FILL_HINT = "pass missing='mean', 'median' or 'drop' to fill or drop"


@dataclass
class Table:
    """A table read by :func:`read_table`.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features), float64, or scipy CSR matrix
        The features (CSR for a sparse ``.npz``).
    ids : list of str
        One name per row: the id column's values, or ``"row N"`` (N counting data rows
        from 1, before any were dropped) when there is no id column.
    feature_names : list of str
        The names of X's columns (``x0``, ``x1``... where the file has no header).
    source : str
        The file read.
    dropped : list of str
        The columns left out (neither features nor the id column).
    n_rows : int
        The rows of X.
    dropped_rows : list of str
        The ids of the rows dropped by ``missing="drop"``.
    n_filled : int
        The values filled by ``missing="mean"`` or ``"median"``.
    """

    X: np.ndarray | sp.csr_matrix = field(repr=False)
    ids: list[str] = field(repr=False)
    feature_names: list[str]
    source: str
    dropped: list[str]
    n_rows: int
    dropped_rows: list[str] = field(default_factory=list, repr=False)
    n_filled: int = 0


def _check_options(missing, header):
    if missing not in _MISSING:
        allowed = ", ".join(repr(m) for m in _MISSING)
        raise ValueError(f"missing={missing!r} should be one of {allowed}")
    if header not in ("auto", True, False):
        raise ValueError(f"header={header!r} should be 'auto', True or False")


def _flagged(X, test) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of X's cells where ``test(values)`` holds."""
    if sp.issparse(X):
        coo = X.tocoo()
        hit = test(coo.data)
        return coo.row[hit], coo.col[hit]
    return np.nonzero(test(X))


def _first(rows, cols, chosen: list[int]) -> tuple[int, int]:
    """The first flagged cell in file order, as (row, column of X)."""
    at = np.lexsort((np.asarray(chosen)[cols], rows))[0]
    return int(rows[at]), int(cols[at])


def _where(raw: RawTable, cell, chosen) -> str:
    i, k = cell
    return f"{raw.where(i)}, column {column_label(raw.names, chosen[k])}"


def _as_read(raw: RawTable, X, cell, chosen) -> str:
    """A cell quoted as the file has it (a text field such as '1e400'), or its value."""
    i, k = cell
    if raw.matrix is None:
        cells = raw.column(chosen[k])
        if isinstance(cells, list) and isinstance(cells[i], str):
            return show(cells[i].strip())
    return show(X[cell])


def _too_large(values):
    with np.errstate(invalid="ignore"):
        return np.abs(values) > MAX_ABS


def _too_large_error(raw: RawTable, quoted: str, cell, chosen) -> TableError:
    return TableError(
        f"{raw.source}: value {quoted} at {_where(raw, cell, chosen)} is too large to "
        f"cluster (beyond {MAX_ABS:g}, squared distances overflow); rescale the column"
    )


def _check_values(raw: RawTable, X, chosen: list[int], missing: str):
    """Refuse infinities, values too large to cluster and (unless filled or dropped)
    missing values; returns ``(X, kept rows or None, number filled)``."""
    rows, cols = _flagged(X, np.isinf)
    if rows.size:
        cell = _first(rows, cols, chosen)
        quoted = _as_read(raw, X, cell, chosen)
        if "inf" not in quoted.lower():  # a number past float64's range, such as 1e400
            raise _too_large_error(raw, quoted, cell, chosen)
        raise TableError(
            f"{raw.source}: infinite value {quoted} at {_where(raw, cell, chosen)}; only "
            "finite numbers can be clustered"
        )
    rows, cols = _flagged(X, _too_large)
    if rows.size:
        cell = _first(rows, cols, chosen)
        raise _too_large_error(raw, _as_read(raw, X, cell, chosen), cell, chosen)
    rows, cols = _flagged(X, np.isnan)
    if not rows.size:
        return X, None, 0
    if missing == "error":
        cell = _first(rows, cols, chosen)
        raise TableError(
            f"{raw.source}: missing value at {_where(raw, cell, chosen)}; {_FILL_HINT}"
        )
    if missing == "drop":
        bad = np.unique(rows)
        kept = np.setdiff1d(np.arange(X.shape[0]), bad)
        if kept.size == 0:
            raise TableError(
                f"{raw.source}: every row has a missing value; nothing is left after missing='drop'"
            )
        logger.warning(
            "%s: dropped %d of %d rows with a missing value (the first at %s)",
            raw.source,
            bad.size,
            X.shape[0],
            raw.where(int(bad[0])),
        )
        return X[kept], kept, 0
    if raw.matrix is not None:
        raise TableError(
            f"{raw.source}: missing={missing!r} is not supported for a sparse "
            "matrix; use missing='drop', or fill it before saving"
        )
    stat = np.nanmean if missing == "mean" else np.nanmedian
    for k in np.unique(cols):
        column = X[:, k]
        gaps = np.isnan(column)
        if gaps.all():
            raise TableError(
                f"{raw.source}: column {column_label(raw.names, chosen[k])} has no "
                f"values to compute the {missing} from"
            )
        column[gaps] = stat(column)
    logger.info("%s: filled %d missing values with the column %s", raw.source, rows.size, missing)
    return X, None, int(rows.size)


def _id_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


def _read(path: Path, sep, header):
    path.open("rb").close()  # a missing or unreadable file: the system's own OSError
    suffix = path.suffix.lower()
    if suffix in _TEXT:
        return read_text(path, sep=sep, header=header)
    if suffix in _BINARY:
        return _BINARY[suffix](path)
    known = ", ".join((*_TEXT, *_BINARY))
    raise TableError(f"{path}: unknown table format '{path.suffix}'; use one of {known}")


def read_table(
    path,
    *,
    columns: str | Sequence[str | int] | None = None,
    id_column: str | int | None = None,
    missing: str = "error",
    sep: str | None = None,
    header: bool | str = "auto",
) -> Table:
    """Read a table of numbers (one sample a row) for clustering.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.tsv``, ``.txt``, ``.dat``, ``.parquet``, ``.npy`` or ``.npz``.
    columns : list of str or int, or str, optional
        The feature columns, by name or 0-based index, or as one string ``"a,b,3"``.
        By default every column but the id column; a column that is not numeric is then
        refused, never skipped.
    id_column : str or int, optional
        A column of sample names, kept as strings in ``ids`` and left out of X.
    missing : {"error", "mean", "median", "drop"}, default="error"
        Empty fields, NA, N/A, NaN, null, None and ``?`` are missing values: refused, filled
        with the column's mean or median, or their rows dropped (with a log warning).
        Infinite values are always refused.
    sep : str, optional
        The delimiter of a text file: one character or ``"whitespace"``. By default
        sniffed (comma, tab, semicolon or runs of blanks).
    header : "auto", True or False, default="auto"
        Whether a text file's first row names the columns. ``"auto"``: it does when all
        of its fields are non-numbers, or when one of them sits above a numeric column.

    Returns
    -------
    Table

    Raises
    ------
    TableError
        A ``ValueError`` with a one-line message naming the file, the line (or row) and
        the column, for empty files, ragged rows, text in a feature column, missing or
        infinite values, unknown columns and files that are not tables.
    ImportError
        Parquet without pandas and pyarrow (``pip install 'kmeanskit[tables]'``).

    Notes
    -----
    Names are decided once, here, for clustering and prediction alike:

    - Header names are kept verbatim but for surrounding blanks: names starting with
      ``=``, ``+``, ``-`` or ``@``, names of any length, names with line breaks (a
      quoted CSV field) stay as they are; messages quote them shortened, on one line.
    - Two columns used (features and the id column) may not share a name: such a
      table is refused, naming the name and both indices; choose one of them by index
      (``columns=[0, 2]``). A name shared with a column left out is no obstacle.
    - A blank header field names its column ``x<index>``; such a column is a feature
      only when chosen (``columns=`` or ``id_column=``), never by default, as the
      unnamed index column of ``DataFrame.to_csv`` would otherwise be clustered.

    Values: booleans (``.npy``, ``.npz``, Parquet) are 0 and 1; float16 is read exactly
    as float64; complex numbers, dates and times, text, categories and Python objects
    are refused as features, as are infinite values and values beyond 1e150 in
    magnitude (a text field such as ``1e400`` included). A text file must be UTF-8
    without NUL bytes. At most 2**20 columns are read; a sparse matrix of more rows
    than that needs a stored value a row.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = tempfile.mkdtemp()
    >>> path = Path(folder) / "fruit.csv"
    >>> _ = path.write_text("name,weight,length\\napple,150,8\\npear,180,10\\n")
    >>> table = read_table(path, id_column="name")
    >>> table.X.tolist(), table.ids, table.feature_names
    ([[150.0, 8.0], [180.0, 10.0]], ['apple', 'pear'], ['weight', 'length'])
    """
    _check_options(missing, header)
    path = Path(path)
    raw = _read(path, sep, header)
    if raw.matrix is not None and id_column is not None:
        raise TableError(f"{path}: a sparse matrix has no id column; leave out id_column=...")
    chosen, ident = choose(raw, columns, id_column)
    if raw.matrix is None:
        X = parse_features(raw, chosen)
    else:
        X = raw.matrix if chosen == list(range(len(raw.names))) else raw.matrix[:, chosen]
    X, kept, filled = _check_values(raw, X, chosen, missing)
    if ident is None:
        ids = [f"row {i + 1}" for i in range(raw.n_rows)]
    else:
        ids = [_id_text(value) for value in raw.column(ident)]
    dropped_rows = []
    if kept is not None:
        dropped_rows = [ids[i] for i in np.setdiff1d(np.arange(raw.n_rows), kept)]
        ids = [ids[i] for i in kept]
    used = {*chosen, ident}
    return Table(
        X=X,
        ids=ids,
        feature_names=[raw.names[j] for j in chosen],
        source=str(path),
        dropped=[name for j, name in enumerate(raw.names) if j not in used],
        n_rows=X.shape[0],
        dropped_rows=dropped_rows,
        n_filled=filled,
    )
