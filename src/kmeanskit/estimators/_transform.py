"""What ``transform`` returns, for every k-means estimator: features for a classifier.

From the squared distances of the samples to the centres: the Euclidean distances
(scikit-learn's convention), the squared ones, an RBF similarity
``exp(-d^2 / temperature)``, soft assignments ``softmax(-d^2 / temperature)`` (rows sum
to one) or a one-hot encoding of the nearest centre.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

__all__ = ["TRANSFORM_MODES", "from_sqdist"]

TRANSFORM_MODES = ("distance", "sqdistance", "rbf", "soft", "onehot")


def default_temperature(inertia: float, total_weight: float) -> float:
    """The mean weighted squared distance of the training samples to their centres,
    the natural scale of ``d^2`` (1.0 when it is zero)."""
    t = inertia / total_weight if total_weight > 0 else 0.0
    return float(t) if np.isfinite(t) and t > 0 else 1.0


def from_sqdist(sqdist: np.ndarray, mode: str, temperature: float) -> np.ndarray:
    """Features of ``mode`` from squared distances of shape (n, k).

    Examples
    --------
    >>> d2 = np.array([[0.0, 4.0], [9.0, 1.0]])
    >>> from_sqdist(d2, "distance", 1.0).tolist()
    [[0.0, 2.0], [3.0, 1.0]]
    >>> from_sqdist(d2, "onehot", 1.0).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    >>> from_sqdist(d2, "soft", 1.0).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """
    sqdist = np.maximum(sqdist, 0)
    if mode == "distance":
        return np.sqrt(sqdist)
    if mode == "sqdistance":
        return sqdist
    if mode == "rbf":
        return np.exp(-sqdist / temperature)
    if mode == "soft":
        return softmax(-sqdist / temperature, axis=1)
    if mode == "onehot":
        out = np.zeros_like(sqdist)
        out[np.arange(sqdist.shape[0]), np.argmin(sqdist, axis=1)] = 1.0
        return out
    raise ValueError(f"transform_mode must be one of {TRANSFORM_MODES}; got {mode!r}")
