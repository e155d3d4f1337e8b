"""The CNN's features and the grey pixels of each image, side by side: the default
image features.

A pretrained ImageNet network tells objects and faces apart, and handwriting far less
(its features of 16 x 16 digits upscaled are poor); the pixels at a small size do the
opposite. Each block is reduced by its own PCA, scaled to the same mean squared norm and
weighted (:data:`PIXEL_WEIGHT`), and UMAP then clusters the pair better than either
alone (``benchmarks/images_quality.py``, true k, ACC): COIL-20 1.00 (CNN alone 1.00,
pixels 0.84), ORL faces 0.86-0.88 (0.85, 0.76-0.80), USPS 0.97 (0.79-0.86, 0.81),
MNIST test 0.95 (0.86, 0.81).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .cnn import CNNEmbedding
from .features import as_images

__all__ = ["PIXEL_WEIGHT", "CNNPixels", "grey_thumbnails"]

#: the weight of the pixel block against the CNN's (each at unit mean squared norm)
PIXEL_WEIGHT = 0.7


def grey_thumbnails(X, size: int) -> np.ndarray:
    """Each image of ``X`` in grey, averaged down to ``size`` x ``size`` (area means of
    whole source pixels; a smaller image repeats its pixels), flattened:
    ``(n, size * size)`` float32.

    Examples
    --------
    >>> grey_thumbnails(np.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[2.5, 4.5, 10.5, 12.5]]
    >>> grey_thumbnails(np.array([[[1.0, 2.0]]]), 2).tolist()
    [[1.0, 2.0, 1.0, 2.0]]
    """
    X = as_images(X)
    if X.ndim == 4:  # ITU-R 601 luma, as Pillow's "L"
        X = (
            X[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
            if X.shape[-1] == 3
            else X[..., 0]
        )
    n, h, w = X.shape
    # each output pixel: the mean of the source pixels [r0, r1) x [c0, c1), at least
    # one (an image smaller than size repeats its pixels), from the integral image
    r0 = (np.arange(size) * h) // size
    r1 = np.maximum(r0 + 1, (np.arange(1, size + 1) * h) // size)
    c0 = (np.arange(size) * w) // size
    c1 = np.maximum(c0 + 1, (np.arange(1, size + 1) * w) // size)
    S = np.zeros((n, h + 1, w + 1), np.float64)
    S[:, 1:, 1:] = X.cumsum(axis=1, dtype=np.float64).cumsum(axis=2)
    sums = S[:, r1][:, :, c1] - S[:, r0][:, :, c1] - S[:, r1][:, :, c0] + S[:, r0][:, :, c0]
    counts = (r1 - r0)[:, None] * (c1 - c0)[None, :]
    return (sums / counts).reshape(n, size * size).astype(np.float32)


class CNNPixels(CNNEmbedding):
    """The CNN's pooled features (:class:`~kmeanskit.images.cnn.CNNEmbedding`) after the
    image's grey pixels at ``pixel_size`` x ``pixel_size``; :meth:`blocks` says where
    each part lies, for the per-block PCA of the pipeline.

    Parameters
    ----------
    onnx_path, input_range, batch_size, runtime
        As :class:`~kmeanskit.images.cnn.CNNEmbedding`.
    pixel_size : int, default=32

    Examples
    --------
    >>> emb = CNNPixels(pixel_size=8)
    >>> emb.blocks(8 * 8 + 1280)
    [(slice(0, 64, None), 0.7), (slice(64, 1344, None), 1.0)]
    """

    name = "cnn-pixels"
    param_schema: ClassVar[dict] = {**CNNEmbedding.param_schema, "pixel_size": (int, 2, 128)}

    def __init__(
        self, onnx_path=None, input_range=(-1.0, 1.0), batch_size=32, runtime="auto", pixel_size=32
    ):
        super().__init__(onnx_path, input_range, batch_size, runtime)
        self.pixel_size = pixel_size

    def blocks(self, n_features: int) -> list[tuple[slice, float]]:
        """The column ranges of the parts of a row of ``n_features`` and their weights:
        the pixels (:data:`PIXEL_WEIGHT`), then the CNN's features (1)."""
        p = self.pixel_size * self.pixel_size
        return [(slice(0, p), PIXEL_WEIGHT), (slice(p, n_features), 1.0)]

    def transform(self, X):
        """The grey pixels, then the CNN's features, of every image."""
        X = as_images(X)
        pixels = grey_thumbnails(X, self.pixel_size)
        return np.hstack([pixels, super().transform(X)]) if len(X) else pixels
