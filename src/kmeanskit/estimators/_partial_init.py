"""Initial centres with unknown coordinates: each NaN filled from the data.

The seed user knows 6 of the 7 coordinates of a centre. Every sample goes to the given
centre nearest to it on that centre's known coordinates (the mean squared difference
over them, so centres knowing different coordinates compare fairly); each unknown
coordinate becomes the weighted mean of that coordinate over the samples the centre
received, or, when it received none, the value of its nearest sample.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["fill_unknown"]


def fill_unknown(X, sample_weight, centers: np.ndarray) -> np.ndarray:
    """``centers`` with every NaN estimated from dense ``X`` (float64 copy).

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [0.2, 1.2], [5.0, 9.0], [5.2, 9.2]])
    >>> fill_unknown(X, np.ones(4), np.array([[0.0, np.nan], [5.0, np.nan]])).tolist()
    [[0.0, 1.1], [5.0, 9.1]]
    """
    centers = np.array(centers, dtype=np.float64)
    known = ~np.isnan(centers)
    if known.all():
        return centers
    if sp.issparse(X):
        raise ValueError(
            "init with NaN (coordinates to estimate) needs dense X; got a sparse matrix"
        )
    n, m = X.shape[0], centers.shape[0]
    partial = np.empty((n, m))
    for j in range(m):
        cols = np.flatnonzero(known[j])
        diff = np.asarray(X[:, cols], dtype=np.float64) - centers[j, cols]
        partial[:, j] = np.einsum("ij,ij->i", diff, diff) / cols.size
    labels = np.argmin(partial, axis=1)
    w = np.asarray(sample_weight, dtype=np.float64)
    for j in np.flatnonzero(~known.all(axis=1)):
        cols = np.flatnonzero(~known[j])
        members = labels == j
        if w[members].sum() > 0:
            centers[j, cols] = w[members] @ X[members][:, cols] / w[members].sum()
        else:
            centers[j, cols] = X[int(np.argmin(partial[:, j])), cols]
    return centers
