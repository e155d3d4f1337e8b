"""kmeanskit.tables.read_table: every format, column choice, ids, errors, missing values."""

import logging
import re
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from kmeanskit.tables import Table, TableError, read_table
from kmeanskit.tables._text import looks_like_header

FRUIT = "name,weight,length,colour\napple,150,8,red\npear,180,10,green\nplum,40,4,purple\n"
NUMBERS = [[150.0, 8.0], [180.0, 10.0], [40.0, 4.0]]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def exact(message):
    """``match=`` for the whole one-line message."""
    return "^" + re.escape(message) + "$"


# ---------------------------------------------------------------- formats


def test_csv_with_header_and_id_column(tmp_path):
    path = write(tmp_path, "fruit.csv", FRUIT)
    table = read_table(path, id_column="name", columns="weight,length")
    assert isinstance(table, Table)
    assert table.X.dtype == np.float64 and table.X.tolist() == NUMBERS
    assert table.ids == ["apple", "pear", "plum"]
    assert table.feature_names == ["weight", "length"]
    assert table.dropped == ["colour"]
    assert table.source == str(path) and table.n_rows == 3


def test_tsv(tmp_path):
    path = write(tmp_path, "fruit.tsv", FRUIT.replace(",", "\t"))
    table = read_table(path, id_column="name", columns=["weight", "length"])
    assert table.X.tolist() == NUMBERS


def test_whitespace_txt_without_header(tmp_path):
    path = write(tmp_path, "points.txt", "    1    2\n  3.5\t4\n\n-5  6e1\n")
    table = read_table(path)
    assert table.X.tolist() == [[1.0, 2.0], [3.5, 4.0], [-5.0, 60.0]]
    assert table.feature_names == ["x0", "x1"]
    assert table.ids == ["row 1", "row 2", "row 3"]


def test_semicolon_csv(tmp_path):
    path = write(tmp_path, "eu.csv", "a;b;c\n1;2;3\n4;5;6\n")
    table = read_table(path)
    assert table.feature_names == ["a", "b", "c"]
    assert table.X.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_dat_with_commas_quotes_and_crlf(tmp_path):
    path = tmp_path / "quoted.dat"
    path.write_bytes(b'\xef\xbb\xbf"id","x"\r\n"Smith, J",1\r\n"Doe, A",2\r\n')
    table = read_table(path, id_column="id")
    assert table.ids == ["Smith, J", "Doe, A"] and table.X.ravel().tolist() == [1, 2]


def test_npy(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(6, dtype=np.int32).reshape(3, 2))
    table = read_table(path)
    assert table.X.dtype == np.float64 and table.X.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert table.feature_names == ["x0", "x1"] and table.ids == ["row 1", "row 2", "row 3"]
    assert read_table(path, id_column=0).ids == ["0", "2", "4"]


@pytest.mark.parametrize("arrays", [{"only": 0}, {"X": 0, "labels": 1}, {"data": 0, "y": 1}])
def test_dense_npz(tmp_path, arrays):
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    stored = {name: X if i == 0 else np.array([0, 1]) for name, i in arrays.items()}
    np.savez(tmp_path / "x.npz", **stored)
    assert read_table(tmp_path / "x.npz").X.tolist() == X.tolist()


def test_sparse_npz(tmp_path):
    X = sp.random(20, 6, density=0.3, format="csr", random_state=0)
    sp.save_npz(tmp_path / "x.npz", X)
    table = read_table(tmp_path / "x.npz")
    assert sp.issparse(table.X) and table.X.format == "csr"
    assert np.array_equal(table.X.toarray(), X.toarray())
    picked = read_table(tmp_path / "x.npz", columns=[4, 1])
    assert picked.feature_names == ["x4", "x1"] and picked.dropped == ["x0", "x2", "x3", "x5"]
    assert np.array_equal(picked.X.toarray(), X.toarray()[:, [4, 1]])


