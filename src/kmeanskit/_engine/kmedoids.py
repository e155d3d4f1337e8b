"""k-medoids on a dissimilarity matrix: BUILD, PAM's best swap, FasterPAM's eager swap
(Schubert and Rousseeuw 2021) and the alternating (Voronoi) iteration.

``D[o, c]`` is the dissimilarity of point ``o`` to candidate medoid ``c``; it need not
be symmetric nor metric. The loss is ``sum_o min_m D[o, m]``. Both swap methods stop at
a swap-local optimum: no exchange of one medoid with one non-medoid lowers the loss.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["alternate", "build", "fasterpam", "kmedoids_plusplus", "loss", "pam", "transposed"]


@njit(cache=True, nogil=True)
def _two_nearest(D, med, near, dn, ds):
    n, k = D.shape[0], med.shape[0]
    for o in range(n):
        b1, d1, d2 = -1, np.inf, np.inf
        for p in range(k):
            d = D[o, med[p]]
            if d < d1:
                d2 = d1
                b1, d1 = p, d
            elif d < d2:
                d2 = d
        near[o], dn[o], ds[o] = b1, d1, d2


@njit(cache=True, nogil=True)
def _removal(near, dn, ds, k):
    out = np.zeros(k)
    for o in range(near.shape[0]):
        out[near[o]] += ds[o] - dn[o]
    return out


@njit(cache=True, nogil=True)
def _swap_gains(DT, xc, near, dn, ds, removal, delta):
    """``delta[i]``: change of the loss if medoid i is swapped for ``xc`` (FastPAM1's
    shared accumulation: one pass over the points for all k medoids). ``DT`` is the
    transposed matrix: ``DT[xc]`` holds every point's dissimilarity to ``xc``.

    IN: DT (n, n), xc, near (n,) each point's nearest medoid (its position), dn and ds
    (n,) the dissimilarities to the nearest and second nearest, removal (k,) from
    :func:`_removal`. OUT: delta (k,).
    """
    delta[:] = removal
    acc = 0.0
    col = DT[xc]
    for o in range(col.shape[0]):
        doj = col[o]
        if doj < dn[o]:
            acc += doj - dn[o]
            delta[near[o]] += dn[o] - ds[o]
        elif doj < ds[o]:
            delta[near[o]] += doj - ds[o]
    for i in range(delta.shape[0]):
        delta[i] += acc


@njit(cache=True, nogil=True)
def _state(D, med):
    """Medoid flags and every point's nearest and second nearest medoid."""
    n, k = D.shape[0], med.shape[0]
    is_med = np.zeros(n, dtype=np.bool_)
    for p in range(k):
        is_med[med[p]] = True
    near = np.empty(n, dtype=np.int64)
    dn, ds = np.empty(n), np.empty(n)
    _two_nearest(D, med, near, dn, ds)
    return is_med, near, dn, ds


@njit(cache=True, nogil=True)
def _fasterpam(D, DT, med, order, max_cycles, tol):
    """FasterPAM's loop: IN D, DT (n, n), order (n,) the visiting order, max_cycles,
    tol; IN/OUT med (k,) int64. Returns ``(swaps, converged)``."""
    n, k = D.shape[0], med.shape[0]
    is_med, near, dn, ds = _state(D, med)
    removal = _removal(near, dn, ds, k)
    delta = np.empty(k)
    swaps, since, pos, steps = 0, 0, 0, 0
    while since < n and steps < max_cycles * n:
        xc = order[pos]
        if not is_med[xc]:
            _swap_gains(DT=DT, xc=xc, near=near, dn=dn, ds=ds, removal=removal, delta=delta)
            best = np.argmin(delta)
            if delta[best] < -tol:
                is_med[med[best]] = False
                med[best] = xc
                is_med[xc] = True
                _two_nearest(D, med, near, dn, ds)
                removal = _removal(near, dn, ds, k)
                swaps += 1
                since = -1
        since += 1
        steps += 1
        pos = (pos + 1) % n
    return swaps, since >= n


@njit(cache=True, nogil=True)
def _pam(D, DT, med, max_swaps, tol):
    n, k = D.shape[0], med.shape[0]
    is_med, near, dn, ds = _state(D, med)
    delta = np.empty(k)
    for swaps in range(max_swaps):
        _two_nearest(D, med, near, dn, ds)
        removal = _removal(near, dn, ds, k)
        best, best_i, best_x = 0.0, -1, -1
        for xc in range(n):
            if is_med[xc]:
                continue
            _swap_gains(DT=DT, xc=xc, near=near, dn=dn, ds=ds, removal=removal, delta=delta)
            i = np.argmin(delta)
            if delta[i] < best - tol:
                best, best_i, best_x = delta[i], i, xc
        if best_i < 0:
            return swaps, True
        is_med[med[best_i]] = False
        med[best_i] = best_x
        is_med[best_x] = True
    return max_swaps, False


@njit(cache=True, nogil=True)
def _build(DT, k):
    n = DT.shape[0]
    med = np.empty(k, dtype=np.int64)
    best, best_sum = 0, np.inf
    for c in range(n):
        s = 0.0
        for o in range(n):
            s += DT[c, o]
        if s < best_sum:
            best, best_sum = c, s
    med[0] = best
    dn = DT[best].copy()
    taken = np.zeros(n, dtype=np.bool_)
    taken[best] = True
    for p in range(1, k):
        best, best_gain = -1, -1.0
        for c in range(n):
            if taken[c]:
                continue
            gain = 0.0
            col = DT[c]
            for o in range(n):
                if col[o] < dn[o]:
                    gain += dn[o] - col[o]
            if gain > best_gain:
                best, best_gain = c, gain
        med[p] = best
        taken[best] = True
        col = DT[best]
        for o in range(n):
            if col[o] < dn[o]:
                dn[o] = col[o]
    return med


