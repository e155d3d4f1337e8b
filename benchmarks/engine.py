"""The engine benchmark: kmeanskit against scikit-learn and FAISS, case by case.

For each case of the matrix it measures, in one process and with the same thread
count for everyone:

- seeding: kmeanskit's greedy k-means++ against ``sklearn.cluster.kmeans_plusplus``;
- iterations from the same initial centres (kmeanskit's seeds): kmeanskit, scikit-learn
  ``lloyd`` and ``elkan``, and ``faiss.Kmeans`` on the full data
  (``max_points_per_centroid`` large) run for as many iterations as kmeanskit needed;
- end to end with default settings over ``--seeds`` seeds: kmeanskit against the faster
  of scikit-learn's two algorithms, with the mean final inertia of each;
- the iteration time over the GEMM floor, ``2 n k d / sgemm rate`` (the rate measured
  here with numpy on a 2048^3 float32 product);
- the extra memory of a kmeanskit fit, as traced by tracemalloc, over the input size.

    python benchmarks/engine.py            # the full matrix (tens of minutes)
    python benchmarks/engine.py --quick    # a reduced matrix, under two minutes
    python benchmarks/engine.py --cases digits mnist10

Needs the ``bench`` extra (faiss-cpu, h5py, pillow) and ``../shared/data`` for the
MNIST, USPS and COIL-20 cases (those cases are left out, with a note, without it).
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import MiniBatchKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import load_digits, make_blobs

from kmeanskit import KMeans
from kmeanskit._engine import assign, kmeans_plusplus, resolve_n_threads

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Case:
    name: str
    X: object
    k: int


def _mnist(n):
    path = SHARED / "mnist_test" / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return raw.reshape(-1, 784)[:n].astype(np.float32) / 255.0


def _usps():
    import h5py

    with h5py.File(SHARED / "usps" / "usps.h5") as f:
        return np.vstack([f["train/data"][:], f["test/data"][:]]).astype(np.float32)


def _coil_features(n):
    """The seed user's case: n images as 4096-d pixel features (COIL-20 at 64 x 64)."""
    from PIL import Image

    files = sorted((SHARED / "coil20" / "images").glob("*.png"))[:n]
    rows = [
        np.asarray(Image.open(p).convert("L").resize((64, 64)), dtype=np.float32) for p in files
    ]
    return np.stack(rows).reshape(len(rows), -1) / 255.0


def _blobs(n, d, centers):
    X, _ = make_blobs(n, n_features=d, centers=centers, cluster_std=1.5, random_state=0)
    return X.astype(np.float32)