def test_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"name": ["a", "b"], "x": [1.5, None], "n": pd.array([1, 2], "Int64")})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(
        TableError,
        match=exact(
            f"{tmp_path / 't.parquet'}: missing value at row 2, column 'x' (1); "
            "pass missing='mean', 'median' or 'drop' to fill or drop"
        ),
    ):
        read_table(tmp_path / "t.parquet", id_column="name")
    table = read_table(tmp_path / "t.parquet", id_column="name", missing="median")
    assert table.X.tolist() == [[1.5, 1.0], [1.5, 2.0]] and table.ids == ["a", "b"]


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "fastparquet", None)
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(ImportError, match=re.escape("pip install 'kmeanskit[tables]'")):
        read_table(path)


def test_franti_s1(shared_data):
    S1 = shared_data / "sipu" / "s1.txt"
    table = read_table(S1)
    assert table.X.shape == (5000, 2) and table.n_rows == 5000
    assert table.X[0].tolist() == [157138.0, 565993.0]
    assert np.array_equal(table.X, np.loadtxt(S1))
    assert table.feature_names == ["x0", "x1"] and table.ids[-1] == "row 5000"


# ---------------------------------------------------------------- header and columns


def test_header_detection():
    assert looks_like_header(["id", "x"], [["a", "1"]])
    assert looks_like_header(["x", "y"], [])
    assert not looks_like_header(["a", "1"], [["b", "2"]])  # a headerless id column
    assert not looks_like_header(["ann", "NA"], [["bob", "2"]])  # NA is a missing value
    assert not looks_like_header(["1", "2"], [["3", "4"]])


def test_header_forced(tmp_path):
    path = write(tmp_path, "n.csv", "1,2\n3,4\n")
    assert read_table(path).n_rows == 2
    table = read_table(path, header=True)
    assert table.feature_names == ["1", "2"] and table.X.tolist() == [[3, 4]]
    assert read_table(path, header=True, columns="2").X.tolist() == [[4]]  # a name first


def test_columns_by_index_and_mixed(tmp_path):
    path = write(tmp_path, "fruit.csv", FRUIT)
    assert read_table(path, columns=[2, 1]).feature_names == ["length", "weight"]
    assert read_table(path, columns="length, 1").X[:, 1].tolist() == [150, 180, 40]
    assert read_table(path, columns=1).X.shape == (3, 1)


def test_trailing_delimiter_is_not_a_column(tmp_path):
    path = write(tmp_path, "t.csv", "a,b,\n1,2,\n3,4,\n")
    assert read_table(path).feature_names == ["a", "b"]


def test_sep_given(tmp_path):
    path = write(tmp_path, "t.txt", "a|b\n1|2\n")
    assert read_table(path, sep="|").X.tolist() == [[1, 2]]
    with pytest.raises(
        ValueError, match=exact("sep='||' should be None, one character or 'whitespace'")
    ):
        read_table(path, sep="||")


# ---------------------------------------------------------------- errors


def test_non_numeric_column_is_refused_not_skipped(tmp_path):
    path = write(tmp_path, "fruit.csv", FRUIT)
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: column 'name' (0) is not numeric: line 2 has 'apple'; "
            "choose columns with columns=... or name it with id_column=..."
        ),
    ):
        read_table(path)
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: column 'colour' (3) is not numeric: line 2 has 'red'; "
            "choose columns with columns=... or name it with id_column=..."
        ),
    ):
        read_table(path, id_column="name")
    path = write(tmp_path, "late.csv", FRUIT + "fig,7,3,purple\n" * 2 + "kiwi,x7,2,brown\n")
    with pytest.raises(TableError, match=r"column 'weight' \(1\) is not numeric: line 7 has 'x7'"):
        read_table(path, id_column="name", columns="length,weight")


@pytest.mark.parametrize("name", ["absent.csv", "absent.npz", "absent.parquet"])
def test_missing_file_is_the_systems_error(tmp_path, name):
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / name)


