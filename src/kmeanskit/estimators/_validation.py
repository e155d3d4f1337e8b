"""Input checks shared by the estimators: one clear message per bad input."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval

#: the parameter constraint of ``n_threads``: None, a count, or negative from the cores
N_THREADS = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


def check_magnitude(X, fit: bool = False):
    """X itself, or ValueError when its values are so large that squared distances
    between rows overflow its dtype (they would silently become inf and every label
    meaningless) or, with ``fit``, so small that their squares underflow (below the
    smallest normal number every distance between rows loses its digits). Reads X
    twice (max and min), without a temporary copy.

    Parameters
    ----------
    X : ndarray or CSR matrix, float32 or float64
    fit : bool, default=False
        Also refuse values too small to cluster (at fit time: rows to predict may lie
        near the origin, their distances to the centres are those of the centres).

    Returns
    -------
    X : ndarray or CSR matrix, the same object

    Examples
    --------
    >>> import numpy as np
    >>> check_magnitude(np.array([[1.0, 2.0]])).shape
    (1, 2)
    >>> check_magnitude(np.array([[1e30, 0.0]], dtype=np.float32))
    Traceback (most recent call last):
    ...
    ValueError: X has values up to 1e+30 in absolute value: squared distances overflow ...
    >>> check_magnitude(np.array([[1e-200], [2e-200]]), fit=True)
    Traceback (most recent call last):
    ...
    ValueError: X has values of at most 2e-200 in absolute value: squared distances ...
    """
    values = X.data if hasattr(X, "tocsr") else X
    if values.size == 0 or values.dtype.kind != "f":
        return X
    top = max(abs(float(values.max())), abs(float(values.min())))
    magnitude_error(top, X.shape[1], values.dtype, fit)
    return X


def magnitude_error(top: float, n_features: int, dtype, fit: bool, name: str = "X") -> None:
    """Raise the ValueError of :func:`check_magnitude` for data of dtype ``dtype``
    whose largest absolute value is ``top`` (also for blocks of a Dask array)."""
    info = np.finfo(dtype)
    # |x - y|^2 summed over d features stays below max / 16 (a margin for the sums)
    if 4.0 * n_features * top * top > float(info.max) / 16:
        hint = " or pass it as float64" if dtype == np.float32 and top < 1e150 else ""
        raise ValueError(
            f"{name} has values up to {top:.3g} in absolute value: squared distances "
            f"overflow {np.dtype(dtype)} (largest {float(info.max):.3g}). Rescale {name} "
            f"(divide it by {top:.3g}, say){hint}"
        )
    if fit and 0.0 < top and top * top < float(info.tiny):
        hint = " or pass it as float64" if dtype == np.float32 and top > 1e-150 else ""
        raise ValueError(
            f"{name} has values of at most {top:.3g} in absolute value: squared distances "
            f"underflow {np.dtype(dtype)} (below its smallest normal number "
            f"{float(info.tiny):.3g} they lose their digits, or become 0). Rescale {name} "
            f"(multiply it by {1 / top:.3g}, say){hint}"
        )


def check_values(X, fit: bool = False):
    """X checked for the kernels, after scikit-learn's ``validate_data``: a CSR
    matrix's structure (:func:`check_csr`), then the magnitude of its values
    (:func:`check_magnitude`). Every estimator's input goes through here.

    Parameters
    ----------
    X : ndarray or CSR matrix, float32 or float64
    fit : bool, default=False
        X is fitted on (values too small to cluster are refused too).

    Returns
    -------
    X : ndarray or CSR matrix in canonical format (a new one when X was not)
    """
    return check_magnitude(check_csr(X), fit=fit)


def _csr_error(what: str) -> ValueError:
    return ValueError(f"X is a malformed CSR matrix: {what}")


def check_csr(X):
    """A CSR matrix checked before any kernel reads it, in O(nnz) vectorised passes:
    ``indptr`` of length n + 1 from 0, non-decreasing, to nnz; ``indices`` and
    ``data`` of nnz entries (more storage is cut off), every index in
    ``[0, n_features)``. A matrix with unsorted or duplicate column indices (whatever
    its flags say) comes back as a sorted copy with duplicates summed, one with 64-bit
    indices as one with 32-bit indices; anything else as it is.

    Parameters
    ----------
    X : ndarray or sparse matrix
        Anything but a CSR matrix (or array) is returned as it is.

    Returns
    -------
    X : the same, or a canonical CSR copy of it (of the same class)

    Raises
    ------
    ValueError
        Naming X and what is wrong: the kernels would read or write out of bounds.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> m = sp.csr_matrix(np.eye(3))
    >>> m.indices[1] = 7
    >>> check_csr(m)
    Traceback (most recent call last):
    ...
    ValueError: X is a malformed CSR matrix: its indices hold 7 (row 1), outside [0, 3) ...
    """
    if not sp.issparse(X) or X.format != "csr":
        return X
    n, d = X.shape
    indptr, indices, data = X.indptr, X.indices, X.data
    for name, arr in (("indptr", indptr), ("indices", indices)):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise _csr_error(
                f"its {name} must be a 1-D integer array; got dtype {arr.dtype}, shape {arr.shape}"
            )
    if data.ndim != 1 or data.shape != indices.shape:
        raise _csr_error(
            f"its data (shape {data.shape}) and indices (shape {indices.shape}) must be "
            "1-D of one length"
        )
    if indptr.shape[0] != n + 1:
        raise _csr_error(f"it has {n} rows, so indptr needs {n + 1} entries; got {len(indptr)}")
    nnz = int(indptr[-1])
    if int(indptr[0]) != 0 or not 0 <= nnz <= len(indices):
        raise _csr_error(
            f"indptr must run from 0 to at most {len(indices)} (the stored entries); it "
            f"runs from {int(indptr[0])} to {nnz}"
        )
    if n > 1:
        down = np.flatnonzero(indptr[1:] < indptr[:-1])
        if down.size:
            i = int(down[0])
            raise _csr_error(
                f"indptr decreases at row {i} ({int(indptr[i])} then {int(indptr[i + 1])})"
            )
    indices, data = indices[:nnz], data[:nnz]
    if nnz and (int(indices.min()) < 0 or int(indices.max()) >= d):
        p = int(np.flatnonzero((indices < 0) | (indices >= d))[0])
        row = int(np.searchsorted(indptr, p, side="right")) - 1
        raise _csr_error(
            f"its indices hold {int(indices[p])} (row {row}), outside [0, {d}) for its {d} columns"
        )
    changed = nnz < len(X.indices)
    if indices.dtype != np.int32 or indptr.dtype != np.int32:
        if max(d, nnz) > np.iinfo(np.int32).max:
            raise ValueError(
                f"X is a sparse matrix of {d} columns and {nnz} stored entries: more than "
                "32-bit indices hold, which the kernels take"
            )
        indices, indptr, changed = indices.astype(np.int32), indptr.astype(np.int32), True
    # canonical: strictly increasing column indices within each row
    later = indices[1:] <= indices[:-1]
    starts = indptr[1:-1]
    later[starts[(starts > 0) & (starts < nnz)] - 1] = False  # pairs across two rows
    if later.any():
        out = type(X)((data.copy(), indices.copy(), indptr.copy()), shape=X.shape)
        out.has_canonical_format = False
        out.has_sorted_indices = False
        out.sum_duplicates()
        return out
    if not changed:
        return X
    out = type(X)((data, indices, indptr), shape=X.shape, copy=False)
    out.has_canonical_format = True
    return out


def warn_if_few_clusters(labels, n_clusters: int) -> None:
    """The ConvergenceWarning of scikit-learn's KMeans when the labels hold fewer than
    ``n_clusters`` distinct clusters (duplicate rows: some centres coincide)."""
    n_distinct = np.unique(labels).size
    if n_distinct < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({n_distinct}) found smaller than n_clusters "
            f"({n_clusters}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=3,
        )


def check_n_samples(X, n_clusters: int) -> None:
    """Raise ValueError when X has fewer samples than clusters."""
    if X.shape[0] < n_clusters:
        raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}.")


def check_sample_weight(sample_weight, X) -> np.ndarray:
    """Weights as a contiguous array of X's dtype; ones when ``None``, a scalar for
    every sample.

    Raises ValueError, naming ``sample_weight`` and what was received, for a wrong
    shape, a non-numeric or complex dtype, a weight that is not finite (in X's dtype)
    or negative, or weights that are all zero.

    Examples
    --------
    >>> import numpy as np
    >>> check_sample_weight(2, np.zeros((3, 1))).tolist()
    [2.0, 2.0, 2.0]
    >>> check_sample_weight([1.0, np.nan, 1.0], np.zeros((3, 1)))
    Traceback (most recent call last):
    ...
    ValueError: sample_weight must be finite; got NaN or infinity (nan at index 1)
    """
    n = X.shape[0]
    if sample_weight is None:
        return np.ones(n, dtype=X.dtype)
    try:
        raw = np.asarray(sample_weight)
        w = None if raw.dtype.kind == "c" else np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numeric; got {sample_weight!r:.80}") from exc
    if w is None:
        raise ValueError(f"sample_weight must be real; got complex dtype {raw.dtype}")
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},), one weight per sample; got shape {w.shape}"
        )
    with np.errstate(over="ignore"):
        cast = np.ascontiguousarray(w, dtype=X.dtype)
    bad = np.flatnonzero(~np.isfinite(cast))
    if bad.size:
        i = int(bad[0])
        where = "" if np.isfinite(w[i]) else f"{float(w[i])!r} "
        beyond = f"{float(w[i])!r} beyond the {cast.dtype} range " if not where else ""
        raise ValueError(
            f"sample_weight must be finite; got NaN or infinity ({where}{beyond}at index {i})"
        )
    if (w < 0).any():
        i = int(np.argmin(w))
        low = float(w[i])
        raise ValueError(f"sample_weight must be non-negative; got min {low!r} (index {i})")
    if not (w > 0).any():
        raise ValueError("sample_weight must have at least one positive weight; all are zero")
    return cast


def _features_message(centers: np.ndarray, X) -> str:
    """scikit-learn's words for initial centres of the wrong number of features."""
    return (
        f"The shape of the initial centers {centers.shape} does not match the number of "
        f"features of the data {X.shape[1]}."
    )


def check_init_array(init, X, n_clusters: int) -> np.ndarray:
    """An explicit ``init`` array, checked against ``n_clusters`` and X's features."""
    try:
        centers = np.array(init, dtype=X.dtype, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"init must be a numeric array; got {init!r:.80}") from exc
    if centers.ndim != 2:
        raise ValueError(f"init must be a 2-D array of centres; got shape {centers.shape}")
    if centers.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match the number "
            f"of clusters {n_clusters}."
        )
    if centers.shape[1] != X.shape[1]:
        raise ValueError(_features_message(centers, X))
    if not np.isfinite(centers).all():
        raise ValueError("init must be finite; got NaN or infinity")
    return centers


