"""Lloyd's k-means on PyTorch tensors: the same iteration as :func:`.lloyd.lloyd` for a
GPU (``device='cuda'``) or PyTorch's CPU kernels.

The assignment runs in row chunks as ``|x|^2 - 2 x.c + |c|^2`` with one matrix product
per chunk; the update adds the weighted rows per cluster with ``index_add_``; empty
clusters take the farthest rows (farthest first, ties by index), as in the numba
engine. The returned inertia is recomputed exactly (``sum w |x - c|^2``) by the numba
engine.
PyTorch is optional: it is imported here only.
"""

from __future__ import annotations

import numpy as np

from ._common import assigned_objective
from .lloyd import LloydResult

#: rows per assignment chunk (bounds the chunk x k distance matrix)
CHUNK_ROWS = 65536


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is in the cnn extra, in CI
        raise ImportError("device= needs PyTorch: pip install torch") from exc
    return torch


def resolve_device(device: str):
    """The torch device for ``device`` ('cpu', 'cuda', 'cuda:N' or 'auto': a GPU when
    one is there, else None, meaning the numba engine)."""
    torch = _torch()
    if device == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else None
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: PyTorch sees no CUDA device here")
    return dev


def _assign(torch, X, centers, chunk):
    csq = (centers * centers).sum(1)
    labels = torch.empty(X.shape[0], dtype=torch.int64, device=X.device)
    mind = torch.empty(X.shape[0], dtype=X.dtype, device=X.device)
    for lo in range(0, X.shape[0], chunk):
        xb = X[lo : lo + chunk]
        d2 = (xb * xb).sum(1, keepdim=True) - 2.0 * xb @ centers.T + csq
        best = d2.min(dim=1)
        labels[lo : lo + chunk] = best.indices
        mind[lo : lo + chunk] = best.values.clamp_min(0)
    return labels, mind


def torch_lloyd(
    X: np.ndarray,
    sample_weight: np.ndarray,
    centers_init: np.ndarray,
    *,
    device,
    max_iter: int = 300,
    tol: float = 0.0,
    chunk: int = CHUNK_ROWS,
) -> LloydResult:
    """Lloyd's k-means from ``centers_init`` on a torch ``device`` (dense X only).

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> res = torch_lloyd(X, np.ones(4), np.array([[0.0], [10.0]]), device="cpu")
    >>> res.centers.ravel().tolist(), res.labels.tolist(), res.inertia
    ([0.5, 10.5], [0, 0, 1, 1], 1.0)
    """
    torch = _torch()
    dev = torch.device(device)
    Xt = torch.as_tensor(np.ascontiguousarray(X), device=dev)
    w = torch.as_tensor(np.ascontiguousarray(sample_weight, dtype=X.dtype), device=dev)
    centers = torch.as_tensor(np.array(centers_init, dtype=X.dtype), device=dev)
    k, d = centers.shape
    prev = None
    history: list[float] = []
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        labels, mind = _assign(torch, Xt, centers, chunk)
        history.append(float((w * mind).sum()))
        sums = torch.zeros((k, d), dtype=torch.float64, device=dev)
        sums.index_add_(0, labels, (Xt * w[:, None]).double())
        wsum = torch.zeros(k, dtype=torch.float64, device=dev)
        wsum.index_add_(0, labels, w.double())
        empty = torch.nonzero(wsum == 0).flatten().tolist()
        if empty:  # the farthest rows, farthest first, ties by index
            order = np.lexsort((np.arange(len(mind)), -mind.double().cpu().numpy()))
            for j, i in zip(empty, order[: len(empty)], strict=False):
                old = int(labels[i])
                row = Xt[i].double() * w[i].double()
                sums[old] -= row
                wsum[old] -= w[i].double()
                sums[j] = row
                wsum[j] = w[i].double()
                labels[i] = j
        has = wsum > 0
        new = centers.clone()
        new[has] = (sums[has] / wsum[has, None]).to(centers.dtype)
        shift = float(((new.double() - centers.double()) ** 2).sum())
        centers = new
        strict = prev is not None and not empty and bool(torch.equal(labels, prev))
        if strict or shift <= tol:
            converged = True
            break
        prev = labels
    labels, _ = _assign(torch, Xt, centers, chunk)
    out_centers = centers.cpu().numpy()
    out_labels = labels.cpu().numpy().astype(np.int32)
    inertia = assigned_objective(X, sample_weight, out_centers, out_labels)
    return LloydResult(out_labels, inertia, out_centers, n_iter, history, converged)
