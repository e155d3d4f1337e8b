"""Hostile tables (issue 20): declared sizes checked before anything is allocated, and
what the reader hands on validated (types, magnitudes); one-line TableErrors."""

import io
import re
import struct
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from kmeanskit.tables import TableError, read_table
from kmeanskit.tables._common import MAX_COLUMNS, parse_numbers

HINT = "choose columns with columns=... or name it with id_column=..."


def exact(message):
    """``match=`` for the whole one-line message."""
    return "^" + re.escape(message) + "$"


def npy_header(shape, descr="<f8") -> bytes:
    """The header of an ``.npy`` file (version 1.0) declaring ``shape``."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    text = text.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin-1")


def npz(path, **arrays):
    """An ``.npz`` of the arrays given (bytes values are whole ``.npy`` entries)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in arrays.items():
            if not isinstance(value, bytes):
                buf = io.BytesIO()
                np.save(buf, value)
                value = buf.getvalue()
            zf.writestr(f"{name}.npy", value)
    return path


# ---------------------------------------------------------------- declared sizes


def test_sparse_npz_declaring_a_trillion_columns(tmp_path):
    # issue 20: 1 kB, and `kmeanskit cluster` built 10**12 column names until killed
    indptr = np.r_[0, np.ones(30, dtype=np.int64)]
    path = npz(
        tmp_path / "t.npz",
        format=np.array(b"csr"),
        shape=np.array([30, 10**12]),
        data=np.ones(1),
        indices=np.array([0]),
        indptr=indptr,
    )
    assert path.stat().st_size < 2048
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: the sparse matrix has 1000000000000 columns; at most 1048576 can be read"
        ),
    ):
        read_table(path)


@pytest.mark.parametrize("fmt", ["coo", "csc"])
def test_sparse_npz_declaring_more_rows_than_values(tmp_path, fmt):
    # scipy's CSR form of it allocates a number a row: 8 TB here
    arrays = {"row": np.array([0]), "col": np.array([0])}
    if fmt == "csc":
        arrays = {"indices": np.array([0]), "indptr": np.array([0, 1, 1])}
    path = npz(
        tmp_path / "t.npz",
        format=np.array(fmt.encode()),
        shape=np.array([10**12, 2]),
        data=np.ones(1),
        **arrays,
    )
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: the sparse matrix declares 1000000000000 rows with only 1 stored value; "
            "past 1048576 rows a matrix needs a value a row"
        ),
    ):
        read_table(path)


def test_a_sparse_matrix_of_many_empty_rows_below_the_limit_is_read(tmp_path):
    X = sp.csr_matrix(([1.0, 2.0], ([0, 4999], [1, 0])), shape=(5000, 3))
    sp.save_npz(tmp_path / "t.npz", X)
    table = read_table(tmp_path / "t.npz")
    assert table.X.shape == (5000, 3) and table.X.nnz == 2


def test_sparse_indices_out_of_range_are_refused(tmp_path):
    path = npz(
        tmp_path / "t.npz",
        format=np.array(b"csr"),
        shape=np.array([2, 3]),
        data=np.ones(2),
        indices=np.array([0, 7]),
        indptr=np.array([0, 1, 2]),
    )
    with pytest.raises(TableError, match=r"t\.npz is not a valid \.npz file \(the sparse matrix"):
        read_table(path)


def test_sparse_format_not_read(tmp_path):
    sp.save_npz(tmp_path / "t.npz", sp.dia_matrix(np.eye(3)))
    with pytest.raises(
        TableError,
        match=exact(
            f"{tmp_path / 't.npz'}: a sparse matrix in format 'dia' is not read; save it as "
            "CSR, CSC or COO (scipy.sparse.save_npz)"
        ),
    ):
        read_table(tmp_path / "t.npz")


def test_npy_header_declaring_a_trillion_columns(tmp_path):
    path = tmp_path / "t.npy"
    path.write_bytes(npy_header((30, 10**12)) + bytes(64))
    with pytest.raises(
        TableError,
        match=exact(f"{path}: the array has 1000000000000 columns; at most 1048576 can be read"),
    ):
        read_table(path)


