"""From a folder of images to clusters, and a model that places new images.

images -> features (a transformer, then optionally a PCA fitted on a sample) -> k-means
(k given, or chosen by :func:`kmeanskit.choose_k`). Images are decoded a batch at a time;
only the feature rows are kept.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from ..choose_k import KChoice, KProgress, final_fit_done, internal_scores, resolve_k
from ..estimators import KMeans
from .cache import FeatureCache, file_key, settings_key
from .extractors import extractor_class
from .io import ImageSpec, iter_decoded, list_images
from .recipes import AUTO_FEATURES, FEATURES, Recipe, resolve_features

logger = logging.getLogger(__name__)

__all__ = [
    "AUTO_FEATURES",
    "FEATURES",
    "ImageClusters",
    "ImageModel",
    "cluster_images",
    "extract_features",
]


#: UMAP as the reference runs used it before k-means (10 dimensions, min_dist 0)
UMAP_PARAMS = {"n_components": 10, "n_neighbors": 15, "min_dist": 0.0}


def _extractor(name: str, onnx_model=None):
    """A new extractor of the registry's ``name``; ``onnx_model`` becomes the
    ``onnx_path`` of one that takes it (the CNN)."""
    cls = extractor_class(name)
    if onnx_model is None:
        return cls()
    if "onnx_path" not in cls.param_schema:
        raise ValueError(f"onnx_model is for the cnn features; got features using {name!r}")
    return cls(onnx_path=onnx_model)


def _fit_umap(X, random_state):
    """The UMAP step (:class:`~kmeanskit.images.umap_embed.UMAPEmbedding`, which a model
    file holds as arrays) fitted on X, and X's embedding."""
    from .umap_embed import UMAPEmbedding

    reducer = UMAPEmbedding(**UMAP_PARAMS, random_state=random_state)
    return reducer, reducer.fit_transform(X)


def _content_keys(paths) -> list:
    """Content keys of the files (None for one that cannot be read: decoding reports it)."""
    out = []
    for p in paths:
        try:  # a FIFO or a device would block or never end: only regular files are read
            out.append(file_key(p) if os.path.isfile(p) else None)
        except OSError:
            out.append(None)
    return out


def _spec_and_paths(recipe: Recipe, source, size, mode, fit) -> tuple[ImageSpec, list]:
    """The image spec of a run (the recipe's size and mode unless given) and its files
    (``source``: a list of paths, or a folder or file to list); ValueError when none."""
    spec = ImageSpec(
        size=recipe.size if size is None else size,
        mode=recipe.mode if mode is None else mode,
        fit=fit,
    )
    paths = list(source) if isinstance(source, list | tuple) else list_images(source)
    if not paths:
        raise ValueError(f"no image files found in {str(source)!r}")
    return spec, paths


def _pca_sample(n_files: int, sample_size: int, random_state) -> list:
    """The (sorted) indices of the files whose rows the ``'svd'`` PCA is fitted on."""
    rng = np.random.RandomState(random_state)
    return sorted(rng.choice(n_files, min(sample_size, n_files), replace=False))


def _fit_pca(rows, n_components, random_state, n_files, blocks=None):
    """The randomized PCA of the ``'svd'`` features, fitted on the sampled ``rows`` (a
    list of batches); with ``blocks`` (``[(columns, weight)]``, see
    :meth:`~kmeanskit.images.cnn_pixels.CNNPixels.blocks`), one PCA per block, each
    scaled to unit mean squared norm times its weight, stacked into one linear map."""
    rows = np.vstack(rows) if len(rows) else np.empty((0, 0))
    n_comp = min(n_components, rows.shape[0], rows.shape[1]) if rows.size else 0
    if n_comp < 1:
        raise ValueError(f"no readable image among the {n_files} files")
    with warnings.catch_warnings():  # identical rows, or one: variances of 0 / 0
        warnings.simplefilter("ignore", RuntimeWarning)
        if blocks is None:
            reducer = PCA(n_comp, svd_solver="randomized", random_state=random_state).fit(rows)
        else:
            reducer = _block_pca(rows, blocks, n_components, random_state)
    # no variance (identical images, or a single one) leaves 0 / 0 in the variance
    # statistics; they are 0, so that the model file (which refuses NaN) holds the PCA
    for name in ("explained_variance_", "explained_variance_ratio_", "singular_values_"):
        setattr(reducer, name, np.nan_to_num(getattr(reducer, name), nan=0.0))
    if not np.isfinite(reducer.noise_variance_):
        reducer.noise_variance_ = 0.0
    logger.info("PCA on %d images: %d components", rows.shape[0], n_comp)
    return reducer


