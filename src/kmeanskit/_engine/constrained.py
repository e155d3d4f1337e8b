"""Assignment under cluster size bounds: an exact transportation problem.

Each point goes to one cluster, cluster j receiving between ``lo[j]`` and ``hi[j]``
points, at the least total cost ``sum_i C[i, label_i]``. This is a min-cost flow;
with k clusters much fewer than n points it is solved exactly on the k-node graph of
cluster-to-cluster moves: the edge a -> b weighs ``min_{i in a} C[i, b] - C[i, a]``
(the cheapest single move), and a virtual node closes paths that change two sizes
within their bounds. A negative cycle of that graph is an improving exchange made of
distinct points; an assignment with none is optimal (the residual-graph optimality
condition of min-cost flow, compressed to the clusters). Bellman-Ford finds the
cycles; only the rows of the clusters that changed are recomputed.

Weighted demands with capacities (``sum_{i in j} w_i <= cap_j``) make the problem
NP-hard; :func:`assign_demands` is a heuristic: regret-ordered greedy filling, then
single moves and pairwise exchanges that lower the cost and keep every capacity.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["assign_bounded", "assign_demands"]

#: pairwise exchanges (O(n^2) a pass) are tried up to this many rows
EXCHANGE_MAX_ROWS = 5000


@njit(cache=True, nogil=True)
def _row(C, members, size, a, W, argW):
    """Cluster a's cheapest single moves to every other cluster: IN C (n, k) costs,
    members (k, n), size (k,), a; OUT row a of W (k, k), the cost, and of argW (k, k),
    the point (-1: none)."""
    k = C.shape[1]
    for b in range(k):
        W[a, b] = np.inf
        argW[a, b] = -1
    for t in range(size[a]):
        i = members[a, t]
        base = C[i, a]
        for b in range(k):
            if b != a:
                d = C[i, b] - base
                if d < W[a, b]:
                    W[a, b] = d
                    argW[a, b] = i


@njit(cache=True, nogil=True)
def _move(i, b, labels, members, slot, size):
    """Point i to cluster b: IN i, b; IN/OUT labels (n,), members (k, n), slot (n,),
    each point's place in its cluster's members, size (k,)."""
    a = labels[i]
    last = members[a, size[a] - 1]
    members[a, slot[i]] = last
    slot[last] = slot[i]
    size[a] -= 1
    members[b, size[b]] = i
    slot[i] = size[b]
    size[b] += 1
    labels[i] = b


@njit(cache=True, nogil=True)
def _bellman_ford(W, size, lo, hi, shrink_edges, grow_edges, eps, dist, pred):
    """Relax the k+1 node graph (node k virtual). Returns the last relaxed node at round
    k+1 (-1: none).

    Parameters
    ----------
    W : IN (k, k) edge weights (inf: no edge)
    size, lo, hi : IN (k,) cluster sizes and their bounds
    shrink_edges : IN bool, edges V -> a to every cluster a that may lose a point
    grow_edges : IN bool, edges a -> V from every cluster a that may gain one
    eps : IN float, the least improvement relaxed
    dist : OUT (k + 1,) float64
    pred : OUT (k + 1,) int64, each node's predecessor (-1: none)
    """
    k = W.shape[0]
    V = k
    for v in range(k + 1):
        dist[v] = 0.0
        pred[v] = -1
    last = -1
    for _ in range(k + 1):
        last = -1
        for a in range(k):
            da = dist[a]
            for b in range(k if size[a] > 0 else 0):  # an empty cluster has no move out
                w = W[a, b]
                if b != a and w < np.inf and da + w < dist[b] - eps:
                    dist[b] = da + w
                    pred[b] = a
                    last = b
            if grow_edges and size[a] < hi[a] and da < dist[V] - eps:
                dist[V] = da
                pred[V] = a
                last = V
        if shrink_edges:
            for a in range(k):
                if size[a] > lo[a] and dist[V] < dist[a] - eps:
                    dist[a] = dist[V]
                    pred[a] = V
                    last = a
        if last < 0:
            return -1
    return last


@njit(cache=True, nogil=True)
def _cancel(x, pred, W, argW, labels, members, slot, size, C, k):
    """Walk into the cycle through ``x`` and apply it; returns the moves made.

    IN: x, pred (from :func:`_bellman_ford`), C (n, k), k. IN/OUT: W, argW (as
    :func:`_row` makes them), labels, members, slot, size (as :func:`_move` keeps them).
    """
    for _ in range(k + 1):
        x = pred[x]
    cycle = [x]
    y = pred[x]
    while y != x:
        cycle.append(y)
        y = pred[y]
    # the cycle, forwards: edge pred[v] -> v moves argW[pred[v], v] from pred[v] to v
    touched = np.zeros(k, dtype=np.bool_)
    moves_i = []
    moves_b = []
    for v in cycle:
        u = pred[v]
        if u < k and v < k:
            moves_i.append(argW[u, v])
            moves_b.append(v)
            touched[u] = True
            touched[v] = True
    for t in range(len(moves_i)):
        _move(i=moves_i[t], b=moves_b[t], labels=labels, members=members, slot=slot, size=size)
    for a in range(k):
        if touched[a]:
            _row(C=C, members=members, size=size, a=a, W=W, argW=argW)
    return len(moves_i)


@njit(cache=True, nogil=True)
def _solve(C, labels, lo, hi, max_moves, eps):
    """The assignment of :func:`assign_bounded`: IN C (n, k), lo, hi (k,) int64,
    max_moves, eps; IN/OUT labels (n,) int64. Returns ``(status, moves)``, status 1:
    optimal, 0: out of moves, -1: the bounds cannot be met."""
    n, k = C.shape
    members = np.empty((k, n), dtype=np.int64)
    slot = np.empty(n, dtype=np.int64)
    size = np.zeros(k, dtype=np.int64)
    for i in range(n):
        a = labels[i]
        members[a, size[a]] = i
        slot[i] = size[a]
        size[a] += 1
    W = np.empty((k, k))
    argW = np.empty((k, k), dtype=np.int64)
    for a in range(k):
        _row(C=C, members=members, size=size, a=a, W=W, argW=argW)
    dist = np.empty(k + 1)
    pred = np.empty(k + 1, dtype=np.int64)
    moved = 0
    # phase 1: repair the bounds by single moves: out of over-full clusters, the
    # cheapest move to a cluster with room; into under-full ones, the cheapest move
    # from a cluster above its minimum (always possible when sum(lo) <= n <= sum(hi))
    for a in range(k):
        while size[a] > hi[a]:
            best, bi, bb = np.inf, -1, -1
            for t in range(size[a]):
                i = members[a, t]
                for b in range(k):
                    if b != a and size[b] < hi[b] and C[i, b] - C[i, a] < best:
                        best, bi, bb = C[i, b] - C[i, a], i, b
            if bi < 0:
                return -1, moved
            _move(i=bi, b=bb, labels=labels, members=members, slot=slot, size=size)
            moved += 1
    for b in range(k):
        while size[b] < lo[b]:
            best, bi = np.inf, -1
            for a in range(k):
                if a == b or size[a] <= lo[a]:
                    continue
                for t in range(size[a]):
                    i = members[a, t]
                    if C[i, b] - C[i, a] < best:
                        best, bi = C[i, b] - C[i, a], i
            if bi < 0:
                return -1, moved
            _move(i=bi, b=b, labels=labels, members=members, slot=slot, size=size)
            moved += 1
    for a in range(k):
        _row(C=C, members=members, size=size, a=a, W=W, argW=argW)
    # phase 2: cancel negative cycles until none is left (optimal)
    while moved < max_moves:
        x = _bellman_ford(
            W=W,
            size=size,
            lo=lo,
            hi=hi,
            shrink_edges=True,
            grow_edges=True,
            eps=eps,
            dist=dist,
            pred=pred,
        )
        if x < 0:
            return 1, moved
        moved += _cancel(
            x=x,
            pred=pred,
            W=W,
            argW=argW,
            labels=labels,
            members=members,
            slot=slot,
            size=size,
            C=C,
            k=k,
        )
    return 0, moved


def assign_bounded(C, lo, hi, labels=None, max_moves: int | None = None):
    """The least-cost assignment of the rows of ``C`` (n x k costs) to clusters with
    ``lo[j] <= size_j <= hi[j]``, exactly.

    Parameters
    ----------
    C : ndarray of shape (n, k)
    lo, hi : ndarray of int of shape (k,)
        Bounds with ``sum(lo) <= n <= sum(hi)`` (checked by the caller).
    labels : ndarray of shape (n,), optional
        A start (the previous assignment makes a warm start); default the cheapest
        cluster of every row.
    max_moves : int, optional
        Safety limit on single-point moves (default ``50 n``).

    Returns
    -------
    labels : ndarray of int32, shape (n,)
    optimal : bool
        False only when ``max_moves`` ran out.

    Examples
    --------
    >>> C = np.array([[0.0, 5.0], [1.0, 4.0], [2.0, 3.0], [9.0, 0.0]])
    >>> labels, ok = assign_bounded(C, np.array([2, 2]), np.array([2, 2]))
    >>> labels.tolist(), ok
    ([0, 0, 1, 1], True)
    """
    C = np.ascontiguousarray(C, dtype=np.float64)
    n = C.shape[0]
    start = np.argmin(C, axis=1) if labels is None else np.asarray(labels)
    work = np.ascontiguousarray(start, dtype=np.int64).copy()
    eps = 1e-12 * max(float(np.abs(C).max()), 1.0)
    status, _ = _solve(
        C=C,
        labels=work,
        lo=np.asarray(lo, np.int64),
        hi=np.asarray(hi, np.int64),
        max_moves=int(max_moves or 50 * n + 1000),
        eps=eps,
    )
    if status < 0:
        raise ValueError("no assignment satisfies the size bounds")
    return work.astype(np.int32), status == 1


def assign_demands(C, demand, capacity, max_rounds: int = 20):
    """A heuristic for weighted demands: every row i has ``demand[i] > 0`` and cluster
    j takes at most ``capacity[j]`` in total. Rows are placed in order of regret (the
    gap between their two cheapest clusters, largest first) in the cheapest cluster with
    room; then single moves and pairwise exchanges that lower the cost within the
    capacities are applied until none is left or ``max_rounds`` passes (exchanges only up
    to ``EXCHANGE_MAX_ROWS`` rows).

    Returns the labels (int32); raises ValueError if some row fits nowhere.

    Examples
    --------
    >>> C = np.array([[0.0, 5.0], [1.0, 4.0], [2.0, 3.0]])
    >>> assign_demands(C, np.array([2.0, 2.0, 1.0]), np.array([3.0, 3.0])).tolist()
    [0, 1, 0]
    """
    C = np.ascontiguousarray(C, dtype=np.float64)
    n, k = C.shape
    demand = np.asarray(demand, np.float64)
    room = np.asarray(capacity, np.float64).copy()
    order = np.argsort(C, axis=1)
    two = np.take_along_axis(C, order[:, :2], axis=1) if k > 1 else np.zeros((n, 2))
    regret = two[:, 1] - two[:, 0] if k > 1 else np.zeros(n)
    labels = np.full(n, -1, dtype=np.int64)
    # large demands first among equal regrets: they are the hardest to fit
    for i in np.lexsort((-demand, -regret)):
        for j in order[i]:
            if demand[i] <= room[j] + 1e-12:
                labels[i] = j
                room[j] -= demand[i]
                break
        if labels[i] < 0:
            raise ValueError(
                f"row {int(i)} (demand {demand[i]:g}) fits in no cluster: the capacities "
                f"left are {np.round(room, 6).tolist()!r:.120}; raise them or add clusters"
            )
    _improve_demands(C, demand, room, labels, max_rounds)
    return labels.astype(np.int32)


@njit(cache=True, nogil=True)
def _improve_demands(C, demand, room, labels, max_rounds):
    n, k = C.shape
    for _ in range(max_rounds):
        improved = False
        for i in range(n):  # single moves
            a = labels[i]
            best, gain = -1, 1e-12
            for b in range(k):
                if b != a and demand[i] <= room[b] + 1e-12 and C[i, a] - C[i, b] > gain:
                    best, gain = b, C[i, a] - C[i, b]
            if best >= 0:
                room[a] += demand[i]
                room[best] -= demand[i]
                labels[i] = best
                improved = True
        for i in range(n if n <= EXCHANGE_MAX_ROWS else 0):  # exchanges of two rows
            a = labels[i]
            for j in range(i + 1, n):
                b = labels[j]
                if a == b:
                    continue
                gain = C[i, a] + C[j, b] - C[i, b] - C[j, a]
                if gain <= 1e-12:
                    continue
                if (
                    demand[i] - demand[j] <= room[b] + 1e-12
                    and demand[j] - demand[i] <= room[a] + 1e-12
                ):
                    room[a] += demand[i] - demand[j]
                    room[b] += demand[j] - demand[i]
                    labels[i], labels[j] = b, a
                    a = b
                    improved = True
        if not improved:
            break
