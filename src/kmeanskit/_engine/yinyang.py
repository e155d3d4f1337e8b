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
    ColumnStats,
    column_stats,
    gemm_shift,
    rows_per_chunk,
    thread_limits,
)
from .hamerly import err_scale as hamerly_err_scale
from .lloyd import LloydResult, lloyd
from .seeding import kmeans_plusplus

logger = logging.getLogger(__name__)

#: centres per group
GROUP_SIZE = 10
#: a step that computed more than this share of all n k distances is followed by a
#: full BLAS pass instead
FULL_PASS_SHARE = 0.2
#: the first steps move the centres far: they are full BLAS passes (after one, a
#: bounded step still computed 43-91 % of the distances, directly, on the benchmark's
#: embeddings: more than a full pass costs)
FULL_PASSES = 2


def center_groups(centers: np.ndarray, n_groups: int) -> np.ndarray:
    """Group the centres by a short k-means on the centres themselves (seeded)."""
    if n_groups <= 1:
        return np.zeros(centers.shape[0], dtype=np.int32)
    C = np.ascontiguousarray(centers, dtype=np.float64)
    w = np.ones(C.shape[0])
    seeds, _ = kmeans_plusplus(C, n_groups, w, np.random.RandomState(0))
    return lloyd(C, w, seeds, max_iter=5).labels


class YinyangState:
    """Labels and group bounds of Yinyang's steps over one array; :meth:`step` assigns
    against new centres. The groups are made from the centres the state starts with.
    ``labels``: the array to fill (a new one by default)."""

    def __init__(
        self,
        X: np.ndarray,
        shift: np.ndarray | None,
        centers: np.ndarray,
        labels: np.ndarray | None = None,
    ):
        n, d = X.shape
        k = centers.shape[0]
        self.X, self.k = X, k
        self.subtract_shift = shift is not None
        self.shift = np.zeros(d, dtype=X.dtype) if shift is None else shift.astype(X.dtype)
        # relative slack of the float32 bounds: covers their rounding and, for float32
        # data, distances summed in float32
        self.margin = 1e-5 if X.dtype == np.float32 else 1e-6
        self.err_scale = hamerly_err_scale(X.dtype, d)
        self.n_groups = n_groups(k)
        self.group_of = center_groups(centers, self.n_groups).astype(np.int32)
        self.gorder = np.argsort(self.group_of, kind="stable").astype(np.int32)
        self.gstart = np.searchsorted(
            self.group_of[self.gorder], np.arange(self.n_groups + 1)
        ).astype(np.int64)
        self.labels = np.zeros(n, dtype=np.int32) if labels is None else labels
        self.upper = np.empty(n, dtype=np.float32)
        self.lower = np.empty((n, self.n_groups), dtype=np.float32)
        self.chunk = rows_per_chunk(k, n)
        self.work = np.zeros(max(1, -(-n // self.chunk)), dtype=np.int64)
        self.steps = 0
        self.bounded_steps = 0  # steps that tested the bounds (not full passes)
        self.last_share = 1.0  # distances computed by the last bounded step, over n k

    def bounds_will_be_tested(self) -> bool:
        """Whether the next step tests the bounds (rather than a full pass)."""
        return self.steps >= FULL_PASSES and self.last_share <= FULL_PASS_SHARE

    def pass_share(self, move: np.ndarray) -> float:
        """The share of the rows that would skip the next step without a distance
        (bounds only; see :func:`_yinyang_kernels.yinyang_pass_share`)."""
        gmove = np.zeros(self.n_groups)
        np.maximum.at(gmove, self.group_of, move)
        _yk.yinyang_pass_share(
            labels=self.labels,
            upper=self.upper,
            lower=self.lower,
            move=move,
            gmove=gmove,
            chunk=self.chunk,
            out=self.work,
        )
        return float(self.work.sum()) / self.X.shape[0]

    def step(self, centers: np.ndarray, move: np.ndarray) -> float:
        """Assign against ``centers`` (moved by ``move`` since the last step); returns
        the share of the n k distances computed (1 for a full pass)."""
        X = self.X
        n = X.shape[0]
        # while the centres still move far, the bounds prune little and direct
        # distances cost more than one full pass through BLAS (which also resets the
        # bounds)
        if self.steps < FULL_PASSES or self.last_share > FULL_PASS_SHARE:
            shifted = centers[self.gorder] - self.shift  # group by group
            csq = np.einsum("ij,ij->i", shifted, shifted, dtype=np.float64)
            threads = numba.get_num_threads() if self.subtract_shift else 0
            _yk.yinyang_first_dense(
                X=X,
                centers=centers,
                ct=shifted.T,
                csq=csq.astype(X.dtype),
                gorder=self.gorder,
                gstart=self.gstart,
                shift=self.shift,
                subtract_shift=self.subtract_shift,
                chunk=self.chunk,
                err_scale=self.err_scale,
                margin=self.margin,
                bufs=np.empty((threads, self.chunk, X.shape[1]), dtype=X.dtype),
                labels=self.labels,
                upper=self.upper,
                lower=self.lower,
            )
            self.steps += 1
            self.last_share = 0.0  # fresh bounds: try them on the next step
            return 1.0
        gmove = np.zeros(self.n_groups)
        np.maximum.at(gmove, self.group_of, move)
        _yk.yinyang_assign_dense(
            X=X,
            centers=centers,
            group_of=self.group_of,
            gorder=self.gorder,
            gstart=self.gstart,
            move=move,
            gmove=gmove,
            chunk=self.chunk,
            margin=self.margin,
            labels=self.labels,
            upper=self.upper,
            lower=self.lower,
            work=self.work,
        )
        self.steps += 1
        self.bounded_steps += 1
        self.last_share = float(self.work.sum()) / (n * self.k)
        return self.last_share


def n_groups(n_clusters: int) -> int:
    """The number of centre groups: about ``GROUP_SIZE`` centres each."""
    return max(1, -(-n_clusters // GROUP_SIZE))


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
    shift = gemm_shift(column_stats(X) if stats is None else stats)
    centers = np.array(centers_init, dtype=X.dtype, order="C", copy=True)
    with thread_limits(n_threads):
        state = YinyangState(X, shift, centers)

        def step(n_iter: int, move: np.ndarray) -> None:
            share = state.step(centers, move)
            logger.debug("iteration %d: %.1f%% of the distances computed", n_iter, 100 * share)

        return iterate(
            X,
            sample_weight,
            centers,
            state.labels,
            state.shift,
            step,
            max_iter=max_iter,
            tol=tol,
            frozen=frozen,
            normalize=normalize,
        )