@njit(cache=True, nogil=True)
def _alternate(D, med, max_iter):
    n, k = D.shape[0], med.shape[0]
    labels = np.empty(n, dtype=np.int64)
    for it in range(1, max_iter + 1):
        for o in range(n):
            b, bd = 0, np.inf
            for p in range(k):
                if D[o, med[p]] < bd:
                    b, bd = p, D[o, med[p]]
            labels[o] = b
        changed = False
        for p in range(k):
            members = np.flatnonzero(labels == p)
            best, best_sum = med[p], np.inf
            for c in members:
                s = 0.0
                for o in members:
                    s += D[o, c]
                if s < best_sum:
                    best, best_sum = c, s
            if best != med[p]:
                med[p] = best
                changed = True
        if not changed:
            return it, True
    return max_iter, False


def _check(D):
    return np.ascontiguousarray(D, dtype=np.float64)


def transposed(D):
    """D's columns as contiguous rows: D itself when it is symmetric (no copy). Pass it
    as ``DT`` to the functions below to check and copy once for several of them."""
    return D if np.array_equal(D, D.T) else np.ascontiguousarray(D.T)


def _tol(D) -> float:
    return 1e-12 * max(float(np.abs(D).max()), 1.0) * D.shape[0]


def loss(D, medoids) -> float:
    """``sum_o min_m D[o, m]``.

    Examples
    --------
    >>> loss(np.array([[0.0, 1.0], [1.0, 0.0], [3.0, 2.0]]), [0])
    4.0
    """
    return float(np.asarray(D)[:, np.asarray(medoids)].min(axis=1).sum())


def build(D, k: int, DT=None) -> np.ndarray:
    """PAM's greedy BUILD: the medoid of the whole set, then each next medoid the point
    that lowers the loss most.

    Examples
    --------
    >>> D = np.abs(np.subtract.outer([0.0, 1.0, 2.0, 10.0, 11.0], [0.0, 1.0, 2.0, 10.0, 11.0]))
    >>> build(D, 2).tolist()
    [2, 3]
    """
    return _build(transposed(_check(D)) if DT is None else DT, int(k))


def kmedoids_plusplus(D, k: int, random_state) -> np.ndarray:
    """k-medoids++: the first medoid uniformly at random, each next one drawn with
    probability proportional to its dissimilarity to the nearest medoid so far."""
    D = _check(D)
    n = D.shape[0]
    med = [int(random_state.randint(n))]
    near = D[:, med[0]].copy()
    for _ in range(1, k):
        p = np.maximum(near, 0)
        total = p.sum()
        if total <= 0:
            rest = np.setdiff1d(np.arange(n), med)
            c = int(random_state.choice(rest))
        else:
            c = int(random_state.choice(n, p=p / total))
        med.append(c)
        np.minimum(near, D[:, c], out=near)
    return np.array(med, dtype=np.int64)


def fasterpam(
    D, medoids, max_cycles: int = 100, random_state=None, DT=None
) -> tuple[np.ndarray, int, bool]:
    """FasterPAM: visit the non-medoids in turn and apply the best swap for each one as
    soon as it lowers the loss; stop after a full cycle without a swap. With a
    ``random_state`` the visiting order is shuffled (the paper's randomised variant,
    which needs fewer cycles when the start is poor). Returns the medoids, the number of
    swaps and whether it converged.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    >>> D = np.abs(np.subtract.outer(x, x))
    >>> med, swaps, ok = fasterpam(D, [4, 5])
    >>> sorted(med.tolist()), loss(D, med), ok
    ([1, 4], 4.0, True)
    """
    med = np.array(medoids, dtype=np.int64)
    D = _check(D)
    order = np.arange(D.shape[0], dtype=np.int64)
    if random_state is not None:
        random_state.shuffle(order)
    DT = transposed(D) if DT is None else DT
    swaps, converged = _fasterpam(
        D=D, DT=DT, med=med, order=order, max_cycles=int(max_cycles), tol=_tol(D)
    )
    return med, int(swaps), bool(converged)


def pam(D, medoids, max_swaps: int = 1000, DT=None) -> tuple[np.ndarray, int, bool]:
    """PAM's SWAP phase: apply the best of all (medoid, non-medoid) swaps while it
    lowers the loss (computed as FastPAM1 does, in O(n^2) per swap). Returns the
    medoids, the number of swaps and whether it converged."""
    med = np.array(medoids, dtype=np.int64)
    D = _check(D)
    DT = transposed(D) if DT is None else DT
    swaps, converged = _pam(D, DT, med, int(max_swaps), _tol(D))
    return med, int(swaps), bool(converged)


def alternate(D, medoids, max_iter: int = 100) -> tuple[np.ndarray, int, bool]:
    """The alternating (Voronoi) iteration: assign each point to its nearest medoid,
    then make each cluster's medoid its member of least summed dissimilarity; repeat
    until no medoid changes. Faster per step than swaps, weaker optima. Returns the
    medoids, the iterations and whether it converged."""
    med = np.array(medoids, dtype=np.int64)
    n_iter, converged = _alternate(_check(D), med, int(max_iter))
    return med, int(n_iter), bool(converged)
