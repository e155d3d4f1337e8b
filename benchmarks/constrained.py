"""KMeansConstrained against the k-means-constrained package (OR-Tools min-cost flow),
on 10,000 points, k = 20, every cluster between 400 and 600 points.

Two data sets: 10,000 uniform points in the unit square (the routing case: customers
over a region) and unbalanced 10-d blobs (groups of 800 down to 125, so the bounds
bind). The package runs with its defaults (n_init=10); kmeanskit with its defaults and
with more runs converged fully (tol=0). Each row prints the time, its ratio to the
package's, the inertia and whether every bound holds.

    pip install k-means-constrained   # the peer, for this benchmark only
    python benchmarks/constrained.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import make_blobs

from kmeanskit import KMeansConstrained


def datasets():
    rng = np.random.RandomState(0)
    yield "uniform 2-d", rng.rand(10_000, 2)
    sizes = np.linspace(800, 125, 20).astype(int)
    X, _ = make_blobs(sizes, n_features=10, cluster_std=2.0, random_state=0)
    extra = rng.randn(10_000 - len(X), 10) * 6
    yield "unbalanced blobs 10-d", np.vstack([X, extra])


def main() -> None:
    from k_means_constrained import KMeansConstrained as Peer

    KMeansConstrained(3, size_min=10, random_state=0).fit(np.random.rand(100, 2))  # compile
    for name, X in datasets():
        print(f"\n{name}: {X.shape[0]} x {X.shape[1]}, k=20, sizes in [400, 600]")
        rows = []
        runs = {
            "k-means-constrained (n_init=10)": lambda: Peer(
                20, size_min=400, size_max=600, random_state=0
            ),
            "kmeanskit (defaults, n_init=3)": lambda: KMeansConstrained(
                20, size_min=400, size_max=600, random_state=0
            ),
            "kmeanskit (n_init=10)": lambda: KMeansConstrained(
                20, size_min=400, size_max=600, n_init=10, random_state=0
            ),
            "kmeanskit (n_init=30, tol=0)": lambda: KMeansConstrained(
                20, size_min=400, size_max=600, n_init=30, tol=0.0, random_state=0
            ),
        }
        for label, make in runs.items():
            start = time.perf_counter()
            model = make().fit(X)
            took = time.perf_counter() - start
            sizes = np.bincount(model.labels_, minlength=20)
            inertia = float(((X - model.cluster_centers_[model.labels_]) ** 2).sum())
            rows.append((label, took, inertia, bool((sizes >= 400).all() and (sizes <= 600).all())))
        peer_time, peer_inertia = rows[0][1], rows[0][2]
        print(
            f"{'method':34s} {'time s':>7s} {'peer/ours':>9s} {'inertia':>12s} "
            f"{'vs peer':>8s} bounds"
        )
        for label, took, inertia, ok in rows:
            print(
                f"{label:34s} {took:7.2f} {peer_time / took:9.2f} {inertia:12.6g} "
                f"{inertia / peer_inertia - 1:+8.4%} {'hold' if ok else 'BROKEN'}"
            )


if __name__ == "__main__":
    main()
