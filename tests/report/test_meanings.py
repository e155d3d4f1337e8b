"""The report explains its numbers: every score with its meaning and good direction, and
the k-selection curves with their axes."""

from kmeanskit.metrics import SCORES, describe_score, evaluate
from kmeanskit.report._shared import k_svg


def test_every_score_kmeanskit_writes_is_described():
    from kmeanskit.choose_k import INTERNAL_SCORES, METHODS

    names = set(evaluate(["a", "b"], [0, 1])) | set(INTERNAL_SCORES) | set(METHODS)
    assert names <= set(SCORES), sorted(names - set(SCORES))
    for name in names:
        text = describe_score(name)
        assert text and (SCORES[name].better is None or "is better" in text)
    assert describe_score("no such score") == ""


def test_the_k_curves_have_axes_and_a_direction():
    scores = {
        "k": list(range(2, 21)),
        "scores": {"silhouette": [0.1 + 0.01 * i for i in range(19)], "<b>x": [1.0] * 19},
        "best": {"silhouette": 20},
    }
    svg = k_svg(scores)
    assert svg.count('class="kcurve"') == 2
    assert "k (number of clusters)" in svg and "higher is better" in svg
    assert ">0.1<" in svg and ">0.28<" in svg  # the lowest and highest value
    assert ">2<" in svg and ">20<" in svg  # the first and last k
    assert "<b>" not in svg and "&lt;b&gt;x" in svg


def test_the_page_shows_each_meaning(tmp_path):
    import numpy as np
    import pytest

    Image = pytest.importorskip("PIL.Image")
    from kmeanskit.cli import main

    src = tmp_path / "in"
    (src / "dark").mkdir(parents=True)
    (src / "light").mkdir()
    for i in range(6):
        level = 30 if i < 3 else 220
        Image.fromarray(np.full((8, 8), level + i, np.uint8)).save(
            src / ("dark" if i < 3 else "light") / f"{i}.png"
        )
    out = tmp_path / "run"
    args = ["cluster", str(src), "--k", "2:3", "--features", "pixels", "--size", "8"]
    assert main([*args, "--labels-from", "parent", "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    for name in ("silhouette", "davies_bouldin", "nmi", "purity"):
        assert describe_score(name).split(";")[0] in page.replace("&#39;", "'")