def _block_pca(rows, blocks, n_components, random_state) -> PCA:
    """One PCA per block of columns, each block's components scaled so that its part of
    a transformed row has a mean squared norm of ``weight ** 2`` on ``rows``, stacked
    into one PCA (block-diagonal ``components_``): the model file holds it as any PCA,
    and ``transform`` is ``(X - mean_) @ components_.T`` as for any PCA."""
    n, d = rows.shape
    components, variances, ratios, singular = [], [], [], []
    for columns, weight in blocks:
        part = rows[:, columns]
        n_comp = min(n_components, n, part.shape[1])
        pca = PCA(n_comp, svd_solver="randomized", random_state=random_state).fit(part)
        norm = float(np.sqrt(np.sum(pca.explained_variance_) * (n - 1) / max(n, 1)))
        scale = weight / norm if np.isfinite(norm) and norm > 0 else 0.0
        block = np.zeros((n_comp, d))
        block[:, columns] = pca.components_ * scale
        components.append(block)
        variances.append(pca.explained_variance_ * scale**2)
        ratios.append(pca.explained_variance_ratio_)
        singular.append(pca.singular_values_ * scale)
    reducer = PCA(sum(len(c) for c in components))
    reducer.components_ = np.vstack(components)
    reducer.mean_ = rows.mean(axis=0)
    reducer.explained_variance_ = np.concatenate(variances)
    reducer.explained_variance_ratio_ = np.concatenate(ratios) / len(blocks)
    reducer.singular_values_ = np.concatenate(singular)
    reducer.n_components_ = len(reducer.components_)
    reducer.n_features_in_ = d
    reducer.n_samples_ = n
    reducer.noise_variance_ = 0.0
    reducer._fit_svd_solver = "randomized"
    return reducer


def _feature_rows(images, extractor, reducer=None) -> np.ndarray:
    """The float32 feature rows of a batch of decoded images."""
    feats = extractor.transform(images)
    if reducer is not None:
        feats = reducer.transform(feats)
    return np.asarray(feats, dtype=np.float32)


def _fit_reducer(
    paths, spec, extractor, n_components, sample_size, random_state, batch_size, n_jobs, cache, keys
):
    """The PCA of the ``'svd'`` features, fitted on a random sample of the images (and
    kept in the cache, keyed by the sample's contents, as a model file that loads
    without pickle; a damaged one is fitted again)."""
    from ..model_io import ModelFileError, load_model, save_model

    sample = _pca_sample(len(paths), sample_size, random_state)
    saved = None
    if cache is not None:
        params = sorted(extractor.get_params().items())
        key = settings_key(spec, "pca", type(extractor).__name__, params, n_components)
        key = settings_key(key, random_state, [keys[i] for i in sample])
        saved = Path(cache) / f"pca-{key}.kmk"
        if saved.is_file():
            try:
                reducer = load_model(saved)
                if not isinstance(reducer, PCA):
                    raise ModelFileError(f"{str(saved)!r} holds a {type(reducer).__name__}")
                return reducer
            except ModelFileError as exc:
                logger.warning("fitting the PCA again: %s", exc)
    rows = [
        extractor.transform(imgs)
        for _, imgs, _ in iter_decoded([paths[i] for i in sample], spec, batch_size, n_jobs)
    ]
    blocks = extractor.blocks(rows[0].shape[1]) if rows and hasattr(extractor, "blocks") else None
    reducer = _fit_pca(rows, n_components, random_state, len(paths), blocks)
    if saved is not None:
        try:
            saved.parent.mkdir(parents=True, exist_ok=True)
            save_model(reducer, saved, overwrite=True)
        except OSError as exc:  # a read-only or full cache: the run goes on without it
            logger.warning("PCA not saved in the feature cache %s: %s", saved.parent, exc)
    return reducer


