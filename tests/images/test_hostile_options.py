"""Every option's value is range-checked before the work, and its error names the option
and the value received (issue 20, items 5 and 14 and their class)."""

import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image

from kmeanskit.cli import main


@pytest.fixture()
def photos(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(6):
        Image.new("RGB", (12, 10), (40 * i, 20, 200 - 30 * i)).save(root / f"{i}.png")
    return root


CASES = [
    (["cluster", "{photos}", "--size", "30000"], "size must be at most 2048", "--size 30000"),
    (["cluster", "{photos}", "--components", "0"], "n_components must be a positive", "0"),
    (["cluster", "{photos}", "--jobs", "0"], "n_jobs must be a positive int", "--jobs 0"),
    (["cluster", "{photos}", "--k", "5:2"], "the k range must lie between", "--k '5:2'"),
    (["cluster", "{photos}", "--k", "0"], "k must be between 1", "--k 0"),
    (["features", "{photos}", "--k", "0"], "k must be between 1", "--k 0"),
    (["quantize", "{photo}", "--colors", "100000"], "n_colors must be an int", "--colors 100000"),
    (["segment", "{photo}", "--k", "0"], "k must be an int from 1", "--k 0"),
    (["segment", "{photo}", "--position-weight", "nan"], "finite number", "--position-weight nan"),
]


@pytest.mark.parametrize("args,what,named", CASES, ids=lambda v: str(v)[:40])
def test_an_option_out_of_range_is_one_line_naming_it(photos, tmp_path, capsys, args, what, named):
    out = tmp_path / ("out.npz" if args[0] == "features" else "out.png")
    if args[0] == "cluster":
        out = tmp_path / "out"
    values = {"photos": str(photos), "photo": str(photos / "0.png")}
    argv = [a.format(**values) for a in args] + ["--out", str(out)]
    if args[0] in ("cluster", "features"):
        argv += ["--no-cache"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert what in err and named in err and err.count("\n") == 1, err
    assert not out.exists()
