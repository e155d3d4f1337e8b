"""A folder of images to a run folder: the image pipeline as one library call.

:func:`cluster_images_to` lists the images, clusters them (:func:`~.pipeline.cluster_images`,
or :func:`~.dask_features.cluster_images_dask` on a Dask scheduler), scores them against
labels read from their paths when asked, and writes the run folder
(:func:`~.export.write_image_outputs` into :func:`kmeanskit.runs.folder.staged_run`). The
input files are only read; ``out`` may not be, nor hold, the input folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ..runs import layout
from ..runs.folder import check_out, staged_run
from .export import labels_from_paths, write_image_outputs
from .io import Failure, scan_images

__all__ = ["cluster_images_to", "scheduler"]


def scheduler(address):
    """Where Dask runs: ``None`` (no Dask), ``'threads'`` (local threads) or a
    ``distributed`` scheduler's address, connected for the duration of the block.

    Examples
    --------
    >>> with scheduler(None):
    ...     pass
    """
    if not address or address == "threads":
        return contextlib.nullcontext()
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in CI
        raise ImportError(
            f"scheduler={address!r} needs dask.distributed: pip install 'kmeanskit[dask]'"
        ) from exc
    if "://" not in address and ":" not in address:
        raise InputError(
            f"scheduler={address!r} is not 'threads' nor a scheduler address (tcp://HOST:PORT)"
        )
    return Client(address)


def _inputs(photos, out) -> tuple[list, list[Failure]]:
    """The image files of ``photos``, without those inside ``out`` (a re-run with force),
    and the other files with the reason each is left out (:func:`~.io.scan_images`);
    InputError, naming what was found instead, when there is no image."""
    out_real = Path(os.path.realpath(out))
    photos_real = Path(os.path.realpath(photos))
    if out_real == photos_real or out_real in photos_real.parents:
        raise InputError(
            f"out={str(out)!r} is or holds the input {str(photos)!r}; "
            "choose an out folder outside it"
        )
    found, skipped = scan_images(photos)

    def outside(p) -> bool:
        real = Path(os.path.realpath(p))
        return real != out_real and out_real not in real.parents

    paths = [p for p in found if outside(p)]
    skipped = [f for f in skipped if outside(f.path)]
    if not paths:
        if not skipped:
            raise InputError(f"no image files found in {str(photos)!r}: it holds no files")
        first = "; ".join(f"{f.path}: {f.reason}" for f in skipped[:3])
        more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        raise InputError(
            f"no image files found in {str(photos)!r}: looked at {len(skipped)} files, "
            f"none is an image ({first}{more})"
        )
    return paths, skipped


def cluster_images_to(
    photos,
    out,
    *,
    k="auto",
    labels_from: str | None = None,
    link: bool = False,
    map_method: str = "pca",
    joblib: bool = False,
    scheduler_address: str | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    on_listed: Callable[[int], None] | None = None,
    finish: Callable[[Path], object] | None = None,
    n_jobs: int | None = None,
    cache=None,
    **options,
) -> dict:
    """Cluster the images of ``photos`` and write the run folder ``out``; returns the
    summary.

    Parameters
    ----------
    photos : folder or file
        Read recursively; never changed. Files without an image extension are identified
        by content; every file that is not read is in the summary's ``failures`` with
        its reason.
    out : path
        The run folder: new or empty unless ``force``; not inside ``photos``.
    k : int, 'auto', 'A:B' or 'A:B:STEP', default='auto'
    labels_from : 'parent' or a regular expression, optional
        Score the clusters against class labels read from the paths
        (:func:`~.export.labels_from_paths`; :func:`kmeanskit.metrics.evaluate`).
    link : bool, default=False
        Symbolic links in the cluster folders instead of copies.
    map_method : {'pca', 'tsne', 'umap'}, default='pca'
        The report's map (:func:`kmeanskit.views.map2d`).
    joblib : bool, default=False
        Also write ``model.joblib`` (pickle-based).
    scheduler_address : str, optional
        Run on Dask: ``'threads'`` or a ``distributed`` scheduler's address; the feature
        rows go to ``out/features.zarr``.
    force : bool, default=False
        Write into a non-empty ``out``, replacing the outputs of the run there only.
    progress : callable, optional
        Called with the number of files handled.
    on_listed : callable, optional
        Called with the number of image files once they are listed (a progress bar's
        total).
    finish : callable, optional
        Called with the staging folder once the summary is written, before the folder is
        published (the command line builds the report there).
    n_jobs, cache
        Decoding threads and the feature cache (not used on Dask).
    **options
        ``features``, ``size``, ``mode``, ``fit``, ``n_components``, ``random_state``,
        ``onnx_model``, ``k_progress`` (called after each step of choosing k): as for
        :func:`~.pipeline.cluster_images`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(6):
    ...     _ = (d / "in").mkdir(exist_ok=True)
    ...     Image.new("L", (16, 16), 0 if i < 3 else 255).save(d / "in" / f"{i}.png")
    >>> summary = cluster_images_to(d / "in", d / "run", k=2, features="pixels", size=8)
    >>> summary["cluster_sizes"], sorted(summary["outputs"]["folders"])
    ([3, 3], ['cluster_00', 'cluster_01'])
    """
    from ..metrics import evaluate

    check_out(out, force)  # before the work, not after it
    paths, skipped = _inputs(photos, out)
    if on_listed is not None:
        on_listed(len(paths))
    start = time.perf_counter()
    if scheduler_address:  # a bad features value before connecting to a scheduler
        from .dask_features import check_features

        check_features(options.get("features", "auto"))
    # everything is written to a hidden folder in out, moved into out at the end
    with scheduler(scheduler_address), staged_run(out, force, finish) as run:
        if scheduler_address:
            from .dask_features import cluster_images_dask

            store = run.record("features", layout.STORE)
            result = cluster_images_dask(
                paths, k, store=store, overwrite=force, progress=progress, **options
            )
        else:
            from .pipeline import cluster_images

            result = cluster_images(
                paths, k=k, n_jobs=n_jobs, cache=cache, progress=progress, **options
            )
        if skipped:  # the files that are not images, with the ones that could not be read
            failures = sorted([*skipped, *result.failures], key=lambda f: f.path)
            result = dataclasses.replace(result, failures=failures)
        scores = dict(result.scores)
        truth = None
        if labels_from:
            truth = labels_from_paths(result.paths, labels_from)
            scores.update(evaluate(truth, result.labels))
        summary = write_image_outputs(
            run,
            result,
            link=link,
            scores=scores,
            true_labels=truth,
            map_method=map_method,
            joblib=joblib,
        )
        summary.update(
            input=str(photos),
            scheduler=scheduler_address or None,
            seconds=round(time.perf_counter() - start, 2),
        )
        summary = run.write_summary(summary)
    return summary
