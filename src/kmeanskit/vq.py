"""A drop-in for :mod:`scipy.cluster.vq` that runs on the kmeanskit engine.

``whiten``, ``vq``, ``kmeans`` and ``kmeans2`` keep scipy's signatures, defaults,
return types, warnings and errors, and draw from the random generator in scipy's
order, so the same seed gives the same result. Two additions: ``whiten(...,
return_std=True)`` also returns the scales, and :func:`unwhiten` brings whitened
data or centroids back to the original units.

Examples
--------
>>> import numpy as np
>>> from kmeanskit.vq import whiten, unwhiten, kmeans2
>>> obs = np.array([[1.0, 10.0], [1.2, 11.0], [8.0, 80.0], [8.3, 82.0]])
>>> white, std = whiten(obs, return_std=True)
>>> centroids, labels = kmeans2(white, 2, minit="++", rng=0)
>>> np.round(unwhiten(centroids, std)[np.argsort(centroids[:, 0])], 2).tolist()
[[1.1, 10.5], [8.15, 81.0]]
"""

from __future__ import annotations

import numbers
import warnings
from collections import deque

import numpy as np
from scipy.cluster.vq import ClusterError
from scipy.spatial.distance import cdist

from ._engine._common import Pass, assigned_sqdist, thread_limits
from .estimators._validation import magnitude_error

__all__ = ["ClusterError", "kmeans", "kmeans2", "unwhiten", "vq", "whiten"]


class _Unset:
    """Marks an argument that was not passed (scipy tells ``rng=None`` from nothing)."""

    def __repr__(self) -> str:
        return "None"


_UNSET = _Unset()
_NOT_FLOAT = "type other than float or double not supported"
#: scipy's vq and kmeans refuse data of rank 0 or above 2 with these words
_RANK = "ndim different than 1 or 2 are not supported"


def _asarray(a, check_finite: bool) -> np.ndarray:
    return np.asarray_chkfinite(a) if check_finite else np.asarray(a)


def _check_floats(data: np.ndarray, name: str) -> None:
    """scipy's TypeError for data the engine does not take (before any use of it: no
    ComplexWarning from an initialisation); the ValueError of :func:`kmeanskit.KMeans`,
    naming ``name``, for values whose squared distances overflow or underflow the
    dtype (they would be clustered at random)."""
    if data.dtype not in (np.float32, np.float64):
        raise TypeError(_NOT_FLOAT)
    if data.size:
        top = max(abs(float(data.max())), abs(float(data.min())))
        d = 1 if data.ndim == 1 else data.shape[-1]
        if np.isfinite(top):  # NaN or infinity only with check_finite=False: as scipy
            magnitude_error(top, d, data.dtype, fit=True, name=name)


def _check_random_state(seed):
    """scipy's legacy normalisation of ``seed`` (None: numpy's global RandomState)."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral | np.integer):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState | np.random.Generator):
        return seed
    raise ValueError(f"'{seed}' cannot be used to seed a numpy.random.RandomState instance")


def _resolve_rng(name: str, rng, seed):
    """scipy's ``rng``/``seed`` transition: ``rng`` goes through ``default_rng``."""
    if rng is not _UNSET and seed is not _UNSET:
        raise TypeError(
            f"{name}() got multiple values for argument now known as `rng`. "
            "Specify one of `rng` or `seed`."
        )
    if rng is not _UNSET:
        return np.random.default_rng(rng)
    return _check_random_state(None if seed is _UNSET else seed)


def _rng_integers(rng, high: int) -> int:
    if isinstance(rng, np.random.Generator):
        return rng.integers(high, dtype="int64")
    return rng.randint(high, dtype="int64")


class _Engine:
    """Lloyd steps of one data set against code books of changing size and dtype.

    ``step`` returns scipy's ``vq`` labels and squared distances, and the means of
    the members (in the data's dtype) with the mask of clusters that have members.
    """

    def __init__(self, data: np.ndarray):
        self.data = np.ascontiguousarray(data.reshape(data.shape[0], -1))
        self._passes: dict = {}

    def step(self, code_book: np.ndarray, want_sqdist: bool = False):
        ct = np.result_type(self.data, code_book)
        nc = code_book.shape[0]
        key = (ct, nc)
        if key not in self._passes:
            obs = self.data if self.data.dtype == ct else self.data.astype(ct)
            self._passes = {key: Pass(obs, np.ones(obs.shape[0], dtype=ct), nc)}
        p = self._passes[key]
        book = code_book.reshape(nc, -1)
        with thread_limits(None):
            sums, wsum, _ = p.run(book, update=True)
            sqdist = assigned_sqdist(p.X, book, p.labels) if want_sqdist else None
        has_members = wsum > 0
        means = np.zeros(sums.shape, dtype=self.data.dtype)
        means[has_members] = sums[has_members] / wsum[has_members, None]
        return p.labels.copy(), sqdist, means, has_members


