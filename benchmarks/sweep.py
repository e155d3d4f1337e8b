"""The k sweep against fitting every k from scratch with scikit-learn.

The seed user's case: 1000 COIL-20 images resized to 64 x 64 (4096 features, float32),
k = 50, 60, ..., 500. scikit-learn fits ``KMeans(k, n_init=1)`` for every k (its greedy
k-means++ seeding included); kmeanskit runs one :func:`kmeanskit.sweep` over all k.
Both on the same threads, in one process. Prints both times, their ratio and the
inertia of every k.

    python benchmarks/sweep.py            # the whole sweep, about 3 minutes
    python benchmarks/sweep.py --quick    # k = 50..500 step 50
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from threadpoolctl import threadpool_limits

from cases import _coil_features  # the same data as the engine benchmark's features400
from kmeanskit import sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="k step 50 instead of 10")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X = _coil_features(1000)
    ks = list(range(50, 501, 50 if args.quick else 10))
    print(f"data: {X.shape[0]} x {X.shape[1]} {X.dtype}, k = {ks[0]}..{ks[-1]} ({len(ks)} values)")

    sweep(X[:200], [5, 10], random_state=0)  # compile the kernels outside the timing
    start = time.perf_counter()
    result = sweep(X, ks, random_state=args.seed)
    ours = time.perf_counter() - start

    sk_inertia = []
    start = time.perf_counter()
    with threadpool_limits(limits=None):
        for k in ks:
            model = SkKMeans(n_clusters=k, n_init=1, random_state=args.seed).fit(X)
            sk_inertia.append(model.inertia_)
    theirs = time.perf_counter() - start
    sk_inertia = np.array(sk_inertia)

    print("\n| k | sklearn inertia | kmeanskit inertia | kmeanskit / sklearn |")
    print("|---|---|---|---|")
    for k, a, b in zip(ks, sk_inertia, result.inertia, strict=True):
        print(f"| {k} | {a:.6g} | {b:.6g} | {b / a:.4f} |")
    ratio = result.inertia / sk_inertia
    print(
        f"\nsklearn, every k from scratch: {theirs:.1f} s; kmeanskit sweep: {ours:.1f} s; "
        f"ratio {theirs / ours:.1f}x (target >= 5x)"
    )
    print(
        f"inertia kmeanskit / sklearn: worst {ratio.max():.4f}, mean {ratio.mean():.4f}; "
        f"k where kmeanskit is higher: {[k for k, r in zip(ks, ratio, strict=True) if r > 1]}"
    )


if __name__ == "__main__":
    main()
