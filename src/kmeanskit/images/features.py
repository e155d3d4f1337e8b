"""Image features as scikit-learn transformers.

Each takes a batch of decoded images, an array of shape ``(n, height, width)`` (grey) or
``(n, height, width, 3)`` (RGB) with values in [0, 1] (see :mod:`.io`), and returns a
2-d float32 array, one row per image. They are stateless, so a batch at a time gives
the same rows as all the images at once.

Every extractor derives from :class:`Extractor`, which declares what the registry
(:mod:`.extractors`), the feature recipes and the model file need: its registry
``name``, its ``param_schema`` and its row length, ``width(spec)``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._model_zip import ModelFileError, UnsupportedModelError, check_keys

__all__ = ["HOG", "ColorHistogram", "Extractor", "Pixels", "as_images", "check_params"]

#: the types a ``param_schema`` entry may name (None: the value may be null)
SCHEMA_TYPES = (int, float, bool, str, list, None)


def as_images(X) -> np.ndarray:
    """``X`` as a float32 batch of images, ``(n, height, width)`` or
    ``(n, height, width, 3)``; ValueError for another shape.

    Examples
    --------
    >>> as_images(np.zeros((2, 4, 5, 3))).dtype
    dtype('float32')
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim not in (3, 4) or (X.ndim == 4 and X.shape[-1] not in (1, 3)):
        raise ValueError(
            f"images must have shape (n, height, width) or (n, height, width, 3); got {X.shape}"
        )
    return X


def _fits(value, kinds, low, high) -> bool:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if value is None:
        return None in kinds
    for kind in kinds:
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return math.isfinite(value) and low <= value <= high
        if kind is not None and type(value) is kind:
            return low <= (value if kind in (int, bool) else len(value)) <= high
    return False


def check_params(params: dict, schema: dict, what: str, error=ValueError) -> dict:
    """``params`` if they are exactly the keys of ``schema`` and every value fits its
    ``(type, low, high)`` entry, else ``error`` naming ``what`` and the first bad one.

    int, float and bool: the value's range; str and list: its length; a tuple of types
    with None: the value may also be null.

    Examples
    --------
    >>> check_params({"bins": 8}, {"bins": (int, 1, 64)}, "ColorHistogram")
    {'bins': 8}
    >>> check_params({"bins": 0}, {"bins": (int, 1, 64)}, "ColorHistogram")
    Traceback (most recent call last):
    ...
    ValueError: ColorHistogram parameter bins=0 is out of range
    """
    if set(params) != set(schema):
        raise error(
            f"{what}: its parameters {sorted(params)} are not those of its "
            f"param_schema {sorted(schema)}"
        )
    for name, (kinds, low, high) in schema.items():
        if not _fits(params[name], kinds, low, high):
            raise error(f"{what} parameter {name}={params[name]!r:.60} is out of range")
    return params


def _plain(value):
    """A parameter as JSON holds it: numpy scalars as Python's, tuples as lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


class Extractor(TransformerMixin, BaseEstimator):
    """The base of the image feature extractors: stateless transformers from a batch of
    images (see :func:`as_images`) to float32 rows.

    A subclass declares, as class attributes and methods (and registers itself with
    :func:`~kmeanskit.images.extractors.register`):

    - ``name``: its registry name, which the feature recipes (``pipeline.FEATURES``) use;
    - ``param_schema``: ``{parameter: (type, low, high)}`` for every ``__init__``
      parameter, what a model file may hold (see :func:`check_params`);
    - ``width(spec)``: its row length for images of an
      :class:`~kmeanskit.images.io.ImageSpec`, None when known only by running it.

    In a model file it is stored as its class name and :meth:`to_file_params`, and
    rebuilt by :meth:`from_file_params`; override both to store something else.

    Examples
    --------
    >>> from kmeanskit.images.io import ImageSpec
    >>> Pixels().width(ImageSpec(8, "rgb")), Pixels().to_file_params()
    (192, {})
    """

    name: ClassVar[str] = ""
    param_schema: ClassVar[dict] = {}

    def width(self, spec) -> int | None:
        """The length of the rows for images of ``spec`` (None: known only by running)."""
        raise NotImplementedError(f"{type(self).__name__} does not declare width(spec)")

    def to_file_params(self) -> dict:
        """The parameters a model file stores: ``get_params()`` as JSON, checked against
        ``param_schema`` (:class:`~kmeanskit.model_io.UnsupportedModelError` if not)."""
        params = {k: _plain(v) for k, v in self.get_params(deep=False).items()}
        return check_params(
            params, self.param_schema, f"the extractor {type(self).__name__}", UnsupportedModelError
        )

    @classmethod
    def from_file_params(cls, params, where: str):
        """The extractor of a model file's ``params``, checked against ``param_schema``
        (:class:`~kmeanskit.model_io.ModelFileError` naming ``where`` if not)."""
        kind = cls.__name__
        check_keys(params, cls.param_schema, (), f"{kind} params", where)
        return cls(**check_params(params, cls.param_schema, f"{where}: {kind}", ModelFileError))

    def fit(self, X, y=None):
        """Nothing to learn; checks the images' shape."""
        as_images(X)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def _channels(spec) -> int:
    return 3 if spec.mode == "rgb" else 1