def test_npy_header_declaring_more_than_the_file_holds(tmp_path):
    # numpy allocates the declared 8 GB before reading the 100 bytes there are
    path = tmp_path / "t.npy"
    path.write_bytes(npy_header((1000000, 1000)) + bytes(100))
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: the array declares shape (1000000, 1000) of float64 (8000000000 bytes); "
            "the file holds 100"
        ),
    ):
        read_table(path)


def test_npz_entry_declaring_more_than_it_holds(tmp_path):
    path = npz(tmp_path / "t.npz", X=npy_header((100000, 1000)) + bytes(8))
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: array 'X' declares shape (100000, 1000) of float64 (800000000 bytes); "
            "the file holds 8"
        ),
    ):
        read_table(path)


def test_npz_entry_claiming_to_inflate_past_deflate(tmp_path):
    path = tmp_path / "t.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("X.npy", npy_header((2, 2)) + bytes(32))
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    compressed = struct.unpack_from("<I", data, central + 20)[0]
    struct.pack_into("<I", data, central + 24, 2000 * compressed)  # the uncompressed size
    path.write_bytes(bytes(data))
    with pytest.raises(
        TableError,
        match=exact(
            f"{path} is not a valid .npz file (array 'X': {2000 * compressed} bytes compressed "
            f"into {compressed}, more than 1100 to 1)"
        ),
    ):
        read_table(path)


def test_npz_without_npy_entries(tmp_path):
    # np.load gave the entry's bytes, and the reader failed with AttributeError
    path = tmp_path / "t.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "not an array")
    with pytest.raises(TableError, match=exact(f"{path} is empty (the archive holds no arrays)")):
        read_table(path)


def test_text_with_more_columns_than_the_limit(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["1"] * (MAX_COLUMNS + 1)) + "\n")
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: the table has {MAX_COLUMNS + 1} columns; at most 1048576 can be read"
        ),
    ):
        read_table(path)


def test_parquet_declaring_more_cells_than_its_size_allows(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    from kmeanskit.tables import _parquet

    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": np.zeros(20000, dtype=np.int8)}).to_parquet(path)
    size = path.stat().st_size
    monkeypatch.setattr(_parquet, "MAX_CELLS", 1000)
    monkeypatch.setattr(_parquet, "CELLS_PER_BYTE", 1)
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: the file declares 20000 rows of 1 columns in {size} bytes; at most "
            f"{max(1000, size)} cells are read from a file of this size"
        ),
    ):
        read_table(path)


# ---------------------------------------------------------------- what is handed on


def test_bool_and_float16_arrays_are_numbers(tmp_path):
    np.save(tmp_path / "b.npy", np.array([[True, False], [False, True]]))
    assert read_table(tmp_path / "b.npy").X.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    half = np.array([[0.1, 65504.0], [-2.5, 1e-3]], dtype=np.float16)
    np.save(tmp_path / "h.npy", half)
    X = read_table(tmp_path / "h.npy").X
    assert X.dtype == np.float64 and np.array_equal(X, half.astype(np.float64))


@pytest.mark.parametrize(
    ("array", "held"),
    [
        (np.array([[1 + 2j, 3]]), "complex128"),
        (np.array([["2020-01-01"]], dtype="datetime64[D]"), "datetime64[D]"),
        (np.array([[1]], dtype="timedelta64[s]"), "timedelta64[s]"),
    ],
)
def test_complex_and_dates_in_npy_are_refused(tmp_path, array, held):
    np.save(tmp_path / "t.npy", array)
    with pytest.raises(
        TableError,
        match=exact(f"{tmp_path / 't.npy'}: the array holds {held} values, not numbers"),
    ):
        read_table(tmp_path / "t.npy")


