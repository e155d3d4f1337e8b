"""Yinyang exact k-means (Ding et al. 2015): the single-run driver for dense data.

The same iteration as :func:`~kmeanskit._engine.lloyd.lloyd` (same assignments up to
floating-point ties, same means, same relocation of empty clusters, same stopping
rules). The first assignment goes through BLAS and sets the bounds; after it, group
bounds let most points skip most centres. It pays for many clusters (k >= 64 or so),
in high dimension too, where Hamerly's single bound prunes little.
"""

from __future__ import annotations

import logging

import numba
import numpy as np

from . import _yinyang_kernels as _yk
from ._bounded import iterate
from ._common import (
    CHUNK,
    ColumnStats,
    column_stats,
    gemm_shift,
    thread_limits,
)
from .lloyd import LloydResult, lloyd
from .seeding import kmeans_plusplus

logger = logging.getLogger(__name__)

#: centres per group
GROUP_SIZE = 10
#: a step that computed more than this share of all n k distances is followed by a
#: full BLAS pass instead
FULL_PASS_SHARE = 0.2
#: the first steps move the centres far: they are full BLAS passes
FULL_PASSES = 1


def center_groups(centers: np.ndarray, n_groups: int) -> np.ndarray:
    """Group the centres by a short k-means on the centres themselves (seeded)."""
    if n_groups <= 1:
        return np.zeros(centers.shape[0], dtype=np.int32)
    C = np.ascontiguousarray(centers, dtype=np.float64)
    w = np.ones(C.shape[0])
    seeds, _ = kmeans_plusplus(C, n_groups, w, np.random.RandomState(0))
    return lloyd(C, w, seeds, max_iter=5).labels


def yinyang(
    X: np.ndarray,
    sample_weight: np.ndarray,
    centers_init: np.ndarray,
    *,
    max_iter: int = 300,
    tol: float = 0.0,
    n_threads: int | None = None,
    stats: ColumnStats | None = None,
    frozen: np.ndarray | None = None,
    normalize: bool = False,
) -> LloydResult:
    """Run exact k-means with Yinyang's group bounds from ``centers_init``.

    Parameters and result as for :func:`~kmeanskit._engine.lloyd.lloyd` (dense ``X``
    only).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> res = yinyang(X, np.ones(4), np.array([[0.0], [10.0]]))
    >>> res.centers.ravel().tolist(), res.labels.tolist(), res.inertia
    ([0.5, 10.5], [0, 0, 1, 1], 1.0)
    """
    n, d = X.shape
    k = centers_init.shape[0]
    dtype = X.dtype
    # relative slack of the float32 bounds: covers their rounding and, for float32
    # data, distances summed in float32
    margin = 1e-5 if dtype == np.float32 else 1e-6
    err_scale = 64 * float(np.finfo(dtype).eps)
    shift = gemm_shift(column_stats(X) if stats is None else stats)
    centre = shift is not None
    shift = np.zeros(d, dtype=dtype) if shift is None else shift.astype(dtype)
    centers = np.array(centers_init, dtype=dtype, order="C", copy=True)

    n_groups = max(1, -(-k // GROUP_SIZE))
    group_of = center_groups(centers, n_groups).astype(np.int32)
    gorder = np.argsort(group_of, kind="stable").astype(np.int32)
    gstart = np.searchsorted(group_of[gorder], np.arange(n_groups + 1)).astype(np.int64)

    labels = np.zeros(n, dtype=np.int32)
    upper = np.empty(n, dtype=np.float32)
    lower = np.empty((n, n_groups), dtype=np.float32)
    work = np.zeros(max(1, -(-n // CHUNK)), dtype=np.int64)
    last_work = [0]  # distances computed by the last bounded step

    with thread_limits(n_threads):
        bufs = np.empty((numba.get_num_threads() if centre else 0, CHUNK, d), dtype=dtype)

        def step(n_iter: int, move: np.ndarray) -> None:
            # while the centres still move far, the bounds prune little and direct
            # distances cost more than one full pass through BLAS (which also resets
            # the bounds)
            if n_iter <= FULL_PASSES or last_work[0] > FULL_PASS_SHARE * n * k:
                shifted = centers - shift
                ct = np.ascontiguousarray(shifted.T)
                csq = np.einsum("ij,ij->i", shifted, shifted, dtype=np.float64)
                _yk.yinyang_first_dense(
                    X, centers, ct, csq, shift, centre, group_of, CHUNK, err_scale, margin,
                    bufs, labels, upper, lower,
                )  # fmt: skip
                last_work[0] = 0  # fresh bounds: try them on the next step
                return
            gmove = np.zeros(n_groups)
            np.maximum.at(gmove, group_of, move)
            _yk.yinyang_assign_dense(
                X, centers, group_of, gorder, gstart, move, gmove, CHUNK, margin,
                labels, upper, lower, work,
            )  # fmt: skip
            last_work[0] = int(work.sum())

        return iterate(
            X, sample_weight, centers, labels, shift, step, max_iter=max_iter, tol=tol,
            frozen=frozen, normalize=normalize,
        )  # fmt: skip
