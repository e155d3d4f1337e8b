"""Everything the report reads back from a run folder is untrusted: names in
``k_scores.json``, ids, column names and file names reach the page as text only."""

import json

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
