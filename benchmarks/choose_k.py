"""Choosing k on Fränti's clustering basic benchmark (``../shared/data/sipu``).

For each of s1-s4, a1-a3 and unbalance: the k that :func:`kmeanskit.choose_k`
recommends over k = 2..60 and the k of each method, then X-means and G-means with
``k_max=60`` (k found and centroid index against the true centres), with the times.

    python benchmarks/choose_k.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kmeanskit import GMeans, XMeans, choose_k
from kmeanskit.metrics import centroid_index

SIPU = Path(__file__).resolve().parents[2] / "shared" / "data" / "sipu"
TRUE_K = {"s1": 15, "s2": 15, "s3": 15, "s4": 15, "a1": 20, "a2": 35, "a3": 50, "unbalance": 8}


def main() -> None:
    print("| set | true k | recommended | time s | per method | X-means k (CI) | G-means k (CI) |")
    print("|---|---|---|---|---|---|---|")
    hits = 0
    for name, k_true in TRUE_K.items():
        X = np.loadtxt(SIPU / f"{name}.txt")
        truth = np.loadtxt(SIPU / f"{name}-gt.txt")
        start = time.perf_counter()
        choice = choose_k(X, range(2, 61), n_refs=5, random_state=0)
        seconds = time.perf_counter() - start
        hits += choice.recommended == k_true
        found = []
        for cls in (XMeans, GMeans):
            model = cls(k_max=60, random_state=0).fit(X)
            found.append(f"{model.n_clusters_} ({centroid_index(model.cluster_centers_, truth)})")
        methods = ", ".join(f"{m} {k}" for m, k in choice.best.items())
        print(
            f"| {name} | {k_true} | {choice.recommended} | {seconds:.1f} | {methods} | "
            f"{found[0]} | {found[1]} |",
            flush=True,
        )
    print(f"\nrecommended k equal to the true k on {hits} of {len(TRUE_K)} sets")


if __name__ == "__main__":
    main()
