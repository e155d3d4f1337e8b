"""KMedoids on 5,000 points with a precomputed dissimilarity matrix (target: a fit
under 2 s on this machine), for several k, starts and methods.

The matrix (Euclidean distances of 5,000 x 10 Gaussian blobs, 12 centres) is computed
before the timing; each row prints the fit time, the swaps and the loss.

    python benchmarks/kmedoids.py
"""

from __future__ import annotations

import time

from sklearn.datasets import make_blobs
from sklearn.metrics import pairwise_distances

from kmeanskit import KMedoids


def main() -> None:
    X, _ = make_blobs(5000, n_features=10, centers=12, cluster_std=2.0, random_state=0)
    D = pairwise_distances(X)
    KMedoids(3, metric="precomputed", init="build").fit(D[:200, :200])  # compile
    print(f"{'k':>4s} {'method':>10s} {'init':>12s} {'time s':>7s} {'swaps':>6s} {'loss':>10s}")
    for k in (5, 12, 50):
        for method, init in (
            ("fasterpam", "k-medoids++"),
            ("fasterpam", "build"),
            ("alternate", "k-medoids++"),
            ("clara", "k-medoids++"),
        ):
            start = time.perf_counter()
            km = KMedoids(k, metric="precomputed", method=method, init=init, random_state=0)
            km.fit(D)
            took = time.perf_counter() - start
            print(
                f"{k:4d} {method:>10s} {init:>12s} {took:7.2f} {km.n_iter_:6d} {km.inertia_:10.1f}"
            )


if __name__ == "__main__":
    main()