def build_cases(quick: bool):
    """(name, loader) for every case; loaders run lazily so one missing file skips one case."""
    s = 10 if quick else 1
    return {
        "digits": lambda: Case("digits", load_digits().data.astype(np.float32), 10),
        "blobs64": lambda: Case("blobs64", _blobs(100_000 // s, 64, 100), 100),
        "blobs16": lambda: Case("blobs16", _blobs(200_000 // s, 16, 1000), 1000 // (s // 5 or 1)),
        "mnist10": lambda: Case("mnist10", _mnist(10_000 // (s // 5 or 1)), 10),
        "mnist256": lambda: Case("mnist256", _mnist(10_000 // (s // 5 or 1)), 256),
        "usps100": lambda: Case("usps100", _usps(), 100),
        "features400": lambda: Case("features400", _coil_features(1000), 400),
        "sparse50": lambda: Case(
            "sparse50",
            sp.random(
                20_000 // (s // 2 or 1),
                20_000 // (s // 2 or 1),
                density=0.005,
                format="csr",
                random_state=np.random.RandomState(0),
                dtype=np.float32,
            ),
            50,
        ),
    }


def sgemm_rate() -> float:
    """FLOP/s of a large float32 matrix product with numpy (best of 3)."""
    a = np.random.RandomState(0).rand(2048, 2048).astype(np.float32)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def faiss_iterations(X, init, n_iter, n_threads):
    import faiss

    faiss.omp_set_num_threads(n_threads)
    n, d = X.shape
    km = faiss.Kmeans(
        d, init.shape[0], niter=n_iter, max_points_per_centroid=n + 1, min_points_per_centroid=1,
        seed=0, verbose=False,
    )  # fmt: skip
    seconds, _ = timed(lambda: km.train(np.ascontiguousarray(X), init_centroids=init.copy()))
    return seconds, km.centroids


def faiss_default(X, k, n_threads):
    """FAISS with its own defaults: random start, 25 iterations, 256 points per centroid."""
    import faiss

    faiss.omp_set_num_threads(n_threads)
    km = faiss.Kmeans(X.shape[1], k, seed=0, verbose=False)
    seconds, _ = timed(lambda: km.train(np.ascontiguousarray(X)))
    return seconds, km.centroids


def run_case(case: Case, seeds: int, rate: float, n_threads: int) -> dict:
    X, k = case.X, case.k
    n, d = X.shape
    w = np.ones(n, dtype=X.dtype)
    row: dict = {"case": case.name, "shape": f"{n}x{d}", "k": k}

    # seeding alone
    kmeans_plusplus(X[: min(n, 2000)], min(k, 10), w[: min(n, 2000)], np.random.RandomState(0))
    t_ours, (init, _) = timed(lambda: kmeans_plusplus(X, k, w, np.random.RandomState(0)))
    t_sk, _ = timed(lambda: sk_kmeans_plusplus(X, k, random_state=0))
    row.update(seed_ours=t_ours, seed_sk=t_sk)

    # iterations from the same centres
    KMeans(k, init=init, n_init=1, max_iter=2).fit(X)  # compile outside the timing
    t_it, ours = timed(lambda: KMeans(k, init=init, n_init=1).fit(X))
    row.update(iter_ours=t_it, n_iter=ours.n_iter_, inertia_ours=ours.inertia_)
    for algo in ("lloyd", "elkan"):
        t, sk = timed(lambda a=algo: SkKMeans(k, init=init, n_init=1, algorithm=a).fit(X))
        row[f"iter_{algo}"] = t
        row[f"inertia_{algo}"] = sk.inertia_
    if not sp.issparse(X):
        t, centroids = faiss_iterations(X, init, ours.n_iter_, n_threads)
        row["iter_faiss"] = t
        row["inertia_faiss"] = assign(X, centroids.astype(X.dtype))[2]
    row["floor"] = 2.0 * n * k * d * ours.n_iter_ / rate

    # end to end, default settings
    totals = {"ours": [], "lloyd": [], "elkan": []}
    inertias = {"ours": [], "lloyd": [], "elkan": []}
    for seed in range(seeds):
        t, m = timed(lambda s=seed: KMeans(k, random_state=s).fit(X))
        totals["ours"].append(t)
        inertias["ours"].append(m.inertia_)
        for algo in ("lloyd", "elkan"):
            t, m = timed(lambda s=seed, a=algo: SkKMeans(k, random_state=s, algorithm=a).fit(X))
            totals[algo].append(t)
            inertias[algo].append(m.inertia_)
    for key in totals:
        row[f"total_{key}"] = float(np.mean(totals[key]))
        row[f"inertia_total_{key}"] = float(np.mean(inertias[key]))

    # the other peers with their own defaults (for the fastest-peer comparison)
    peers = {"ours": (row["total_ours"], row["inertia_total_ours"])}
    for algo in ("lloyd", "elkan"):
        peers[f"sklearn {algo}"] = (row[f"total_{algo}"], row[f"inertia_total_{algo}"])
    t, m = timed(lambda: MiniBatchKMeans(k, random_state=0, n_init="auto").fit(X))
    peers["MiniBatchKMeans"] = (t, assign(X, m.cluster_centers_.astype(X.dtype))[2])
    if not sp.issparse(X):
        t, centroids = faiss_default(X, k, n_threads)
        peers["faiss default"] = (t, assign(X, centroids.astype(X.dtype))[2])
    best_inertia = min(v[1] for v in peers.values())
    good = {name: t for name, (t, inertia) in peers.items() if inertia <= best_inertia * 1.005}
    fastest_peer = (
        min((t, name) for name, t in good.items() if name != "ours")
        if len(good) > 1
        else (np.inf, "-")
    )
    row["peers"] = peers
    row["fastest_peer"] = fastest_peer
    row["ours_good"] = "ours" in good

    # memory of a fit beyond the input
    tracemalloc.start()
    KMeans(k, random_state=0).fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if sp.issparse(X) else X.nbytes
    row["mem"] = peak / size
    return row


def report(rows: list[dict], rate: float, n_threads: int) -> str:
    lines = [
        f"{n_threads} threads for everyone; sgemm rate {rate / 1e9:.0f} GFLOP/s "
        f"(numpy float32 2048^3); times in seconds; ratios are peer / kmeanskit (>1: faster).",
        "",
        "Seeding and iterations from the same centres:",
        "",
        "| case | n x d | k | seed ours | seed sklearn | ratio | iters | iter ours | "
        "sk lloyd | sk elkan | faiss | vs best sk | vs faiss | ours / floor | "
        "inertia vs sk lloyd |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        best_sk = min(r["iter_lloyd"], r["iter_elkan"])
        faiss_t = r.get("iter_faiss")
        lines.append(
            f"| {r['case']} | {r['shape']} | {r['k']} | {r['seed_ours']:.3f} | "
            f"{r['seed_sk']:.3f} | {r['seed_sk'] / r['seed_ours']:.1f} | {r['n_iter']} | "
            f"{r['iter_ours']:.3f} | {r['iter_lloyd']:.3f} | {r['iter_elkan']:.3f} | "
            + (f"{faiss_t:.3f} | " if faiss_t else "- | ")
            + f"{best_sk / r['iter_ours']:.2f} | "
            + (f"{faiss_t / r['iter_ours']:.2f} | " if faiss_t else "- | ")
            + f"{r['iter_ours'] / r['floor']:.1f} | "
            f"{(r['inertia_ours'] - r['inertia_lloyd']) / r['inertia_lloyd']:+.1e} |"
        )
    lines += [
        "",
        "End to end with default settings (seeding included), mean over seeds:",
        "",
        "| case | ours s | sk lloyd s | sk elkan s | vs best sk | inertia ours / sk lloyd | "
        "mem over input |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        best = min(r["total_lloyd"], r["total_elkan"])
        lines.append(
            f"| {r['case']} | {r['total_ours']:.3f} | {r['total_lloyd']:.3f} | "
            f"{r['total_elkan']:.3f} | {best / r['total_ours']:.2f} | "
            f"{r['inertia_total_ours'] / r['inertia_total_lloyd']:.4f} | {r['mem']:.0%} |"
        )
    lines += [
        "",
        "Against every peer with its own defaults (seed 0 for the single-run peers), counting",
        "only runs whose inertia is within 0.5 % of the best any of them found:",
        "",
        "| case | ours s | ours within 0.5 % | fastest such peer | its s | peer / ours | "
        "MiniBatch s (inertia / best) | faiss default s (inertia / best) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        peers = r["peers"]
        best = min(v[1] for v in peers.values())
        t_peer, name = r["fastest_peer"]
        mb = peers["MiniBatchKMeans"]
        fd = peers.get("faiss default")
        lines.append(
            f"| {r['case']} | {r['total_ours']:.3f} | {'yes' if r['ours_good'] else 'no'} | "
            f"{name} | {t_peer:.3f} | {t_peer / r['total_ours']:.2f} | "
            f"{mb[0]:.3f} ({mb[1] / best:.3f}) | "
            + (f"{fd[0]:.3f} ({fd[1] / best:.3f}) |" if fd else "- |")
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced matrix, under 2 minutes")
    parser.add_argument("--seeds", type=int, default=None, help="end-to-end seeds (5; quick 1)")
    parser.add_argument("--cases", nargs="*", help="run only these cases")
    args = parser.parse_args()
    seeds = args.seeds or (1 if args.quick else 5)
    n_threads = resolve_n_threads(None)
    rate = sgemm_rate()
    rows = []
    for name, load in build_cases(args.quick).items():
        if args.cases and name not in args.cases:
            continue
        try:
            case = load()
        except (OSError, ImportError) as exc:
            print(f"skipped {name}: {exc}")
            continue
        start = time.perf_counter()
        rows.append(run_case(case, seeds, rate, n_threads))
        print(f"{name} done in {time.perf_counter() - start:.1f}s", flush=True)
    print()
    print(report(rows, rate, n_threads))


if __name__ == "__main__":
    os.environ.setdefault("KMP_DUPLICATE_LIB_OK", "TRUE")  # faiss and numba both bring OpenMP
    main()
