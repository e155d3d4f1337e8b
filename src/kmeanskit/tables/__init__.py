"""Tables of numbers for clustering: reading CSV, TSV, text, Parquet and NumPy files
(:func:`read_table`) and scaling their columns (:class:`Scaler`).

Only numpy and scipy are needed; Parquet also needs pandas and pyarrow (the ``tables``
extra), imported when a Parquet file is read.
"""

from .io import Table, TableError, read_table
from .scaling import Scaler

__all__ = ["Scaler", "Table", "TableError", "read_table"]
