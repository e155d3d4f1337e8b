"""SphericalKMeans on sparse tf-idf-like data against what a scikit-learn user does:
``normalize(X)`` then ``KMeans`` (Lloyd and Elkan).

The data: N documents over a V-word vocabulary in K topics; each document draws 40
words from its topic's share of the vocabulary and 10 from anywhere, with exponential
counts, then tf-idf weighting (scikit-learn's TfidfTransformer). Every method gets one
k-means++ start per seed; the table gives the median time over the seeds, the ratio to
kmeanskit, the adjusted Rand index against the topics and the cosine objective
``sum(1 - cos(x, unit centre))`` of each partition (lower is better).

    python benchmarks/spherical.py [--n 50000] [--vocab 20000] [--k 20] [--seeds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans as SKKMeans
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import normalize

from kmeanskit import SphericalKMeans


def tfidf_like(n: int, vocab: int, k: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    topic = rng.randint(k, size=n)
    per = 50
    lo = topic * (vocab // k)
    own = lo[:, None] + rng.randint(0, vocab // k, size=(n, 40))
    anywhere = rng.randint(0, vocab, size=(n, per - 40))
    cols = np.concatenate([own, anywhere], axis=1).ravel()
    rows = np.repeat(np.arange(n), per)
    counts = np.ceil(rng.exponential(1.5, n * per))
    X = sp.csr_matrix((counts, (rows, cols)), shape=(n, vocab))
    X.sum_duplicates()
    return TfidfTransformer().fit_transform(X).tocsr(), topic


def cosine_objective(Xn, labels, centers) -> float:
    units = normalize(centers)
    cos = np.asarray(Xn.multiply(units[labels]).sum(axis=1)).ravel()
    return float((1 - cos).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50000)
    parser.add_argument("--vocab", type=int, default=20000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    X, topic = tfidf_like(args.n, args.vocab, args.k)
    print(
        f"{X.shape[0]} x {X.shape[1]} tf-idf, {X.nnz / X.shape[0]:.0f} non-zeros per row, "
        f"k={args.k}"
    )

    def ours(seed):
        m = SphericalKMeans(args.k, random_state=seed).fit(X)
        return m.labels_, m.cluster_centers_

    def sklearn(algorithm):
        def run(seed):
            m = SKKMeans(args.k, n_init=1, algorithm=algorithm, random_state=seed)
            m.fit(normalize(X))  # the normalising is part of the user's cost
            return m.labels_, m.cluster_centers_

        return run

    methods = {
        "kmeanskit SphericalKMeans": ours,
        "sklearn normalize+KMeans(lloyd)": sklearn("lloyd"),
        "sklearn normalize+KMeans(elkan)": sklearn("elkan"),
    }
    Xn = normalize(X)
    ours(0)  # compile the kernels outside the timing
    rows = []
    for name, run in methods.items():
        times, aris, objs = [], [], []
        for seed in range(args.seeds):
            start = time.perf_counter()
            labels, centers = run(seed)
            times.append(time.perf_counter() - start)
            aris.append(adjusted_rand_score(topic, labels))
            objs.append(cosine_objective(Xn, labels, centers))
        rows.append((name, float(np.median(times)), float(np.mean(aris)), float(np.mean(objs))))
    base = rows[0][1]
    print(f"{'method':34s} {'time s':>8s} {'ratio':>6s} {'ARI':>6s} {'cos objective':>14s}")
    for name, t, ari, obj in rows:
        print(f"{name:34s} {t:8.2f} {t / base:6.2f} {ari:6.3f} {obj:14.1f}")


if __name__ == "__main__":
    main()
