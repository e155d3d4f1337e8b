"""Plots of the scores of a k sweep (matplotlib, the ``plot`` extra).

matplotlib is imported when a function here is called, never by ``import kmeanskit``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_k_scores"]

_TITLES = {
    "elbow": "inertia (elbow)",
    "silhouette": "silhouette (higher is better)",
    "calinski_harabasz": "Calinski-Harabasz (higher is better)",
    "davies_bouldin": "Davies-Bouldin (lower is better)",
    "gap": "gap statistic",
    "bic": "BIC (higher is better)",
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError("plotting needs matplotlib: pip install 'kmeanskit[plot]'") from exc
    return plt


def plot_k_scores(choice, axes=None):
    """One panel per method: its score against k, its chosen k marked with a dashed
    line and the overall recommendation with a solid one; error bars where the score
    has a standard error.

    Parameters
    ----------
    choice : KChoice
        From :func:`~kmeanskit.choose_k` or :func:`~kmeanskit.score_sweep`.
    axes : array of matplotlib Axes, optional
        At least one per method; a new figure is made otherwise.

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_blobs
    >>> from kmeanskit import choose_k
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> fig = plot_k_scores(choose_k(X, range(2, 6), ("elbow", "bic"), random_state=0))
    >>> len(fig.axes)
    2
    """
    plt = _pyplot()
    methods = list(choice.scores)
    if axes is None:
        cols = min(3, len(methods))
        rows = -(-len(methods) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
        for ax in axes.ravel()[len(methods) :]:
            ax.remove()
    else:
        fig = np.ravel(axes)[0].figure
    for ax, method in zip(np.ravel(axes), methods, strict=False):
        values = choice.scores[method]
        err = choice.errors.get(method)
        if err is not None and np.any(err > 0):
            ax.errorbar(choice.k, values, yerr=err, marker=".", capsize=2)
        else:
            ax.plot(choice.k, values, marker=".")
        if method in choice.best:
            ax.axvline(
                choice.best[method],
                linestyle="--",
                color="tab:orange",
                label=f"{method}: k={choice.best[method]}",
            )
        ax.axvline(
            choice.recommended,
            color="tab:red",
            alpha=0.5,
            label=f"recommended: k={choice.recommended}",
        )
        ax.set_title(_TITLES.get(method, method))
        ax.set_xlabel("k (number of clusters)")
        ax.set_ylabel(method)
        ax.legend(fontsize="small")
    fig.suptitle(choice.explanation, fontsize="small")
    fig.tight_layout()
    return fig
