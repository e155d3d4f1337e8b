"""k-means on the pixels of one picture: colour quantization and segmentation."""

from __future__ import annotations

import numpy as np

from ..estimators import KMeans

__all__ = ["quantize", "segment"]


#: the most colours :func:`quantize` draws a picture with (k-means with more centres than
#: any palette holds would run for minutes on a photo's sample)
MAX_COLORS = 4096
#: the most segments :func:`segment` cuts a picture into
MAX_SEGMENTS = 4096


def _rgb(image) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must have shape (height, width, 3); got {img.shape}")
    img = img.astype(np.float32)
    return img / 255.0 if img.max() > 1.0 else img


def quantize(image, n_colors: int = 16, *, sample: int = 20000, random_state=0):
    """The picture redrawn with ``n_colors`` colours: k-means on a random sample of its
    pixels (as scikit-learn's colour-quantization example does), then every pixel takes
    its nearest centre.

    Parameters
    ----------
    image : array (height, width, 3), uint8 or floats in [0, 1]
    n_colors : int
    sample : int, default=20000
        Pixels the palette is fitted on (all of them when fewer).

    Returns
    -------
    quantized : float32 array like ``image``, in [0, 1]
    palette : (n_colors, 3) float32
    labels : (height, width) int32

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((4, 4, 3)); img[:2] = 1.0
    >>> q, palette, labels = quantize(img, 2)
    >>> sorted(palette.sum(axis=1).round(3).tolist()), bool(np.allclose(q, img))
    ([0.0, 3.0], True)
    """
    img = _rgb(image)
    pixels = img.reshape(-1, 3)
    top = min(len(pixels), MAX_COLORS)
    if not (isinstance(n_colors, int | np.integer) and 1 <= n_colors <= top):
        raise ValueError(f"n_colors must be an int from 1 to {top}; got n_colors={n_colors!r}")
    rng = np.random.RandomState(random_state)
    fit_on = pixels if len(pixels) <= sample else pixels[rng.choice(len(pixels), sample, False)]
    distinct = np.unique(fit_on, axis=0).shape[0]
    km = KMeans(min(n_colors, distinct), n_init=3, random_state=random_state).fit(fit_on)
    labels = km.predict(pixels)
    palette = km.cluster_centers_.astype(np.float32)
    return palette[labels].reshape(img.shape), palette, labels.reshape(img.shape[:2])


def segment(image, k: int = 4, *, position_weight: float = 1.0, random_state=0):
    """k-means segmentation on colour and position: each pixel is ``(r, g, b, w x, w y)``
    with x and y scaled to [0, 1] and ``w = position_weight`` (0: colour only).

    Returns
    -------
    labels : (height, width) int32
    means : float32 image, every pixel the mean colour of its segment

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((6, 6, 3)); img[:, 3:] = 1.0
    >>> labels, means = segment(img, 2)
    >>> bool((labels[:, :3] == labels[0, 0]).all() and labels[0, 0] != labels[0, 5])
    True
    """
    img = _rgb(image)
    if not (np.isfinite(position_weight) and position_weight >= 0):
        raise ValueError(
            f"position_weight must be a finite number >= 0; got position_weight={position_weight!r}"
        )
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    pos = np.stack([xs / max(w - 1, 1), ys / max(h - 1, 1)], axis=-1) * position_weight
    X = np.concatenate([img, pos], axis=-1).reshape(-1, 5)
    top = min(len(X), MAX_SEGMENTS)
    if not (isinstance(k, int | np.integer) and 1 <= k <= top):
        raise ValueError(f"k must be an int from 1 to {top}; got k={k!r}")
    km = KMeans(k, n_init=3, random_state=random_state).fit(X)
    labels = km.labels_.reshape(h, w)
    colours = km.cluster_centers_[:, :3].astype(np.float32)
    return labels, colours[labels]
