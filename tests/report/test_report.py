"""report.html: structure, stable colours, and file names that cannot inject HTML."""

import csv
import html.parser
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
pytest.importorskip("jinja2")
from PIL import Image

from conftest import write_levels
from kmeanskit.cli import main
from kmeanskit.report import build_report, cluster_colours

NASTY = [
    "plain.png",
    "with space.png",
    'quote"double.png',
    "quote'single.png",
    "<script>alert(1)<\\script>.png",
    "<img src=x onerror=alert(2)>.png",
    "--><!--x.png",
    "é-ünïcode-日本.png",
    "amp&lt;.png",
]


class Collector(html.parser.HTMLParser):
    """Every tag and its attributes, and the text of scripts."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


@pytest.fixture()
def run(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, name in enumerate(NASTY * 2):
        sub = photos / ("a" if i < len(NASTY) else "b")
        sub.mkdir(exist_ok=True)
        Image.new("L", (16, 16), 20 if i < len(NASTY) else 230).save(sub / name, "PNG")
    out = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "2",
                "--features",
                "pixels",
                "--size",
                "8",
                "--labels-from",
                "parent",
                "--out",
                str(out),
                "--no-cache",
            ]
        )
        == 0
    )
    return out


def test_names_are_data_not_markup(run):
    page = (run / "report.html").read_text(encoding="utf-8")
    parser = Collector()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    # only the page's own scripts, and no element made from a file name: the galleries
    # are built in the browser from the JSON data (tests/report/test_browser.py)
    assert tags.count("script") == 2
    assert "img" not in tags and not [a for t, a in parser.tags if "onerror" in a]
    for raw in ("<script>alert", "<img src=x", "--><!--"):
        assert raw not in page
    data = json.loads(parser.scripts[0])  # the embedded data parses back, names exact
    assert sorted(data["names"]) == sorted(NASTY * 2)
    assert len(data["x"]) == 2 * len(NASTY) and set(data["c"]) == {0, 1}
    shown = [i for g in data["galleries"] for i in g["near"] + g["far"]]
    assert sorted(shown) == list(range(2 * len(NASTY))) and data["missing"] == []
    assert {Path(data["paths"][str(i)]).name for i in shown} == set(NASTY)


def test_structure_and_rebuild(run, capsys):
    page = (run / "report.html").read_text(encoding="utf-8")
    assert page.count('class="cluster"') == 2
    assert 'id="map"' in page and 'id="search"' in page and 'id="sizes"' in page
    assert 'id="confusion"' in page  # labels were given
    assert "http://" not in page and "https://" not in page  # nothing from the network
    thumbs = sorted((run / "thumbs").glob("*.jpg"))
    assert len(thumbs) == 18
    for path in thumbs:
        with Image.open(path) as im:
            assert max(im.size) <= 64
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").read_text(encoding="utf-8") == page
    assert main(["report", str(run / "nope")]) == 1
    assert "is not a run folder" in capsys.readouterr().err


def test_unreadable_image_gets_no_thumbnail(run):
    rows = (run / "assignments.csv").read_text(encoding="utf-8").splitlines()
    broken = Path(next(csv.reader([rows[1]]))[0])
    broken.write_bytes(b"not a png any more")
    for thumb in (run / "thumbs").glob("*.jpg"):
        thumb.unlink()
    page = build_report(run).read_text(encoding="utf-8")
    parser = Collector()
    parser.feed(page)
    data = json.loads(parser.scripts[0])
    assert data["missing"] == [0]  # shown as "no preview", not as a broken <img>
    assert len(list((run / "thumbs").glob("*.jpg"))) == 17


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_map_by_tsne_or_umap(tmp_path, method):
    if method == "umap":
        pytest.importorskip("umap")
    photos = write_levels(tmp_path / "p", 30, (40, 120, 210), side=8, noise=5, seed=2)
    out = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "3",
                "--features",
                "pixels",
                "--size",
                "8",
                "--map",
                method,
                "--out",
                str(out),
                "--no-cache",
            ]
        )
        == 0
    )
    xy = np.load(out / "map.npy")
    assert xy.shape == (30, 2) and np.isfinite(xy).all() and xy.std(axis=0).min() > 0
    assert json.loads((out / "summary.json").read_text())["map"] == method
    page = (out / "report.html").read_text(encoding="utf-8")
    assert {"tsne": "A 2-d t-SNE", "umap": "A 2-d UMAP"}[method] in page


def test_colours_are_fixed_per_cluster_id():
    assert cluster_colours(5)[:3] == cluster_colours(3)
    assert len(set(cluster_colours(500))) > 450


def test_k_curves_when_k_was_chosen(tmp_path):
    photos = write_levels(tmp_path / "p", 24, (40, 210), side=8, noise=5, seed=0)
    out = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "2:5",
                "--features",
                "pixels",
                "--size",
                "8",
                "--out",
                str(out),
                "--no-cache",
            ]
        )
        == 0
    )
    page = build_report(out).read_text(encoding="utf-8")
    assert page.count('class="kcurve"') >= 4


def test_plot_writes_the_figures(tmp_path):
    pytest.importorskip("matplotlib")
    photos = write_levels(tmp_path / "p", 24, (40, 210), side=8, noise=5, seed=1)
    out = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "2:4",
                "--features",
                "pixels",
                "--size",
                "8",
                "--out",
                str(out),
                "--no-cache",
            ]
        )
        == 0
    )
    assert main(["plot", str(out), "--out", str(tmp_path / "figs")]) == 0
    for name in ("sizes.png", "map.png", "k_scores.png"):
        with Image.open(tmp_path / "figs" / name) as im:
            assert im.size[0] > 100
