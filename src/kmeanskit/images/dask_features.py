"""The image pipeline on Dask: one task per batch of files, the feature rows in zarr.

Each task decodes its batch of files, extracts their rows with the in-memory pipeline's
code (:mod:`.pipeline`) and writes them into its own chunk of a zarr array: one row per
file, in file order, NaN for a file that cannot be read. The client never holds the
features. ``'svd'`` fits its PCA on a sample of rows read back from the store (the same
sample as the in-memory pipeline) and applies it lazily, block by block; k-means is
:class:`kmeanskit.distributed.KMeans` over the blocks. Only small results come back to
the client: the labels, the distances to the centres, a sample of rows for the scores.

Tasks run on the active ``distributed.Client`` when there is one (every worker must see
the image files and the store under the same paths), else on Dask's threads. Needs the
``dask`` extra (dask, distributed, zarr).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..choose_k import GAP_MAX_ROWS, final_fit_done, internal_scores, parse_k, resolve_k
from ..estimators import KMeans
from ..relabel import canonical_order, permute_clusters
from ..views import _reduce_block
from .io import Failure, iter_decoded
from .pipeline import (
    FEATURES,
    ImageClusters,
    ImageModel,
    _extractor,
    _feature_rows,
    _fit_pca,
    _pca_sample,
    _spec_and_paths,
)

logger = logging.getLogger(__name__)

__all__ = ["check_features", "cluster_images_dask", "extract_features_dask"]

#: rows computed on the client for choosing k and for the internal scores
SCORE_SAMPLE = GAP_MAX_ROWS


def _require():
    try:
        import dask
        import dask.array as da
        import zarr
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in CI
        raise ImportError(
            "the Dask image pipeline needs dask and zarr: pip install 'kmeanskit[dask]'"
        ) from exc
    return dask, da, zarr


def _active_client():
    """The current ``distributed.Client``, or None (then Dask's threads run the tasks)."""
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def check_features(features: str):
    """The :class:`~kmeanskit.images.pipeline.Recipe` of ``features`` if it runs block by
    block on Dask (``'auto'``: ``'svd'``); else a ValueError naming ``--features`` and
    ``--scheduler``.

    Examples
    --------
    >>> check_features("hog").extractor, check_features("auto").pca
    ('hog', True)
    """
    features = "svd" if features == "auto" else features  # UMAP does not run block-wise
    if features not in FEATURES:
        raise ValueError(f"features must be one of {sorted(FEATURES)}; got features={features!r}")
    recipe = FEATURES[features]
    if recipe.umap or recipe.autoencoder:
        blockwise = sorted(n for n, r in FEATURES.items() if not (r.umap or r.autoencoder))
        raise ValueError(
            f"features={features!r} cannot run on Dask (with a scheduler): its "
            f"{'autoencoder and ' if recipe.autoencoder else ''}UMAP are fitted on all the "
            f"rows at once, not block by block; on Dask use one of {blockwise}"
        )
    return recipe


def _extract_batch(paths, lo, spec, extractor, store):
    """One task: decode ``paths`` (rows ``lo``, ``lo + 1``, ... of the store), write their
    feature rows into the store; returns the unreadable ones as ``(row, reason)``."""
    import zarr

    arr = zarr.open_array(store, mode="r+")
    rows = np.full((len(paths), arr.shape[1]), np.nan, dtype=np.float32)
    bad = []
    for idx, images, failures in iter_decoded(paths, spec, max(1, len(paths)), n_jobs=1):
        if len(idx):
            rows[idx] = _feature_rows(images, extractor)
        missing = sorted(set(range(len(paths))) - set(idx.tolist()))
        bad += [(lo + j, f.reason) for j, f in zip(missing, failures, strict=True)]
    arr[lo : lo + len(paths)] = rows
    return bad


def _run(dask, tasks, sizes, client, progress):
    """Compute the tasks (on ``client``, else on threads), calling ``progress`` with
    the number of files of each finished batch."""
    if client is None:
        results = dask.compute(*tasks, scheduler="threads")
        if progress is not None:
            progress(sum(sizes))
        return list(results)
    from distributed import as_completed

    futures = client.compute(tasks)
    where = {f.key: i for i, f in enumerate(futures)}
    for done in as_completed(futures):
        if progress is not None:
            progress(sizes[where[done.key]])
    return client.gather(futures)


def extract_features_dask(
    source,
    store,
    *,
    features: str = "svd",
    size=None,
    mode: str | None = None,
    fit: str = "fit",
    n_components: int = 50,
    sample_size: int = 2000,
    random_state=0,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
    client=None,
    onnx_model=None,
    overwrite: bool = False,
):
    """Feature rows of the images as Dask tasks (one per ``batch_size`` files), written to
    the zarr array ``store``: ``(model, X, paths, failures)`` as
    :func:`~kmeanskit.images.pipeline.extract_features` returns them, but ``X`` a lazy
    dask array (``dask.array.from_zarr`` without the unreadable files' rows; PCA applied
    block by block for ``'svd'``).

    The store holds one row per file of ``source`` (NaN for an unreadable file), in
    chunks of ``batch_size`` rows, and the attributes ``paths``, ``failures`` and
    ``features``. ``features`` that fit UMAP or an autoencoder on all the rows
    (``'umap'``, ``'cnn-umap'``, ``'ae-umap'``) are refused. Tasks run on ``client``,
    else the active ``distributed.Client``, else Dask's threads; an existing ``store``
    is replaced only with ``overwrite=True``. The other parameters are those of
    :func:`~kmeanskit.images.pipeline.cluster_images`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(5):
    ...     Image.new("L", (8, 8), 40 * i).save(d / f"{i}.png")
    >>> _ = (d / "bad.png").write_text("not an image")
    >>> model, X, paths, failures = extract_features_dask(
    ...     d, d / "features.zarr", features="pixels", size=4, batch_size=2)
    >>> X.shape, len(paths), [f.reason for f in failures]
    ((5, 16), 5, ['not an image Pillow can read'])
    """
    dask, da, zarr = _require()
    recipe = check_features(features)
    features = "svd" if features == "auto" else features
    if not (isinstance(batch_size, int | np.integer) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    spec, paths = _spec_and_paths(recipe, source, size, mode, fit)
    store = str(Path(store).resolve())
    if Path(store).exists() and not overwrite:
        raise FileExistsError(
            f"the feature store {store!r} exists; pass overwrite=True to replace it"
        )
    extractor = _extractor(recipe.extractor, onnx_model)
    width = _feature_rows(np.ones((1, *spec.shape), np.float32), extractor).shape[1]
    arr = zarr.open_array(
        store,
        mode="w",
        shape=(len(paths), width),
        dtype="float32",
        chunks=(batch_size, width),
        fill_value=np.nan,
    )
    client = client if client is not None else _active_client()
    files = [os.path.realpath(p) for p in paths]  # workers may run elsewhere (a loop: kept)
    starts = range(0, len(paths), batch_size)
    task = dask.delayed(_extract_batch, pure=False)
    tasks = [task(files[lo : lo + batch_size], lo, spec, extractor, store) for lo in starts]
    sizes = [len(files[lo : lo + batch_size]) for lo in starts]
    logger.info("%d files in %d Dask tasks -> %s", len(paths), len(tasks), store)
    bad = sorted(b for batch in _run(dask, tasks, sizes, client, progress) for b in batch)
    failures = [Failure(str(paths[i]), reason) for i, reason in bad]  # (logged by the tasks)
    arr.attrs.update(
        {
            "paths": [str(p) for p in paths],
            "features": features,
            "failures": [{"path": f.path, "reason": f.reason} for f in failures],
        }
    )
    kept = np.setdiff1d(np.arange(len(paths)), [i for i, _ in bad])
    if not len(kept):
        raise ValueError(f"no readable image among the {len(paths)} files")
    raw = da.from_zarr(store)
    X = raw if len(kept) == len(paths) else raw[kept]
    reducer = None
    if recipe.pca:  # the in-memory pipeline's sample of files, read back from the store
        sample = np.intersect1d(_pca_sample(len(paths), sample_size, random_state), kept)
        rows = raw[sample].compute(scheduler=client or "threads")
        reducer = _fit_pca([rows], n_components, random_state, len(paths))
        X = X.map_blocks(
            _reduce_block, reducer, chunks=(X.chunks[0], (reducer.n_components_,)), dtype=np.float32
        )
    model = ImageModel(spec, features, extractor, reducer, KMeans(1))
    return model, X, [str(paths[i]) for i in kept], failures


def _in_memory_kmeans(centers, labels, fitted, random_state) -> KMeans:
    """A fitted :class:`kmeanskit.KMeans` with the Dask fit's centres and results: the
    model file's predictor, which needs no Dask."""
    km = KMeans(len(centers), init=centers, n_init=1, random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coincident centres: every attribute is set below
        km.fit(centers)
    km.cluster_centers_ = np.ascontiguousarray(centers)
    km.labels_ = labels
    km.inertia_, km.n_iter_ = float(fitted.inertia_), int(fitted.n_iter_)
    km.inertia_history_ = np.asarray(fitted.inertia_history_)
    mean_sq = km.inertia_ / max(1, len(labels))  # as fit sets it: the mean squared distance
    km.temperature_ = mean_sq if mean_sq > 0 else 1.0
    return km


def cluster_images_dask(
    source,
    k="auto",
    *,
    store,
    overwrite: bool = False,
    n_init: int = 1,
    random_state=0,
    client=None,
    k_progress=None,
    **options,
) -> ImageClusters:
    """:func:`~kmeanskit.images.pipeline.cluster_images` on Dask: the features by
    :func:`extract_features_dask` into the zarr ``store``, k-means by
    :class:`kmeanskit.distributed.KMeans` (k-means|| seeding, best of ``n_init``) over
    its blocks, clusters numbered largest first.

    The labels and the distances to the centres come back as numpy; ``features`` of the
    result is the lazy dask array. A k range (``'auto'``, ``'A:B'``) is chosen by
    :func:`~kmeanskit.choose_k` on a random sample of up to ``SCORE_SAMPLE`` images, and
    the internal scores are computed on that sample (both on every image when there are
    no more). ``model.kmeans`` is an in-memory :class:`kmeanskit.KMeans` with the
    centres found, so the model file predicts without Dask. ``k_progress``: as for
    :func:`~kmeanskit.images.pipeline.cluster_images` (the search on the sample, then
    the final fit on every image). ``options``: the keywords of
    :func:`extract_features_dask`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(6):
    ...     Image.new("L", (16, 16), 0 if i < 4 else 255).save(d / f"{i}.png")
    >>> result = cluster_images_dask(d, 2, store=d / "features.zarr", features="pixels",
    ...                              size=8)
    >>> result.labels.tolist(), result.distances.shape
    ([0, 0, 0, 0, 1, 1], (6, 2))
    """
    dask, _, _ = _require()
    from ..distributed import KMeans as DaskKMeans

    client = client if client is not None else _active_client()
    model, X, paths, failures = extract_features_dask(
        source, store, overwrite=overwrite, random_state=random_state, client=client, **options
    )
    n = len(paths)
    kk = parse_k(k, n)
    with dask.config.set(scheduler=client or "threads"):
        rs = np.random.RandomState(random_state)
        sample = np.sort(rs.choice(n, min(n, SCORE_SAMPLE), replace=False))
        rows = X[sample].compute()
        if isinstance(kk, list) and kk[-1] > len(rows):
            raise ValueError(
                f"k={k!r}: on Dask a k range is chosen on a sample of "
                f"{len(rows)} images; give one k or a range up to {len(rows)}"
            )
        start = time.perf_counter()
        kk, choice, explanation = resolve_k(
            rows, k, n_init=3, random_state=random_state, n_rows=n, progress=k_progress
        )
        if explanation:
            logger.info("on %d images: %s", len(rows), explanation)
        dkm = DaskKMeans(kk, n_init=n_init, random_state=random_state).fit(X)
        labels, distances = dask.compute(dkm.labels_, dkm.transform(X))
        if choice is not None:
            final_fit_done(k_progress, kk, start)
    order = canonical_order(dkm.cluster_centers_, labels, by="size")
    centers, labels = permute_clusters(order, dkm.cluster_centers_, labels)
    model.kmeans = _in_memory_kmeans(centers, labels, dkm, random_state)
    scores = internal_scores(rows, labels[sample], random_state)
    algorithm = (
        f"distributed k-means (Dask), k-means|| seeding, best of {n_init}, Lloyd "
        f"iterations ({dkm.n_iter_} to converge)"
    )
    return ImageClusters(
        paths,
        X,
        labels,
        distances[:, order],
        model,
        failures,
        choice,
        scores,
        algorithm,
        k_choice=explanation,
    )
