"""The table commands of the command line: ``cluster`` and ``predict`` on a table file.

Thin, as :mod:`kmeanskit._cli_images`: read the table (:func:`kmeanskit.tables.read_table`),
scale it, choose k, fit, then write the run folder through
:func:`kmeanskit.images.export.staged_out` (``summary.json`` last) and build its report.
Everything that can fail on the input fails before anything is written.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

#: suffixes of the files that ``cluster`` and ``predict`` read as tables
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".parquet", ".pq", ".npy", ".npz")
#: the column handling and scaler of a table run, beside its model file
TABLE_FILE = "table.json"
TABLE_FORMAT = "kmeanskit-table"
MODEL_FILE = "model.kmk"
#: above this, ``--k`` ranges skip the gap statistic (minutes on 5000 rows)
GAP_MAX_ROWS = 2000


def is_table(path) -> bool:
    """Whether ``path`` is an existing file with a table's suffix."""
    path = Path(path)
    return path.suffix.lower() in TABLE_SUFFIXES and path.is_file()


def is_table_model(path) -> bool:
    """Whether ``path`` is a table run folder, or a model file with ``table.json`` beside it."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return (folder / TABLE_FILE).is_file()


def _read(path, columns, id_column, missing):
    from .tables import read_table

    return read_table(path, columns=columns, id_column=id_column, missing=missing)


def _dense(table):
    import scipy.sparse as sp

    return table.X.toarray() if sp.issparse(table.X) else np.asarray(table.X)


def _choose(X, k_arg, seed, precomputed: bool):
    """k (an int) and the KChoice (None when k was given)."""
    from .choose_k import choose_k
    from .images.pipeline import parse_k

    kk = parse_k(k_arg, X.shape[0])
    if isinstance(kk, int):
        return kk, None
    if precomputed:
        raise ValueError(f"--metric precomputed takes one k (--k N), not {k_arg!r}")
    methods = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "bic")
    if X.shape[0] <= GAP_MAX_ROWS:
        methods += ("gap",)
    choice = choose_k(X, kk, methods, n_init=3, random_state=seed)
    return int(choice.recommended), choice


def _scores(X, labels, seed, precomputed: bool) -> dict:
    if not precomputed:
        from .images.pipeline import _internal_scores

        return _internal_scores(X, labels, seed)
    from sklearn.metrics import silhouette_score

    if not 2 <= np.unique(labels).size < len(X):
        return {}
    return {"silhouette": float(silhouette_score(X, labels, metric="precomputed"))}


def _mds(D) -> np.ndarray:
    """Classical multidimensional scaling of a distance table to 2-d (float32)."""
    n = D.shape[0]
    if n < 3:
        return np.zeros((n, 2), np.float32)
    S = (D + D.T) / 2.0
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (S**2) @ J
    values, vectors = np.linalg.eigh(B)
    top = np.argsort(values)[::-1][:2]
    return (vectors[:, top] * np.sqrt(np.clip(values[top], 0, None))).astype(np.float32)


def _fit(X, k, seed, precomputed: bool):
    from .estimators import KMeans, KMedoids

    if precomputed:
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"--metric precomputed needs a square distance table; got "
                             f"{X.shape[0]} rows and {X.shape[1]} columns")  # fmt: skip
        return KMedoids(k, metric="precomputed", random_state=seed).fit(X)
    return KMeans(k, random_state=seed, cluster_order="size").fit(X)


def cluster_table(args: argparse.Namespace) -> int:
    """``kmeanskit cluster TABLE``: see the module's docstring."""
    from .images.export import (
        K_SCORES_FILE,
        MAP_FILE,
        SUMMARY_FILE,
        _describe,
        check_out,
        map2d,
        staged_out,
    )
    from .model_io import save_model
    from .report import build_report
    from .tables import Scaler

    check_out(args.out, args.force)  # before the work, not after it
    start = time.perf_counter()
    precomputed = args.metric == "precomputed"
    table = _read(args.photos, args.columns, args.id_column, args.missing)
    raw = _dense(table)
    if precomputed and args.scale != "none":
        raise ValueError("--metric precomputed reads distances: they are not scaled; "
                         f"leave out --scale {args.scale}")  # fmt: skip
    scaler = Scaler(args.scale)
    X = scaler.fit_transform(raw, table.feature_names)
    k, choice = _choose(X, args.k, args.seed, precomputed)
    model = _fit(X, k, args.seed, precomputed)
    labels = np.asarray(model.labels_)
    dist = model.transform(X)[np.arange(len(labels)), labels]
    scores = _scores(X, labels, args.seed, precomputed)
    sizes = np.bincount(labels, minlength=k).tolist()
    if precomputed:
        centres = [{"medoid": table.ids[i]} for i in model.medoid_indices_]
        xy = _mds(X)
    else:
        original = scaler.inverse_transform(model.cluster_centers_)
        centres = [dict(zip(table.feature_names, map(float, row), strict=True))
                   for row in original]  # fmt: skip
        xy = map2d(X, "pca", random_state=args.seed)
    settings = {
        "format": TABLE_FORMAT, "version": 1, "metric": args.metric,
        "columns": args.columns, "id_column": args.id_column, "missing": args.missing,
        "feature_names": table.feature_names, "scaler": scaler.to_dict(),
        "model": None if precomputed else MODEL_FILE,
        "medoid_indices": [int(i) for i in model.medoid_indices_] if precomputed else None,
        "n_train": int(X.shape[0]),
    }  # fmt: skip
    outputs = {"csv": "assignments.csv", "table": TABLE_FILE}
    if not precomputed:
        outputs["model"] = MODEL_FILE
    summary = {
        "kind": "table",
        "input": str(args.photos),
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "features": table.feature_names,
        "dropped_columns": table.dropped,
        "dropped_rows": len(table.dropped_rows),
        "filled_values": table.n_filled,
        "scale": args.scale,
        "metric": args.metric,
        "k": int(k),
        "k_choice": None if choice is None else choice.explanation,
        "algorithm": "k-medoids on the precomputed distances"
        if precomputed
        else _describe(model, X),
        "inertia": float(model.inertia_),
        "cluster_sizes": sizes,
        "scores": scores,
        "centres": centres,
        "feature_means": [] if precomputed else [float(v) for v in raw.mean(axis=0)],
        "feature_stds": [] if precomputed else [float(v) for v in raw.std(axis=0)],
        "outputs": outputs,
    }
    with staged_out(args.out, args.force) as stage:
        with open(stage / "assignments.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "cluster", "distance"])
            for ident, lab, d in zip(table.ids, labels, dist, strict=True):
                writer.writerow([ident, int(lab), repr(float(d))])
        if not precomputed:
            save_model(model, stage / MODEL_FILE)
        (stage / TABLE_FILE).write_text(json.dumps(settings, indent=1), encoding="utf-8")
        np.save(stage / MAP_FILE, xy)
        if choice is not None:
            (stage / K_SCORES_FILE).write_text(json.dumps(choice.to_dict(), indent=1))
        summary["seconds"] = round(time.perf_counter() - start, 2)
        (stage / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
        report = build_report(stage)
    summary["report"] = str(Path(args.out) / report.name)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['n_rows']} rows of {summary['n_features']} features in {k} clusters "
          f"-> {args.out}")  # fmt: skip
    if summary["k_choice"]:
        print(summary["k_choice"])
    shown = [name for name in ("silhouette", "calinski_harabasz", "davies_bouldin")
             if name in scores]  # fmt: skip
    if shown:
        print("  ".join(f"{name} {scores[name]:.3f}" for name in shown))
    print(f"report: {summary['report']}")
    print(f"time {summary['seconds']:.1f}s")
    return 0


