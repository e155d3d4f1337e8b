"""Names a user controls (issue 20): repeated and blank header names decided once, at
reading; names and ids kept as text whatever they hold; messages on one line."""

import re

import pytest

from kmeanskit.tables import TableError, read_table


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def exact(message):
    return "^" + re.escape(message) + "$"


# ---------------------------------------------------------------- repeated names


def test_repeated_header_names_are_refused(tmp_path):
    # issue 20: the summary's centres kept 2 of 3 columns, and predict refused the file
    path = write(tmp_path, "t.csv", "a,a,b\n1,2,3\n4,5,6\n")
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: column name 'a' is used by columns 0 and 1; rename them in the file, "
            "or choose one of them by index with columns=... or id_column=..."
        ),
    ):
        read_table(path)


def test_a_repeated_name_chosen_once_by_index_is_read(tmp_path):
    path = write(tmp_path, "t.csv", "a,a,b\n1,2,3\n4,5,6\n")
    table = read_table(path, columns=[1, 2])
    assert table.feature_names == ["a", "b"] and table.X.tolist() == [[2, 3], [5, 6]]
    assert table.dropped == ["a"]
    assert read_table(path, columns="b").X.tolist() == [[3], [6]]
    with pytest.raises(TableError, match=r"column name 'a' is ambiguous \(columns 0 and 1\)"):
        read_table(path, columns="a,b")
    with pytest.raises(TableError, match=r"column name 'a' is used by columns 0 and 1;"):
        read_table(path, id_column=0, columns=[1, 2])


def test_repeated_names_through_cluster_and_predict(tmp_path):
    from kmeanskit.runs.tables import cluster_table, predict_table

    rows = "".join(f"{i % 2 * 9 + i * 0.01},{i},{i % 3}\n" for i in range(12))
    path = write(tmp_path, "t.csv", "a,a,b\n" + rows)
    with pytest.raises(TableError, match="column name 'a' is used by columns 0 and 1"):
        cluster_table(path, tmp_path / "refused", k=2)
    assert not (tmp_path / "refused").exists()
    summary = cluster_table(path, tmp_path / "run", k=2, columns="0,2")
    assert [sorted(c) for c in summary["centres"]] == [["a", "b"], ["a", "b"]]
    rows = predict_table(tmp_path / "run", [path])  # the training file, as it was read
    assert len(rows) == 12


def test_blank_header_names_are_features_only_when_chosen(tmp_path):
    # DataFrame.to_csv writes its index under a blank name: never clustered by default
    path = write(tmp_path, "t.csv", ",a,b\n0,1.5,3\n1,2.5,4\n")
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: column 0 has no name in the header; choose the features with "
            "columns=... (it is 'x0' or 0) or name it with id_column=0"
        ),
    ):
        read_table(path)
    table = read_table(path, id_column=0)
    assert table.ids == ["0", "1"] and table.feature_names == ["a", "b"]
    assert read_table(path, columns="x0,a").feature_names == ["x0", "a"]


def test_a_blank_name_meeting_a_real_one(tmp_path):
    path = write(tmp_path, "t.csv", "x1, ,b\n1,2,3\n")
    with pytest.raises(TableError, match="column 1 has no name in the header"):
        read_table(path)
    with pytest.raises(TableError, match=r"column name 'x1' is used by columns 0 and 1;"):
        read_table(path, columns=[0, 1])


def test_repeated_names_in_parquet(tmp_path):
    # pyarrow itself refuses to make a frame of them: one line naming the file
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("pandas")
    table = pa.Table.from_arrays([pa.array([1.0, 2.0])] * 2, names=["a", "a"])
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    with pytest.raises(TableError, match=f"^{re.escape(str(path))} is not a readable Parquet"):
        read_table(path, columns=[1])


# ---------------------------------------------------------------- names kept as text

INJECTION = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)"]


def test_names_and_ids_that_a_spreadsheet_would_run_are_kept_verbatim(tmp_path):
    # neutralising them is the job of the CSV writers (runs/folder.py, _cli_tables.py)
    header = "id," + ",".join(f'"{name}"' for name in ("=a", "@b"))
    rows = "".join(f'"{ident}",{i},{i * 2}\n' for i, ident in enumerate(INJECTION))
    path = write(tmp_path, "t.csv", header + "\n" + rows)
    table = read_table(path, id_column="id")
    assert table.ids == INJECTION and table.feature_names == ["=a", "@b"]


def test_a_very_long_name_is_kept_and_shown_short(tmp_path):
    name = "é" * 300  # 600 bytes
    path = write(tmp_path, "t.csv", f"{name},b\n1,x\n")
    table = read_table(path, columns=[0])
    assert table.feature_names == [name]
    path = write(tmp_path, "bad.csv", f"{name},b\nx,1\n")
    with pytest.raises(TableError) as info:
        read_table(path)
    message = str(info.value)
    assert message.startswith(f"{path}: column '{'é' * 37}...' (0) is not numeric")
    assert len(message) < 250


def test_a_name_with_a_line_break_is_kept_and_shown_on_one_line(tmp_path):
    path = write(tmp_path, "t.csv", '"two\nlines",b\n1,2\nx,3\n')
    with pytest.raises(
        TableError,
        match=exact(
            f"{path}: column 'two lines' (0) is not numeric: line 4 has 'x'; "
            "choose columns with columns=... or name it with id_column=..."
        ),
    ):
        read_table(path)
    assert read_table(path, columns="b").dropped == ["two\nlines"]
    with pytest.raises(TableError) as info:
        read_table(path, columns="two\nline")
    assert "\n" not in str(info.value)


def test_control_characters_in_names_are_escaped_in_messages(tmp_path):
    path = write(tmp_path, "t.csv", "a\x0bb\u2028c,d\nx,1\n")
    with pytest.raises(TableError) as info:
        read_table(path)
    assert len(str(info.value).splitlines()) == 1
    assert "'a\\x0bb\\u2028c' (0)" in str(info.value)


def test_nul_anywhere_in_a_text_file_is_refused(tmp_path):
    # only the first 64 KiB were looked at; later, a NUL went into an id
    path = tmp_path / "t.csv"
    rows = "".join(f"r{i},{i}\n" for i in range(8000))
    data = ("id,x\n" + rows).encode()
    path.write_bytes(data + b"r\x00,1\n")
    with pytest.raises(
        TableError,
        match=exact(
            f"{path} is not a text table (it holds binary data: byte {len(data) + 1} is NUL)"
        ),
    ):
        read_table(path, id_column="id")


def test_bytes_that_are_not_utf8_in_a_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"ok,caf\xe9\n1,2\n")
    with pytest.raises(
        TableError,
        match=exact(
            f"{path} is not a text table (encoding: byte 0xe9 at position 6 is not UTF-8; "
            "save it as UTF-8)"
        ),
    ):
        read_table(path)


def test_a_column_named_by_a_digit_that_is_not_ascii(tmp_path):
    # '²'.isdigit() holds, and int('²') raised a bare ValueError
    path = write(tmp_path, "t.csv", "a,b\n1,2\n")
    with pytest.raises(TableError, match=exact(f"{path}: no column '²'; the columns are a, b")):
        read_table(path, columns="²")
    assert read_table(path, columns="1").feature_names == ["b"]
