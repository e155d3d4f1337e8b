"""The score plots: one panel per method, the chosen k marked."""

import pytest

matplotlib = pytest.importorskip("matplotlib")  # the 'plot' extra; installed in CI
matplotlib.use("Agg")

from sklearn.datasets import make_blobs  # noqa: E402

from kmeanskit import choose_k  # noqa: E402
from kmeanskit.plot import plot_k_scores  # noqa: E402


def test_every_method_gets_a_panel_with_its_k_marked():
    X, _ = make_blobs(300, centers=4, random_state=0)
    choice = choose_k(
        X,
        range(2, 8),
        ("elbow", "silhouette", "davies_bouldin", "gap"),
        n_refs=2,
        silhouette_max_samples=100,
        random_state=0,
    )
    fig = plot_k_scores(choice)
    assert len(fig.axes) == 4
    for ax, method in zip(fig.axes, choice.scores, strict=True):
        marks = [line.get_xdata()[0] for line in ax.get_lines() if len(line.get_xdata()) == 2]
        assert choice.best[method] in marks and choice.recommended in marks
        assert ax.get_xlabel() == "k (number of clusters)" and ax.get_ylabel() == method
    matplotlib.pyplot.close(fig)
