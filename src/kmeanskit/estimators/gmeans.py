"""G-means (Hamerly and Elkan, "Learning the k in k-means", NIPS 2003): split a cluster
while its points, projected on the line between its two children, do not look Gaussian
to the Anderson-Darling test."""

from __future__ import annotations

import typing
from numbers import Real

import numpy as np
from scipy.special import log_ndtr

from ._splitting import SplittingKMeans

#: critical values of the Anderson-Darling A*^2 for a normal with estimated mean and
#: variance (Stephens 1974; 0.0001 from Hamerly and Elkan)
CRITICAL = {0.15: 0.576, 0.1: 0.656, 0.05: 0.787, 0.025: 0.918, 0.01: 1.092, 0.0001: 1.8692}


def anderson_darling_normal(x) -> float:
    """Corrected statistic ``A*^2 = A^2 (1 + 4 / n - 25 / n^2)`` of the hypothesis that
    ``x`` is normal with unknown mean and variance.

    Examples
    --------
    >>> import numpy as np
    >>> round(anderson_darling_normal(np.random.RandomState(0).normal(size=500)), 3) < 0.787
    True
    """
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = x.size
    std = x.std(ddof=1)
    if n < 3 or std == 0:
        return 0.0
    z = (x - x.mean()) / std
    i = np.arange(1, n + 1)
    a2 = -n - np.sum((2 * i - 1) * (log_ndtr(z) + log_ndtr(-z[::-1]))) / n
    return float(a2 * (1 + 4 / n - 25 / n**2))


class GMeans(SplittingKMeans):
    """k-means that splits clusters until each looks Gaussian.

    Every round each cluster is split in two (2-means from ``c +- v sqrt(2 lambda / pi)``
    along its principal axis); its points are projected on the line joining the two
    children and the split is kept when the Anderson-Darling test rejects normality at
    level ``alpha``. The accepted splits start k-means on all the data; the rounds stop
    when every cluster passes or ``k_max`` is reached.

    G-means assumes Gaussian clusters: a cluster whose points are not normal along some
    axis (heavy tails, uniform blocks) fails the test at any size and is split again and
    again. On Fränti's s1-s4 the true clusters already fail it (A*^2 up to 15 at alpha's
    critical 1.87), so G-means runs to ``k_max`` there; :class:`XMeans` or
    :func:`~kmeanskit.choose_k` suit such data.

    Parameters
    ----------
    k_min : int, default=1
    k_max : int, default=50
    alpha : {0.15, 0.1, 0.05, 0.025, 0.01, 0.0001}, default=0.0001
        Significance level of the test (the paper's 0.0001 by default).
    splits_per_round : int or None, default=1
        Passing splits made per round, strongest first; None splits all of them at once,
        as the paper does (see :mod:`._splitting` for why one at a time is the default).
    max_iter, tol, algorithm, random_state, n_threads, transform_mode, temperature
        As in :class:`~kmeanskit.KMeans`.

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_clusters_, n_iter_, k_history_, kmeans_
        As in :class:`XMeans`.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(600, centers=4, cluster_std=0.5, random_state=0)
    >>> GMeans(k_max=10, random_state=0).fit(X).n_clusters_
    4
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        **SplittingKMeans._parameter_constraints,
        "alpha": [Real],
    }

    def __init__(
        self,
        k_min=1,
        k_max=50,
        *,
        alpha=0.0001,
        splits_per_round=1,
        max_iter=300,
        tol=1e-4,
        algorithm="auto",
        random_state=None,
        n_threads=None,
        transform_mode="distance",
        temperature=None,
    ):
        super().__init__(
            k_min,
            k_max,
            splits_per_round=splits_per_round,
            max_iter=max_iter,
            tol=tol,
            algorithm=algorithm,
            random_state=random_state,
            n_threads=n_threads,
            transform_mode=transform_mode,
            temperature=temperature,
        )
        self.alpha = alpha

    def _check_params(self):
        if self.alpha not in CRITICAL:
            raise ValueError(f"alpha must be one of {sorted(CRITICAL)}; got {self.alpha!r}")

    def _split_score(self, X, w, center, children, labels):
        v = children[0] - children[1]
        norm2 = float(v @ v)
        if norm2 == 0:
            return 0.0, False
        stat = anderson_darling_normal(X @ v / norm2)
        return stat, stat > CRITICAL[self.alpha]