def test_complex_sparse_matrix_is_refused(tmp_path):
    sp.save_npz(tmp_path / "t.npz", sp.csr_matrix(np.array([[1j, 0], [0, 1]])))
    with pytest.raises(
        TableError,
        match=exact(f"{tmp_path / 't.npz'}: the matrix holds complex128 values, not real numbers"),
    ):
        read_table(tmp_path / "t.npz")


@pytest.mark.parametrize(
    ("text", "quoted", "where"),
    [
        ("a,b\n1,2\n-1e200,4\n", "'-1e200'", "line 3, column 'a' (0)"),
        ("a,b\n1,2\n3,1e400\n", "'1e400'", "line 3, column 'b' (1)"),  # past float64: inf
        ("a,b\n1,2\n3,1.5e151\n", "'1.5e151'", "line 3, column 'b' (1)"),
    ],
)
def test_values_too_large_to_cluster_in_text(tmp_path, text, quoted, where):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: value {quoted} at {where} is too large to cluster (beyond 1e+150, "
            "squared distances overflow); rescale the column"
        ),
    ):
        read_table(path)


def test_values_too_large_in_arrays(tmp_path):
    np.save(tmp_path / "t.npy", np.array([[1.0, 2.0], [3.0, -1e300]]))
    with pytest.raises(TableError, match=r"value '-1e\+300' at row 2, column 'x1' \(1\) is too"):
        read_table(tmp_path / "t.npy")
    sp.save_npz(tmp_path / "s.npz", sp.csr_matrix(np.array([[0.0, 1e160], [1.0, 0.0]])))
    with pytest.raises(TableError, match=r"value '1e\+160' at row 1, column 'x1' \(1\) is too"):
        read_table(tmp_path / "s.npz")
    np.save(tmp_path / "ok.npy", np.array([[1e150, -1e150]]))
    assert read_table(tmp_path / "ok.npy").X.tolist() == [[1e150, -1e150]]


def test_a_column_of_nothing_but_missing_values(tmp_path):
    np.save(tmp_path / "t.npy", np.array([[1.0, np.nan], [2.0, np.nan]]))
    with pytest.raises(
        TableError,
        match=exact(
            f"{tmp_path / 't.npy'}: column 'x1' (1) has no values to compute the median from"
        ),
    ):
        read_table(tmp_path / "t.npy", missing="median")
    np.save(tmp_path / "inf.npy", np.array([[np.inf, 1.0], [-np.inf, 2.0]]))
    with pytest.raises(TableError, match=r"infinite value 'inf' at row 1, column 'x0' \(0\)"):
        read_table(tmp_path / "inf.npy", missing="drop")


def test_parse_numbers_with_an_integer_past_float64():
    # an object column of Python ints: np.array and float() raise OverflowError
    values, bad = parse_numbers([1, 10**400])
    assert bad == 1 and values[0] == 1.0


# ---------------------------------------------------------------- Parquet types


@pytest.fixture
def parquet(tmp_path):
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")

    def write(**columns):
        path = tmp_path / "t.parquet"
        pd.DataFrame({"id": ["r1", "r2", "r3"], **columns}).to_parquet(path)
        return path

    return write


def test_parquet_numbers_of_every_width_and_booleans(parquet):
    import pandas as pd

    path = parquet(
        h=np.array([0.5, 1.5, 2.0], dtype=np.float16),
        u=np.array([1, 2, 3], dtype=np.uint8),
        b=[True, False, True],
        nb=pd.array([True, None, False], "boolean"),
        n=pd.array([1, None, 3], "Int64"),
    )
    table = read_table(path, id_column="id", missing="mean")
    assert table.feature_names == ["h", "u", "b", "nb", "n"]
    assert table.X.tolist() == [
        [0.5, 1.0, 1.0, 1.0, 1.0],
        [1.5, 2.0, 0.0, 0.5, 2.0],
        [2.0, 3.0, 1.0, 0.0, 3.0],
    ]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda pd: pd.Categorical(["s", "m", "s"]), "it holds categories (category)"),
        (lambda pd: pd.date_range("2020", periods=3), "it holds dates or times (datetime64"),
        (lambda pd: pd.to_timedelta([1, 2, 3], unit="s"), "it holds dates or times (timedelta64"),
        (lambda pd: ["1.5", "2", "3"], "row 1 has '1.5' (text)"),
        (lambda pd: [[1.0], [2.0], [3.0]], "row 1 has '[1.]' (ndarray)"),
    ],
)
def test_parquet_columns_that_are_not_numbers_are_refused_by_name(parquet, make, reason):
    import pandas as pd

    path = parquet(c=make(pd), x=[1.0, 2.0, 3.0])
    message = f"{path}: column 'c' (1) is not numeric: {reason}"
    with pytest.raises(TableError, match="^" + re.escape(message)) as info:
        read_table(path, id_column="id")
    assert str(info.value).endswith(HINT) and "\n" not in str(info.value)
    assert len(read_table(path, id_column="c", columns="x").ids) == 3  # an id may be anything


