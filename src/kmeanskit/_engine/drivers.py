"""The exact k-means drivers by name: the one list of the engine's algorithms.

Every driver runs exact k-means from given centres and returns a
:class:`~kmeanskit._engine.lloyd.LloydResult`; all take the same arguments
(:class:`Driver`) and reach the same clustering from the same start (up to
floating-point ties). They differ only in the work they skip.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ._common import ColumnStats
from .auto import auto
from .hamerly import hamerly
from .lloyd import LloydResult, lloyd
from .yinyang import yinyang

__all__ = ["DENSE_ONLY", "DRIVERS", "Driver", "driver"]


class Driver(Protocol):
    """The call every driver shares (see :func:`~kmeanskit._engine.lloyd.lloyd`).

    Parameters
    ----------
    X : ndarray of shape (n, d) or CSR matrix, float32 or float64, C-contiguous
        (CSR only for the drivers outside ``DENSE_ONLY``).
    sample_weight : ndarray of shape (n,), X's dtype
    centers_init : ndarray of shape (k, d)
        The start; never modified.
    max_iter : int
        Iterations at most.
    tol : float
        Absolute tolerance on the sum of squared centre shifts (see
        :func:`~kmeanskit._engine.tolerance`).
    n_threads : int, optional
        Threads of the kernels; the result does not depend on it.
    stats : ColumnStats, optional
        X's column statistics, when the caller has them already.
    frozen : ndarray of bool, shape (k,), optional
        Centres that never move.
    normalize : bool
        Scale each updated centre to unit length (spherical k-means).

    Returns
    -------
    LloydResult
    """

    def __call__(
        self,
        X,
        sample_weight: np.ndarray,
        centers_init: np.ndarray,
        /,
        *,
        max_iter: int = 300,
        tol: float = 0.0,
        n_threads: int | None = None,
        stats: ColumnStats | None = None,
        frozen: np.ndarray | None = None,
        normalize: bool = False,
    ) -> LloydResult: ...


#: every driver, by the name callers (``KMeans(algorithm=...)``) give it
DRIVERS: dict[str, Driver] = {
    "auto": auto,
    "lloyd": lloyd,
    "hamerly": hamerly,
    "yinyang": yinyang,
}

#: the drivers that take dense X only (no CSR matrix)
DENSE_ONLY: frozenset[str] = frozenset({"hamerly", "yinyang"})


def driver(name: str) -> Driver:
    """The driver called ``name``.

    Raises
    ------
    ValueError
        When no driver has that name.

    Examples
    --------
    >>> driver("lloyd") is lloyd
    True
    """
    try:
        return DRIVERS[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ValueError(
            f"unknown k-means driver {name!r}; expected one of {', '.join(DRIVERS)}"
        ) from None
