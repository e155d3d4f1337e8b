"""``kmeanskit report`` and ``kmeanskit plot`` on both kinds of run folder (images and
table), each made by ``kmeanskit cluster`` and by hand from the declared schema
(:mod:`kmeanskit.runs.layout`); damaged run folders give one line naming the file; the
figures leave matplotlib's backend alone; the report's modules stay in their layer."""

import ast
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
pytest.importorskip("jinja2")
from PIL import Image

from conftest import write_levels
from kmeanskit.cli import main
from kmeanskit.report import figures
from kmeanskit.report.pages import PAGES
from kmeanskit.runs.layout import KINDS, SUMMARY_FILE, read_summary

REPORT = Path(figures.__file__).parent


def _cli_images(folder: Path) -> Path:
    photos = write_levels(folder / "photos", 12, (30, 220), side=8, noise=4, seed=0)
    run = folder / "run"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--features",
                "pixels",
                "--size",
                "8",
                "--k",
                "2",
                "--out",
                str(run),
                "--no-cache",
            ]
        )
        == 0
    )
    return run


def _cli_table(folder: Path) -> Path:
    rng = np.random.RandomState(0)
    data = folder / "items.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "weight", "length"])
        for i in range(30):
            centre = (i % 3) * 10.0
            writer.writerow([f"item-{i}", centre + rng.normal(0, 1), centre + rng.normal(0, 1)])
    run = folder / "run"
    assert main(["cluster", str(data), "--out", str(run), "--k", "3", "--id-column", "id"]) == 0
    return run


