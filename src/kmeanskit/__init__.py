"""kmeanskit: exact, fast k-means and everything that comes after ``KMeans().fit(X)``.

Only public names live here; nothing heavy (images, plotting, dask, torch) is
imported by ``import kmeanskit``.
"""

from . import metrics, vq
from ._version import __version__
from .choose_k import KChoice, choose_k, score_sweep
from .errors import KmeanskitError
from .estimators import (
    BisectingKMeans,
    GMeans,
    KernelKMeans,
    KMeans,
    KMeansConstrained,
    KMedoids,
    MiniBatchKMeans,
    SphericalKMeans,
    XMeans,
    k_means,
    kmeans_plusplus,
)
from .kmeans_features import KMeansFeatures
from .model_io import ModelFileError, load_model, save_model
from .relabel import align_clusters, canonical_order, permute_clusters
from .sweep import SweepResult, sweep

__all__ = [
    "BisectingKMeans",
    "GMeans",
    "KChoice",
    "KMeans",
    "KMeansConstrained",
    "KMeansFeatures",
    "KMedoids",
    "KernelKMeans",
    "KmeanskitError",
    "MiniBatchKMeans",
    "ModelFileError",
    "SphericalKMeans",
    "SweepResult",
    "XMeans",
    "__version__",
    "align_clusters",
    "canonical_order",
    "choose_k",
    "k_means",
    "kmeans_plusplus",
    "load_model",
    "metrics",
    "permute_clusters",
    "save_model",
    "score_sweep",
    "sweep",
    "vq",
]
