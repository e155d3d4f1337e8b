"""The confusion matrix of report.html (clusters against the labels) puts the pairs of
the Hungarian assignment on its diagonal, and each cluster's header names its majority
class and purity; at k = 20 with as many classes, with more clusters than classes and
with fewer."""

import csv
import html.parser
import re

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra
pytest.importorskip("jinja2")
from scipy.optimize import linear_sum_assignment

from conftest import write_levels
from kmeanskit.cli import main

MARKUP = 'c"<em>x'  # a folder name that is markup: shown as text, never as a tag


def _natural(label):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", label) if t]


class Page(html.parser.HTMLParser):
    """The #confusion table (``head``: its first row, each column's id and class;
    ``rows``: the others, label and cells with their text and classes) and the <h3>
    text of every cluster section."""

    def __init__(self):
        super().__init__()
        self.head, self.rows, self.titles = [], [], {}
        self._in_table = False
        self._cell = self._section = self._h3 = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "confusion":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("th", "td"):
            self._cell = {"tag": tag, "text": [], "class": (attrs.get("class") or "").split()}
        elif self._cell is not None and tag == "span":  # the class under a column's id
            self._cell["class"] += (attrs.get("class") or "").split()
        elif tag == "section" and "cluster" in (attrs.get("class") or ""):
            self._section = int(attrs["data-cluster"])
        elif tag == "h3" and self._section is not None:
            self._h3 = []
        assert tag != "em", "a label became markup"

    def handle_endtag(self, tag):
        if tag == "table" and self._in_table:
            self._in_table = False
            self.head = self.rows.pop(0)
        elif tag in ("th", "td") and self._cell is not None:
            self.rows[-1].append(self._cell)
            self._cell = None
        elif tag == "h3" and self._h3 is not None:
            self.titles[self._section] = "".join(self._h3)
            self._h3 = None

    def handle_data(self, data):
        if self._cell is not None and data.strip():
            self._cell["text"].append(data.strip())
        if self._h3 is not None:
            self._h3.append(data)


def _run(tmp_path, sizes, k, noise):
    """A run of ``k`` clusters over classes of ``sizes`` images (class i: grey level
    ``12 * i``); the class names are ``c0, c1, ...`` (the one at index 3: ``MARKUP``)."""
    photos = tmp_path / "photos"
    levels = np.linspace(5, 250, len(sizes))
    for i, n in enumerate(sizes):
        name = MARKUP if i == 3 else f"c{i}"
        write_levels(photos / name, n, [levels[i]], side=8, noise=noise, seed=i)
    out = tmp_path / "run"
    args = ["cluster", str(photos), "--k", str(k), "--features", "pixels", "--size", "8"]
    assert main([*args, "--labels-from", "parent", "--out", str(out), "--no-cache"]) == 0
    with open(out / "assignments.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<em>" not in page and "c&#34;&lt;em&gt;x" in page
    parser = Page()
    parser.feed(page)
    return rows, parser


def _check(rows, page, k):
    """The table holds the counts of assignments.csv, with the pairs of a maximal one
    to one matching on its diagonal; the headers name the majority class and purity."""
    classes = sorted({r["label"] for r in rows}, key=_natural)
    counts = np.zeros((len(classes), k), dtype=int)
    for r in rows:
        counts[classes.index(r["label"]), int(r["cluster"])] += 1
    ids = [int(c["text"][0]) for c in page.head[1:]]
    mapped = [c["text"][1] for c in page.head[1:]]
    labels = [row[0]["text"][0] for row in page.rows]
    assert sorted(ids) == list(range(k)) and sorted(labels) == sorted(classes)
    shown = np.array(
        [[int(c["text"][0]) if c["text"] else 0 for c in row[1:]] for row in page.rows]
    )
    order = [classes.index(label) for label in labels]
    assert (shown == counts[np.ix_(order, ids)]).all()
    n_pairs = min(len(classes), k)  # no cluster is empty here
    assert labels[:n_pairs] == mapped[:n_pairs]  # each column headed by its pair's class
    pairs = [
        (i, j)
        for i, row in enumerate(page.rows)
        for j, c in enumerate(row[1:])
        if "pair" in c["class"]
    ]
    assert pairs == [(i, i) for i in range(n_pairs)]  # every pair on the diagonal
    best = counts[linear_sum_assignment(counts, maximize=True)].sum()
    assert np.trace(shown) == best  # as many images as the Hungarian assignment
    for j in range(k):  # the sections' headers
        size = counts[:, j].sum()
        found = re.search(r"mostly (.+) \((\d+) %\)$", page.titles[j])
        assert found, page.titles[j]
        assert counts[classes.index(found[1]), j] == counts[:, j].max()
        assert int(found[2]) == 100 * counts[:, j].max() // size
    return classes, counts, ids, mapped, labels


def test_as_many_clusters_as_classes(tmp_path):
    sizes = [4 + (7 * i) % 9 for i in range(20)]  # largest-first ids differ from names
    rows, page = _run(tmp_path, sizes, k=20, noise=2)
    classes, _, ids, _, labels = _check(rows, page, 20)
    assert labels == classes  # the classes in natural order: c2 before c10
    assert ids != list(range(20))  # the clusters follow them


def test_more_clusters_than_classes(tmp_path):
    sizes = [10, 30, 12, 24, 16]
    rows, page = _run(tmp_path, sizes, k=12, noise=25)
    classes, counts, ids, mapped, labels = _check(rows, page, 12)
    assert labels == classes
    extra = page.head[1 + len(classes) :]
    assert len(extra) == 12 - len(classes) and all("extra" in c["class"] for c in extra)
    for j, name in zip(ids[len(classes) :], mapped[len(classes) :], strict=True):
        assert counts[classes.index(name), j] == counts[:, j].max()  # its majority class
    rank = [labels.index(name) for name in mapped[len(classes) :]]
    assert rank == sorted(rank)  # the clusters left over in the order of that class


def test_fewer_clusters_than_classes(tmp_path):
    sizes = [5 + (5 * i) % 7 for i in range(14)]
    rows, page = _run(tmp_path, sizes, k=6, noise=2)
    classes, counts, ids, _, labels = _check(rows, page, 6)
    assert ids == list(range(6))  # the clusters by id; the classes follow them
    left = [classes.index(label) for label in labels[6:]]
    holder = [int(np.argmax(counts[i, ids])) for i in left]
    assert holder == sorted(holder)  # the classes left over by the cluster holding most
