"""The export of a curated image run (``kmeanskit export RUN``): one folder per curated
cluster, named after it, and the curated model.

The staging, the force rules and the folder names are :mod:`kmeanskit.runs.export`'s;
the files are placed as a run places them (copies, or symbolic links with ``link``:
:func:`kmeanskit.images.export._place`). The input images and the run folder are only
read.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ..model_io import UnsupportedModelError
from ..runs import layout, manifest
from ..runs.curated import curated
from ..runs.export import (
    CENTRES_FILE,
    UNASSIGNED_DIR,
    export_target,
    folder_names,
    read_column,
    staged_export,
)
from .export import MODEL_FILE, _place, curated_image_model

logger = logging.getLogger(__name__)

__all__ = ["export_images"]


def _model(run: Path, clustering):
    """The curated model of the run (centres recomputed, names), or None when the run
    holds no ``model.kmk``."""
    from .model_file import load_image_model

    if not (run / MODEL_FILE).is_file():
        logger.warning("%s holds no %s: the export has no model", run, MODEL_FILE)
        return None
    model = load_image_model(run / MODEL_FILE)
    if clustering.edited or (run / layout.FEATURES_FILE).is_file():
        return curated_image_model(model, clustering)
    # a run of an earlier kmeanskit, never edited: its own centres, named
    return replace(model, cluster_names=list(clustering.names), cluster_ids=list(clustering.ids))


def export_images(run, out=None, link: bool = False, force: bool = False, progress=None) -> dict:
    """Write the curated clustering of the image run ``run`` into ``out``.

    ``out`` (default ``RUN/curated``) gets one folder per curated cluster with members,
    named after the cluster (made safe for file systems and unique:
    :func:`kmeanskit.runs.export.folder_names`; an unnamed one keeps ``cluster_NN``),
    ``unassigned/`` for the images no cluster holds, copies of the input images (or
    symbolic links with ``link``; an input file that is gone is left out, with a
    warning), ``assignments.csv`` (path, cluster, name) and ``model.kmk``, the curated
    model (centres recomputed from the members, the clusters' names and ids: ``kmeanskit
    predict OUT IMAGE`` prints them). The input images are never moved or changed.

    Parameters
    ----------
    run : path-like
        The run folder of ``kmeanskit cluster`` (edited by ``kmeanskit review``, or not).
    out : path-like, optional
        A new or empty folder (default ``RUN/curated``), never the run folder itself.
    link : bool, default=False
        Symbolic links to the input images instead of copies.
    force : bool, default=False
        Write into a non-empty ``out``, replacing what an earlier export provably wrote
        there (nothing else: a file added since is never removed).
    progress : callable, optional
        Called with 1 after each image (a progress bar).

    Returns
    -------
    dict
        ``out``, ``n_edits``, ``clusters`` (``id``, ``name``, ``folder``, ``size`` of
        each), ``unassigned`` (how many), ``missing`` (input files left out), ``model``
        (its path, or None).

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
    >>> _ = EditLog(d / "run").append({"op": "rename", "cluster": 0, "name": "a/b"})
    >>> [c["folder"] for c in export_images(d / "run")["clusters"]]
    ['a_b', 'cluster_01']
    """
    run, out = export_target(run, out)
    summary = layout.read_summary(run)
    if summary["kind"] != "images":
        raise ValueError(f"run={str(run)!r} is a {summary['kind']} run, not an image run")
    clustering = curated(run)
    paths = read_column(run, "path", summary["n_rows"])
    model = _model(run, clustering)
    reserved = [UNASSIGNED_DIR, layout.CSV_FILE, MODEL_FILE, CENTRES_FILE, manifest.MANIFEST_FILE]
    names = folder_names(clustering.names, reserved=reserved)
    folders = dict(zip(clustering.ids, names, strict=True))
    unassigned = int((clustering.labels < 0).sum())
    if unassigned:
        folders[-1] = UNASSIGNED_DIR
    missing = []
    with staged_export(out, force) as staged:
        taken: dict = {j: set() for j in folders}
        for name in folders.values():
            (staged.path / name).mkdir()
        rows = []
        for path, lab in zip(paths, clustering.labels.tolist(), strict=True):
            src = Path(path)
            if src.is_file():  # a regular file (or a link to one): never a FIFO
                _place(src, staged.path / folders[lab], link, taken[lab])
            else:
                missing.append(path)
            rows.append([path, lab, clustering.name(lab)])
            if progress is not None:
                progress(1)
        staged.write_assignments(["path", "cluster", "name"], rows)
        if model is not None:
            from .model_file import save_image_model

            try:
                save_image_model(model, staged.path / MODEL_FILE)
                staged.record("model", MODEL_FILE)
            except UnsupportedModelError as exc:
                logger.warning("the export has no %s: %s", MODEL_FILE, exc)
                model = None
    if missing:
        logger.warning(
            "%d input files are gone and were left out of the export (the first: %s)",
            len(missing),
            missing[0],
        )
    logger.info("%s: %d curated clusters -> %s", run, len(clustering.ids), out)
    sizes = clustering.sizes
    return {
        "out": str(out),
        "n_edits": clustering.n_edits,
        "clusters": [
            {"id": j, "name": n, "folder": folders[j], "size": s}
            for j, n, s in zip(clustering.ids, clustering.names, sizes, strict=True)
        ],
        "unassigned": unassigned,
        "missing": missing,
        "model": str(out / MODEL_FILE) if model is not None else None,
    }
