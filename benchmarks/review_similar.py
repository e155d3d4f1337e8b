"""Similar images in review: are the nearest neighbours of an image the same object?

Clusters COIL-20 (1440 photos of 20 objects) and ORL faces (400 photos of 40 people) with
every default (``kmeanskit cluster DIR --out RUN``), and, for contrast, with the
imperfect ``--features svd``; then asks the review session's "similar images"
(:meth:`kmeanskit.review.neighbours.Neighbours.similar`, in the run's ``features.npy``)
for the 5 nearest neighbours of every image, and prints the share of images whose 5
neighbours are all of its own object (target on COIL-20 with the default features: at
least 95 %) and the share of neighbours that are. scikit-learn's ``NearestNeighbors``
on the same rows is the peer: its neighbours must agree, and the times are printed with
their ratio.

    python benchmarks/review_similar.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SETS = {"COIL-20": ("coil20/images", r"obj(\d+)__"), "ORL faces": ("orl_faces/images", None)}


def labels_of(paths, pattern):
    if pattern is None:
        return [Path(p).parent.name for p in paths]
    return [re.search(pattern, Path(p).name).group(1) for p in paths]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=here)
    args = parser.parse_args()
    from sklearn.neighbors import NearestNeighbors

    from kmeanskit.review.session import ReviewSession

    print(
        f"{'data':10} {'features':9} {'all 5 same':>10} {'same share':>10} "
        f"{'ours ms':>8} {'sklearn ms':>10} {'ratio':>6}"
    )
    for name, (folder, pattern) in SETS.items():
        for features in ("auto", "svd"):
            with tempfile.TemporaryDirectory() as tmp:
                run = Path(tmp) / "run"
                command = [
                    sys.executable,
                    "-m",
                    "kmeanskit",
                    "cluster",
                    str(args.data / folder),
                    "--out",
                    str(run),
                ]
                if features != "auto":
                    command += ["--features", features]
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                session = ReviewSession(run)
                y = np.asarray(labels_of(session.items, pattern))
                start = time.perf_counter()
                found = np.array(
                    [[r for r, _ in session.neighbours.similar(i, 5)] for i in range(session.n)]
                )
                ours = time.perf_counter() - start
                start = time.perf_counter()
                nn = NearestNeighbors(n_neighbors=6).fit(session.features)
                _, peer = nn.kneighbors(session.features)
                theirs = time.perf_counter() - start
                same = y[found] == y[:, None]
                agree = np.mean(
                    [
                        set(a) == set(b[b != i][:5])
                        for i, (a, b) in enumerate(zip(found, peer, strict=True))
                    ]
                )
                print(
                    f"{name:10} {features:9} {same.all(axis=1).mean():10.3f} "
                    f"{same.mean():10.3f} {ours * 1000:8.0f} {theirs * 1000:10.0f} "
                    f"{ours / theirs:6.2f}  (neighbours agree with sklearn: {agree:.3f})"
                )


if __name__ == "__main__":
    main()
