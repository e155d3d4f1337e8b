"""A paper estimate for kmeanskit.distributed.KMeans at 10^9 points x 128 dims x k = 10^4,
from per-block figures measured here.

Measures, on one thread (what one worker thread does with its blocks):
  - a block's first Hamerly step (every row compared with every centre), per row;
  - a later step after the centres moved a little (most rows skipped by their bounds);
  - the block's state (bytes per row) and the bytes a worker returns per iteration.
Then prints, for N workers of T threads, the memory, the bytes moved per iteration and
the time per iteration: the workers' share, the client's (the centres' half gaps,
O(k^2 d), and receiving one k x d array per worker at ~1 GB/s) and the scheduling
overhead measured on this machine's 2-worker LocalCluster (``--overhead`` seconds).

    python benchmarks/dask_estimate.py [--rows 20000] [--threads 16] [--overhead 0.03]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from kmeanskit._engine import blockwise

N_POINTS, D, K = 10**9, 128, 10**4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the measured block")
    parser.add_argument("--threads", type=int, default=16, help="threads per worker")
    parser.add_argument("--memory", type=float, default=64.0, help="GiB per worker")
    parser.add_argument(
        "--overhead",
        type=float,
        default=0.03,
        help="scheduling seconds per iteration (measured 0.025-0.035)",
    )
    args = parser.parse_args()
    rs = np.random.RandomState(0)
    truth = rs.normal(0, 1, (K, D)).astype(np.float32)
    X = truth[rs.randint(K, size=args.rows)] + 0.3 * rs.normal(size=(args.rows, D))
    X = X.astype(np.float32)
    centers = truth + 0.05 * rs.normal(size=truth.shape).astype(np.float32)
    block = blockwise.Block(X, np.ones(args.rows, np.float32), n_threads=1)
    block.step(centers[:100], blockwise.half_gaps(centers[:100]), None)  # compile
    block = blockwise.Block(X, np.ones(args.rows, np.float32), n_threads=1)
    start = time.perf_counter()
    sums, wsum, _, _ = block.step(centers, blockwise.half_gaps(centers), None)
    full = (time.perf_counter() - start) / args.rows
    moved = centers + 1e-3 * rs.normal(size=centers.shape).astype(np.float32)
    start = time.perf_counter()
    gaps = blockwise.half_gaps(moved)  # on the client, once per iteration: O(k^2 d)
    client = time.perf_counter() - start
    start = time.perf_counter()
    block.step(moved, gaps, None)
    late = (time.perf_counter() - start) / args.rows
    h = block.hamerly
    state = (
        sum(a.nbytes for a in (block.labels, h.second, h.upper, h.lower, h.rest, block.kept.prev))
        / args.rows
    )
    flops = 2.0 * K * D / full
    print(f"measured on one thread, block of {args.rows} x {D} float32, k = {K}:")
    print(f"  first step: {full * 1e6:.1f} us per row ({flops / 1e9:.1f} GFLOP/s)")
    print(f"  later step, centres moved by ~1e-3: {late * 1e6:.2f} us per row")
    print(f"  the centres' half gaps, on the client once per iteration: {client:.2f} s")
    print(
        f"  per-row state: {state:.0f} bytes; a worker returns {sums.nbytes + wsum.nbytes:,} "
        f"bytes per iteration and receives the centres ({K * D * 4:,} bytes)"
    )

    row_bytes = D * 4 + state
    total = N_POINTS * row_bytes
    print(
        f"\n10^9 x {D} float32, k = {K}: data + state {total / 2**30:,.0f} GiB; "
        f"workers of {args.threads} threads, {args.memory:.0f} GiB each"
    )
    print(
        f"{'workers':>8s} {'GiB/worker':>11s} {'MB to client/iter':>18s} "
        f"{'first iter s':>13s} {'later iter s':>13s}"
    )
    for n_workers in (16, 32, 64, 128, 256):
        per = total / n_workers / 2**30
        if per > 0.8 * args.memory:
            continue
        threads = n_workers * args.threads
        to_client = n_workers * (sums.nbytes + wsum.nbytes) / 1e6
        fixed = args.overhead + client + to_client / 1000  # the client takes ~1 GB/s
        first = N_POINTS * full / threads + fixed
        later = N_POINTS * late / threads + fixed
        print(f"{n_workers:8d} {per:11.1f} {to_client:18.0f} {first:13.1f} {later:13.2f}")


if __name__ == "__main__":
    main()