def whiten(obs, check_finite=None, *, return_std=False):
    """Divide each feature by its standard deviation over the observations.

    Same as :func:`scipy.cluster.vq.whiten`; columns with zero deviation are left as
    they are (with a RuntimeWarning).

    Parameters
    ----------
    obs : ndarray of shape (M, N)
    check_finite : bool, optional
        Check for NaN and infinity (default: True).
    return_std : bool, default=False
        Also return the deviations used (1.0 for constant columns), for :func:`unwhiten`.

    Returns
    -------
    result : ndarray
    std : ndarray of shape (N,), only when ``return_std``

    Examples
    --------
    >>> whiten([[1.0, 2.0], [3.0, 2.0]], check_finite=False).tolist()
    [[1.0, 2.0], [3.0, 2.0]]
    """
    if check_finite is None:
        check_finite = True
    obs = _asarray(obs, check_finite)
    std_dev = np.std(obs, axis=0)
    zero_std_mask = std_dev == 0
    std_dev = np.where(zero_std_mask, std_dev.dtype.type(1.0), std_dev)
    if check_finite and np.any(zero_std_mask):
        warnings.warn(
            "Some columns have standard deviation zero. "
            "The values of these columns will not change.",
            RuntimeWarning,
            stacklevel=2,
        )
    result = obs / std_dev
    return (result, std_dev) if return_std else result


def unwhiten(obs, std):
    """Bring whitened observations or centroids back to the original units.

    Parameters
    ----------
    obs : array-like of shape (M, N)
    std : array-like of shape (N,), as returned by ``whiten(..., return_std=True)``

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> w, std = whiten(x, return_std=True)
    >>> np.allclose(unwhiten(w, std), x)
    True
    """
    obs = np.asarray(obs)
    std = np.asarray(std)
    n_features = 1 if obs.ndim == 1 else obs.shape[-1]
    if std.ndim > 1 or (std.ndim == 1 and std.shape[0] != n_features):
        raise ValueError(
            f"std must have shape ({n_features},), one scale per feature of obs; "
            f"got shape {std.shape}"
        )
    return obs * std


def vq(obs, code_book, check_finite=True):
    """Assign each observation the code of its nearest centroid.

    Same as :func:`scipy.cluster.vq.vq`: returns ``(code, dist)`` with int32 codes and
    the unsquared Euclidean distance in the inputs' common float dtype.

    Examples
    --------
    >>> import numpy as np
    >>> code, dist = vq(np.array([[0.0, 0.0], [4.0, 3.0]]), np.array([[0.0, 0.0], [4.0, 0.0]]))
    >>> code.tolist(), dist.tolist()
    ([0, 1], [0.0, 3.0])
    """
    obs = _asarray(obs, check_finite)
    code_book = _asarray(code_book, check_finite)
    ct = np.result_type(obs, code_book)
    floating = np.issubdtype(ct, np.floating)
    if not floating and obs.ndim != code_book.ndim:
        raise ValueError("Observation and code_book should have the same rank")
    if np.issubdtype(ct, np.complexfloating):  # scipy's ValueError (no silent cast)
        raise ValueError(f"Unsupported dtype {ct}")
    if floating and ct not in (np.float32, np.float64):
        raise TypeError(_NOT_FLOAT)
    if obs.ndim != code_book.ndim:
        raise ValueError("observation and code should have same number of dimensions")
    if obs.ndim > 2:
        raise ValueError(_RANK)
    if obs.ndim == 2 and obs.shape[1] != code_book.shape[1]:
        raise ValueError("obs and code should have same number of features (columns)")
    if code_book.shape[0] == 0:
        raise ValueError(f"code_book must hold at least one code; got shape {code_book.shape}")
    work = ct if floating else np.float64
    data = np.ascontiguousarray(obs, dtype=work).reshape(obs.shape[0], -1)
    book = np.ascontiguousarray(code_book, dtype=work).reshape(code_book.shape[0], -1)
    p = Pass(data, np.ones(data.shape[0], dtype=work), book.shape[0])
    with thread_limits(None):
        p.run(book, update=False)
        dist = np.sqrt(assigned_sqdist(data, book, p.labels)).astype(work)
    code = p.labels.copy() if floating else p.labels.astype(np.intp)
    return code, dist


