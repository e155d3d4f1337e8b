"""kmeanskit.distributed.KMeans against the in-memory kmeanskit.KMeans and dask-ml's
KMeans, on 2,000,000 x 32 float32 blobs (50 centres, as scikit-learn's make_blobs draws
them), k = 50, 100,000-row chunks, a 2-worker LocalCluster (one thread each, separate
processes) on this machine.

Two comparisons, in one run:
  - per iteration: both fits from the same start (n_init=1), time / iterations;
  - end to end: each with its own seeding (k-means++ in memory, k-means|| on Dask,
    dask-ml's k-means||), time, iterations, inertia and the centroid index against the
    true centres (clusters not found).
The data is made on the workers, block by block; the in-memory fit gets the same rows.

    python benchmarks/dask_kmeans.py [--n 2000000] [--no-dask-ml]

dask-ml is not a kmeanskit dependency: install it for the benchmark only, e.g.
``pip install --target /tmp/daskml --no-deps dask-ml dask-glm multipledispatch pyarrow``
and run with ``PYTHONPATH=/tmp/daskml``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

D, CHUNK = 32, 100_000


def _block(block_id, centers, chunk, n):
    """One chunk of blobs: rows of unit-variance noise around the 50 centres."""
    lo = block_id * chunk
    m = min(chunk, n - lo)
    rs = np.random.RandomState(1000 + block_id)
    labels = rs.randint(len(centers), size=m)
    return (centers[labels] + rs.normal(size=(m, centers.shape[1]))).astype(np.float32)


def _compile() -> None:
    from kmeanskit import KMeans

    KMeans(3, n_init=1, random_state=0).fit(np.random.RandomState(0).rand(6000, D).astype("f4"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--no-dask-ml", action="store_true")
    args = parser.parse_args()

    import dask
    import dask.array as da

    from distributed import Client, LocalCluster, wait
    from kmeanskit import KMeans
    from kmeanskit.distributed import KMeans as DaskKMeans
    from kmeanskit.metrics import centroid_index

    truth = np.random.RandomState(0).uniform(-10, 10, (args.k, D))
    n_blocks = -(-args.n // CHUNK)
    blocks = [
        da.from_delayed(
            dask.delayed(_block)(i, truth, CHUNK, args.n),
            shape=(min(CHUNK, args.n - i * CHUNK), D),
            dtype=np.float32,
        )
        for i in range(n_blocks)
    ]
    Xd = da.concatenate(blocks)
    X = Xd.compute(scheduler="threads")
    init = X[np.random.RandomState(1).choice(args.n, args.k, replace=False)]
    KMeans(3, random_state=0).fit(X[:6000])  # compile the kernels
    rows = []

    def run(label, make, data):
        start = time.perf_counter()
        model = make().fit(data)
        took = time.perf_counter() - start
        rows.append(
            (
                label,
                took,
                int(model.n_iter_),
                float(model.inertia_),
                centroid_index(np.asarray(model.cluster_centers_), truth),
            )
        )
        print(f"  {label}: {took:.2f} s", flush=True)
        return took / model.n_iter_

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        Xd = Xd.persist()  # the data is in the workers' memory, as a user's would be
        wait(Xd)
        client.run(_compile)  # every worker loads the kernels before the timings
        per_mem = run(
            "same start: kmeanskit.KMeans (in memory)",
            lambda: KMeans(args.k, init=init, n_init=1),
            X,
        )
        per_dask = run("same start: distributed.KMeans", lambda: DaskKMeans(args.k, init=init), Xd)
        run("kmeanskit.KMeans (in memory)", lambda: KMeans(args.k, random_state=0), X)
        run(
            "kmeanskit.KMeans (in memory), n_init=3",
            lambda: KMeans(args.k, n_init=3, random_state=0),
            X,
        )
        run("distributed.KMeans", lambda: DaskKMeans(args.k, random_state=0), Xd)
        if not args.no_dask_ml:
            try:
                from dask_ml.cluster import KMeans as DaskMLKMeans
            except ImportError:
                print("  dask-ml is not installed: skipped")
            else:
                run("dask-ml KMeans", lambda: DaskMLKMeans(args.k, random_state=0), Xd)

    print(
        f"\n{args.n} x {D} float32 blobs, k={args.k}, {n_blocks} chunks of {CHUNK} rows; "
        "2-worker LocalCluster (processes, 1 thread each)"
    )
    print(f"{'method':42s} {'time s':>8s} {'iters':>6s} {'s/iter':>7s} {'inertia':>13s} {'CI':>3s}")
    for label, took, iters, inertia, ci in rows:
        print(f"{label:42s} {took:8.2f} {iters:6d} {took / iters:7.3f} {inertia:13.6g} {ci:3d}")
    print(f"\nper iteration, distributed / in memory: {per_dask / per_mem:.2f}x")
    mem, mem3, ours = rows[2], rows[3], rows[4]
    print(
        f"end to end inertia, distributed / in memory: {ours[3] / mem[3]:.5f} "
        f"(/ in memory with n_init=3: {ours[3] / mem3[3]:.5f})"
    )
    if len(rows) > 5:
        print(f"dask-ml time / distributed.KMeans time: {rows[5][1] / ours[1]:.1f}x")


if __name__ == "__main__":
    main()
