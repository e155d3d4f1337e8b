"""The table pipeline: a table file to a run folder, and a saved table model to the
clusters of new rows.

:func:`cluster_table` reads the table (:func:`kmeanskit.tables.read_table`), scales it,
chooses k (:mod:`kmeanskit.choose_k`), fits :class:`~kmeanskit.KMeans` (or
:class:`~kmeanskit.KMedoids` on a precomputed distance table) and writes the run folder
(:mod:`.folder`). Everything that can fail on the input fails before anything is written.
Needs no image library.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..choose_k import KProgress, final_fit_done, internal_scores, parse_k, resolve_k
from ..errors import InputError
from . import layout
from .folder import check_out, describe_kmeans, staged_run
from .quality import cluster_quality

logger = logging.getLogger(__name__)

__all__ = ["TABLE_SUFFIXES", "cluster_table", "is_table", "is_table_model", "predict_table"]

#: suffixes of the files read as tables
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".parquet", ".pq", ".npy", ".npz")
TABLE_FORMAT = "kmeanskit-table"
SCALES = ("standard", "whiten", "none")
METRICS = ("euclidean", "precomputed")


def is_table(path) -> bool:
    """Whether ``path`` is an existing file with a table's suffix.

    Examples
    --------
    >>> is_table("no/such/file.csv")
    False
    """
    path = Path(path)
    return path.suffix.lower() in TABLE_SUFFIXES and path.is_file()


def is_table_model(path) -> bool:
    """Whether ``path`` is a table run folder, or a model file with ``table.json`` beside it."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return (folder / layout.TABLE_FILE).is_file()


def _read(path, columns, id_column, missing):
    from ..tables import read_table

    return read_table(path, columns=columns, id_column=id_column, missing=missing)


def _dense(table):
    import scipy.sparse as sp

    return table.X.toarray() if sp.issparse(table.X) else np.asarray(table.X)


def _choose(X, k, random_state, precomputed: bool, progress=None):
    """(k, the KChoice or None, why that k or None): see :func:`kmeanskit.choose_k.resolve_k`."""
    if precomputed:
        if not isinstance(parse_k(k, X.shape[0]), int):
            raise InputError(f"metric='precomputed' takes one k; got k={k!r}")
        return int(parse_k(k, X.shape[0])), None, None
    return resolve_k(X, k, n_init=3, random_state=random_state, progress=progress)


def _scores(X, labels, random_state, precomputed: bool) -> dict:
    if not precomputed:
        return internal_scores(X, labels, random_state)
    from sklearn.metrics import silhouette_score

    if not 2 <= np.unique(labels).size < len(X):
        return {}
    return {"silhouette": float(silhouette_score(X, labels, metric="precomputed"))}


def _fit(X, k, random_state, precomputed: bool):
    from ..estimators import KMeans, KMedoids

    if precomputed:
        if X.shape[0] != X.shape[1]:
            raise InputError(
                f"metric='precomputed' needs a square distance table; got "
                f"{X.shape[0]} rows and {X.shape[1]} columns"
            )
        return KMedoids(k, metric="precomputed", random_state=random_state).fit(X)
    return KMeans(k, random_state=random_state, cluster_order="size").fit(X)