def _kmeans(obs: np.ndarray, guess: np.ndarray, thresh: float):
    """One k-means run; clusters that lose every member are dropped."""
    if not np.issubdtype(obs.dtype, np.floating) or obs.dtype not in (np.float32, np.float64):
        raise TypeError(_NOT_FLOAT)
    engine = _Engine(obs)
    code_book = guess
    diff = np.inf
    prev_avg_dists = deque([diff], maxlen=2)
    while diff > thresh:
        _, sqdist, means, has_members = engine.step(code_book, want_sqdist=True)
        ct = np.result_type(obs, code_book)
        prev_avg_dists.append(np.mean(np.sqrt(sqdist).astype(ct), axis=-1))
        code_book = means[has_members].reshape((-1, *obs.shape[1:]))
        diff = np.abs(prev_avg_dists[0] - prev_avg_dists[1])
    return code_book, prev_avg_dists[1]


def kmeans(obs, k_or_guess, iter=20, thresh=1e-5, check_finite=True, *, rng=_UNSET, seed=_UNSET):
    """k-means with restarts; returns the code book and the mean unsquared distance.

    Same as :func:`scipy.cluster.vq.kmeans`: ``iter`` is the number of restarts from
    random observations (ignored when ``k_or_guess`` is an array of initial centroids),
    a run stops when the mean distance changes by at most ``thresh``, and centroids
    that lose every observation are dropped.

    Returns
    -------
    codebook : ndarray of shape (k', N), k' <= k
    distortion : float, the mean (unsquared) Euclidean distance to the nearest centroid

    Examples
    --------
    >>> import numpy as np
    >>> obs = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> book, dist = kmeans(obs, 2, rng=1)
    >>> sorted(book[:, 0].tolist()), float(dist)
    ([0.0, 10.0], 0.5)
    """
    rng = _resolve_rng("kmeans", rng, seed)
    obs = _asarray(obs, check_finite)
    guess = _asarray(k_or_guess, check_finite)
    if iter < 1:
        raise ValueError(f"iter must be at least 1, got {iter}")
    if obs.ndim not in (1, 2):
        raise ValueError(_RANK)
    if guess.size != 1:
        if guess.size < 1:
            raise ValueError(f"Asked for 0 clusters. Initial book was {guess}")
        _check_floats(obs, "obs")
        return _kmeans(obs, guess, thresh=thresh)
    k = int(guess)
    if k != guess:
        raise ValueError("If k_or_guess is a scalar, it must be an integer.")
    if k < 1:
        raise ValueError(f"Asked for {k} clusters.")
    _check_floats(obs, "obs")
    rng = _check_random_state(rng)
    best_dist = np.inf
    for _ in range(iter):
        guess = _kpoints(obs, k, rng)
        book, dist = _kmeans(obs, guess, thresh=thresh)
        if dist < best_dist:
            best_book = book
            best_dist = dist
    return best_book, best_dist


def _kpoints(data, k, rng):
    """k distinct observations at random."""
    idx = rng.choice(data.shape[0], size=int(k), replace=False)
    return data[np.asarray(idx, dtype=np.asarray([1]).dtype)]


def _krandinit(data, k, rng):
    """k draws from a Gaussian with the data's mean and covariance."""
    mu = np.mean(data, axis=0)
    k = np.asarray(k)
    if data.ndim == 1:
        x = rng.standard_normal(size=k)
        x *= np.sqrt(np.cov(data))
    elif data.shape[1] > data.shape[0]:
        # rank-deficient covariance: sample in the span of the data
        _, s, vh = np.linalg.svd(data - mu, full_matrices=False)
        x = rng.standard_normal(size=(k, s.size))
        x = x @ (s[:, None] * vh / np.sqrt(data.shape[0] - 1.0))
    else:
        cov = np.atleast_2d(np.cov(data.T))
        x = rng.standard_normal(size=(k, mu.size))
        x = x @ np.linalg.cholesky(cov).T
    x += mu
    return x


