"""Image features as scikit-learn transformers.

Each takes a batch of decoded images, an array of shape ``(n, height, width)`` (grey) or
``(n, height, width, 3)`` (RGB) with values in [0, 1] (see :mod:`.io`), and returns a
2-d float32 array, one row per image. They are stateless, so a batch at a time gives
the same rows as all the images at once.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["HOG", "ColorHistogram", "Pixels"]


def _images(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim not in (3, 4) or (X.ndim == 4 and X.shape[-1] not in (1, 3)):
        raise ValueError(
            f"images must have shape (n, height, width) or (n, height, width, 3); got {X.shape}"
        )
    return X


class _Stateless(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        """Nothing to learn; checks the images' shape."""
        _images(X)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class Pixels(_Stateless):
    """The pixels, flattened: ``height x width (x 3)`` features.

    Examples
    --------
    >>> import numpy as np
    >>> Pixels().transform(np.zeros((2, 4, 5))).shape
    (2, 20)
    """

    def transform(self, X):
        """Flatten every image."""
        X = _images(X)
        return np.ascontiguousarray(X.reshape(len(X), -1))


class ColorHistogram(_Stateless):
    """Normalised joint colour histogram (``bins ** 3`` features for RGB, ``bins`` for
    grey); each row sums to one.

    Parameters
    ----------
    bins : int, default=8
        Bins per channel.

    Examples
    --------
    >>> import numpy as np
    >>> h = ColorHistogram(bins=2).transform(np.ones((1, 3, 3, 3)))
    >>> h.shape, float(h[0, -1])
    ((1, 8), 1.0)
    """

    def __init__(self, bins: int = 8):
        self.bins = bins

    def transform(self, X):
        """Histogram of every image."""
        X = _images(X)
        if not (isinstance(self.bins, int | np.integer) and 1 <= self.bins <= 64):
            raise ValueError(f"bins must be an integer from 1 to 64; got {self.bins!r}")
        b = int(self.bins)
        q = np.minimum((X * b).astype(np.int64), b - 1)
        if X.ndim == 4 and X.shape[-1] == 3:
            codes = (q[..., 0] * b + q[..., 1]) * b + q[..., 2]
            n_bins = b**3
        else:
            codes = q.reshape(len(X), -1)
            n_bins = b
        codes = codes.reshape(len(X), -1)
        out = np.zeros((len(X), n_bins), dtype=np.float32)
        for i in range(len(X)):
            out[i] = np.bincount(codes[i], minlength=n_bins) / codes.shape[1]
        return out


class HOG(_Stateless):
    """Histograms of oriented gradients (scikit-image's ``hog``), on the grey image.

    Parameters
    ----------
    orientations : int, default=9
    pixels_per_cell : int, default=8
    cells_per_block : int, default=2

    Examples
    --------
    >>> import numpy as np
    >>> HOG().transform(np.random.RandomState(0).rand(2, 32, 32)).shape
    (2, 324)
    """

    def __init__(self, orientations: int = 9, pixels_per_cell: int = 8, cells_per_block: int = 2):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block

    def transform(self, X):
        """HOG descriptor of every image."""
        try:
            from skimage.feature import hog
        except ImportError as exc:  # pragma: no cover - the images extra is installed in CI
            raise ImportError("HOG needs scikit-image: pip install 'kmeanskit[images]'") from exc
        X = _images(X)
        if X.ndim == 4:
            X = X @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        cell = (self.pixels_per_cell, self.pixels_per_cell)
        block = (self.cells_per_block, self.cells_per_block)
        if X.shape[1] < cell[0] * block[0] or X.shape[2] < cell[1] * block[1]:
            raise ValueError(
                f"images of {X.shape[2]} x {X.shape[1]} are too small for HOG blocks of "
                f"{block[0] * cell[0]} pixels"
            )
        rows = [
            hog(img, orientations=self.orientations, pixels_per_cell=cell,
                cells_per_block=block, feature_vector=True)
            for img in X
        ]  # fmt: skip
        return np.asarray(rows, dtype=np.float32)