def test_parquet_with_damaged_pandas_metadata(tmp_path):
    # found by benchmarks/fuzz/fuzz_table_reader.py: pyarrow rebuilds pandas' index from
    # the JSON the file holds, and a KeyError came out of it
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("pandas")
    import json

    table = pa.table({"x": [1.0, 2.0]})
    meta = {"index_columns": [{"kind": "range", "start": 0, "stop": 2, "step": 1}]}
    meta |= {"column_indexes": [], "columns": [{"name": "x", "field_name": "x"}]}
    table = table.replace_schema_metadata({b"pandas": json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(
        TableError,
        match=exact(
            f"{tmp_path / 't.parquet'} is not a readable Parquet file (KeyError: 'pandas_type')"
        ),
    ):
        read_table(tmp_path / "t.parquet")


def test_npz_with_a_zip64_end_record_spanning_disks(tmp_path):
    # found by benchmarks/fuzz/fuzz_table_reader.py: zipfile.is_zipfile raised BadZipFile
    path = tmp_path / "t.npz"
    locator = b"PK\x06\x07" + struct.pack("<LQL", 0, 0, 2)
    path.write_bytes(locator + b"PK\x05\x06" + bytes(18))
    reason = "zipfiles that span multiple disks are not supported"
    with pytest.raises(TableError, match=exact(f"{path} is not a valid .npz file ({reason})")):
        read_table(path)


def test_npz_entry_names_are_listed_on_one_line(tmp_path):
    # found by benchmarks/fuzz/fuzz_table_reader.py: a name with a record separator
    path = npz(tmp_path / "t.npz", **{"a\x1eb": np.zeros((2, 2)), "c\nd": np.ones(2)})
    with pytest.raises(
        TableError,
        match=exact(f"{path} holds 2 arrays (a\\x1eb, c d); name the table X or data"),
    ):
        read_table(path)


def test_a_signalling_nan_is_a_missing_value_without_a_warning(tmp_path):
    # found by benchmarks/fuzz/fuzz_table_reader.py: casting it to float64 warned
    # "invalid value encountered in cast" (pytest turns warnings into errors)
    X = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    X.view(np.uint32)[1, 0] = 0x7F800001
    np.save(tmp_path / "t.npy", X)
    with pytest.raises(TableError, match=r"missing value at row 2, column 'x0' \(0\)"):
        read_table(tmp_path / "t.npy")
    assert read_table(tmp_path / "t.npy", missing="mean").X.tolist() == [[1, 2], [1, 4]]
    sp.save_npz(tmp_path / "s.npz", sp.csr_matrix(X))
    assert read_table(tmp_path / "s.npz", missing="drop").X.toarray().tolist() == [[1, 2]]


def test_a_field_past_the_csv_modules_limit(tmp_path):
    # sniffing split the line with every delimiter tried, and csv.Error came out
    path = tmp_path / "t.csv"
    path.write_text("id,x\n" + "a" * 200_000 + ",1\n")
    with pytest.raises(
        TableError,
        match=exact(f"{path} is not a readable table (field larger than field limit (131072))"),
    ):
        read_table(path, id_column="id")
