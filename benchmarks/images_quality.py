"""Clustering quality of the image pipelines against the labels in the paths.

Runs ``kmeanskit.images.cluster_images`` on COIL-20 and ORL faces (from
``../shared/data``) and on USPS and MNIST test written out as PNG files (one folder per
digit, in a temporary folder), for each feature pipeline asked (default: ``auto``, the
default of ``kmeanskit cluster``), with every other setting at its default, with the
true k and then with ``k='auto'`` (the default); prints ACC, NMI, the k found and the
time (the k='auto' run reads the features back from the cache of the first run: its
time is the run's own minus the decoding, plus what choosing k costs).

    python benchmarks/images_quality.py                          # the defaults, all sets
    python benchmarks/images_quality.py --sets coil20 orl --features cnn cnn-umap svd --no-auto
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path

import numpy as np

from kmeanskit.images import cluster_images, labels_from_paths
from kmeanskit.metrics import evaluate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def write_digits(images: np.ndarray, labels: np.ndarray, folder: Path) -> Path:
    """Grey images in [0, 1] (n, h, w) as PNG files ``folder/<label>/<i>.png``."""
    from PIL import Image

    for i, (img, lab) in enumerate(zip(images, labels, strict=True)):
        sub = folder / str(int(lab))
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(sub / f"{i:05d}.png")
    return folder


def _usps(folder: Path) -> Path:
    import h5py

    with h5py.File(SHARED / "usps" / "usps.h5") as f:
        X = np.vstack([f["train/data"][:], f["test/data"][:]]).reshape(-1, 16, 16)
        y = np.concatenate([f["train/target"][:], f["test/target"][:]])
    return write_digits(X, y, folder / "usps")


def _mnist(folder: Path) -> Path:
    root = SHARED / "mnist_test"
    with gzip.open(root / "t10k-images-idx3-ubyte.gz") as fh:
        X = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28) / 255.0
    with gzip.open(root / "t10k-labels-idx1-ubyte.gz") as fh:
        y = np.frombuffer(fh.read(), np.uint8, offset=8)
    return write_digits(X, y, folder / "mnist")


SETS = {
    "coil20": (lambda tmp: SHARED / "coil20" / "images", r"obj(\d+)__", 20),
    "orl": (lambda tmp: SHARED / "orl_faces" / "images", "parent", 40),
    "usps": (_usps, "parent", 10),
    "mnist": (_mnist, "parent", 10),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--features", nargs="+", default=["auto"])
    parser.add_argument("--no-auto", action="store_true", help="only the true k")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kmeanskit-quality-"))
    print("| set | features | k asked | k found | within 15 % | ACC | NMI | time s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        make, rule, k = SETS[name]
        folder = make(tmp)
        for features in args.features:
            for asked in [k] if args.no_auto else [k, "auto"]:
                start = time.perf_counter()
                result = cluster_images(folder, k=asked, features=features, cache=tmp / "cache")
                seconds = time.perf_counter() - start
                scores = evaluate(labels_from_paths(result.paths, rule), result.labels)
                found = len(np.unique(result.labels))
                near = "yes" if abs(found - k) <= 0.15 * k else "no"
                print(
                    f"| {name} | {result.model.features} | {asked} | {found} | {near} | "
                    f"{scores['accuracy']:.3f} | {scores['nmi']:.3f} | {seconds:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
