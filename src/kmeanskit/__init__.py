"""kmeanskit: exact, fast k-means and everything that comes after ``KMeans().fit(X)``.

Only public names live here; nothing heavy (images, plotting, dask, torch) is
imported by ``import kmeanskit``.
"""

from . import vq
from .estimators import KMeans
from .relabel import align_clusters, canonical_order, permute_clusters

__version__ = "0.1.0"

__all__ = [
    "KMeans",
    "__version__",
    "align_clusters",
    "canonical_order",
    "permute_clusters",
    "vq",
]
