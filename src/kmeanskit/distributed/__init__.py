"""k-means over Dask arrays: the kmeanskit engine inside every block, the reductions on
the client. Needs the ``dask`` extra (``pip install 'kmeanskit[dask]'``); runs on the
active ``distributed.Client`` when there is one, else on Dask's threaded scheduler.
"""

from .kmeans import KMeans

__all__ = ["KMeans"]