def check_init_rows(init, X, n_clusters: int) -> np.ndarray:
    """An explicit ``init`` that may give fewer rows than ``n_clusters`` (the rest are
    seeded) and NaN entries (estimated from the data); not infinite, not all NaN."""
    try:
        centers = np.array(init, dtype=np.float64, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"init must be a numeric array; got {init!r:.80}") from exc
    if centers.ndim != 2:
        raise ValueError(f"init must be a 2-D array of centres; got shape {centers.shape}")
    if not 1 <= centers.shape[0] <= n_clusters:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match the number "
            f"of clusters {n_clusters}. (kmeanskit takes 1 to n_clusters={n_clusters} "
            "rows: rows left out are seeded by k-means++)"
        )
    if centers.shape[1] != X.shape[1]:
        raise ValueError(_features_message(centers, X))
    if np.isinf(centers).any():
        raise ValueError("init must not hold infinity; NaN marks a coordinate to estimate")
    empty = np.flatnonzero(np.isnan(centers).all(axis=1))
    if empty.size:
        raise ValueError(
            f"init row {int(empty[0])} is all NaN: leave it out (rows after the given "
            "ones are seeded by k-means++)"
        )
    return centers


def check_frozen(frozen, n_clusters: int, n_given: int) -> np.ndarray | None:
    """``frozen`` (indices, or a boolean mask over the clusters) as a boolean mask, or
    None when nothing is frozen. Only given ``init`` rows can be frozen."""
    if frozen is None:
        return None
    arr = np.asarray(frozen)
    if arr.dtype == bool:
        if arr.shape != (n_clusters,):
            raise ValueError(
                f"frozen as a boolean mask needs shape ({n_clusters},); got shape {arr.shape}"
            )
        mask = arr.copy()
    else:
        if arr.ndim > 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            got = f"{frozen!r:.80}"
            raise ValueError(f"frozen must be centre indices or a boolean mask; got {got}")
        idx = arr.astype(np.intp).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= n_clusters):
            raise ValueError(
                f"frozen indices must be in [0, {n_clusters}); got {idx.tolist()!r:.80}"
            )
        mask = np.zeros(n_clusters, dtype=bool)
        mask[idx] = True
    if mask[n_given:].any():
        raise ValueError(
            f"frozen centre {int(np.flatnonzero(mask)[-1])} is not given in init (it has "
            f"{n_given} rows): only given centres can be frozen"
        )
    return mask if mask.any() else None
