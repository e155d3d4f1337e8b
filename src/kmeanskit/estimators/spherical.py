"""``kmeanskit.SphericalKMeans``: k-means for cosine similarity (text, embeddings)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .kmeans import KMeans

__all__ = ["SphericalKMeans"]


class SphericalKMeans(KMeans):
    """Spherical k-means (Dhillon and Modha 2001): clusters by cosine similarity.

    Every sample is scaled to unit length and every centre is kept at unit length (the
    normalised mean of its cluster), so the nearest centre is the one of highest cosine
    similarity. Dense or sparse (CSR, e.g. tf-idf) input, on the same exact engine as
    :class:`~kmeanskit.KMeans` (Lloyd, Hamerly or Yinyang iterations) and with all its
    parameters. Rows of zero length stay zero (equally far from every centre).

    ``inertia_`` is the weighted sum of squared Euclidean distances between the
    normalised samples and their centres, ``2 * sum(w * (1 - cosine similarity))``.
    :meth:`transform` gives cosine distances (``1 - cosine similarity``) with the
    default ``transform_mode='distance'``; the other modes work on the squared distances
    of the normalised samples.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.1], [5.0, 0.4], [0.1, 1.0], [0.3, 7.0]])
    >>> skm = SphericalKMeans(2, random_state=0, cluster_order="coordinates").fit(X)
    >>> skm.labels_.tolist()
    [1, 1, 0, 0]
    >>> bool(np.allclose(np.linalg.norm(skm.cluster_centers_, axis=1), 1.0))
    True
    >>> skm.transform([[2.0, 0.0]]).round(3).tolist()
    [[0.929, 0.004]]
    """

    def _check_data(self, X, reset: bool, copy: bool = False):
        X = super()._check_data(X, reset=reset, copy=copy)
        if sp.issparse(X):
            return normalize(X, copy=True).astype(X.dtype)
        norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(X / norms[:, None].astype(X.dtype))

    def _engine_options(self) -> dict:
        return {"normalize": True}

    def _seed(self, X, sample_weight, random_state):
        return _unit(super()._seed(X, sample_weight, random_state))

    def _given(self, centers):
        return _unit(centers)  # given centres are directions

    def _features(self, X):
        sqdist = self._sqdist(X)
        if self.transform_mode == "distance":
            return np.maximum(sqdist / 2.0, 0.0)  # |x - c|^2 = 2 - 2 cos for unit x, c
        return super()._features(X)


def _unit(centers: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.nansum(centers * centers, axis=1))
    norms[norms == 0] = 1.0
    return centers / norms[:, None]
