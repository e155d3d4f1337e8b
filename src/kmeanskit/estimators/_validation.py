"""Input checks shared by the estimators: one clear message per bad input."""

from __future__ import annotations

import numpy as np


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
