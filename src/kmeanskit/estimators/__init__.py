"""scikit-learn estimators over the engine, one family per file."""

from ._functions import k_means, kmeans_plusplus
from .bisecting import BisectingKMeans
from .constrained import KMeansConstrained
from .gmeans import GMeans
from .kernel_kmeans import KernelKMeans
from .kmeans import KMeans
from .kmedoids import KMedoids
from .minibatch import MiniBatchKMeans
from .spherical import SphericalKMeans
from .xmeans import XMeans

__all__ = [
    "BisectingKMeans",
    "GMeans",
    "KMeans",
    "KMeansConstrained",
    "KMedoids",
    "KernelKMeans",
    "MiniBatchKMeans",
    "SphericalKMeans",
    "XMeans",
    "k_means",
    "kmeans_plusplus",
]