def cluster_table(
    data,
    out,
    *,
    k="auto",
    columns=None,
    id_column=None,
    scale: str = "none",
    missing: str = "error",
    metric: str = "euclidean",
    random_state=0,
    force: bool = False,
    finish: Callable[[Path], object] | None = None,
    k_progress: Callable[[KProgress], object] | None = None,
) -> dict:
    """Cluster the rows of a table file and write the run folder ``out``; returns the
    summary.

    Parameters
    ----------
    data : path
        CSV/TSV/TXT, Parquet or .npy/.npz (:func:`kmeanskit.tables.read_table`).
    out : path
        The run folder: new or empty unless ``force``.
    k : int, 'auto', 'A:B' or 'A:B:STEP', default='auto'
        A range is chosen by :func:`~kmeanskit.choose_k`.
    columns, id_column, missing
        As for :func:`~kmeanskit.tables.read_table`.
    scale : {'standard', 'whiten', 'none'}, default='none'
    metric : {'euclidean', 'precomputed'}, default='euclidean'
        ``'precomputed'``: the table is a square distance table, clustered by k-medoids.
    random_state : int
    force : bool, default=False
        Write into a non-empty ``out``, replacing the outputs of the run there.
    finish : callable, optional
        Called with the staging folder once the summary is written, before the folder is
        published (the command line builds the report there).
    k_progress : callable, optional
        With a k range: called with a :class:`~kmeanskit.choose_k.KProgress` after each
        step of the search and after the final fit (as for
        :func:`~kmeanskit.images.pipeline.cluster_images`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("a,b\\n0,0\\n0,1\\n9,9\\n9,8\\n")
    >>> summary = cluster_table(d / "t.csv", d / "run", k=2)
    >>> summary["kind"], summary["cluster_sizes"]
    ('table', [2, 2])
    """
    from ..tables import Scaler

    if scale not in SCALES:
        raise InputError(f"scale must be one of {', '.join(SCALES)}; got scale={scale!r}")
    if metric not in METRICS:
        raise InputError(f"metric must be one of {', '.join(METRICS)}; got metric={metric!r}")
    check_out(out, force)  # before the work, not after it
    start = time.perf_counter()
    precomputed = metric == "precomputed"
    table = _read(data, columns, id_column, missing)
    raw = _dense(table)
    if precomputed and scale != "none":
        raise InputError(
            f"metric='precomputed' reads distances: they are not scaled; leave out scale={scale!r}"
        )
    scaler = Scaler(scale)
    X = scaler.fit_transform(raw, table.feature_names)
    searched = time.perf_counter()
    k, choice, explanation = _choose(X, k, random_state, precomputed, k_progress)
    model = _fit(X, k, random_state, precomputed)
    if choice is not None:
        final_fit_done(k_progress, k, searched)
    labels = np.asarray(model.labels_)
    dist = model.transform(X)[np.arange(len(labels)), labels]
    if precomputed:
        from ..views import mds

        centres = [{"medoid": table.ids[i]} for i in model.medoid_indices_]
        xy = mds(X)
    else:
        from ..views import map2d

        original = scaler.inverse_transform(model.cluster_centers_)
        centres = [dict(zip(table.feature_names, map(float, row), strict=True)) for row in original]
        xy = map2d(X, "pca", random_state=random_state)
    settings = {
        "format": TABLE_FORMAT,
        "version": 1,
        "metric": metric,
        "columns": columns,
        "id_column": id_column,
        "missing": missing,
        "feature_names": table.feature_names,
        "scaler": scaler.to_dict(),
        "model": None if precomputed else layout.MODEL_FILE,
        "medoid_indices": [int(i) for i in model.medoid_indices_] if precomputed else None,
        "n_train": int(X.shape[0]),
    }
    summary = {
        "kind": "table",
        "input": str(data),
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "features": "columns",
        "feature_names": table.feature_names,
        "dropped_columns": table.dropped,
        "dropped_rows": len(table.dropped_rows),
        "filled_values": table.n_filled,
        "scale": scale,
        "metric": metric,
        "k": int(k),
        "k_choice": explanation,
        "algorithm": "k-medoids on the precomputed distances"
        if precomputed
        else describe_kmeans(model, X),
        "inertia": float(model.inertia_),
        "cluster_sizes": np.bincount(labels, minlength=k).tolist(),
        "scores": _scores(X, labels, random_state, precomputed),
        "cluster_quality": None if precomputed else cluster_quality(X, labels, int(k)),
        "centres": centres,
        "feature_means": [] if precomputed else [float(v) for v in raw.mean(axis=0)],
        "feature_stds": [] if precomputed else [float(v) for v in raw.std(axis=0)],
    }
    with staged_run(out, force, finish) as run:
        run.write_assignments(
            ["id", "cluster", "distance"],
            (
                [ident, int(lab), repr(float(d))]
                for ident, lab, d in zip(table.ids, labels, dist, strict=True)
            ),
        )
        if not precomputed:
            from ..model_io import save_model

            save_model(model, run.record("model", layout.MODEL_FILE))
        run.write_json("table", layout.TABLE_FILE, settings)
        run.write_map(xy)
        if not precomputed:  # the distances of a precomputed table are no feature rows
            run.write_features(X)
        run.write_k_scores(choice)
        summary["seconds"] = round(time.perf_counter() - start, 2)
        summary = run.write_summary(summary)
    return summary


