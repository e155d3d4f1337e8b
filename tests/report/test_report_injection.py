"""Everything the report reads back from a run folder is untrusted: names in
``k_scores.json``, ids, column names and file names reach the page as text only."""

import json

import pytest

from kmeanskit.cli import main
from kmeanskit.runs.tables import cluster_table

EVIL = "</title><script>alert(1)</script>"


def _table_run(tmp_path, header="id,a,b"):
    rows = [header] + [f"=cmd|{i},{i % 2 * 9 + i * 0.01},{i % 3}" for i in range(30)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    cluster_table(tmp_path / "t.csv", tmp_path / "run", k="2:4", id_column="id")
    return tmp_path / "run"


def test_a_method_name_in_k_scores_is_text(tmp_path, capsys):
    run = _table_run(tmp_path)
    ks = json.loads((run / "k_scores.json").read_text())
    ks["scores"][EVIL] = ks["scores"].pop("elbow")
    ks["best"][EVIL] = ks["best"].pop("elbow")
    (run / "k_scores.json").write_text(json.dumps(ks))
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "<script>alert(1)" not in page
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_column_names_and_ids_are_text(tmp_path, capsys):
    run = _table_run(tmp_path, header=f"id,{EVIL},b")
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "<script>alert(1)" not in page


def test_ids_a_spreadsheet_would_run_are_written_quoted(tmp_path):
    run = _table_run(tmp_path)
    lines = (run / "assignments.csv").read_text().splitlines()
    assert lines[1].startswith("'=cmd|0,")  # a spreadsheet shows it, never runs it
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert '"=cmd|0"' in page and "'=cmd" not in page  # read back as the id it was


def test_relative_paths_a_spreadsheet_would_run_still_find_their_images(tmp_path, monkeypatch):
    Image = pytest.importorskip("PIL.Image")
    monkeypatch.chdir(tmp_path)
    photos = tmp_path / "=photos"
    photos.mkdir()
    for i in range(4):
        Image.new("L", (8, 8), 60 * i).save(photos / f"+{i}.png")
    args = ["cluster", "=photos", "--k", "2", "--features", "pixels", "--size", "8"]
    assert main([*args, "--out", "run", "--no-cache"]) == 0
    lines = (tmp_path / "run" / "assignments.csv").read_text().splitlines()
    assert all(line.startswith("'=photos") for line in lines[1:])
    page = (tmp_path / "run" / "report.html").read_text()
    assert '"missing": []' in page and len(list((tmp_path / "run" / "thumbs").iterdir())) == 4
