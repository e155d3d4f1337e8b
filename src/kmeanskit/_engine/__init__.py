"""The engine: numpy + numba k-means kernels and their drivers.

It knows nothing of estimators, images or the command line; it takes checked,
C-contiguous float32/float64 arrays (or CSR matrices) and returns arrays.
"""

from ._common import (
    ColumnStats,
    assign,
    assigned_objective,
    column_stats,
    resolve_n_threads,
    thread_limits,
    tolerance,
)
from .auto import auto
from .drivers import DENSE_ONLY, DRIVERS, Driver, driver
from .hamerly import hamerly
from .hartigan import hartigan
from .lloyd import LloydResult, lloyd
from .minibatch import minibatch_step, reassign_starved
from .seeding import kmeans_plusplus, random_rows
from .swap import targeted_swaps
from .yinyang import yinyang

__all__ = [
    "DENSE_ONLY",
    "DRIVERS",
    "ColumnStats",
    "Driver",
    "LloydResult",
    "assign",
    "assigned_objective",
    "auto",
    "column_stats",
    "driver",
    "hamerly",
    "hartigan",
    "kmeans_plusplus",
    "lloyd",
    "minibatch_step",
    "random_rows",
    "reassign_starved",
    "resolve_n_threads",
    "targeted_swaps",
    "thread_limits",
    "tolerance",
    "yinyang",
]
