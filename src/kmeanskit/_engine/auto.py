"""``algorithm='auto'``: the exact algorithm chosen, and switched, as the run measures
how well its bounds prune.

Every algorithm here gives Lloyd's iterations (the same labels up to floating-point
ties, the same stopping rules); they differ only in the work they skip:

- Lloyd's passes for sparse data and for small problems (``n k d`` below
  ``LLOYD_MAX_WORK``), where keeping bounds costs more than it saves;
- Yinyang's group bounds where they fit in memory and there are enough centres to
  group; whether they prune is measured before its first bounded step, from the bounds
  its full passes set (the share of the rows they would let skip): below
  ``YINYANG_MIN_PASS`` the run goes on with Hamerly's bounds (on overlapping synthetic
  mixtures the groups prune little; on image embeddings they skip 90 % of the
  distances);
- Hamerly's bounds otherwise. Hamerly's steps measure their own pruning and turn to
  Lloyd's passes while it fails (:class:`~kmeanskit._engine.hamerly.HamerlyState`).

Decisions depend on counts, never on time, so a run is repeatable.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from ._bounded import iterate
from ._common import ColumnStats, column_stats, gemm_shift, thread_limits
from .hamerly import HamerlyState
from .lloyd import LloydResult, lloyd
from .yinyang import YinyangState, n_groups

logger = logging.getLogger(__name__)

#: below this many multiply-adds a pass (n k d), Lloyd's passes cost less than bounds
LLOYD_MAX_WORK = 5e6
#: Yinyang's group bounds (4 bytes a group a row) may take this share of a row's bytes
GROUP_BOUNDS_SHARE = 1 / 8
#: Yinyang needs this many centres for its groups to pay
YINYANG_MIN_CLUSTERS = 64
#: ... and this many rows a centre (its grouping and bounds cost k^2 and n k / 10)
YINYANG_MIN_ROWS_PER_CLUSTER = 8
#: Yinyang's pruning is judged before its first bounded step (after its full passes),
#: from its bounds alone: the share of the rows its global test lets skip the step
#: (measured: MNIST 784-d and CNN embeddings 0.027-0.045, USPS 0.13, where Yinyang is
#: 10-30 % faster than Hamerly; an overlapping 768-d mixture 0.00075, where it is 1.8x
#: slower); below this, Hamerly takes over from its bounds before a distance is computed
YINYANG_MIN_PASS = 0.01


def choose(X, n_clusters: int) -> str:
    """The algorithm 'auto' starts with: 'lloyd', 'yinyang' or 'hamerly'.

    Examples
    --------
    >>> import numpy as np
    >>> choose(np.zeros((100, 2)), 3), choose(np.zeros((50_000, 16)), 100)
    ('lloyd', 'hamerly')
    """
    n, d = X.shape
    if sp.issparse(X) or n * n_clusters * d < LLOYD_MAX_WORK:
        return "lloyd"
    fits = 4 * n_groups(n_clusters) <= GROUP_BOUNDS_SHARE * d * X.dtype.itemsize
    if (
        fits
        and n_clusters >= YINYANG_MIN_CLUSTERS
        and n >= YINYANG_MIN_ROWS_PER_CLUSTER * n_clusters
    ):
        return "yinyang"
    return "hamerly"


def auto(
    X,
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
    """Exact k-means from ``centers_init`` by the algorithm that prunes best here.

    Parameters and result as for :func:`~kmeanskit._engine.lloyd.lloyd` (dense or
    CSR ``X``); see the module's description for the choice.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> res = auto(X, np.ones(4), np.array([[0.0], [10.0]]))
    >>> res.centers.ravel().tolist(), res.labels.tolist(), res.inertia
    ([0.5, 10.5], [0, 0, 1, 1], 1.0)
    """
    options = {"max_iter": max_iter, "tol": tol, "frozen": frozen, "normalize": normalize}
    first = choose(X, centers_init.shape[0])
    if first == "lloyd":
        return lloyd(X, sample_weight, centers_init, n_threads=n_threads, stats=stats, **options)
    stats = column_stats(X) if stats is None else stats
    shift = gemm_shift(stats)
    centers = np.array(centers_init, dtype=X.dtype, order="C", copy=True)
    labels = np.zeros(X.shape[0], dtype=np.int32)
    with thread_limits(n_threads):
        if first == "yinyang":
            state = YinyangState(X, shift, centers, labels)
        else:
            state = HamerlyState(X, shift, centers.shape[0], labels=labels)
        logger.debug("algorithm='auto' starts with %s", first)

        def step(n_iter: int, move: np.ndarray) -> None:
            nonlocal state
            if (
                isinstance(state, YinyangState)
                and state.bounded_steps == 0
                and state.bounds_will_be_tested()
            ):
                share = state.pass_share(move)
                if share < YINYANG_MIN_PASS:
                    logger.debug(
                        "iteration %d: Yinyang's bounds would let %.1f%% of the "
                        "rows skip; Hamerly goes on",
                        n_iter,
                        100 * share,
                    )
                    hamerly = HamerlyState(X, shift, centers.shape[0], labels=labels)
                    # Yinyang's bounds hold for these labels: its nearest group bound
                    # bounds every other centre
                    hamerly.adopt(state.upper, state.lower.min(axis=1))
                    state = hamerly
            state.step(centers, move)

        # the kept sums are shifted like Hamerly's products (zeros when no shift)
        sums_shift = np.zeros(X.shape[1], dtype=X.dtype) if shift is None else shift
        return iterate(X, sample_weight, centers, labels, sums_shift, step, **options)