@dataclass
class ImageModel:
    """The fitted path from image files to clusters; saved without pickle by
    :func:`~kmeanskit.images.model_file.save_image_model` (``model.kmk``), and picklable.

    Attributes
    ----------
    spec : ImageSpec
    features : str
    extractor : transformer
    reducer : PCA or None
    kmeans : KMeans
    embedder : Pipeline or None
        The steps fitted on all the training rows (autoencoder, UMAP), applied to new
        rows after ``reducer``.
    cluster_names : list of str or None
        The name of each cluster of ``kmeans`` (a run curated by ``kmeanskit review``),
        or None.
    cluster_ids : list of int or None
        The curated cluster id of each cluster of ``kmeans`` (what the review page and
        ``kmeanskit export`` call it), or None: the ids are the indices.
    """

    spec: ImageSpec
    features: str
    extractor: object
    reducer: object | None
    kmeans: KMeans
    embedder: object | None = None
    cluster_names: list | None = None
    cluster_ids: list | None = None

    def cluster_id(self, index: int) -> int:
        """The cluster id shown for the cluster ``index`` of ``kmeans``."""
        return int(self.cluster_ids[index]) if self.cluster_ids is not None else int(index)

    def settings_key(self) -> str:
        """What the feature rows depend on: the cache key of these settings."""
        parts = [self.spec, self.features, sorted(self.extractor.get_params().items())]
        if self.reducer is not None:
            parts += [self.reducer.components_, self.reducer.mean_]
        return settings_key(*parts)

    def transform_paths(
        self, paths, batch_size=256, n_jobs=None, progress=None, cache=None, keys=None
    ):
        """Feature rows of the readable ``paths``: ``(rows, kept_indices, failures)``.

        With ``cache`` (a folder), rows already there for the same file content and
        settings are not decoded again, and new rows are saved a batch at a time.
        ``keys``: the files' content keys when the caller has them.
        """
        paths = list(paths)
        store = None
        found: dict[int, np.ndarray] = {}
        todo = list(range(len(paths)))
        if cache is not None:
            store = FeatureCache(cache, self.settings_key())
            keys = keys if keys is not None else _content_keys(paths)
            todo = []
            for i, key in enumerate(keys):
                row = None if key is None else store.get(key)
                if row is None:
                    todo.append(i)
                else:
                    found[i] = row
            logger.info(
                "%d of %d files found in the feature cache, %d to decode",
                len(found),
                len(paths),
                len(todo),
            )
            if found and not self._cache_agrees(paths, found):
                logger.warning(
                    "feature cache %s holds rows that differ from those made now (another "
                    "version of an extractor, or damage): decoding every file again; "
                    "remove that folder to rebuild it",
                    store.folder,
                )
                return self.transform_paths(paths, batch_size, n_jobs, progress)
            if progress is not None and found:
                progress(len(found))
        failures = []
        for idx, images, bad in iter_decoded(
            [paths[i] for i in todo], self.spec, batch_size, n_jobs
        ):
            idx = np.asarray([todo[j] for j in idx], dtype=np.int64)
            if len(idx):
                feats = _feature_rows(images, self.extractor, self.reducer)
                found.update(zip(idx.tolist(), feats, strict=True))
                if store is not None:
                    store.put([keys[i] for i in idx], feats)
            failures.extend(bad)
            if progress is not None:
                progress(len(idx) + len(bad))
        if not found:
            return np.empty((0, 0), np.float32), np.empty(0, np.int64), failures
        kept = np.array(sorted(found), dtype=np.int64)
        return np.vstack([found[i] for i in kept]), kept, failures

    def _cache_agrees(self, paths, found: dict) -> bool:
        """Whether the cached row of one file (the first found) is the row made now: a
        cache is read back, and may come from another version of an extractor."""
        i = min(found)
        for idx, images, _ in iter_decoded([paths[i]], self.spec, 1, 1):
            if len(idx):
                made = _feature_rows(images, self.extractor, self.reducer)[0]
                cached = found[i]
                return made.shape == cached.shape and bool(
                    np.linalg.norm(made - cached) <= 1e-3 * max(np.linalg.norm(made), 1.0)
                )
        return True  # the file cannot be read now: transform_paths reports it

    def predict(self, paths, **kwargs):
        """Cluster and distances to every centre of each readable image:
        ``(labels, distances, kept_indices, failures)``.

        Examples
        --------
        See :func:`cluster_images`.
        """
        rows, kept, failures = self.transform_paths(list(paths), **kwargs)
        if len(kept) and self.embedder is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows = np.asarray(self.embedder.transform(rows), dtype=np.float32)
        if not len(kept):
            return np.empty(0, np.int32), np.empty((0, self.kmeans.n_clusters)), kept, failures
        return self.kmeans.predict(rows), self.kmeans.transform(rows), kept, failures


