"""k-means over Dask arrays: the kmeanskit engine inside every block, the reductions on
the client. Needs the ``dask`` extra (``pip install 'kmeanskit[dask]'``); runs on the
active ``distributed.Client`` when there is one, else on Dask's threaded scheduler.
"""

from .kmeans import KMeans
from .minibatch import MiniBatchKMeans

__all__ = ["KMeans", "MiniBatchKMeans"]