def _load_settings(path: Path) -> tuple[dict, Path]:
    """The settings of a table model (``table.json`` in its run folder, untrusted) and
    the folder, checked: every key :func:`cluster_table` writes, of its type and range
    (``feature_names`` a list of names, ``scaler`` one finite mean and positive scale per
    feature, ``medoid_indices`` training rows, ``model`` a ``.kmk`` file name in the run
    folder: never a path out of it); raises
    :class:`~kmeanskit.errors.RunFolderError` naming the file, the key and the value."""
    import math

    from ..errors import RunFolderError

    folder = path if path.is_dir() else path.parent
    where = folder / layout.TABLE_FILE
    name = repr(str(where))
    limit = 256 * 2**20  # far above the names of a table's columns
    try:
        if where.stat().st_size > limit:
            raise RunFolderError(f"{name} is over {limit} bytes: not a table model's settings")
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{name} cannot be read: {exc}") from None
    try:
        settings = json.loads(text, parse_constant=lambda c: {"constant": c})
    except (ValueError, RecursionError) as exc:
        raise RunFolderError(f"{name} is not a table model's settings: {exc}") from None
    if not isinstance(settings, dict):
        raise RunFolderError(f"{name}: expected a JSON object; got {type(settings).__name__}")
    if settings.get("format") != TABLE_FORMAT:
        raise RunFolderError(
            f"{name} is not a table model's settings: format should be {TABLE_FORMAT!r}; "
            f"got {settings.get('format')!r:.60}"
        )

    def integer(v, low=0) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= low

    def number(v) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    def label(v) -> bool:  # a column's name or index
        return isinstance(v, str) or integer(v)

    def check(key, ok, what):
        if key not in settings:
            raise RunFolderError(f"{name}: no {key!r} (it should be {what})")
        if not ok(settings[key]):
            raise RunFolderError(f"{name}: {key} should be {what}; got {settings[key]!r:.60}")

    check("version", integer, "a positive integer")
    if settings["version"] > 1:
        raise RunFolderError(
            f"{name}: written by a newer kmeanskit (version {settings['version']!r:.20}); "
            "upgrade kmeanskit to use it"
        )
    check("metric", lambda v: v in METRICS, f"one of {', '.join(METRICS)}")
    check(
        "missing",
        lambda v: v in ("error", "mean", "median", "drop"),
        "one of error, mean, median, drop",
    )
    check("id_column", lambda v: v is None or label(v), "null, a column name or index")
    check(
        "columns",
        lambda v: (
            v is None or (isinstance(v, str) and v) or (isinstance(v, list) and all(map(label, v)))
        ),
        "null, or a list of column names or indices",
    )
    check(
        "feature_names",
        lambda v: isinstance(v, list) and v and all(isinstance(n, str) for n in v),
        "a list of column names",
    )
    check("n_train", lambda v: integer(v, 1), "the number of training rows (at least 1)")
    if settings["metric"] == "precomputed":
        n = settings["n_train"]
        check(
            "medoid_indices",
            lambda v: isinstance(v, list) and v and all(integer(i) and i < n for i in v),
            f"a list of training rows (0 to {n - 1})",
        )
        return settings, folder
    check(
        "model",
        lambda v: (
            isinstance(v, str)
            and v.endswith(".kmk")
            and Path(v).name == v
            and "\\" not in v
            and not Path(v).is_absolute()
        ),
        f"the name of a .kmk file in the run folder (such as {layout.MODEL_FILE!r})",
    )
    d = len(settings["feature_names"])
    check(
        "scaler",
        lambda v: (
            isinstance(v, dict)
            and v.get("kind") in SCALES
            and all(isinstance(v.get(k), list) and len(v[k]) == d for k in ("mean", "scale"))
            and all(map(number, v["mean"]))
            and all(number(x) and x > 0 for x in v["scale"])
            and (v.get("feature_names") is None or isinstance(v["feature_names"], list))
        ),
        f"a scaler of kind {'/'.join(SCALES)}, {d} finite means and {d} scales > 0",
    )
    return settings, folder


