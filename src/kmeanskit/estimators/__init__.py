"""scikit-learn estimators over the engine, one family per file."""

from .kmeans import KMeans

__all__ = ["KMeans"]