@dataclass
class ImageClusters:
    """What :func:`cluster_images` returns.

    Attributes
    ----------
    paths : list of str
        The images that were clustered (readable ones), in order.
    features : ndarray (n_images, n_features)
        (A lazy dask array over the zarr store on the Dask path.)
    labels : ndarray (n_images,)
    distances : ndarray (n_images, k)
        Distances of every image to every centre.
    model : ImageModel
    failures : list of Failure
        Files skipped, with the reason.
    choice : KChoice or None
        When k was chosen: the scores and the explanation.
    scores : dict
        Internal indices of the clustering: silhouette (on up to 3000 images),
        Calinski-Harabasz, Davies-Bouldin (empty when k = 1).
    k_choice : str or None
        Why this k, when it was chosen (the choice's explanation, or why no range could
        be searched: identical rows).
    algorithm : str or None
        How the clusters were found, for the summary, when not the in-memory ``KMeans``
        that ``model.kmeans`` describes (the Dask path sets it).
    """

    paths: list
    features: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    distances: np.ndarray = field(repr=False)
    model: ImageModel = field(repr=False)
    failures: list
    choice: KChoice | None = field(default=None, repr=False)
    scores: dict = field(default_factory=dict)
    algorithm: str | None = None
    k_choice: str | None = None

    @property
    def k(self) -> int:
        return self.model.kmeans.n_clusters


