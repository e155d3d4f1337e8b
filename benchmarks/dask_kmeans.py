"""kmeanskit.distributed.KMeans against the in-memory kmeanskit.KMeans (and dask-ml's
KMeans when it is installed) on blobs: N x 32, k = 50, 100,000-row chunks.

Prints, for each: the time, the iterations, the inertia and the centroid index against
the true centres (clusters not found). The Dask runs use the threaded scheduler and a
2-worker LocalCluster (processes=False), so the difference to the in-memory fit is the
scheduling overhead.

    python benchmarks/dask_kmeans.py [--n 2000000]
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
import numpy as np
from sklearn.datasets import make_blobs

from kmeanskit import KMeans
from kmeanskit.distributed import KMeans as DaskKMeans
from kmeanskit.metrics import centroid_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()
    X, _, truth = make_blobs(args.n, n_features=32, centers=args.k, random_state=0,
                             return_centers=True)  # fmt: skip
    Xd = da.from_array(X, chunks=(100_000, 32))
    KMeans(3, random_state=0).fit(X[:5000])  # compile the kernels
    rows = []

    def run(label, make, data):
        start = time.perf_counter()
        model = make().fit(data)
        took = time.perf_counter() - start
        rows.append((label, took, model.n_iter_, float(model.inertia_),
                     centroid_index(np.asarray(model.cluster_centers_), truth)))  # fmt: skip

    run("kmeanskit.KMeans (in memory)", lambda: KMeans(args.k, random_state=0), X)
    run("distributed.KMeans, threads", lambda: DaskKMeans(args.k, random_state=0), Xd)
    from distributed import Client

    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0"):
        run("distributed.KMeans, LocalCluster", lambda: DaskKMeans(args.k, random_state=0), Xd)
    try:
        from dask_ml.cluster import KMeans as DaskMLKMeans
    except ImportError:
        pass
    else:
        run("dask-ml KMeans", lambda: DaskMLKMeans(args.k, random_state=0), Xd)
    print(f"{args.n} x 32 blobs, k={args.k}, chunks of 100,000 rows")
    print(f"{'method':34s} {'time s':>8s} {'iters':>6s} {'inertia':>14s} {'CI':>4s}")
    for label, took, iters, inertia, ci in rows:
        print(f"{label:34s} {took:8.2f} {iters:6d} {inertia:14.6g} {ci:4d}")


if __name__ == "__main__":
    main()
