"""What every table reader shares: the error type, missing-value tokens, number parsing.

A reader hands :func:`kmeanskit.tables.io.read_table` a :class:`RawTable`: column names,
one getter per column (strings to parse, or numbers already) and a way to say where a
row is in the file ("line 9" for text, "row 9" for arrays and Parquet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import KmeanskitError

__all__ = [
    "MAX_ABS",
    "MAX_COLUMNS",
    "MISSING_TOKENS",
    "RawTable",
    "TableError",
    "check_width",
    "column_label",
    "name_columns",
    "parse_numbers",
    "show",
]

#: fields read as a missing value (compared after stripping blanks, case-insensitively)
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
#: the most columns a table may have (2**20, a hashing vectorizer's default width): a
#: file declaring more is refused before its column names or arrays are made
MAX_COLUMNS = 1 << 20
#: the largest magnitude of a value: beyond it squared distances (and the sums of
#: squares behind a standard deviation) overflow float64
MAX_ABS = 1e150


class TableError(KmeanskitError, ValueError):
    """A table that cannot be read as it is; the message is one line naming the file,
    and where it applies the line (or row) and the column."""


@dataclass
class RawTable:
    """A table as read from its file, before columns are chosen and parsed.

    ``column(j)`` gives column ``j``: a float array (NaN marks a missing value) or a
    sequence of strings (or objects) still to parse. ``where(i)`` names data row ``i``
    (0-based) for messages. ``matrix`` holds a sparse table (its columns are not parsed).
    ``unnamed`` holds the columns whose header field is blank (named ``x<index>``), which
    are taken as features only when chosen. ``refuse(j)``, where given, says why column
    ``j`` cannot be a feature (its type), or ``None``.
    """

    source: str
    names: list[str]
    n_rows: int
    column: Callable[[int], np.ndarray | Sequence]
    where: Callable[[int], str]
    matrix: sp.csr_matrix | None = None
    unnamed: frozenset[int] = frozenset()
    refuse: Callable[[int], str | None] | None = None


def column_label(names: Sequence[str], j: int) -> str:
    """``'b' (2)``: the column's name (quoted as :func:`show` does) and its 0-based
    index, as ``--columns`` takes it."""
    return f"{show(names[j])} ({j})"


def name_columns(names: Sequence[str]) -> tuple[list[str], frozenset[int]]:
    """Header names as kept: a blank one becomes ``x<index>``; returns the names and
    the indices of the blank ones.

    Examples
    --------
    >>> name_columns(["a", " ", "b"])
    (['a', 'x1', 'b'], frozenset({1}))
    """
    blank = frozenset(j for j, name in enumerate(names) if not name.strip())
    return [f"x{j}" if j in blank else name for j, name in enumerate(names)], blank


def check_width(source, width: int, what: str = "the table") -> None:
    """Refuse a table of more than :data:`MAX_COLUMNS` columns (before its names are
    made)."""
    if width > MAX_COLUMNS:
        limit = f"at most {MAX_COLUMNS} can be read"
        raise TableError(f"{source}: {what} has {width} columns; {limit}")


def _is_missing(cell) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float):
        return cell != cell  # NaN
    if isinstance(cell, str):
        return cell.strip().lower() in MISSING_TOKENS
    return False


def parse_numbers(cells) -> tuple[np.ndarray, int | None]:
    """Parse one column into float64, missing values as NaN.

    Returns ``(values, bad)`` where ``bad`` is the index of the first cell that is
    neither a number nor a missing-value token (``None`` when every cell parsed).

    Examples
    --------
    >>> values, bad = parse_numbers(["1", " 2.5", "NA", ""])
    >>> values.tolist(), bad
    ([1.0, 2.5, nan, nan], None)
    >>> parse_numbers(["1", "red"])[1]
    1
    """
    if isinstance(cells, np.ndarray) and cells.dtype.kind in "biuf":
        # a signalling NaN warns when cast (found by benchmarks/fuzz/fuzz_table_reader.py)
        with np.errstate(invalid="ignore"):
            return cells.astype(np.float64, copy=False), None
    try:  # the fast path: every cell a number
        return np.array(cells, dtype=np.float64), None
    except (ValueError, TypeError, OverflowError):
        pass
    values = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        if _is_missing(cell):
            values[i] = np.nan
            continue
        try:
            values[i] = float(cell)
        except (ValueError, TypeError, OverflowError):  # OverflowError: an int past 1e308
            return values, i
    return values, None


def show(cell) -> str:
    """A cell (or a name) as quoted in a message: at most 40 characters, one line
    (line breaks as blanks, other control characters escaped by ``repr``).

    Examples
    --------
    >>> show("a\\nb"), show("x" * 50)
    ("'a b'", "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'")
    """
    text = str(cell).replace("\n", " ").replace("\r", " ")
    return repr(text if len(text) <= 40 else text[:37] + "...")
