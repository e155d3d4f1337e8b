"""``kmeanskit.KMeans``: exact k-means, a scikit-learn estimator on our engine."""

from __future__ import annotations

import logging
import typing
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import euclidean_distances
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _engine
from ..relabel import ORDERS, canonical_order, permute_clusters
from ._partial_init import fill_unknown
from ._transform import TRANSFORM_MODES, default_temperature, from_sqdist
from ._validation import (
    N_THREADS,
    check_frozen,
    check_init_array,
    check_init_rows,
    check_sample_weight,
    check_values,
)

logger = logging.getLogger(__name__)

#: targeted swap trials of refine='swap' at most (they stop at a failed round)
SWAP_TRIALS = 50
#: starts of refine='swap' with n_init='auto' (each Lloyd + Hartigan; swaps on the best)
SWAP_STARTS = 5
#: starts of refine='swap' further than this above the best get no Hartigan moves
SWAP_HARTIGAN_SLACK = 0.01


def _same_clustering(labels1: np.ndarray, labels2: np.ndarray, n_clusters: int) -> bool:
    """Whether two labelings are equal up to a permutation of the ids."""
    k = int(n_clusters)
    present = np.zeros(k * k, dtype=bool)
    present[labels1.astype(np.int64) * k + labels2] = True
    pairs = present.reshape(k, k)
    n_pairs = int(pairs.sum())
    return n_pairs == int(pairs.any(axis=1).sum()) == int(pairs.any(axis=0).sum())


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Exact k-means clustering (Lloyd's algorithm) on a parallel numba engine.

    A drop-in for :class:`sklearn.cluster.KMeans` with ``algorithm='lloyd'``: from the
    same initial centres it reaches the same labels and inertia. The result does not
    depend on the number of threads.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters.
    init : {'k-means++', 'random'}, callable or array-like of shape (m, n_features)
        How to seed: greedy k-means++ (``2 + log k`` candidate trials), ``n_clusters``
        distinct random rows, ``init(X, n_clusters, random_state)`` returning centres,
        or the centres themselves. A partial start is allowed: with ``m < n_clusters``
        rows the other centres are seeded by k-means++ conditioned on the given ones,
        and a NaN entry is a coordinate to estimate (each filled with the mean of the
        samples nearest to that centre on its known coordinates; dense X).
    n_init : 'auto' or int, default='auto'
        Runs from different seeds; the lowest inertia is kept. ``'auto'``: 1 for
        k-means++ or an array, 10 for 'random' or a callable, 5 with ``refine='swap'``.
    max_iter : int, default=300
        Iterations of one run at most.
    tol : float, default=1e-4
        Stop when the summed squared centre shift falls to ``tol`` times the mean
        feature variance. A run that changes no label stops earlier.
    verbose : int, default=0
        Logs each run's result at INFO level (``logging``) when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation.
    copy_x : bool, default=True
        Accepted for compatibility with scikit-learn; kmeanskit never modifies or
        copies X (centring for accuracy happens chunk by chunk inside the engine).
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly', 'yinyang'}, default='auto'
        The exact algorithm; all give the same clustering from the same start (up to
        floating-point ties). 'lloyd': every point against every centre through BLAS.
        'hamerly': distance bounds per point (to its centre, its runner-up and all
        the others) let most points skip most iterations; while they do not prune,
        Lloyd's passes take over. 'yinyang': lower bounds per group of about 10
        centres. Both are for dense data. 'auto': Lloyd for sparse data and small
        problems; else Yinyang where its bounds fit in an eighth of X's memory and it
        proves to skip most distances in its first bounded steps, Hamerly otherwise
        (``kmeanskit._engine.auto``; the choice depends on counts, never on time).
        'elkan' (scikit-learn's bounded algorithm) is accepted for code written for
        scikit-learn and runs as 'auto': the best exact bounded algorithm on dense
        data, Lloyd on sparse data; with ``n_clusters=1`` it warns, as scikit-learn
        does, and uses Lloyd.
    n_threads : int or None, default=None
        Threads for the engine; None uses every core, negative counts from the
        number of cores (-1: all). The result is bit-for-bit the same for any value.
    cluster_order : {None, 'size', 'coordinates'}, default=None
        Renumber the clusters canonically after fitting: ``'size'`` puts the largest
        first (ties by centre coordinates), ``'coordinates'`` sorts the centres
        lexicographically. None keeps the order of seeding.
    frozen : array-like of int or of bool, default=None
        Centres (indices into ``init``'s rows, or a mask over the clusters) that never
        move during fitting: they come out bit-identical (at a new index if
        ``cluster_order`` renumbers the clusters).
    transform_mode : {'distance', 'sqdistance', 'rbf', 'soft', 'onehot'}, default='distance'
        What :meth:`transform` returns, features for a classifier: Euclidean or squared
        distances to the centres, ``exp(-d^2 / temperature)``, soft assignments
        ``softmax(-d^2 / temperature)`` or the one-hot nearest centre.
    temperature : float, default=None
        Scale of 'rbf' and 'soft'; None: the mean squared distance of the training
        samples to their centres (``temperature_``).
    refine : {None, 'hartigan', 'swap'}, default=None
        ``'hartigan'``: after each run converges, move single points between clusters
        while that lowers the inertia exactly (Hartigan's rule, which also counts how
        the two centres move), then let Lloyd settle. Never raises the inertia; pays
        most with few points per cluster. Dense data only.
        ``'swap'``: escape k-means' local optima (Fränti 2018, "Efficiency of random
        swap clustering", with the swapped centre and its destination chosen by cost
        instead of at random). Restarts are cheap and the search runs once:
        ``n_init='auto'`` makes ``SWAP_STARTS`` (5) k-means++ starts, each run by Lloyd
        then Hartigan's single-point moves (dense X); the best then gets targeted
        swaps: the centre whose points lose least by going to their second nearest
        centre moves to the farthest point of the cluster of largest squared-error
        sum, 10 Lloyd iterations follow, and the swap is kept only if the inertia fell
        (up to ``SWAP_TRIALS`` trials, each an n x k distance pass, stopping at a round
        of three targets without gain); a strict Lloyd convergence (tol 0) and
        Hartigan's moves finish. About 5 to 10 times one k-means++ fit. It finds every
        cluster (centroid index 0) of Fränti's s1-s4, a1-a3 and unbalance sets on 20 of
        20 seeds (``benchmarks/sipu_swap.py``).
    device : str, default=None
        Run the Lloyd iterations with PyTorch on this device: ``'cuda'`` (or
        ``'cuda:N'``), ``'cpu'``, or ``'auto'`` (a GPU when PyTorch sees one, else the
        numba engine). None: the numba engine. Dense Euclidean data only; seeding,
        refinement and predict stay on the engine. The labels and inertia are those of
        the engine from the same start (up to floating-point ties).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Weighted sum of squared distances of the samples to their centres.
    n_iter_ : int
        Iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        The objective at every iteration of the kept run, measured at the
        assignment step.
    init_centers_ : ndarray of shape (n_clusters, n_features)
        Where the kept run started (given rows, NaN filled, seeded rows).
    temperature_ : float
        The mean weighted squared distance of the training samples to their centres:
        the scale of ``transform_mode`` 'rbf' and 'soft' when ``temperature`` is None.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeanskit import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0, cluster_order="coordinates").fit(X)
    >>> km.labels_.tolist()
    [0, 0, 0, 1, 1, 1]
    >>> km.cluster_centers_.tolist()
    [[1.0, 2.0], [10.0, 2.0]]
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions(set(_engine.DRIVERS) | {"elkan"})],
        "n_threads": N_THREADS,
        "cluster_order": [StrOptions(set(ORDERS)), None],
        "refine": [StrOptions({"hartigan", "swap"}), None],
        "frozen": ["array-like", None],
        "transform_mode": [StrOptions(set(TRANSFORM_MODES))],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
        "device": [str, None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="auto",
        n_threads=None,
        cluster_order=None,
        refine=None,
        frozen=None,
        transform_mode="distance",
        temperature=None,
        device=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.n_threads = n_threads
        self.cluster_order = cluster_order
        self.refine = refine
        self.frozen = frozen
        self.transform_mode = transform_mode
        self.temperature = temperature
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- checks ---------------------------------------------------------------
    def _check_data(self, X, reset: bool, copy: bool = False):
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            copy=copy,
            accept_large_sparse=True,  # 64-bit indices: to 32 bits in check_values
        )
        return check_values(X, fit=reset)

    def _resolve_n_init(self) -> int:
        if self.n_init != "auto":
            n_init = self.n_init
        elif isinstance(self.init, str) and self.refine == "swap":
            n_init = SWAP_STARTS
        elif isinstance(self.init, str) and self.init == "k-means++":
            n_init = 1
        elif isinstance(self.init, str) or callable(self.init):
            n_init = 10
        else:
            n_init = 1
        given = hasattr(self.init, "__array__") or isinstance(self.init, list | tuple)
        if given and len(self.init) == self.n_clusters:
            if n_init != 1:
                warnings.warn(
                    "Explicit initial center position passed: performing only one init "
                    f"in {type(self).__name__} instead of n_init={n_init}.",
                    RuntimeWarning,
                    stacklevel=3,
                )
            n_init = 1
        return n_init

    def _seed(self, X, sample_weight, random_state):
        k = self.n_clusters
        if isinstance(self.init, str) and self.init == "k-means++":
            centers, _ = _engine.kmeans_plusplus(
                X, k, sample_weight, random_state, n_threads=self.n_threads
            )
        elif isinstance(self.init, str):
            centers, _ = _engine.random_rows(X, k, sample_weight, random_state)
        else:
            centers = self.init(X, k, random_state=random_state)
            centers = check_init_array(centers, X, k)
        return centers

    def _algorithm(self, X) -> str:
        if self.algorithm in _engine.DENSE_ONLY and sp.issparse(X):
            raise ValueError(
                f"algorithm={self.algorithm!r} needs dense X; got a sparse matrix "
                "(use algorithm='lloyd' or 'auto')"
            )
        if self.refine == "hartigan" and sp.issparse(X):
            raise ValueError(
                f"refine={self.refine!r} needs dense X; got a sparse matrix (use refine=None)"
            )
        if self.algorithm == "elkan":  # scikit-learn's name for its bounded algorithm
            if self.n_clusters == 1:
                warnings.warn(
                    "algorithm='elkan' doesn't make sense for a single cluster. "
                    "Using 'lloyd' instead.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return "lloyd"
            return "auto"
        return self.algorithm

    # -- fit ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Float32 data stays float32; anything else becomes float64.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the samples (in seeding and in the means).

        Returns
        -------
        self : KMeans
        """
        X = self._check_data(X, reset=True)
        n_samples = X.shape[0]
        k = self.n_clusters
        if n_samples < k:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={k}.")
        n_init = self._resolve_n_init()
        sample_weight = check_sample_weight(sample_weight, X)
        random_state = check_random_state(self.random_state)
        init_array = given = None
        if not isinstance(self.init, str) and not callable(self.init):
            given = check_init_rows(self.init, X, k)
            given = self._given(fill_unknown(X, sample_weight, given)).astype(X.dtype)
            if len(given) == k:
                init_array = given
        frozen = check_frozen(self.frozen, k, 0 if given is None else len(given))

        stats = _engine.column_stats(X)
        tol = _engine.tolerance(X, self.tol, stats)
        run_one = _engine.driver(self._algorithm(X))
        run_one = self._on_device(X, run_one, given)
        if self.refine is not None and self._engine_options().get("normalize"):
            raise ValueError(
                f"refine={self.refine!r} moves centres off the unit sphere; "
                f"{type(self).__name__} needs refine=None"
            )
        if self.refine is not None and frozen is not None:
            raise ValueError(
                f"refine={self.refine!r} moves every centre; it cannot be used "
                f"with frozen={self.frozen!r:.60}"
            )
        best = best_init = None
        for run in range(n_init):
            if init_array is not None:
                centers_init = init_array
            elif given is not None:  # seeding goes on from the given centres
                centers_init, _ = _engine.kmeans_plusplus(
                    X, k, sample_weight, random_state, n_threads=self.n_threads, given=given
                )
            else:
                centers_init = self._seed(X, sample_weight, random_state)
            res = run_one(
                X,
                sample_weight,
                centers_init,
                max_iter=self.max_iter,
                tol=tol,
                n_threads=self.n_threads,
                stats=stats,
                frozen=frozen,
                **self._engine_options(),
            )
            if self.refine == "hartigan" or (
                self.refine == "swap"
                and not sp.issparse(X)
                # a start well above the best cannot win by Hartigan's small moves
                and (best is None or res.inertia <= best.inertia * (1 + SWAP_HARTIGAN_SLACK))
            ):
                res = self._hartigan(X, sample_weight, res, tol, stats, run_one)
            if self.verbose:
                logger.info(
                    "run %d: inertia %.6g after %d iterations", run, res.inertia, res.n_iter
                )
            if best is None or (
                res.inertia < best.inertia and not _same_clustering(res.labels, best.labels, k)
            ):
                best, best_init = res, centers_init
        if self.refine == "swap":  # the expensive search, on the best start only
            best = self._swaps(X, sample_weight, best, stats, run_one)
        centers = best.centers
        labels = best.labels

        sizes = np.bincount(labels, minlength=k)  # no n-sized copies
        n_distinct = int(np.count_nonzero(sizes))
        empty = np.flatnonzero(sizes == 0)
        if n_distinct < k and frozen is not None and frozen[empty].all():
            warnings.warn(
                f"frozen centres {empty.tolist()} hold no samples: every sample is nearer "
                "another centre.",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif n_distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({k}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        if self.cluster_order is not None:
            order = canonical_order(centers, labels, sample_weight, by=self.cluster_order)
            centers, labels = permute_clusters(order, centers, labels)

        self.cluster_centers_ = np.ascontiguousarray(centers, dtype=X.dtype)
        self.labels_ = labels
        self.inertia_ = best.inertia
        self.n_iter_ = best.n_iter
        self.inertia_history_ = np.asarray(best.history)
        self.init_centers_ = np.asarray(best_init)
        if self.cluster_order is not None:
            self.init_centers_ = self.init_centers_[order]
        self.temperature_ = default_temperature(best.inertia, float(sample_weight.sum()))
        self._n_features_out = self.cluster_centers_.shape[0]
        return self

    def _on_device(self, X, run_one, given):
        """The Lloyd runner for ``device`` (PyTorch), or ``run_one`` for the engine."""
        if getattr(self, "device", None) is None:
            return run_one
        from .._engine.torch_lloyd import resolve_device, torch_lloyd

        dev = resolve_device(self.device)
        if dev is None:  # 'auto' without a GPU: the numba engine
            return run_one
        if sp.issparse(X) or self.frozen is not None or self._engine_options():
            raise ValueError(
                f"device={self.device!r} runs dense Euclidean Lloyd only: no sparse X, "
                "frozen centres or SphericalKMeans"
            )

        def on_device(X, w, centers, *, max_iter, tol, frozen=None, **_):
            return torch_lloyd(X, w, centers, device=dev, max_iter=max_iter, tol=tol)

        return on_device

    def _given(self, centers):
        """Given initial centres, NaN filled, as the engine will start from them."""
        return centers

    def _engine_options(self) -> dict:
        """Extra options of the engine's run for subclasses (spherical: normalize)."""
        return {}

    def _hartigan(self, X, sample_weight, res, tol, stats, run_one):
        centers, labels, objective, moves, converged = _engine.hartigan(
            X, sample_weight, res.centers, res.labels, n_threads=self.n_threads
        )
        if moves == 0 or objective >= res.inertia:
            return res
        if converged:  # Hartigan-stable: every row is at its nearest centre already
            return _engine.LloydResult(
                labels, objective, centers, res.n_iter, [*res.history, objective], True
            )
        again = run_one(
            X,
            sample_weight,
            centers,
            max_iter=self.max_iter,
            tol=tol,
            n_threads=self.n_threads,
            stats=stats,
        )
        return again if again.inertia < res.inertia else res

    def _swaps(self, X, sample_weight, res, stats, run_one):
        """refine='swap' on one converged result: targeted swaps, then strict
        convergence and (dense X) Hartigan's moves; never raises the inertia."""
        swapped, kept = _engine.targeted_swaps(
            X,
            sample_weight,
            res,
            max_trials=SWAP_TRIALS,
            max_iter=self.max_iter,
            n_threads=self.n_threads,
        )
        logger.debug("%d swaps kept", kept)
        strict = run_one(
            X,
            sample_weight,
            swapped.centers,
            max_iter=self.max_iter,
            tol=0.0,
            n_threads=self.n_threads,
            stats=stats,
        )
        out = strict if strict.inertia <= swapped.inertia else swapped
        if not sp.issparse(X):
            out = self._hartigan(X, sample_weight, out, 0.0, stats, run_one)
        return out if out.inertia <= res.inertia else res

    # -- use ------------------------------------------------------------------
    def predict(self, X):
        """The index of the nearest centre of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self)
        X = self._check_data(X, reset=False)
        labels, _, _ = _engine.assign(X, self.cluster_centers_, n_threads=self.n_threads)
        return labels

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Features of each sample against every centre, shape (n, n_clusters): by
        default the Euclidean distances; see ``transform_mode``.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
        >>> km = KMeans(2, random_state=0, cluster_order="coordinates").fit(X)
        >>> km.transform([[0.5]]).tolist()
        [[0.0, 10.0]]
        >>> km.set_params(transform_mode="onehot").transform([[0.5]]).tolist()
        [[1.0, 0.0]]
        """
        check_is_fitted(self)
        X = self._check_data(X, reset=False)
        return self._features(X)

    def _sqdist(self, X):
        return euclidean_distances(X, self.cluster_centers_, squared=True)

    def _features(self, X):
        t = self.temperature_ if self.temperature is None else self.temperature
        return from_sqdist(self._sqdist(X), self.transform_mode, t)

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return :meth:`transform` of X."""
        self.fit(X, sample_weight=sample_weight)
        return self._features(self._check_data(X, reset=False))

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the weighted sum of squared distances of X to its nearest centres."""
        check_is_fitted(self)
        X = self._check_data(X, reset=False)
        sample_weight = check_sample_weight(sample_weight, X)
        _, _, objective = _engine.assign(
            X, self.cluster_centers_, sample_weight, n_threads=self.n_threads
        )
        return -objective