def test_empty_file(tmp_path):
    path = write(tmp_path, "e.csv", "")
    with pytest.raises(TableError, match=exact(f"{path} is empty")):
        read_table(path)
    path = write(tmp_path, "blank.txt", "\n  \n\n")
    with pytest.raises(TableError, match=exact(f"{path} is empty")):
        read_table(path)


def test_header_only(tmp_path):
    path = write(tmp_path, "h.csv", "a,b,c\n")
    with pytest.raises(TableError, match=exact(f"{path} has a header but no data rows")):
        read_table(path)


def test_ragged_row(tmp_path):
    rows = "".join(f"{i},{i},{i},{i},{i}\n" for i in range(10))
    path = write(tmp_path, "r.csv", "a,b,c,d,e\n" + rows + "1,2,3,4\n")
    with pytest.raises(TableError, match=exact(f"{path}: line 12 has 4 fields; the header has 5")):
        read_table(path)
    path = write(tmp_path, "r.txt", "1 2\n\n3 4 5\n")
    with pytest.raises(TableError, match=exact(f"{path}: line 3 has 3 fields; line 1 has 2")):
        read_table(path)


@pytest.mark.parametrize("token", ["", "NA", "NaN", "null", "?", " n/a "])
def test_missing_value(tmp_path, token):
    rows = "".join(f"{i},{i + 1}\n" for i in range(7))
    path = write(tmp_path, "m.csv", f"a,b\n{rows}7,{token}\n")
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: missing value at line 9, column 'b' (1); "
            "pass missing='mean', 'median' or 'drop' to fill or drop"
        ),
    ):
        read_table(path)


def test_infinite_value(tmp_path):
    path = write(tmp_path, "inf.csv", "id,a,b\nr1,1,2\nr2,-inf,4\nr3,1,inf\n")
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: infinite value '-inf' at line 3, column 'a' (1); "
            "only finite numbers can be clustered"
        ),
    ):
        read_table(path, id_column="id", missing="mean")
    np.save(tmp_path / "inf.npy", np.array([[1.0, 2.0], [np.inf, np.nan]]))
    with pytest.raises(TableError, match=r"infinite value 'inf' at row 2, column 'x0' \(0\)"):
        read_table(tmp_path / "inf.npy")


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(
        TableError,
        match=exact(
            f"{path} is not a text table (encoding: byte 0xe9 at position 7 is not UTF-8; "
            "save it as UTF-8)"
        ),
    ):
        read_table(path)


def test_binary_file_named_csv(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(
        TableError, match=exact(f"{path} is not a text table (it holds binary data: byte 8 is NUL)")
    ):
        read_table(path)
    path = tmp_path / "u16.csv"
    path.write_bytes("a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(TableError, match=r"is not a text table \(encoding: UTF-16"):
        read_table(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"columns": "weight,size"},
            "no column 'size'; the columns are name, weight, length, colour",
        ),
        ({"columns": [1, 9]}, "column index 9 is out of range; the table has 4 columns (0-3)"),
        ({"columns": "weight,1"}, "column 'weight' (1) is chosen twice"),
        (
            {"id_column": "name", "columns": [0, 1]},
            "column 'name' (0) cannot be both the id column and a feature",
        ),
    ],
)
def test_bad_columns(tmp_path, kwargs, message):
    path = write(tmp_path, "fruit.csv", FRUIT)
    with pytest.raises(TableError, match=exact(f"{path}: {message}")):
        read_table(path, **kwargs)


def test_bad_options(tmp_path):
    path = write(tmp_path, "t.csv", "1,2\n")
    with pytest.raises(
        ValueError, match=exact("missing='zero' should be one of 'error', 'mean', 'median', 'drop'")
    ):
        read_table(path, missing="zero")
    with pytest.raises(ValueError, match=exact("header='yes' should be 'auto', True or False")):
        read_table(path, header="yes")
    path = write(tmp_path, "t.xlsx", "")
    with pytest.raises(TableError, match=r"unknown table format '\.xlsx'; use one of \.csv"):
        read_table(path)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (
            np.arange(3.0),
            "the array has 1 dimensions, shape (3,); a table needs 2 "
            "(reshape(-1, 1) for one feature)",
        ),
        (np.array([["a", "b"]]), "the array holds <U1 values, not numbers"),
        (np.zeros((0, 3)), "is empty (the array has shape (0, 3))"),
    ],
)
def test_bad_npy(tmp_path, array, message):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    sep = " " if message.startswith("is") else ": "
    with pytest.raises(TableError, match=exact(f"{path}{sep}{message}")):
        read_table(path)