class Pixels(Extractor):
    """The pixels, flattened: ``height x width (x 3)`` features.

    Examples
    --------
    >>> import numpy as np
    >>> Pixels().transform(np.zeros((2, 4, 5))).shape
    (2, 20)
    """

    name = "pixels"
    param_schema: ClassVar[dict] = {}

    def width(self, spec) -> int:
        """``width x height (x 3)``."""
        return spec.size[0] * spec.size[1] * _channels(spec)

    def transform(self, X):
        """Flatten every image."""
        X = as_images(X)
        return np.ascontiguousarray(X.reshape(len(X), -1))


class ColorHistogram(Extractor):
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

    name = "color"
    param_schema: ClassVar[dict] = {"bins": (int, 1, 64)}

    def __init__(self, bins: int = 8):
        self.bins = bins

    def width(self, spec) -> int:
        """``bins ** 3`` for RGB, ``bins`` for grey."""
        return self.bins ** (3 if _channels(spec) == 3 else 1)

    def transform(self, X):
        """Histogram of every image."""
        X = as_images(X)
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


class HOG(Extractor):
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

    name = "hog"
    param_schema: ClassVar[dict] = {
        "orientations": (int, 1, 360),
        "pixels_per_cell": (int, 1, 16384),
        "cells_per_block": (int, 1, 64),
    }

    def __init__(self, orientations: int = 9, pixels_per_cell: int = 8, cells_per_block: int = 2):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block

    def _too_small(self, w: int, h: int) -> str:
        return (
            f"images of {w} x {h} are too small for HOG blocks of "
            f"{self.cells_per_block * self.pixels_per_cell} pixels"
        )

    def width(self, spec) -> int:
        """Blocks x cells per block x orientations; ValueError when the images are
        smaller than a block."""
        (w, h), cell, block = spec.size, self.pixels_per_cell, self.cells_per_block
        rows, cols = h // cell - block + 1, w // cell - block + 1
        if rows < 1 or cols < 1:
            raise ValueError(self._too_small(w, h))
        return rows * cols * block * block * self.orientations

    def transform(self, X):
        """HOG descriptor of every image."""
        try:
            from skimage.feature import hog
        except ImportError as exc:  # pragma: no cover - the images extra is installed in CI
            raise ImportError("HOG needs scikit-image: pip install 'kmeanskit[images]'") from exc
        X = as_images(X)
        if X.ndim == 4:
            X = X @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        cell = (self.pixels_per_cell, self.pixels_per_cell)
        block = (self.cells_per_block, self.cells_per_block)
        if X.shape[1] < cell[0] * block[0] or X.shape[2] < cell[1] * block[1]:
            raise ValueError(self._too_small(X.shape[2], X.shape[1]))
        rows = [
            hog(
                img,
                orientations=self.orientations,
                pixels_per_cell=cell,
                cells_per_block=block,
                feature_vector=True,
            )
            for img in X
        ]
        return np.asarray(rows, dtype=np.float32)
