"""Real labelled images that an installed package ships, as a folder of image files:
scikit-learn's 1,797 handwritten digits (8 x 8, grey), for ``make demo`` and tests.

    python -m kmeanskit.images.demo FOLDER     # writes FOLDER/<digit>/<i>.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

__all__ = ["write_digits"]


def write_digits(folder, n: int | None = None) -> Path:
    """Write scikit-learn's digits (``load_digits``) as PNG files, one folder per digit
    (``folder/<digit>/<i>.png``, 8 x 8 grey); ``n``: only the first ``n``. The folder must
    not exist yet; returns it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = write_digits(pathlib.Path(tempfile.mkdtemp()) / "digits", n=20)
    >>> sorted(p.name for p in root.iterdir())[:3], len(list(root.rglob("*.png")))
    (['0', '1', '2'], 20)
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    folder = Path(folder)
    folder.mkdir(parents=True)  # never into an existing folder
    digits = load_digits()
    images = digits.images[:n] if n is not None else digits.images
    for i, (img, label) in enumerate(zip(images, digits.target, strict=False)):
        sub = folder / str(int(label))
        sub.mkdir(exist_ok=True)
        pixels = np.clip(np.asarray(img) * (255 / 16), 0, 255).astype(np.uint8)
        Image.fromarray(pixels, "L").save(sub / f"{i:04d}.png")
    return folder


if __name__ == "__main__":  # pragma: no cover - make demo
    if len(sys.argv) != 2:
        sys.exit("usage: python -m kmeanskit.images.demo FOLDER")
    root = write_digits(sys.argv[1])
    print(f"{len(list(root.rglob('*.png')))} digit images (scikit-learn's) -> {root}")