def _load_settings(path: Path) -> tuple[dict, Path]:
    folder = path if path.is_dir() else path.parent
    where = folder / TABLE_FILE
    try:
        settings = json.loads(where.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{str(where)!r} is not a table model's settings: {exc}") from None
    if not isinstance(settings, dict) or settings.get("format") != TABLE_FORMAT:
        raise ValueError(f"{str(where)!r} is not a table model's settings ({TABLE_FILE})")
    return settings, folder


def _predict_one(settings, folder, model_path: Path, data):
    """(ids, labels, distances) of the rows of the table ``data``."""
    from .model_io import load_model
    from .tables import Scaler

    names = settings["feature_names"]
    columns = settings["columns"] or names
    if settings["metric"] == "precomputed":  # distances to the training rows, as read
        columns = settings["columns"]
    table = _read(data, columns, settings["id_column"], settings["missing"])
    X = _dense(table)
    if settings["metric"] == "precomputed":
        medoids = np.asarray(settings["medoid_indices"], dtype=np.intp)
        if X.shape[1] != settings["n_train"]:
            raise ValueError(f"{data}: a precomputed model needs the distances to its "
                             f"{settings['n_train']} training rows; got {X.shape[1]} "
                             "columns")  # fmt: skip
        D = X[:, medoids]
    else:
        scaled = Scaler.from_dict(settings["scaler"]).transform(X)
        path = model_path if model_path.is_file() else folder / settings["model"]
        D = load_model(path).transform(scaled)
    labels = D.argmin(axis=1)
    return table.ids, labels, D[np.arange(len(labels)), labels]


def predict_table(args: argparse.Namespace) -> int:
    """``kmeanskit predict RUN DATA...`` with a table model: ``id,cluster,distance``."""
    model_path = Path(args.model)
    if not is_table_model(model_path):
        raise ValueError(f"{args.model!r} is not a table model (no {TABLE_FILE}); "
                         "give the --out folder of 'kmeanskit cluster TABLE'")  # fmt: skip
    settings, folder = _load_settings(model_path)
    rows = []
    for data in args.images:
        if not is_table(data):
            raise ValueError(f"{data!r} is not a table file (a table model predicts the rows "
                             f"of {', '.join(TABLE_SUFFIXES)} files)")  # fmt: skip
        ids, labels, dist = _predict_one(settings, folder, model_path, data)
        rows += [{"id": i, "cluster": int(lab), "distance": float(d)}
                 for i, lab, d in zip(ids, labels, dist, strict=True)]  # fmt: skip
    if args.json:
        print(json.dumps({"predictions": rows}))
        return 0
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", "cluster", "distance"])
    for row in rows:
        writer.writerow([row["id"], row["cluster"], repr(row["distance"])])
    sys.stdout.write(text.getvalue())
    return 0