def _kpp(data, k, rng):
    """k-means++ seeding as scipy does it (one candidate per step)."""
    flat = data.ndim == 1
    if flat:
        data = data[:, None]
    init = np.empty((int(k), data.shape[1]))
    d2 = None
    for i in range(k):
        if i == 0:
            idx = _rng_integers(rng, data.shape[0])
        else:
            # the running minimum over the chosen centres equals scipy's
            # cdist(init[:i], data).min(axis=0), one new row at a time
            new = cdist(init[i - 1 : i, :], data, metric="sqeuclidean")[0]
            d2 = new if d2 is None else np.minimum(d2, new)
            cumprobs = (d2 / d2.sum()).cumsum()
            idx = int(np.searchsorted(cumprobs, rng.uniform()))
        init[i, :] = data[idx, :]
    return init[:, 0] if flat else init


_INIT = {"random": _krandinit, "points": _kpoints, "++": _kpp}


def _missing_warn():
    warnings.warn(
        "One of the clusters is empty. Re-run kmeans with a different initialization.",
        stacklevel=3,
    )


def _missing_raise():
    raise ClusterError(
        "One of the clusters is empty. Re-run kmeans with a different initialization."
    )


_MISSING = {"warn": _missing_warn, "raise": _missing_raise}


def kmeans2(
    data,
    k,
    iter=10,
    thresh=1e-5,
    minit="random",
    missing="warn",
    check_finite=True,
    *,
    rng=_UNSET,
    seed=_UNSET,
):
    """k-means for a fixed number of iterations, with scipy's initialisations.

    Same as :func:`scipy.cluster.vq.kmeans2`. ``minit``: 'random' (Gaussian with the
    data's mean and covariance), 'points' (random observations), '++' (k-means++),
    'matrix' (``k`` is the initial centroids). ``missing``: 'warn' keeps an empty
    cluster's centroid where it was and warns; 'raise' raises :class:`ClusterError`.

    Returns
    -------
    centroid : ndarray of shape (k, N)
    label : ndarray of shape (M,), int32

    Examples
    --------
    >>> import numpy as np
    >>> data = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> centroid, label = kmeans2(data, np.array([[1.0, 0.0], [9.0, 0.0]]), minit="matrix")
    >>> centroid.tolist(), label.tolist()
    ([[0.0, 0.5], [10.0, 0.5]], [0, 0, 1, 1])
    """
    rng = _resolve_rng("kmeans2", rng, seed)
    if int(iter) < 1:
        raise ValueError(f"Invalid iter ({iter}), must be a positive integer.")
    try:
        miss_meth = _MISSING[missing]
    except KeyError as e:
        raise ValueError(f"Unknown missing method {missing!r}") from e
    data = _asarray(data, check_finite)
    code_book = np.array(k, copy=True)
    if data.ndim == 1:
        d = 1
    elif data.ndim == 2:
        d = data.shape[1]
    else:
        raise ValueError("Input of rank > 2 is not supported.")
    if data.size < 1 or code_book.size < 1:
        raise ValueError("Empty input is not supported.")
    if minit == "matrix" or code_book.size > 1:
        if data.ndim != code_book.ndim:
            raise ValueError("k array doesn't match data rank")
        nc = code_book.shape[0]
        if data.ndim > 1 and code_book.shape[1] != d:
            raise ValueError("k array doesn't match data dimension")
        _check_floats(data, "data")
    else:
        nc = int(code_book)
        if nc < 1:
            raise ValueError(f"Cannot ask kmeans2 for {nc} clusters (k was {code_book})")
        elif nc != code_book:
            warnings.warn("k was not an integer, was converted.", stacklevel=2)
        try:
            init_meth = _INIT[minit]
        except KeyError as e:
            raise ValueError(f"Unknown init method {minit!r}") from e
        _check_floats(data, "data")  # before the initialisation computes with it
        code_book = init_meth(data, code_book, _check_random_state(rng))
    engine = _Engine(data)
    for _ in range(int(iter)):
        label, _, new_code_book, has_members = engine.step(code_book)
        new_code_book = new_code_book.reshape((nc, *data.shape[1:]))
        if not has_members.all():
            miss_meth()
            # an empty cluster keeps its previous centroid
            new_code_book[~has_members] = code_book[~has_members]
        code_book = new_code_book
    return code_book, label
