"""Writing a clustering of images out: one folder per cluster, and the image run's files.

What is about images only: the ``cluster_NN/`` folders (copies of the input files, or
symbolic links to them), the CSV of paths, the image model file. The run folder itself
(output checks, staging, ``summary.json`` once and last, the map and the k scores) is
:mod:`kmeanskit.runs.folder`'s. The input files are only read (copied, or linked to).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..runs import layout
from ..runs.curated import CuratedClustering, curated, curated_kmeans
from ..runs.edits import EDITS_FILE
from ..runs.folder import RunFolder, describe_kmeans, staged_run
from ..runs.quality import cluster_quality
from ..views import map2d

logger = logging.getLogger(__name__)

__all__ = [
    "curated_image_model",
    "labels_from_paths",
    "load_model",
    "write_image_outputs",
    "write_outputs",
]

JOBLIB_FILE = layout.JOBLIB_FILE
MODEL_FILE = layout.MODEL_FILE
JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")


def labels_from_paths(paths, rule: str) -> list[str]:
    """Class labels read from file paths: ``'parent'`` (the folder's name) or a regular
    expression whose first group (or whole match) is searched in the file name.

    Examples
    --------
    >>> labels_from_paths(["a/cat/1.png", "b/dog/2.png"], "parent")
    ['cat', 'dog']
    >>> labels_from_paths(["obj3__0.png", "obj12__5.png"], r"obj(\\d+)__")
    ['3', '12']
    """
    if rule == "parent":
        return [Path(p).parent.name for p in paths]
    try:
        pattern = re.compile(rule)
    except re.error as exc:
        raise InputError(
            f"labels_from={rule!r} is not 'parent' nor a valid regex ({exc})"
        ) from None
    out = []
    for p in paths:
        m = pattern.search(Path(p).name)
        if m is None:
            raise InputError(f"labels_from={rule!r} does not match the file name {str(p)!r}")
        out.append(m.group(1) if m.groups() else m.group(0))
    return out


#: the longest file name (bytes) most file systems take
NAME_MAX = 255


def _fit_name(stem: str, tail: str) -> str:
    """``stem + tail``, the stem shortened (by characters) until the name fits NAME_MAX
    bytes."""
    while stem and len((stem + tail).encode("utf-8", "surrogateescape")) > NAME_MAX:
        stem = stem[:-1]
    return stem + tail


def _place(src: Path, folder: Path, link: bool, taken: set) -> Path:
    name = src.name
    stem, suffix = src.stem, src.suffix
    n = 1
    while name in taken:
        n += 1
        name = _fit_name(stem, f"_{n}{suffix}")
    taken.add(name)
    dst = folder / name
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    if link:
        os.symlink(src.resolve(), dst)
    else:
        shutil.copy2(src, dst)
    return dst


def write_image_outputs(
    run: RunFolder,
    result,
    *,
    link: bool = False,
    scores=None,
    true_labels=None,
    map_method: str = "pca",
    joblib: bool = False,
) -> dict:
    """Write ``result`` (an :class:`~kmeanskit.images.pipeline.ImageClusters`) into the
    staged run ``run``: ``cluster_NN/`` folders with the images (copies, or symbolic
    links with ``link``), ``assignments.csv`` (path, cluster, distance to its centre,
    rank in the cluster by that distance, 1 the closest; and ``label`` with
    ``true_labels``), the model (``model.kmk``, which loads without pickle, see
    :mod:`~kmeanskit.images.model_file`; ``model.joblib`` as well with ``joblib=True``,
    or instead when a model is over the model file's caps), ``map.npy`` (by
    :func:`kmeanskit.views.map2d` with ``map_method``) and ``k_scores.json`` when k was
    chosen. Returns the image run's summary, not yet written (``input`` and ``seconds``
    are the caller's); its ``cluster_quality`` is that of
    :func:`kmeanskit.runs.quality.cluster_quality` on ``features.npy``.
    """
    out = run.path
    labels = np.asarray(result.labels)
    k = result.k
    width = max(2, len(str(k - 1)))
    own = result.distances[np.arange(len(labels)), labels]
    rank = np.empty(len(labels), dtype=np.int64)
    for j in range(k):
        members = np.flatnonzero(labels == j)
        rank[members[np.argsort(own[members], kind="stable")]] = np.arange(1, members.size + 1)
    folders = [out / f"cluster_{j:0{width}d}" for j in range(k)]
    taken: list[set] = [set() for _ in range(k)]
    for folder in folders:
        folder.mkdir(exist_ok=True)
    extra = [] if true_labels is None else [str(v) for v in true_labels]

    def rows():
        for i, (path, lab, dist, r) in enumerate(zip(result.paths, labels, own, rank, strict=True)):
            _place(Path(path), folders[lab], link, taken[lab])
            yield [path, int(lab), f"{float(dist):.6g}", int(r)] + ([extra[i]] if extra else [])

    run.write_assignments(
        ["path", "cluster", "distance", "rank"] + (["label"] if extra else []), rows()
    )
    _write_model(result.model, run, joblib)
    run.write_map(map2d(result.features, map_method))
    features = np.load(run.write_features(result.features), mmap_mode="r")  # rows sampled
    quality = cluster_quality(features, labels, int(k), true_labels)
    del features
    run.write_k_scores(result.choice)
    run.outputs["folders"] = [f.name for f in folders]
    return {
        "kind": "images",
        "n_rows": len(result.paths),
        "n_images": len(result.paths),
        "k": int(k),
        "features": result.model.features,
        "size": list(result.model.spec.size),
        "mode": result.model.spec.mode,
        "cluster_sizes": np.bincount(labels, minlength=k).tolist(),
        "cluster_quality": quality,
        "algorithm": getattr(result, "algorithm", None)
        or describe_kmeans(result.model.kmeans, result.features),
        "inertia": float(result.model.kmeans.inertia_),
        "map": map_method,
        "k_choice": result.k_choice
        or (None if result.choice is None else result.choice.explanation),
        "scores": scores or {},
        "failures": [{"path": f.path, "reason": f.reason} for f in result.failures],
        "scheduler": None,
    }


def write_outputs(
    result,
    out,
    *,
    link: bool = False,
    force: bool = False,
    scores=None,
    true_labels=None,
    map_method: str = "pca",
    joblib: bool = False,
) -> dict:
    """Write ``result`` to the run folder ``out`` (:func:`write_image_outputs`, then
    ``summary.json``, staged and published by :func:`kmeanskit.runs.folder.staged_run`);
    ``out`` must be new or empty unless ``force``. Returns the summary.

    Examples
    --------
    See :func:`~kmeanskit.images.model_file.load_image_model`.
    """
    with staged_run(out, force) as run:
        summary = write_image_outputs(
            run,
            result,
            link=link,
            scores=scores,
            true_labels=true_labels,
            map_method=map_method,
            joblib=joblib,
        )
        summary = run.write_summary({**summary, "input": "", "seconds": 0.0})
    return summary


def _write_model(model, run: RunFolder, also_joblib: bool) -> None:
    """``model.kmk`` (or ``model.joblib`` when the safe format cannot hold the model; both
    with ``also_joblib``), recorded in the run's outputs."""
    from ..model_io import UnsupportedModelError
    from .model_file import save_image_model

    try:
        save_image_model(model, run.path / MODEL_FILE, overwrite=True)
        run.record("model", MODEL_FILE)
    except UnsupportedModelError as exc:
        logger.warning("writing %s only (pickle-based): %s", JOBLIB_FILE, exc)
        also_joblib = True
        (run.path / MODEL_FILE).unlink(missing_ok=True)
    if also_joblib:
        import joblib

        joblib.dump(model, run.path / JOBLIB_FILE)
        run.record("model" if "model" not in run.outputs else "model_joblib", JOBLIB_FILE)


def load_model(path):
    """The :class:`~kmeanskit.images.pipeline.ImageModel` saved by :func:`write_outputs`:
    the run folder (its ``model.kmk``) or a model file.

    A run folder whose ``edits.jsonl`` has edits in force (``kmeanskit review``) gives
    its curated model (:func:`curated_image_model`): the curated clusters, named.

    ``model.kmk`` loads without pickle, so loading never runs code from it. A
    ``model.joblib`` (``.pkl``, ``.pickle``) is loaded only when its path is given
    explicitly, with a warning: unpickling runs code, so load only files from sources
    you trust. A run folder that holds only ``model.joblib`` is refused with that advice.

    Examples
    --------
    See :func:`~kmeanskit.images.model_file.load_image_model`.
    """
    from .model_file import load_image_model

    path = Path(path)
    if path.is_dir():
        if (path / MODEL_FILE).is_file():
            model = load_image_model(path / MODEL_FILE)
            if (path / EDITS_FILE).is_file() and (path / layout.SUMMARY_FILE).is_file():
                clustering = curated(path)
                if clustering.edited:
                    logger.info(
                        "%s: the curated model is used (%d edits from review: %d clusters, "
                        "centres recomputed from %s)",
                        path,
                        clustering.n_edits,
                        len(clustering.ids),
                        layout.FEATURES_FILE,
                    )
                    model = curated_image_model(model, clustering)
            return model
        if (path / JOBLIB_FILE).is_file():
            raise FileNotFoundError(
                f"no {MODEL_FILE} in {str(path)!r}, only {JOBLIB_FILE}, which is pickle-based "
                "and runs code when loaded: give that file's path to load it, and only if "
                "you trust where it came from"
            )
        raise FileNotFoundError(f"no model file ({MODEL_FILE}) in {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    if path.suffix.lower() not in JOBLIB_SUFFIXES:
        return load_image_model(path)
    logger.warning(
        "loading %s with joblib (pickle): a joblib file runs code when loaded; load only "
        "files from sources you trust",
        path,
    )
    import joblib

    from .pipeline import ImageModel

    model = joblib.load(path)
    if not isinstance(model, ImageModel):
        raise TypeError(f"{str(path)!r} holds a {type(model).__name__}, not an image model")
    return model


def curated_image_model(model, clustering: CuratedClustering, features=None):
    """A copy of the image model ``model`` of a run whose clusters are those of its
    curation ``clustering`` (:func:`kmeanskit.runs.curated.curated`): the k-means of
    :func:`kmeanskit.runs.curated.curated_kmeans` (centres recomputed from the run's
    ``features.npy``, or ``features``), ``cluster_names`` and ``cluster_ids`` set.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> from kmeanskit.images.run import cluster_images_to
    >>> from kmeanskit.runs.edits import EditLog
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(4):
    ...     Image.new("L", (8, 8), 0 if i < 2 else 255).save(d / f"{i}.png")
    >>> _ = cluster_images_to(d, d / "run", k=2, features="pixels", size=8, cache=None)
    >>> _ = EditLog(d / "run").append({"op": "rename", "cluster": 1, "name": "dogs"})
    >>> model = curated_image_model(load_model(d / "run" / "model.kmk"), curated(d / "run"))
    >>> model.cluster_names
    ['cluster_00', 'dogs']
    """
    from dataclasses import replace

    return replace(
        model,
        kmeans=curated_kmeans(model.kmeans, clustering, features),
        cluster_names=list(clustering.names),
        cluster_ids=[int(j) for j in clustering.ids],
    )