def test_bad_npz(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 2)), b=np.ones(2))
    with pytest.raises(
        TableError,
        match=exact(f"{tmp_path / 'two.npz'} holds 2 arrays (a, b); name the table X or data"),
    ):
        read_table(tmp_path / "two.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(TableError, match=r"junk\.npz is not a valid \.npz file"):
        read_table(tmp_path / "junk.npz")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(TableError, match=r"junk\.npy is not a valid \.npy file"):
        read_table(tmp_path / "junk.npy")
    sp.save_npz(tmp_path / "s.npz", sp.eye(3, format="csr"))
    with pytest.raises(TableError, match="a sparse matrix has no id column"):
        read_table(tmp_path / "s.npz", id_column=0)


# ---------------------------------------------------------------- missing-value modes

GAPS = "id,a,b\nr1,1,10\nr2,,20\nr3,3,NA\nr4,5,60\nr5,7,?\n"


def test_missing_mean_and_median(tmp_path, caplog):
    path = write(tmp_path, "g.csv", GAPS)
    with caplog.at_level(logging.INFO, logger="kmeanskit.tables"):
        mean = read_table(path, id_column="id", missing="mean")
    assert mean.X[:, 0].tolist() == [1, 4, 3, 5, 7] and mean.X[:, 1].tolist() == [
        10,
        20,
        30,
        60,
        30,
    ]
    assert mean.n_filled == 3 and "filled 3 missing values with the column mean" in caplog.text
    median = read_table(path, id_column="id", missing="median")
    assert median.X[:, 0].tolist() == [1, 4, 3, 5, 7] and median.X[1, 1] == 20 == median.X[4, 1]
    assert median.ids == ["r1", "r2", "r3", "r4", "r5"]


def test_missing_drop_says_how_many(tmp_path, caplog):
    path = write(tmp_path, "g.csv", GAPS)
    with caplog.at_level(logging.WARNING, logger="kmeanskit.tables"):
        table = read_table(path, id_column="id", missing="drop")
    assert table.X.tolist() == [[1, 10], [5, 60]] and table.ids == ["r1", "r4"]
    assert table.n_rows == 2 and table.dropped_rows == ["r2", "r3", "r5"]
    assert "dropped 3 of 5 rows with a missing value (the first at line 3)" in caplog.text
    assert read_table(path, missing="drop", columns="a").ids == ["row 1", "row 3", "row 4", "row 5"]


def test_missing_fill_impossible(tmp_path):
    path = write(tmp_path, "g.csv", "a,b\n1,\n2,NA\n")
    with pytest.raises(
        TableError, match=exact(f"{path}: column 'b' (1) has no values to compute the mean from")
    ):
        read_table(path, missing="mean")
    with pytest.raises(
        TableError,
        match=exact(f"{path}: every row has a missing value; nothing is left after missing='drop'"),
    ):
        read_table(path, missing="drop")


def test_missing_in_sparse(tmp_path):
    X = sp.csr_matrix(np.array([[1.0, 0.0], [np.nan, 2.0], [0.0, 3.0]]))
    sp.save_npz(tmp_path / "s.npz", X)
    with pytest.raises(TableError, match=r"missing value at row 2, column 'x0' \(0\)"):
        read_table(tmp_path / "s.npz")
    assert read_table(tmp_path / "s.npz", missing="drop").X.toarray().tolist() == [[1, 0], [0, 3]]
    with pytest.raises(TableError, match="missing='mean' is not supported for a sparse matrix"):
        read_table(tmp_path / "s.npz", missing="mean")