def extract_features(
    source,
    *,
    features: str = "auto",
    size=None,
    mode: str | None = None,
    fit: str = "fit",
    n_components: int = 50,
    sample_size: int = 2000,
    random_state=0,
    batch_size: int = 256,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    cache=None,
    onnx_model=None,
):
    """Feature rows of the images of a folder (or a list of files), without clustering:
    ``(model, X, paths, failures)`` where ``model`` is an :class:`ImageModel` whose
    ``kmeans`` is not fitted yet and ``paths`` are the readable files, in row order.
    The parameters are those of :func:`cluster_images`.
    """
    features = resolve_features(features)
    for name, value in (
        ("n_components", n_components),
        ("sample_size", sample_size),
        ("batch_size", batch_size),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {name}={value!r}")
    if n_jobs is not None and (not isinstance(n_jobs, int | np.integer) or n_jobs < 1):
        raise ValueError(f"n_jobs must be a positive int or None; got n_jobs={n_jobs!r}")
    recipe = FEATURES[features]
    spec, paths = _spec_and_paths(recipe, source, size, mode, fit)
    extractor = _extractor(recipe.extractor, onnx_model)
    keys = _content_keys(paths) if cache is not None else None
    reducer = None
    if recipe.pca:
        reducer = _fit_reducer(
            paths,
            spec,
            extractor,
            n_components,
            sample_size,
            random_state,
            batch_size,
            n_jobs,
            cache,
            keys,
        )
    model = ImageModel(spec, features, extractor, reducer, KMeans(1))
    X, kept, failures = model.transform_paths(
        paths, batch_size, n_jobs, progress, cache=cache, keys=keys
    )
    if not len(kept):
        raise ValueError(f"no readable image among the {len(paths)} files")
    steps = []
    if recipe.autoencoder:
        from .autoencoder import Autoencoder

        ae = Autoencoder(random_state=0 if random_state is None else int(random_state))
        X = ae.fit_transform(X)
        steps.append(("autoencoder", ae))
    if recipe.umap:
        umap_model, X = _fit_umap(X, random_state)
        steps.append(("umap", umap_model))
    if steps:
        from sklearn.pipeline import Pipeline

        model.embedder = Pipeline(steps)
    return model, X, [str(paths[i]) for i in kept], failures


def cluster_images(
    source,
    k="auto",
    *,
    features: str = "auto",
    size=None,
    mode: str | None = None,
    fit: str = "fit",
    n_components: int = 50,
    sample_size: int = 2000,
    n_init: int = 3,
    random_state=0,
    batch_size: int = 256,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    cache=None,
    onnx_model=None,
    k_progress: Callable[[KProgress], object] | None = None,
) -> ImageClusters:
    """Cluster the images of a folder (or a list of files).

    Parameters
    ----------
    source : folder, file, or list of files
    k : int, 'auto', 'A:B' or list of int, default='auto'
        A range is searched with :func:`~kmeanskit.choose_k` (``'auto'``: 2 to 50).
    features : {'auto', 'cnn-pixels-umap', 'svd', 'pixels', 'hog', 'color', 'cnn', \
'umap', 'cnn-umap', 'ae-umap'}, default='auto'
        ``'auto'``: the best the installed packages can run (:func:`resolve_features`):
        ``'cnn-pixels-umap'``, EfficientNet-Lite0's pooled features of the image at
        128 x 128 beside its grey pixels at 32 x 32, each block reduced by its own PCA
        and weighted (:mod:`~kmeanskit.images.cnn_pixels`), then UMAP to 10 dimensions;
        good on objects, faces and handwriting alike. ``'svd'``: the pixels reduced to
        ``n_components`` by a randomized PCA fitted on a random sample of
        ``sample_size`` images; ``'cnn'``: EfficientNet-Lite0's pooled 1280 features
        (:class:`~kmeanskit.images.cnn.CNNEmbedding`); ``'umap'`` and ``'cnn-umap'``:
        those, then UMAP to 10 dimensions (``UMAP_PARAMS``); ``'ae-umap'``: N2D's path,
        the pixels (32 x 32) through an autoencoder trained on these images
        (:class:`~kmeanskit.images.autoencoder.Autoencoder`), then UMAP. Any other key
        of ``FEATURES``: its recipe (an extractor of :mod:`~kmeanskit.images.extractors`,
        its steps, size and mode).
    size, mode, fit
        How images are brought to one shape (:class:`~kmeanskit.images.io.ImageSpec`);
        ``size`` and ``mode`` default to the features' own (64 and grey; 224 and RGB for
        the CNN, 128 and RGB for 'cnn-pixels-umap'; RGB for colour).
    n_init : int, default=3
    random_state : int or None
    batch_size, n_jobs
        Decoding: images per batch, threads.
    progress : callable, optional
        Called with the number of files handled, after each batch.
    cache : folder, optional
        Keep feature rows (and the PCA) there, keyed by file content and settings: a
        second run with the same settings decodes nothing, an interrupted one resumes.
    onnx_model : path, optional
        With the cnn features: your own ONNX network instead of EfficientNet-Lite0 (see
        :class:`~kmeanskit.images.cnn.CNNEmbedding` for what it receives).
    k_progress : callable, optional
        With a k range: called with a :class:`~kmeanskit.choose_k.KProgress` after each
        step of the search (each k, each score, each reference fit of the gap
        statistic, with the seconds left) and after the final fit
        (:func:`~kmeanskit.choose_k.format_k_progress` makes it a line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(6):
    ...     Image.new("L", (16, 16), 0 if i < 3 else 255).save(d / f"{i}.png")
    >>> result = cluster_images(d, k=2, features="pixels", size=8)
    >>> len(set(result.labels[:3])), len(set(result.labels)), result.failures
    (1, 2, [])
    >>> labels, dist, kept, bad = result.model.predict([d / "0.png"])
    >>> int(labels[0]) == int(result.labels[0])
    True
    """
    model, X, kept_paths, failures = extract_features(
        source,
        features=features,
        size=size,
        mode=mode,
        fit=fit,
        n_components=n_components,
        sample_size=sample_size,
        random_state=random_state,
        batch_size=batch_size,
        n_jobs=n_jobs,
        progress=progress,
        cache=cache,
        onnx_model=onnx_model,
    )
    start = time.perf_counter()
    kk, choice, explanation = resolve_k(
        X, k, n_init=n_init, random_state=random_state, progress=k_progress
    )
    if explanation:
        logger.info("%s", explanation)
    # canonical ids (largest cluster first): the same clusters get the same ids and
    # colours from run to run
    km = KMeans(kk, n_init=n_init, random_state=random_state, cluster_order="size").fit(X)
    if choice is not None:
        final_fit_done(k_progress, kk, start)
    model.kmeans = km
    scores = internal_scores(X, km.labels_, random_state)
    return ImageClusters(
        kept_paths,
        X,
        km.labels_,
        km.transform(X),
        model,
        failures,
        choice,
        scores,
        k_choice=explanation,
    )
