"""2-d views of the rows of a run, for the report's map: one home for every kind.

- :func:`map2d`: PCA (linear, instant), t-SNE (scikit-learn's Barnes-Hut, on the first
  50 principal components) or UMAP (umap-learn, the ``umap`` extra) of feature rows;
- :func:`project_rows`: a dask array's rows brought to at most 50 columns block by block
  (a PCA fitted on a sample), before :func:`map2d`;
- :func:`mds`: classical multidimensional scaling of a distance table (k-medoids runs
  on precomputed distances).

Used by image and table runs alike; imports nothing from :mod:`kmeanskit.images`.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["MAPS", "map2d", "mds", "project_rows"]

#: the projections :func:`map2d` draws
MAPS = ("pca", "tsne", "umap")
#: rows a PCA of a dask array is fitted on
PROJECTION_SAMPLE = 3000


def _reduce_block(block, reducer):
    return np.asarray(reducer.transform(block), dtype=np.float32)


def project_rows(X, n_components: int = 50, random_state=0) -> np.ndarray:
    """A dask array's rows as numpy, with at most ``n_components`` columns: a PCA
    fitted on a sample of up to ``PROJECTION_SAMPLE`` rows and applied block by block
    when X is wider.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.random.RandomState(0).rand(100, 80), chunks=(30, 80))
    >>> project_rows(X, 10).shape
    (100, 10)
    """
    from sklearn.decomposition import PCA

    if X.shape[1] <= n_components:
        return np.asarray(X.compute(), dtype=np.float32)
    rs = np.random.RandomState(random_state)
    sample = np.sort(rs.choice(X.shape[0], min(X.shape[0], PROJECTION_SAMPLE), replace=False))
    pca = PCA(min(n_components, len(sample)), random_state=random_state)
    pca.fit(X[sample].compute())
    out = X.map_blocks(
        _reduce_block, pca, chunks=(X.chunks[0], (pca.n_components_,)), dtype=np.float32
    )
    return out.compute()


def map2d(features, method: str = "pca", random_state: int = 0) -> np.ndarray:
    """A 2-d view of the feature rows (float32), for drawing every row as a point.

    ``method`` is ``'pca'`` (linear, instant), ``'tsne'`` (scikit-learn's Barnes-Hut
    t-SNE on the first 50 principal components; minutes for 50,000 rows) or ``'umap'``
    (umap-learn, the ``umap`` extra). A dask array is first brought to at most 50
    columns block by block (:func:`project_rows`).

    Examples
    --------
    >>> map2d(np.eye(4)).shape
    (4, 2)
    """
    if method not in MAPS:
        raise ValueError(f"map: expected one of {', '.join(MAPS)}, got {method!r}")
    if hasattr(features, "compute") and not isinstance(features, np.ndarray):  # dask
        features = project_rows(features, random_state=random_state)
    X = np.asarray(features, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        return np.zeros((len(X), 2), np.float32)
    X = X - X.mean(axis=0)
    if not X.any():  # identical rows: every point at the origin
        return np.zeros((len(X), 2), np.float32)
    if X.shape[1] == 1 or len(X) < 3:
        return np.pad(X[:, :2], ((0, 0), (0, max(0, 2 - X.shape[1])))).astype(np.float32)
    from sklearn.decomposition import PCA

    if method == "pca" or len(X) < 10:
        return PCA(2, random_state=random_state).fit_transform(X).astype(np.float32)
    if min(X.shape) > 50:
        X = PCA(50, random_state=random_state).fit_transform(X)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(X) - 1) / 3.0)
        tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=random_state)
        return tsne.fit_transform(X).astype(np.float32)
    try:
        import umap
    except ImportError as exc:  # pragma: no cover - the umap extra is installed in CI
        raise ImportError("a UMAP map needs umap-learn: pip install 'kmeanskit[umap]'") from exc
    reducer = umap.UMAP(n_components=2, n_neighbors=min(15, len(X) - 1), random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's notes on n_jobs with a random_state
        return np.asarray(reducer.fit_transform(X), dtype=np.float32)


def mds(D) -> np.ndarray:
    """Classical multidimensional scaling of a distance table to 2-d (float32).

    Examples
    --------
    >>> D = np.array([[0.0, 3.0, 4.0], [3.0, 0.0, 5.0], [4.0, 5.0, 0.0]])
    >>> xy = mds(D)
    >>> round(float(np.linalg.norm(xy[1] - xy[2])), 3)
    5.0
    """
    D = np.asarray(D, dtype=np.float64)
    n = D.shape[0]
    if n < 3:
        return np.zeros((n, 2), np.float32)
    S = (D + D.T) / 2.0
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (S**2) @ J
    values, vectors = np.linalg.eigh(B)
    top = np.argsort(values)[::-1][:2]
    return (vectors[:, top] * np.sqrt(np.clip(values[top], 0, None))).astype(np.float32)
