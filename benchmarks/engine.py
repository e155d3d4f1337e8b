"""The engine benchmark: kmeanskit against scikit-learn, FAISS and MiniBatchKMeans.

For each case of the matrix (``cases.py``: easy cases, embedding-like mixtures, real CNN
embeddings), in one process and with the same thread count for everyone:

- **seeding**: kmeanskit's greedy k-means++ against ``sklearn.cluster.kmeans_plusplus``,
  and against its floor ``max(F / R, k B / W)``: ``F = 2 k (2 + ln k) n d`` flops at the
  measured sgemm rate R (numpy, float32, 2048^3), or one read of X per round (``B`` bytes
  at the bandwidth W measured by a parallel read of X itself); its quality: the mean
  converged inertia over ``--quality-seeds`` seeds from our seeds over that from
  scikit-learn's (both converged by the same exact Lloyd);
- **iterations from the same start** (our seeds): kmeanskit ``auto``, ``lloyd``,
  ``hamerly``, ``yinyang`` (the best of 3 runs each, round robin); scikit-learn ``lloyd``
  and ``elkan`` (up to ``ELKAN_MAX_NK``); FAISS on the full data for as many iterations;
  our final inertia over scikit-learn's Lloyd and the share of labels that differ, next
  to scikit-learn's float64 run over its float32 one (how far float32 ties alone move the
  fixed point); one full Lloyd pass (labels and cluster sums) over the GEMM floor
  ``2 n k d / R`` (also over the rate of a product of this very shape);
- **end to end with default settings**, seeding included, against every peer
  configuration: scikit-learn ``lloyd``/``elkan``, FAISS with its defaults (random start,
  25 iterations, 256 points per centroid), FAISS on the full data for 25 and for 100
  iterations, FAISS for 25 iterations from our seeds (our seeding time included),
  scikit-learn's and our MiniBatchKMeans; every final inertia is computed exactly. A
  configuration is "good" when its mean inertia is within 0.5 % of the best any run
  found; the ratio printed is the fastest good peer's time over ours;
- **memory**: the peak traced by tracemalloc during a default fit (numba's allocations
  included), less the returned centres and labels, over the input's bytes.

Every timed call follows a pause (``SETTLE``): scikit-learn's OpenMP threads spin for a
while after a call and otherwise slow down whatever runs next.

    python benchmarks/engine.py                    # the whole matrix (about 30 minutes)
    python benchmarks/engine.py --quick            # a reduced matrix, under 3 minutes
                                                   # (no elkan, no 100 FAISS iterations)
    python benchmarks/engine.py --cases mix32 cnn-mnist256

Needs the ``bench`` extra (faiss-cpu, h5py, pillow), ``../shared/data`` for the real-data
cases (each one is left out, with a note, without it) and the ``cnn`` extra for the CNN
embeddings, computed once and cached outside the repository (see ``cases.py``).
"""

from __future__ import annotations

import argparse
import math
import os
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp
from numba import njit, prange
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from threadpoolctl import threadpool_limits

from cases import Case, build_cases
from kmeanskit import KMeans, MiniBatchKMeans
from kmeanskit._engine import (
    assign,
    column_stats,
    kmeans_plusplus,
    lloyd,
    resolve_n_threads,
    thread_limits,
    tolerance,
)
from kmeanskit._engine._common import Pass

#: scikit-learn's elkan (n x k float64 bounds, and slower than its lloyd on every large
#: case measured) is left out above this many n x k
ELKAN_MAX_NK = 3_000_000
#: cases with more flops than this per Lloyd pass run the slow peers on one seed only
HEAVY_NKD = 5e9


def sgemm_rate() -> float:
    """FLOP/s of a large float32 matrix product with numpy (best of 3)."""
    a = np.random.RandomState(0).rand(2048, 2048).astype(np.float32)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best


def shape_rate(X, k: int) -> float:
    """FLOP/s of numpy's product of blocks of 4096 rows of X with k centres."""
    rows = np.ascontiguousarray(X[: min(X.shape[0], 4096)])
    C = np.ascontiguousarray(X[:k].T) if X.shape[0] >= k else rows[:k].T.copy()
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        rows @ C
        best = min(best, time.perf_counter() - start)
    return 2.0 * rows.shape[0] * rows.shape[1] * C.shape[1] / best


