"""Input checks shared by the estimators: one clear message per bad input."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval

#: the parameter constraint of ``n_threads``: None, a count, or negative from the cores
N_THREADS = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


def check_magnitude(X):
    """X itself, or ValueError when its values are so large that squared distances
    between rows overflow its dtype (they would silently become inf and every label
    meaningless). Reads X twice (max and min), without a temporary copy.

    Examples
    --------
    >>> import numpy as np
    >>> check_magnitude(np.array([[1.0, 2.0]])).shape
    (1, 2)
    >>> check_magnitude(np.array([[1e30, 0.0]], dtype=np.float32))
    Traceback (most recent call last):
    ...
    ValueError: X has values up to 1e+30 in absolute value: squared distances overflow ...
    """
    values = X.data if hasattr(X, "tocsr") else X
    if values.size == 0 or values.dtype.kind != "f":
        return X
    top = max(abs(float(values.max())), abs(float(values.min())))
    info = np.finfo(values.dtype)
    # |x - y|^2 summed over d features stays below max / 16 (a margin for the sums)
    if 4.0 * X.shape[1] * top * top <= float(info.max) / 16:
        return X
    hint = " or pass it as float64" if values.dtype == np.float32 and top < 1e150 else ""
    raise ValueError(
        f"X has values up to {top:.3g} in absolute value: squared distances overflow "
        f"{values.dtype} (largest {float(info.max):.3g}). Rescale X (divide it by "
        f"{top:.3g}, say){hint}"
    )


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
    """Weights as a contiguous array of X's dtype; ones when ``None``.

    Raises ValueError, naming ``sample_weight`` and what was received, for a wrong
    shape, a non-finite or negative weight, or weights that are all zero.
    """
    n = X.shape[0]
    if sample_weight is None:
        return np.ones(n, dtype=X.dtype)
    if np.isscalar(sample_weight):
        return np.full(n, sample_weight, dtype=X.dtype)
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numeric; got {sample_weight!r:.80}") from exc
    if w.shape != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},), one weight per sample; got shape {w.shape}"
        )
    if not np.isfinite(w).all():
        raise ValueError("sample_weight must be finite; got NaN or infinity")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be non-negative; got min {float(w.min())!r}")
    if not (w > 0).any():
        raise ValueError("sample_weight must have at least one positive weight; all are zero")
    return np.ascontiguousarray(w, dtype=X.dtype)


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
            f"init has {centers.shape[0]} rows (shape {centers.shape}) but n_clusters={n_clusters}"
        )
    if centers.shape[1] != X.shape[1]:
        raise ValueError(
            f"init has {centers.shape[1]} columns (shape {centers.shape}) but X has "
            f"{X.shape[1]} features"
        )
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
            f"init has {centers.shape[0]} rows (shape {centers.shape}); it needs 1 to "
            f"n_clusters={n_clusters} (rows left out are seeded by k-means++)"
        )
    if centers.shape[1] != X.shape[1]:
        raise ValueError(
            f"init has {centers.shape[1]} columns (shape {centers.shape}) but X has "
            f"{X.shape[1]} features"
        )
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
            raise ValueError(f"frozen must be centre indices or a boolean mask; got {frozen!r:.80}")
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
