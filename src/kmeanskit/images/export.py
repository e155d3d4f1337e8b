"""Writing a clustering of images out: one folder per cluster, a CSV, a summary, a model.

The input files are only read (copied, or linked to); nothing is written outside the
output folder, and an output folder that already holds files is refused unless
``force=True``, which then overwrites only the files this module writes. Everything is
written to a hidden staging folder inside the output folder and moved into it when
complete, ``summary.json`` last (:func:`staged_out`): a run folder without
``summary.json`` is incomplete, and a run that fails leaves the folder as it was.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np

from .._atomic import STAGE_PREFIX, staged_folder
from .model_file import MODEL_FILE

logger = logging.getLogger(__name__)

__all__ = ["check_out", "labels_from_paths", "load_model", "write_outputs"]

#: the pickle-based model file: written only for models the safe format cannot hold
#: (features ending in UMAP) or on request; loaded only when named explicitly
JOBLIB_FILE = "model.joblib"
JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")
CSV_FILE = "assignments.csv"
SUMMARY_FILE = "summary.json"
MAP_FILE = "map.npy"
K_SCORES_FILE = "k_scores.json"


#: projections for the report's map of all images
MAPS = ("pca", "tsne", "umap")


def map2d(features, method: str = "pca", random_state: int = 0) -> np.ndarray:
    """A 2-d view of the feature rows (float32), for drawing every image as a point.

    ``method`` is ``'pca'`` (linear, instant), ``'tsne'`` (scikit-learn's Barnes-Hut
    t-SNE on the first 50 principal components; minutes for 50,000 rows) or ``'umap'``
    (umap-learn, the ``umap`` extra). A dask array (the Dask path) is first brought to
    at most 50 columns block by block (:func:`~kmeanskit.images.dask_features.project_rows`).

    Examples
    --------
    >>> map2d(np.eye(4)).shape
    (4, 2)
    """
    if method not in MAPS:
        raise ValueError(f"map: expected one of {', '.join(MAPS)}, got {method!r}")
    if hasattr(features, "compute") and not isinstance(features, np.ndarray):  # dask
        from .dask_features import project_rows

        features = project_rows(features, random_state=random_state)
    X = np.asarray(features, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        return np.zeros((len(X), 2), np.float32)
    X = X - X.mean(axis=0)
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


def _describe(km, X) -> str:
    """One line on how the clusters were found, for the summary and the report."""
    init = km.init if isinstance(km.init, str) else "given"
    algorithm = km._algorithm(X)
    if algorithm == "auto":
        from .._engine.auto import choose

        algorithm = f"auto ({choose(X, km.n_clusters)})"
    return (
        f"k-means, {init} seeding, best of {km._resolve_n_init()}, {algorithm} iterations "
        f"({km.n_iter_} to converge)" + (f", {km.refine} refinement" if km.refine else "")
    )


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
        raise ValueError(
            f"--labels-from: not 'parent' nor a valid regex: {rule!r} ({exc})"
        ) from None
    out = []
    for p in paths:
        m = pattern.search(Path(p).name)
        if m is None:
            raise ValueError(f"--labels-from {rule!r} does not match the file name {str(p)!r}")
        out.append(m.group(1) if m.groups() else m.group(0))
    return out


def check_out(out, force: bool) -> None:
    """Refuse an output folder that exists and holds files, unless ``force`` (the hidden
    staging folders that killed runs leave do not count)."""
    _check_out(Path(out), force)


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {str(out)!r} exists and is not a folder")
    # hidden staging folders of killed runs do not count (the next run removes them)
    held = out.exists() and any(not p.name.startswith(STAGE_PREFIX) for p in out.iterdir())
    if held and not force:
        raise FileExistsError(
            f"--out {str(out)!r} is not empty; choose another folder or pass --force "
            "(which overwrites kmeanskit's own files there and nothing else)"
        )


def _place(src: Path, folder: Path, link: bool, taken: set) -> Path:
    name = src.name
    stem, suffix = src.stem, src.suffix
    n = 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}{suffix}"
    taken.add(name)
    dst = folder / name
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    if link:
        os.symlink(src.resolve(), dst)
    else:
        shutil.copy2(src, dst)
    return dst


def staged_out(out, force: bool):
    """Where a run writes: a hidden staging folder in ``out``, published into ``out``
    when everything is written, ``summary.json`` last (a run folder is complete when it
    has ``summary.json``); see :func:`kmeanskit._atomic.staged_folder`. With ``force``,
    the outputs of the run already there (those its summary names, the report, the map
    and the k scores) are replaced; nothing else in ``out`` is touched."""
    out = Path(out)
    _check_out(out, force)
    return staged_folder(out, force=force, last=[SUMMARY_FILE], replaces=_previous_outputs(out),
                         what="--out")  # fmt: skip


def _previous_outputs(out: Path) -> list:
    """The names of the outputs of the run whose ``summary.json`` is in ``out``."""
    from ..report.html import REPORT_FILE, THUMBS

    try:
        listed = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))["outputs"]
        names = [*listed.values(), *listed.get("folders", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
    names += [REPORT_FILE, THUMBS, MAP_FILE, K_SCORES_FILE]
    return [n for n in names if isinstance(n, str)]


def _staged(write):
    """``write(result, out, ..., force=...)`` run into :func:`staged_out` of ``out``."""

    @functools.wraps(write)
    def staged(result, out, *args, force: bool = False, **kwargs):
        with staged_out(out, force) as stage:
            return write(result, stage, *args, force=True, **kwargs)

    return staged


@_staged
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
    """Write ``result`` (an :class:`~kmeanskit.images.pipeline.ImageClusters`) to ``out``:
    ``cluster_NN/`` folders with the images (copies, or symbolic links with ``link``),
    ``assignments.csv`` (path, cluster, distance to its centre, rank in the cluster by
    that distance, 1 the closest; and ``label`` with ``true_labels``), ``summary.json``,
    the model (``model.kmk``, which loads without pickle, see
    :mod:`~kmeanskit.images.model_file`; ``model.joblib`` instead for the features ending
    in UMAP, and as well with ``joblib=True``), ``map.npy`` (a 2-d view of the features
    for the report's map, by :func:`map2d` with ``map_method``) and
    ``k_scores.json`` when k was chosen. Returns the summary.
    """
    out = Path(out)
    _check_out(out, force)
    out.mkdir(parents=True, exist_ok=True)
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
    # a name that is not UTF-8 is written as its own bytes (kept usable as a path)
    with open(out / CSV_FILE, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "cluster", "distance", "rank"] + (["label"] if extra else []))
        for i, (path, lab, dist, r) in enumerate(zip(result.paths, labels, own, rank, strict=True)):
            _place(Path(path), folders[lab], link, taken[lab])
            row = [path, int(lab), f"{float(dist):.6g}", int(r)]
            writer.writerow(row + ([extra[i]] if extra else []))
    outputs = _write_model(result.model, out, joblib)
    np.save(out / MAP_FILE, map2d(result.features, map_method))
    if result.choice is not None:
        (out / K_SCORES_FILE).write_text(json.dumps(result.choice.to_dict(), indent=1))
    summary = {
        "n_images": len(result.paths),
        "k": int(k),
        "features": result.model.features,
        "size": list(result.model.spec.size),
        "mode": result.model.spec.mode,
        "cluster_sizes": np.bincount(labels, minlength=k).tolist(),
        "algorithm": getattr(result, "algorithm", None)
        or _describe(result.model.kmeans, result.features),
        "inertia": float(result.model.kmeans.inertia_),
        "map": map_method,
        "k_choice": None if result.choice is None else result.choice.explanation,
        "scores": scores or {},
        "failures": [{"path": f.path, "reason": f.reason} for f in result.failures],
        "outputs": {"csv": CSV_FILE, **outputs, "folders": [f.name for f in folders]},
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    return summary


def _write_model(model, out: Path, also_joblib: bool) -> dict:
    """``model.kmk`` (or ``model.joblib`` when the safe format cannot hold the model; both
    with ``also_joblib``); the summary's outputs naming them. A model file of the other
    kind left by an earlier run in this folder (``--force``) is removed, so that the
    folder's model is this run's."""
    from ..model_io import UnsupportedModelError
    from .model_file import save_image_model

    outputs = {}
    try:
        save_image_model(model, out / MODEL_FILE, overwrite=True)
        outputs["model"] = MODEL_FILE
    except UnsupportedModelError as exc:
        logger.warning("writing %s only (pickle-based): %s", JOBLIB_FILE, exc)
        also_joblib = True
        (out / MODEL_FILE).unlink(missing_ok=True)
    if also_joblib:
        import joblib

        joblib.dump(model, out / JOBLIB_FILE)
        outputs["model" if "model" not in outputs else "model_joblib"] = JOBLIB_FILE
    else:
        (out / JOBLIB_FILE).unlink(missing_ok=True)
    return outputs


def load_model(path):
    """The :class:`~kmeanskit.images.pipeline.ImageModel` saved by :func:`write_outputs`:
    the run folder (its ``model.kmk``) or a model file.

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
            return load_image_model(path / MODEL_FILE)
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
        "files from sources you trust", path
    )
    import joblib

    from .pipeline import ImageModel

    model = joblib.load(path)
    if not isinstance(model, ImageModel):
        raise TypeError(f"{str(path)!r} holds a {type(model).__name__}, not an image model")
    return model