@njit(parallel=True, fastmath=True, cache=True)
def _read(X):
    n = X.shape[0]
    part = np.zeros(64)
    for s in prange(64):
        acc = 0.0
        for i in range(s * n // 64, (s + 1) * n // 64):
            for f in range(X.shape[1]):
                acc += X[i, f]
        part[s] = acc
    return part.sum()


def bandwidth(X) -> float:
    """Bytes/s of a parallel read of X itself (best of 5, after one read)."""
    _read(X)
    time.sleep(SETTLE)
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        _read(X)
        best = min(best, time.perf_counter() - start)
    return X.nbytes / best


#: seconds to wait before each timed call: scikit-learn's OpenMP and OpenBLAS threads
#: spin for a while after a call, and slowed the next timed call by up to 5x
SETTLE = 0.15


def timed(fn):
    time.sleep(SETTLE)
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def inertia(X, centers) -> float:
    return assign(X, np.ascontiguousarray(centers, dtype=X.dtype))[2]


def faiss_run(X, k, n_iter, seed, full=True, init=None, n_threads=1):
    """FAISS k-means: ``(seconds, exact inertia)``; ``full``: every point (else FAISS's
    own subsample of 256 points per centroid); ``init``: starting centroids."""
    import faiss

    faiss.omp_set_num_threads(n_threads)
    n, d = X.shape
    extra = {"max_points_per_centroid": n + 1, "min_points_per_centroid": 1} if full else {}
    km = faiss.Kmeans(d, k, niter=n_iter, seed=seed, verbose=False, **extra)
    Xc = np.ascontiguousarray(X)
    seconds, _ = timed(lambda: km.train(Xc, init_centroids=None if init is None else init.copy()))
    return seconds, inertia(X, km.centroids)


def seeding(case: Case, rate: float, quality_seeds: int) -> dict:
    X, k = case.X, case.k
    n, d = X.shape
    w = np.ones(n, dtype=X.dtype)
    kmeans_plusplus(X[: min(n, 2000)], min(k, 10), w[: min(n, 2000)], np.random.RandomState(0))
    t_ours, (init, _) = timed(lambda: kmeans_plusplus(X, k, w, np.random.RandomState(0)))
    t_sk, _ = timed(lambda: sk_kmeans_plusplus(X, k, random_state=0))
    row = {"seed_ours": t_ours, "seed_sk": t_sk, "init": init}
    if not sp.issparse(X):
        bw = bandwidth(X)
        flops = 2.0 * k * (2 + math.log(k)) * n * d
        row.update(bw=bw, floor_flops=flops / rate, floor_mem=k * X.nbytes / bw)
    # quality: the converged inertia from our seeds and from scikit-learn's (3 seeds on
    # the heaviest cases, where scikit-learn's seeding takes up to a minute)
    tol = tolerance(X, 1e-4)
    ours, theirs = [], []
    for s in range(min(quality_seeds, 3) if n * k * d > HEAVY_NKD else quality_seeds):
        c_ours, _ = kmeans_plusplus(X, k, w, np.random.RandomState(100 + s))
        c_sk, _ = sk_kmeans_plusplus(X, k, random_state=100 + s)
        ours.append(lloyd(X, w, c_ours, tol=tol).inertia)
        theirs.append(lloyd(X, w, c_sk.astype(X.dtype), tol=tol).inertia)
    row["seed_quality"] = float(np.mean(ours) / np.mean(theirs))
    return row


def same_start(case: Case, init, rate: float, n_threads: int, repeats: int, quick: bool) -> dict:
    X, k = case.X, case.k
    n, d = X.shape
    row: dict = {}
    algos = ["auto", "lloyd"] if sp.issparse(X) else ["auto", "lloyd", "hamerly", "yinyang"]
    for rep in range(repeats):  # round robin, the best of each: timings vary by 10 %
        for algo in algos:
            t, m = timed(lambda a=algo: KMeans(k, init=init, n_init=1, algorithm=a).fit(X))
            row[f"it_{algo}"] = min(t, row.get(f"it_{algo}", np.inf))
            if rep == 0:
                row[f"labels_{algo}"] = m.labels_
                row[f"inertia_{algo}"] = m.inertia_
                row[f"n_iter_{algo}"] = m.n_iter_
    peers = ["lloyd", "elkan"] if n * k <= ELKAN_MAX_NK and not quick else ["lloyd"]
    for algo in peers:
        t, sk = timed(lambda a=algo: SkKMeans(k, init=init, n_init=1, algorithm=a).fit(X))
        row[f"it_sk_{algo}"] = t
        row[f"inertia_sk_{algo}"] = sk.inertia_
        row[f"labels_sk_{algo}"] = sk.labels_
    # the noise floor of "the same result": scikit-learn's Lloyd on the same data in
    # float64, from the same start, against its float32 run
    if X.dtype == np.float32 and n * k * d <= HEAVY_NKD and not quick:
        sk64 = SkKMeans(k, init=init.astype(np.float64), n_init=1, algorithm="lloyd")
        sk64.fit(X.astype(np.float64))
        row["inertia_sk64"] = sk64.inertia_
    if not sp.issparse(X):
        row["it_faiss"], row["inertia_faiss"] = faiss_run(
            X, k, row["n_iter_auto"], 0, init=init, n_threads=n_threads
        )
        one_pass = full_pass_seconds(X, k, init, n_threads)
        row["pass_floor"] = one_pass / (2.0 * n * k * d / rate)
        row["pass_shape"] = one_pass / (2.0 * n * k * d / shape_rate(X, k))
    return row


def full_pass_seconds(X, k: int, centers, n_threads: int) -> float:
    """One full Lloyd pass (every row against every centre, the labels and the
    cluster sums), the best of 5: what the GEMM floor bounds."""
    n = X.shape[0]
    p = Pass(X, np.ones(n, dtype=X.dtype), k, column_stats(X))
    best = np.inf
    with thread_limits(n_threads):
        p.run(centers, update=True)
        for _ in range(5):
            start = time.perf_counter()
            p.run(centers, update=True)
            best = min(best, time.perf_counter() - start)
    return best


def end_to_end(case: Case, seeds: int, n_threads: int, quick: bool) -> dict:
    """``{configuration: (mean seconds, mean inertia, [inertia of every run])}``; with
    ``quick``, no elkan nor 100 FAISS iterations."""
    X, k = case.X, case.k
    n, d = X.shape
    heavy = n * k * d > HEAVY_NKD
    runs: dict = {}

    def add(name, seconds, value):
        runs.setdefault(name, []).append((seconds, value))

    for s in range(seeds):
        t, m = timed(lambda s=s: KMeans(k, random_state=s).fit(X))
        add("kmeanskit", t, m.inertia_)
        if s and heavy:
            continue  # the slow peers once on the heaviest cases
        for algo in ["lloyd", "elkan"] if n * k <= ELKAN_MAX_NK and not quick else ["lloyd"]:
            t, m = timed(lambda s=s, a=algo: SkKMeans(k, random_state=s, algorithm=a).fit(X))
            add(f"sklearn {algo}", t, m.inertia_)
        t, m = timed(lambda s=s: SkMiniBatchKMeans(k, random_state=s, n_init="auto").fit(X))
        add("sklearn MiniBatchKMeans", t, inertia(X, m.cluster_centers_))
        t, m = timed(lambda s=s: MiniBatchKMeans(k, random_state=s).fit(X))
        add("kmeanskit MiniBatchKMeans", t, inertia(X, m.cluster_centers_))
        if sp.issparse(X):
            continue
        add("faiss default", *faiss_run(X, k, 25, s, full=False, n_threads=n_threads))
        add("faiss full 25 it", *faiss_run(X, k, 25, s, n_threads=n_threads))
        if not quick:
            add("faiss full 100 it", *faiss_run(X, k, 100, s, n_threads=n_threads))
        ones = np.ones(n, dtype=X.dtype)
        t_seed, (init, _) = timed(
            lambda s=s, ones=ones: kmeans_plusplus(X, k, ones, np.random.RandomState(s))
        )
        t, value = faiss_run(X, k, 25, s, init=init, n_threads=n_threads)
        add("faiss 25 it from our seeds", t_seed + t, value)
    out = {}
    for name, v in runs.items():
        seconds, values = [r[0] for r in v], [r[1] for r in v]
        out[name] = (float(np.mean(seconds)), float(np.mean(values)), values)
    return out


def memory(case: Case) -> float:
    """Peak traced memory of a default fit (numba's allocations included), less the
    returned centres and labels, over the input's bytes."""
    X = case.X
    tracemalloc.start()
    m = KMeans(case.k, random_state=0).fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if sp.issparse(X) else X.nbytes
    return (peak - m.cluster_centers_.nbytes - m.labels_.nbytes) / size


def warm_up(case: Case) -> None:
    """Compile (or load from numba's cache) every kernel a case uses, outside the timings."""
    X, k = case.X, case.k
    small = X[: min(X.shape[0], max(4 * k, 2000))]
    algos = ["lloyd"] if sp.issparse(X) else ["lloyd", "hamerly", "yinyang"]
    for algo in algos:
        KMeans(min(k, 8), algorithm=algo, max_iter=3, random_state=0).fit(small)
    KMeans(min(k, 8), random_state=0).fit(X[: max(6000, 2 * k)])
    MiniBatchKMeans(min(k, 8), random_state=0, max_iter=2).fit(small)


def run_case(
    case: Case, seeds: int, quality_seeds: int, rate: float, n_threads: int, quick: bool
) -> dict:
    warm_up(case)
    n, d = case.X.shape
    row: dict = {"case": case.name, "shape": f"{n}x{d}", "k": case.k, "kind": case.kind}
    row.update(seeding(case, rate, quality_seeds))
    repeats = 1 if quick or n * case.k * d > HEAVY_NKD else 3
    row.update(same_start(case, row.pop("init"), rate, n_threads, repeats, quick))
    row["e2e"] = end_to_end(case, seeds, n_threads, quick)
    row["mem"] = memory(case)
    return row


def _fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


def report(rows: list[dict], rate: float, n_threads: int) -> str:
    out = [
        f"{n_threads} threads for everyone; sgemm rate {rate / 1e9:.0f} GFLOP/s (numpy float32 "
        "2048^3); times in seconds.",
        "",
        "Seeding (k-means++): floor = max(2 k (2 + ln k) n d / sgemm rate, k x bytes(X) / "
        "bandwidth), the bandwidth measured by a parallel read of X; quality = mean converged "
        "inertia from our seeds / from scikit-learn's:",
        "",
        "| case | n x d | k | ours | sklearn | sklearn / ours | GB/s | floor | ours / floor "
        "| quality |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        floor = max(r["floor_flops"], r["floor_mem"]) if "bw" in r else None
        out.append(
            f"| {r['case']} | {r['shape']} | {r['k']} | {r['seed_ours']:.3f} | "
            f"{r['seed_sk']:.3f} | {r['seed_sk'] / r['seed_ours']:.1f} | "
            + (
                f"{r['bw'] / 1e9:.0f} | {floor:.3f} | {r['seed_ours'] / floor:.1f} | "
                if floor
                else "- | - | - | "
            )
            + f"{r['seed_quality']:.4f} |"
        )
    out += [
        "",
        "Iterations from the same start (our seeds), seconds to converge; inertia and labels "
        "against scikit-learn's Lloyd, and scikit-learn's own float64 run against its float32 "
        "one (the noise of float32 ties); one full Lloyd pass (labels and sums) over the GEMM "
        "floor (2 n k d / sgemm rate) and over the rate of a product of this shape; auto over "
        "the best of ours:",
        "",
        "| case | iters | auto | lloyd | hamerly | yinyang | auto / best | sk lloyd | sk elkan "
        "| faiss | inertia vs sk | labels differ | sk f64 vs sk | pass / floor | pass / shape |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ours = [r.get(f"it_{a}") for a in ("lloyd", "hamerly", "yinyang")]
        best = min(t for t in ours if t is not None)
        rel = (r["inertia_auto"] - r["inertia_sk_lloyd"]) / r["inertia_sk_lloyd"]
        differ = float(np.mean(r["labels_auto"] != r["labels_sk_lloyd"]))
        out.append(
            f"| {r['case']} | {r['n_iter_auto']} | {r['it_auto']:.3f} | {_fmt(ours[0])} | "
            f"{_fmt(ours[1])} | {_fmt(ours[2])} | {r['it_auto'] / best:.2f} | "
            f"{r['it_sk_lloyd']:.3f} | {_fmt(r.get('it_sk_elkan'))} | "
            f"{_fmt(r.get('it_faiss'))} | {rel:+.1e} | {differ:.1e} | "
            + (
                f"{(r['inertia_sk64'] - r['inertia_sk_lloyd']) / r['inertia_sk_lloyd']:+.1e} | "
                if "inertia_sk64" in r
                else "- | "
            )
            + f"{_fmt(r.get('pass_floor'), '.2f')} | {_fmt(r.get('pass_shape'), '.2f')} |"
        )
    out += [
        "",
        "End to end with default settings (seeding included), mean over seeds; a peer is "
        "good when its mean inertia is within 0.5 % of the best any run found:",
        "",
        "| case | ours s | ours inertia / best | fastest good peer | its s | peer / ours | "
        "faster sklearn s | sklearn / ours | mem over input |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        e2e = r["e2e"]
        best = min(min(v[2]) for v in e2e.values())
        ours_t, ours_i, _ = e2e["kmeanskit"]
        good = {
            name: v[0] for name, v in e2e.items() if name != "kmeanskit" and v[1] <= best * 1.005
        }
        peer = min(good, key=good.get) if good else None
        sk = min(
            v[0]
            for name, v in e2e.items()
            if name.startswith("sklearn ") and "MiniBatch" not in name
        )
        out.append(
            f"| {r['case']} | {ours_t:.3f} | {ours_i / best:.4f} | {peer or '-'} | "
            f"{_fmt(good.get(peer))} | "
            + (f"{good[peer] / ours_t:.2f} | " if peer else "- | ")
            + f"{sk:.3f} | {sk / ours_t:.2f} | {r['mem']:.0%} |"
        )
    out += ["", "Every configuration, end to end: mean seconds (mean inertia / best):", ""]
    for r in rows:
        e2e = r["e2e"]
        best = min(min(v[2]) for v in e2e.values())
        cells = [f"{name} {v[0]:.3f} ({v[1] / best:.4f})" for name, v in e2e.items()]
        out.append(f"- {r['case']}: " + "; ".join(cells))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced matrix, under 3 minutes")
    parser.add_argument("--seeds", type=int, default=None, help="end-to-end seeds (3; quick 1)")
    parser.add_argument(
        "--quality-seeds",
        type=int,
        default=None,
        help="seeds of the seeding quality check (5; quick 2)",
    )
    parser.add_argument("--cases", nargs="*", help="run only these cases")
    args = parser.parse_args()
    seeds = args.seeds or (1 if args.quick else 3)
    quality_seeds = args.quality_seeds or (1 if args.quick else 5)
    n_threads = resolve_n_threads(None)
    with threadpool_limits(limits=n_threads):
        rate = sgemm_rate()
    rows = []
    for name, load in build_cases(args.quick).items():
        if args.cases and name not in args.cases:
            continue
        try:
            case = load(name)
        except (OSError, ImportError) as exc:
            print(f"left out {name}: {exc}")
            continue
        start = time.perf_counter()
        rows.append(run_case(case, seeds, quality_seeds, rate, n_threads, args.quick))
        print(f"{name} done in {time.perf_counter() - start:.1f}s", flush=True)
    print()
    print(report(rows, rate, n_threads))


if __name__ == "__main__":
    os.environ.setdefault("KMP_DUPLICATE_LIB_OK", "TRUE")  # faiss and numba both bring OpenMP
    main()