def _curation(settings, folder: Path):
    """The curated clustering of a table run whose ``edits.jsonl`` has edits in force
    (``kmeanskit review``), or None."""
    from .curated import curated
    from .edits import EDITS_FILE

    if not (folder / EDITS_FILE).is_file() or not (folder / layout.SUMMARY_FILE).is_file():
        return None
    clustering = curated(folder)
    if not clustering.edited:
        return None
    if settings["metric"] == "precomputed":
        logger.warning(
            "%s: a run on a precomputed distance table predicts its own clusters: its "
            "curation (%d edits) has no centres to apply",
            folder,
            clustering.n_edits,
        )
        return None
    logger.info(
        "%s: the curated model is used (%d edits from review: %d clusters, centres "
        "recomputed from %s)",
        folder,
        clustering.n_edits,
        len(clustering.ids),
        layout.FEATURES_FILE,
    )
    return clustering


def _predict_one(settings, folder, model_path: Path, data, curation=None, cache=None):
    """(ids, labels, distances) of the rows of the table ``data``; with ``curation``
    the labels are its cluster ids (the curated model made once, kept in ``cache``)."""
    from ..errors import RunFolderError
    from ..model_io import load_model
    from ..tables import Scaler

    names = settings["feature_names"]
    columns = settings["columns"] or names
    if settings["metric"] == "precomputed":  # distances to the training rows, as read
        columns = settings["columns"]
    table = _read(data, columns, settings["id_column"], settings["missing"])
    X = _dense(table)
    if settings["metric"] == "precomputed":
        medoids = np.asarray(settings["medoid_indices"], dtype=np.intp)
        if X.shape[1] != settings["n_train"]:
            raise InputError(
                f"{data}: a precomputed model needs the distances to its "
                f"{settings['n_train']} training rows; got {X.shape[1]} "
                "columns"
            )
        D = X[:, medoids]
    else:
        scaled = Scaler.from_dict(settings["scaler"]).transform(X)
        path = model_path if model_path.is_file() else folder / settings["model"]
        model = load_model(path)
        width = getattr(model, "n_features_in_", None)
        if width != len(names) or not hasattr(model, "cluster_centers_"):
            raise RunFolderError(
                f"model file {str(path)!r} holds a {type(model).__name__} of {width} "
                f"features; {str(folder / layout.TABLE_FILE)!r} names {len(names)} "
                "feature columns"
            )
        if curation is not None:
            from .curated import curated_kmeans

            cache = {} if cache is None else cache
            if "kmeans" not in cache:
                cache["kmeans"] = curated_kmeans(model, curation)
            model = cache["kmeans"]
        D = model.transform(scaled)
    labels = D.argmin(axis=1)
    dist = D[np.arange(len(labels)), labels]
    if curation is not None and settings["metric"] != "precomputed":
        labels = np.asarray(curation.ids, dtype=np.int64)[labels]
    return table.ids, labels, dist


def predict_table(model, data) -> list[dict]:
    """The cluster of every row of the table files ``data``, with a table model (the
    ``out`` folder of :func:`cluster_table`, or its model file): a list of
    ``{"id", "cluster", "distance"}``. A run curated by ``kmeanskit review`` (edits in
    force in its ``edits.jsonl``) predicts its curated clusters (centres recomputed from
    its ``features.npy``, :mod:`kmeanskit.runs.curated`), each row with its ``"name"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("a,b\\n0,0\\n0,1\\n9,9\\n9,8\\n")
    >>> _ = cluster_table(d / "t.csv", d / "run", k=2)
    >>> [row["cluster"] for row in predict_table(d / "run", [d / "t.csv"])]
    [0, 0, 1, 1]
    """
    model_path = Path(model)
    if not is_table_model(model_path):
        raise InputError(
            f"model={str(model)!r} is not a table model (no {layout.TABLE_FILE}); "
            "give the out folder of a table run"
        )
    settings, folder = _load_settings(model_path)
    curation = _curation(settings, folder)
    cache: dict = {}
    rows = []
    for path in data:
        if not is_table(path):
            raise InputError(
                f"{str(path)!r} is not a table file (a table model predicts the "
                f"rows of {', '.join(TABLE_SUFFIXES)} files)"
            )
        ids, labels, dist = _predict_one(settings, folder, model_path, path, curation, cache)
        rows += [
            {"id": i, "cluster": int(lab), "distance": float(d)}
            if curation is None
            else {
                "id": i,
                "cluster": int(lab),
                "name": curation.name(int(lab)),
                "distance": float(d),
            }
            for i, lab, d in zip(ids, labels, dist, strict=True)
        ]
    return rows
