"""MiniBatchKMeans on blobs64 (100,000 x 64, k = 100) against scikit-learn's.

The reference is the exact solution: kmeanskit's ``KMeans(n_init=3)`` (Lloyd to
convergence). For each seed, kmeanskit's ``MiniBatchKMeans`` with its defaults, and
scikit-learn's ``MiniBatchKMeans`` with its defaults and with more effort (more
initial candidates, larger batches, no early stop), report the time and the inertia
over the exact one. The target: within 2 % of exact, in less time than scikit-learn
needs to get as close; the summary counts, per method, the seeds within 2 %.

    python benchmarks/minibatch.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.cluster import MiniBatchKMeans as SKMiniBatch
from sklearn.datasets import make_blobs

from kmeanskit import KMeans, MiniBatchKMeans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    X, _ = make_blobs(100_000, n_features=64, centers=100, cluster_std=1.5, random_state=0)
    X = X.astype(np.float32)  # as in benchmarks/engine.py
    MiniBatchKMeans(100, random_state=0).fit(X[:5000])  # compile outside the timing
    start = time.perf_counter()
    exact = KMeans(100, n_init=3, random_state=0).fit(X).inertia_
    print(
        f"blobs64 100000 x 64, k=100; exact KMeans(n_init=3) inertia {exact:.6g} "
        f"in {time.perf_counter() - start:.2f} s"
    )
    methods = {
        "kmeanskit MiniBatchKMeans": lambda s: MiniBatchKMeans(100, random_state=s),
        "sklearn MiniBatchKMeans": lambda s: SKMiniBatch(100, random_state=s),
        "sklearn n_init=10": lambda s: SKMiniBatch(100, n_init=10, random_state=s),
        "sklearn batch 4096, n_init=10": lambda s: SKMiniBatch(
            100, batch_size=4096, n_init=10, random_state=s
        ),
        "sklearn n_init=10, no early stop": lambda s: SKMiniBatch(
            100, n_init=10, max_no_improvement=None, random_state=s
        ),
    }
    print(f"{'method':34s} {'median s':>9s} {'inertia/exact per seed':>40s} {'<=2%':>5s}")
    rows = []
    for name, make in methods.items():
        times, ratios = [], []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            model = make(seed).fit(X)
            times.append(time.perf_counter() - t0)
            ratios.append(model.inertia_ / exact)
        ok = sum(r <= 1.02 for r in ratios)
        rows.append((name, float(np.median(times)), ratios, ok))
        print(
            f"{name:34s} {np.median(times):9.2f} "
            f"{' '.join(f'{r:.3f}' for r in ratios):>40s} {ok:>3d}/{args.seeds}"
        )
    ours = rows[0][1]
    print("\ntime over kmeanskit's, for the methods within 2 % on every seed:")
    for name, t, _ratios, ok in rows[1:]:
        verdict = f"{t / ours:.2f}x" if ok == args.seeds else f"within 2 % on {ok}/{args.seeds}"
        print(f"  {name:34s} {verdict}")


if __name__ == "__main__":
    main()