def _write(run: Path, summary: dict, header: list, rows: list, k_scores: dict) -> Path:
    run.mkdir(parents=True)
    with open(run / "assignments.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    np.save(run / "map.npy", np.random.RandomState(1).rand(len(rows), 2))
    (run / "k_scores.json").write_text(json.dumps(k_scores))
    (run / SUMMARY_FILE).write_text(json.dumps(summary))
    return run


K_SCORES = {
    "k": [2, 3, 4],
    "scores": {"elbow": [9.0, 4.0, 3.5], "silhouette": [0.4, 0.6, None]},
    "best": {"elbow": 3, "silhouette": 3},
    "recommended": 3,
    "explanation": "k=3: elbow and silhouette agree",
}
COMMON = {
    "input": "somewhere",
    "k_choice": "k=3",
    "algorithm": "Lloyd",
    "inertia": 1.5,
    "cluster_sizes": [4, 4, 4],
    "scores": {"silhouette": 0.5},
    "outputs": {},
    "seconds": 0.25,
    "k": 3,
    "n_rows": 12,
}


def _hand_images(folder: Path) -> Path:
    """An image run written by hand, in the schema of kmeanskit.runs.layout."""
    photos = folder / "photos"
    photos.mkdir()
    rows = []
    for i in range(12):
        Image.new("L", (8, 8), 20 * i).save(photos / f"{i}.png")
        rows.append([str(photos / f"{i}.png"), i % 3, 0.1 * i, i // 3 + 1])
    summary = {
        **COMMON,
        "kind": "images",
        "features": "pixels",
        "n_images": 12,
        "size": [8, 8],
        "mode": "L",
        "map": "pca",
        "failures": [],
        "scheduler": None,
    }
    return _write(folder / "run", summary, ["path", "cluster", "distance", "rank"], rows, K_SCORES)


def _hand_table(folder: Path) -> Path:
    """A table run written by hand, in the schema of kmeanskit.runs.layout."""
    rows = [[f"row-{i}", i % 3, 0.5] for i in range(12)]
    centres = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 1.0}, {"a": 0.5, "b": 5.0}]
    summary = {
        **COMMON,
        "kind": "table",
        "features": "columns",
        "n_features": 2,
        "feature_names": ["a", "b"],
        "dropped_columns": [],
        "dropped_rows": 0,
        "filled_values": 0,
        "scale": "standard",
        "metric": "euclidean",
        "centres": centres,
        "feature_means": [1.5, 2.5],
        "feature_stds": [1.0, 1.5],
    }
    return _write(folder / "run", summary, ["id", "cluster", "distance"], rows, K_SCORES)


MAKERS = {
    ("images", "cli"): _cli_images,
    ("table", "cli"): _cli_table,
    ("images", "hand"): _hand_images,
    ("table", "hand"): _hand_table,
}


@pytest.fixture(scope="module", params=sorted(MAKERS), ids="-".join)
def made(request, tmp_path_factory):
    """(kind, a finished run folder of that kind): left as made, copied by the tests."""
    kind, how = request.param
    return kind, MAKERS[request.param](tmp_path_factory.mktemp(f"{kind}-{how}"))


@pytest.fixture()
def run(made, tmp_path):
    kind, folder = made
    copy = tmp_path / "run"
    shutil.copytree(folder, copy, symlinks=True)
    for name in ("report.html", "thumbs"):  # what the report builds
        shutil.rmtree(copy / name, ignore_errors=True)
        if (copy / name).is_file():
            (copy / name).unlink()
    return kind, copy


def test_every_kind_has_a_page():
    assert set(PAGES) == set(KINDS)
    for page in PAGES.values():
        assert callable(page.build) and callable(page.describe_map)


def test_report_on_each_kind(run, capsys):
    kind, folder = run
    assert main(["report", str(folder)]) == 0
    assert str(folder / "report.html") in capsys.readouterr().out
    page = (folder / "report.html").read_text(encoding="utf-8")
    summary = read_summary(folder)
    words = f"{summary['n_rows']} {KINDS[kind]}"
    assert f"<title>kmeanskit report: {words}, {summary['k']} clusters</title>" in page
    assert f"<h1>kmeanskit: {words} in {summary['k']} clusters</h1>" in page
    for element in ("summary", "overview", "map", "sizes", "data"):
        assert f'id="{element}"' in page
    chosen = (folder / "k_scores.json").is_file()  # by hand: yes; by the CLI: --k K, no
    assert page.count('class="kcurve"') == 2 * chosen and page.count("<script") == 2
    assert "http://" not in page and "https://" not in page
    data = json.loads(page.split('id="data">')[1].split("</script>")[0])
    assert len(data["x"]) == len(data["c"]) == summary["n_rows"]
    if kind == "images":
        assert 'id="search"' in page and page.count('class="cluster"') == summary["k"]
        assert len(list((folder / "thumbs").glob("*.jpg"))) == summary["n_rows"]
        assert "Map of all images" in page and 'id="centres"' not in page
    else:
        assert 'id="centres"' in page and 'id="profile"' in page and 'id="tip"' in page
        assert data["ids"] and "Map of all rows" in page and 'id="search"' not in page
        assert not (folder / "thumbs").exists()


def test_plot_on_each_kind(run, tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")  # the 'plot' extra; installed in CI
    kind, folder = run
    backend = matplotlib.get_backend()
    drawn = {}
    save = figures._save

    def spy(fig, path):
        drawn[path.name] = fig
        return save(fig, path)

    monkeypatch.setattr(figures, "_save", spy)
    figs = tmp_path / "figs"
    assert main(["plot", str(folder), "--out", str(figs)]) == 0
    assert matplotlib.get_backend() == backend
    chosen = (folder / "k_scores.json").is_file()
    expected = ["k_scores.png", "map.png", "sizes.png"][not chosen :]
    assert sorted(p.name for p in figs.iterdir()) == expected
    for path in figs.iterdir():
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size[0] > 100
    summary = read_summary(folder)
    sizes = drawn["sizes.png"].axes[0]
    unit = KINDS[kind]
    assert sizes.get_title() == f"{summary['n_rows']} {unit} in {summary['k']} clusters"
    assert sizes.get_ylabel() == unit
    described = {"images": "PCA of the features", "table": "PCA of the (scaled) features"}
    assert drawn["map.png"].axes[0].get_title() == f"2-d {described[kind]}, coloured by cluster"
    if chosen:
        assert len(drawn["k_scores.png"].axes) == 2
    assert main(["plot", str(folder), "--out", str(figs)]) == 1  # no --force: nothing replaced
    assert main(["plot", str(folder), "--out", str(figs), "--force"]) == 0


def test_plot_leaves_the_backend_and_pyplot_alone(made, tmp_path):
    # in a fresh interpreter whose backend is not Agg: plot_run must not switch it
    pytest.importorskip("matplotlib")
    code = (
        "import sys, matplotlib; from kmeanskit.cli import main; "
        f"code = main(['plot', {str(made[1])!r}, '--out', {str(tmp_path)!r}]); "
        "print(code, 'matplotlib.pyplot' in sys.modules, matplotlib.get_backend())"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    assert done.stdout.split()[-3:] == ["0", "False", "svg"]


DAMAGE = {
    "wrong type": (SUMMARY_FILE, lambda s: json.dumps({**s, "k": "three"})),
    "not JSON": (SUMMARY_FILE, lambda s: '{"kind": "images", "k": '),
    "not an object": (SUMMARY_FILE, lambda s: "[1, 2, 3]"),
    "unknown kind": (SUMMARY_FILE, lambda s: json.dumps({**s, "kind": "sounds"})),
    "sizes of text": (SUMMARY_FILE, lambda s: json.dumps({**s, "cluster_sizes": ["a"] * s["k"]})),
    "cluster out of range": ("assignments.csv", None),
    "k scores": ("k_scores.json", lambda s: json.dumps({"k": [2, 3], "scores": {"x": [1]}})),
    "map": ("map.npy", None),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_run_folder_is_one_line_naming_the_file(run, damage, capsys, tmp_path):
    _, folder = run
    name, make = DAMAGE[damage]
    summary = json.loads((folder / SUMMARY_FILE).read_text())
    if name == "assignments.csv":
        text = (folder / name).read_text(encoding="utf-8").splitlines()
        head, first = text[0].split(","), next(csv.reader([text[1]]))
        first[head.index("cluster")] = "7"
        (folder / name).write_text("\n".join([text[0], ",".join(first), *text[2:]]) + "\n")
    elif name == "map.npy":
        np.save(folder / name, np.zeros((3, 5)))
    else:
        (folder / name).write_text(make(summary), encoding="utf-8")
    for command in (["report", str(folder)], ["plot", str(folder), "--out", str(tmp_path)]):
        assert main(command) == 1, command
        err = capsys.readouterr().err
        assert err.startswith("kmeanskit: error: ") and err.count("\n") == 1, err
        assert str(folder / name) in err, err
    assert not (folder / "report.html").exists() and not list(tmp_path.glob("*.png"))


def test_not_a_run_folder(tmp_path, capsys):
    for command in ("report", "plot"):
        assert main([command, str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert "is not a run folder" in err and err.count("\n") == 1


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a file of kmeanskit.report imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = ["kmeanskit", "report"][: 3 - node.level] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


#: what the report must not import: it reads run folders, whoever wrote them
LOWER = ("kmeanskit.images", "kmeanskit.estimators", "kmeanskit.cli")


def test_the_report_stays_in_its_layer():
    pages = {
        "images_page.py": "kmeanskit.report.table_page",
        "table_page.py": "kmeanskit.report.images_page",
    }
    for path in REPORT.glob("*.py"):
        for name in _imports(path):
            assert not name.startswith(LOWER), f"{path.name} imports {name}"
            assert not name.startswith(pages.get(path.name, "-")), f"{path.name}: {name}"
            assert "pyplot" not in name, f"{path.name} imports {name}"
        assert "matplotlib.use(" not in path.read_text(encoding="utf-8"), path.name
