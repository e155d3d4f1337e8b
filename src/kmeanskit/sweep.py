"""A sweep over k that reuses work from one k to the next.

Two starts are tried for every k, and the better fit is kept:

- **nested seeds**: one greedy k-means++ seeding for the largest k is done per restart;
  its first k centres are a k-means++ seeding for k (each centre was drawn against the
  ones before it), so no k pays for its own seeding;
- **grown from the previous k**: the converged centres of the previous k, plus as many
  new centres as needed, drawn by greedy k-means++ against them. A converged solution
  is often a better start than fresh seeds (not always: a poor solution at small k
  is inherited), and it makes the sequence of solutions smooth in k.

Once the grown start has won ``NESTED_PATIENCE`` k in a row, the nested one is no
longer tried in that restart (at large k it rarely wins and costs a full fit).
Every fit is refined by Hartigan's single-point moves (:func:`kmeanskit._engine.hartigan`),
which lower the inertia most where clusters are
small, i.e. at the large k a sweep goes to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from . import _engine
from .estimators import KMeans
from .estimators._validation import check_sample_weight, check_values

__all__ = ["SweepResult", "sweep"]

logger = logging.getLogger(__name__)

#: the nested start stops being tried once the grown start has won this many k in a row
NESTED_PATIENCE = 3


@dataclass
class SweepResult:
    """The fits of a sweep over k.

    Attributes
    ----------
    k : ndarray of int
        The numbers of clusters, increasing.
    inertia : ndarray of float
        The final inertia of every k.
    n_iter : ndarray of int
        The iterations of the kept fit of every k.
    models : dict of int to KMeans
        A fitted :class:`~kmeanskit.KMeans` for every k (``predict``, ``transform``).
    distances : dict of int to ndarray, or None
        With ``distances=True``: the distances of the training rows to the centres of
        every k, shape (n_samples, k).
    """

    k: np.ndarray
    inertia: np.ndarray
    n_iter: np.ndarray
    models: dict = field(repr=False)
    distances: dict | None = field(default=None, repr=False)

    def centers(self, k: int) -> np.ndarray:
        """The centres found for ``k``."""
        return self._model(k).cluster_centers_

    def labels(self, k: int) -> np.ndarray:
        """The training labels found for ``k``."""
        return self._model(k).labels_

    def transform(self, X, k: int | None = None) -> np.ndarray:
        """Distances of ``X`` to the centres of ``k``, or with ``k=None`` to the centres
        of every k side by side (shape (n, sum of k)): features for a classifier."""
        if k is not None:
            return self._model(k).transform(X)
        return np.hstack([self.models[int(kk)].transform(X) for kk in self.k])

    def _model(self, k: int) -> KMeans:
        try:
            return self.models[int(k)]
        except KeyError:
            raise KeyError(f"k={k} was not in the sweep (k = {self.k.tolist()})") from None


def _check_ks(k, n_samples: int) -> np.ndarray:
    ks = np.atleast_1d(np.asarray(list(k) if not np.isscalar(k) else [k]))
    if ks.size == 0 or ks.dtype.kind not in "iu":
        raise ValueError(f"k must be a non-empty sequence of integers; got {k!r}")
    ks = np.unique(ks)
    if ks[0] < 1 or ks[-1] > n_samples:
        raise ValueError(
            f"every k must be between 1 and n_samples={n_samples}; got k from {ks[0]} to {ks[-1]}"
        )
    return ks


def _grow(X, w, centers: np.ndarray, k: int, random_state, n_threads=None) -> np.ndarray:
    """``centers`` plus ``k - len(centers)`` greedy k-means++ centres drawn against them
    (the engine's k-means++ from given centres)."""
    grown, _ = _engine.kmeans_plusplus(
        X, k, w, random_state, n_threads=n_threads, given=np.asarray(centers, dtype=X.dtype)
    )
    return grown


def sweep(
    X,
    k=range(2, 11),
    *,
    sample_weight=None,
    n_init: int = 1,
    grow: bool = True,
    max_iter: int = 300,
    tol: float = 1e-4,
    algorithm: str = "auto",
    refine: str | None = "hartigan",
    distances: bool = False,
    random_state=None,
    n_threads: int | None = None,
    progress: Callable[[int, int, int], object] | None = None,
) -> SweepResult:
    """Fit k-means for every k in ``k``, reusing seeds and solutions across k.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    k : iterable of int, default=range(2, 11)
        The numbers of clusters to fit.
    sample_weight : array-like of shape (n_samples,), optional
    n_init : int, default=1
        Restarts: each draws one nested seeding for the largest k; the best fit of
        every k over the restarts is kept.
    grow : bool, default=True
        Also start every k from the previous k's solution plus new k-means++ centres,
        and keep the better of the two fits (the nested start is dropped once the grown
        one has won ``NESTED_PATIENCE`` k in a row).
    refine : {'hartigan', None}, default='hartigan'
        As in :class:`~kmeanskit.KMeans`: Hartigan moves after each fit (dense data;
        sparse data is never refined). It lowers the inertia most where clusters are
        small, which is where a sweep to large k goes.
    max_iter, tol, algorithm, n_threads
        As in :class:`~kmeanskit.KMeans`.
    distances : bool, default=False
        Keep the distances of the training rows to the centres of every k.
    random_state : int, RandomState instance or None
    progress : callable, optional
        Called after each fit (one k of one restart) as ``progress(k, done, total)``:
        the k, how many fits are done, and how many there are (``n_init`` times the k).

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2)) * 5, np.ones((5, 2)) * 10]
    >>> result = sweep(X + np.arange(15)[:, None] * 0.01, k=[1, 2, 3], random_state=0)
    >>> result.k.tolist(), bool(result.inertia[2] < 1)
    ([1, 2, 3], True)
    >>> _ = sweep(X, k=[2, 3], n_init=2, random_state=0, progress=lambda *a: print(*a))
    2 1 4
    3 2 4
    2 3 4
    3 4 4
    """
    X = check_array(
        X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", input_name="X"
    )
    X = check_values(X, fit=True)  # sparse structure and magnitudes, before any kernel
    ks = _check_ks(k, X.shape[0])
    if not (isinstance(n_init, int | np.integer) and n_init >= 1):
        raise ValueError(f"n_init must be an integer >= 1; got {n_init!r}")
    w = check_sample_weight(sample_weight, X)
    rs = check_random_state(random_state)

    def fit(kk, start):
        model = KMeans(
            n_clusters=int(kk),
            init=start,
            n_init=1,
            max_iter=max_iter,
            tol=tol,
            algorithm=algorithm,
            n_threads=n_threads,
            refine=None if sp.issparse(X) else refine,
        )
        return model.fit(X, sample_weight=w)

    # restarts outside, k inside: each restart draws its seeds and grows its solutions
    # from the shared random state in this order (the benchmarks' k choices were
    # measured with it); ``progress`` hears of every fit of every restart
    models: dict[int, KMeans] = {}
    total = n_init * len(ks)
    done = 0
    for restart in range(n_init):
        seeds, _ = _engine.kmeans_plusplus(X, int(ks[-1]), w, rs, n_threads=n_threads)
        previous = None
        grown_wins = 0  # in a row
        for kk in ks:
            kk = int(kk)
            tries = []
            if grow and previous is not None:
                tries.append(fit(kk, _grow(X, w, previous.cluster_centers_, kk, rs, n_threads)))
            if grown_wins < NESTED_PATIENCE:
                tries.append(fit(kk, seeds[:kk]))
            best = min(tries, key=lambda m: m.inertia_)
            if len(tries) == 2:
                grown_wins = grown_wins + 1 if best is tries[0] else 0
            previous = best
            if kk not in models or best.inertia_ < models[kk].inertia_:
                models[kk] = best
            logger.debug("restart %d, k=%d: inertia %.6g", restart, kk, best.inertia_)
            done += 1
            if progress is not None:
                progress(kk, done, total)
    inertia = np.array([models[int(kk)].inertia_ for kk in ks])
    n_iter = np.array([models[int(kk)].n_iter_ for kk in ks])
    dist = {int(kk): models[int(kk)].transform(X) for kk in ks} if distances else None
    return SweepResult(ks, inertia, n_iter, models, dist)
