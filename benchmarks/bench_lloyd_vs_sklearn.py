"""Time kmeanskit.KMeans against scikit-learn's KMeans (lloyd) from the same init.

Both run on the same data, from the same initial centres, with the same ``max_iter``
and ``tol``, on every core; the script checks that they reach the same labels and
prints seconds per run, seconds per iteration and the ratio (sklearn / kmeanskit:
above 1 means kmeanskit is faster). Each timing is the best of ``--repeat`` runs after
one warm-up (numba compiles once and caches).

    python benchmarks/bench_lloyd_vs_sklearn.py [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import load_digits, make_blobs
from threadpoolctl import threadpool_info

import kmeanskit
from kmeanskit import KMeans

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _mnist_test():
    path = SHARED / "mnist_test" / "t10k-images-idx3-ubyte.gz"
    if not path.exists():
        return None
    with gzip.open(path) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return raw.reshape(-1, 784).astype(np.float32) / 255.0


def _cases(quick: bool):
    yield "digits 1797x64 k=10", load_digits().data.astype(np.float64), 10
    n = 20_000 if quick else 200_000
    X, _ = make_blobs(n, n_features=2, centers=15, random_state=0)
    yield f"blobs {n}x2 k=15", X, 15
    X, _ = make_blobs(n, n_features=32, centers=50, cluster_std=4.0, random_state=0)
    yield f"blobs {n}x32 k=50 float32", X.astype(np.float32), 50
    mnist = _mnist_test()
    if mnist is not None:
        yield "MNIST test 10000x784 k=10 float32", mnist, 10
        yield "MNIST test 10000x784 k=100 float32", mnist, 100
    rng = np.random.RandomState(0)
    m = 5_000 if quick else 50_000
    S = sp.random(m, 1000, density=0.01, format="csr", random_state=rng, dtype=np.float64)
    yield f"sparse {m}x1000 (1% dense) k=20", S, 20


def _best_time(make, X, repeat: int):
    make().fit(X)  # warm-up: compilation, caches
    best, model = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        model = make().fit(X)
        best = min(best, time.perf_counter() - start)
    return best, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    parser.add_argument("--max-iter", type=int, default=100)
    args = parser.parse_args()

    blas = {(i["internal_api"], i.get("architecture")) for i in threadpool_info()}
    print(
        f"kmeanskit {kmeanskit.__version__}, scikit-learn {sklearn.__version__}, "
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"BLAS {sorted(blas, key=str)}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}"
    )
    header = f"{'case':38} {'iters':>5} {'sklearn s':>10} {'kmeanskit s':>11} {'ratio':>6} labels"
    print(header)
    print("-" * len(header))
    ratios = []
    for name, X, k in _cases(args.quick):
        idx = np.random.RandomState(0).choice(X.shape[0], k, replace=False)
        init = X[idx].toarray() if sp.issparse(X) else X[idx]
        params = dict(n_clusters=k, init=init, n_init=1, max_iter=args.max_iter, tol=1e-4)
        t_sk, sk = _best_time(lambda p=params: SkKMeans(algorithm="lloyd", **p), X, args.repeat)
        t_us, us = _best_time(lambda p=params: KMeans(**p), X, args.repeat)
        same = (
            "same"
            if np.array_equal(sk.labels_, us.labels_)
            else (f"{np.mean(sk.labels_ != us.labels_):.2%} differ")
        )
        ratio = t_sk / t_us
        ratios.append(ratio)
        print(f"{name:38} {us.n_iter_:5d} {t_sk:10.3f} {t_us:11.3f} {ratio:6.2f} {same}")
    geo = float(np.exp(np.mean(np.log(ratios))))
    print(f"geometric mean ratio (sklearn time / kmeanskit time): {geo:.2f}")


if __name__ == "__main__":
    main()
