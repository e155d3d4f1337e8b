"""The image commands of the command line: cluster, predict, features, quantize, segment.

Thin: each parses nothing itself (argparse does), calls :mod:`kmeanskit.images`, and
prints. Errors are raised as ValueError / OSError and printed on one line by
:func:`kmeanskit.cli.main`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from pathlib import Path

import numpy as np

from ._atomic import atomic_path, atomic_write
from ._cli_tables import cluster_table, is_table, is_table_model, predict_table


def _bar(total: int, what: str):
    """A progress bar on stderr (shown on a terminal only), or a no-op."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - the images extra brings tqdm
        return None
    return tqdm(total=total, desc=what, unit="img", disable=None, leave=False)


def _cache(args):
    from .images.cache import default_cache_dir

    if args.no_cache:
        return None
    return args.cache or default_cache_dir()


def _add_feature_options(p) -> None:
    """The options of how images become feature rows (cluster and features)."""
    from .images.pipeline import FEATURES

    p.add_argument("--features", default="svd", choices=sorted(FEATURES))
    p.add_argument("--size", type=int, help="resize to SIZE x SIZE (default: 64; cnn 224)")
    p.add_argument("--mode", choices=["grey", "rgb"], help="default: grey; cnn, color rgb")
    p.add_argument("--components", type=int, default=50, help="PCA components for svd")
    p.add_argument("--onnx", metavar="MODEL.onnx",
                   help="with --features cnn or cnn-umap: your own ONNX network")  # fmt: skip
    p.add_argument("--cache", help="feature cache folder (default: ~/.cache/kmeanskit, "
                   "or $KMEANSKIT_CACHE)")  # fmt: skip
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


#: the zarr store of the feature rows that ``cluster --scheduler`` writes in ``--out``
STORE = "features.zarr"


def _scheduler(address):
    """Where Dask runs: ``None`` (no Dask), ``'threads'`` (local threads) or a
    ``distributed`` scheduler's address, connected for the duration."""
    if not address or address == "threads":
        return contextlib.nullcontext()
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in CI
        raise ImportError(
            f"--scheduler {address} needs dask.distributed: pip install 'kmeanskit[dask]'"
        ) from exc
    if "://" not in address and ":" not in address:
        raise ValueError(
            f"--scheduler must be 'threads' or a scheduler address (tcp://HOST:PORT); "
            f"got {address!r}"
        )
    return Client(address)


def _cluster(args: argparse.Namespace) -> int:
    from .images import cluster_images, labels_from_paths, list_images, write_outputs
    from .images.export import check_out, staged_out
    from .metrics import evaluate
    from .report import build_report

    if is_table(args.photos):
        return cluster_table(args)
    check_out(args.out, args.force)  # before the work, not after it
    out = Path(os.path.realpath(args.out))
    photos = Path(os.path.realpath(args.photos))
    if out == photos or out in photos.parents:
        raise ValueError(f"--out {args.out!r} is or holds the input {args.photos!r}; "
                         "choose an --out outside it")  # fmt: skip
    # an output folder inside the photos (a re-run with --force) is not input
    paths = [p for p in list_images(args.photos)
             if out not in Path(os.path.realpath(p)).parents]  # fmt: skip
    if not paths:
        raise ValueError(f"no image files found in {args.photos!r}")
    bar = _bar(len(paths), "features")
    start = time.perf_counter()
    if args.scheduler:  # a bad --features before connecting to a scheduler
        from .images.dask_features import check_features, cluster_images_dask

        check_features(args.features)
    options = dict(
        features=args.features, size=args.size, mode=args.mode, fit=args.fit,
        n_components=args.components, random_state=args.seed, onnx_model=args.onnx,
        progress=None if bar is None else bar.update,
    )  # fmt: skip
    # everything is written to a hidden folder in --out, moved into --out at the end
    with _scheduler(args.scheduler), staged_out(args.out, args.force) as stage:
        try:
            if args.scheduler:
                result = cluster_images_dask(paths, args.k, store=stage / STORE,
                                             overwrite=args.force, **options)  # fmt: skip
            else:
                result = cluster_images(paths, k=args.k, n_jobs=args.jobs, cache=_cache(args),
                                        **options)  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
        scores = dict(result.scores)
        truth = None
        if args.labels_from:
            truth = labels_from_paths(result.paths, args.labels_from)
            scores.update(evaluate(truth, result.labels))
        # the staging folder holds only our feature store (with --scheduler)
        summary = write_outputs(result, stage, link=args.link, scores=scores,
                                force=True, true_labels=truth,
                                map_method=args.map, joblib=args.joblib)  # fmt: skip
        summary["seconds"] = round(time.perf_counter() - start, 2)
        summary["input"] = str(args.photos)
        if args.scheduler:
            summary["scheduler"] = args.scheduler
            summary["outputs"]["features"] = STORE
        (stage / "summary.json").write_text(json.dumps(summary, indent=2))
        report = build_report(stage)
    summary["report"] = str(Path(args.out) / report.name)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['n_images']} images in {summary['k']} clusters -> {args.out}")
    if summary["k_choice"]:
        print(summary["k_choice"])
    shown = [name for name in ("accuracy", "nmi", "ari", "silhouette") if name in scores]
    if shown:
        print("  ".join(f"{name} {scores[name]:.3f}" for name in shown))
    if result.failures:
        print(f"{len(result.failures)} files skipped (see summary.json):")
        for f in result.failures[:10]:
            print(f"  {f.path}: {f.reason}")
    print(f"report: {summary['report']}")
    print(f"time {summary['seconds']:.1f}s")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .images import load_model

    if is_table_model(args.model) or any(is_table(path) for path in args.images):
        return predict_table(args)
    model = load_model(args.model)
    labels, dist, kept, failures = model.predict(args.images)
    rows = [
        {"path": str(args.images[i]), "cluster": int(lab),
         "distance": float(d[lab]), "distances": [round(float(v), 6) for v in d]}
        for i, lab, d in zip(kept, labels, dist, strict=True)
    ]  # fmt: skip
    if args.json:
        print(json.dumps({"predictions": rows, "failures": [f.__dict__ for f in failures]}))
    else:
        for row in rows:
            print(f"{row['path']}\tcluster {row['cluster']}\tdistance {row['distance']:.6g}")
        for f in failures:
            print(f"{f.path}\tskipped: {f.reason}")
    return 0 if rows else 1


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    print(f"report: {build_report(args.run)}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .report.figures import plot_run

    for path in plot_run(args.run, args.out, force=args.force):
        print(path)
    return 0


def _new_file(path: str, force: bool, source: str | None = None) -> Path:
    """The output file ``path``, checked before the work: new (or ``force``), not the
    input ``source``, in a folder that can be written."""
    import tempfile

    out = Path(path)
    if out.exists() and not force:
        raise FileExistsError(f"{str(out)!r} exists; choose another name or pass --force")
    if out.exists() and out.is_dir():
        raise IsADirectoryError(f"{str(out)!r} is a folder; give a file name")
    if source is not None and out.exists() and os.path.samefile(out, source):
        raise ValueError(f"--out {str(out)!r} is the input; choose another name")
    try:  # the folder must exist and take new files (our temporary file, then the rename)
        tempfile.TemporaryFile(dir=out.parent).close()
    except OSError as exc:
        raise type(exc)(f"--out {str(out)!r}: cannot write in {str(out.parent)!r} "
                        f"({exc.strerror or exc})") from None  # fmt: skip
    return out


def _features(args: argparse.Namespace) -> int:
    from .images import list_images
    from .images.pipeline import extract_features, parse_k
    from .sweep import sweep

    out = _new_file(args.out, args.force)
    files = list_images(args.photos)
    if not files:
        raise ValueError(f"no image files found in {args.photos!r}")
    bar = _bar(len(files), "features")
    try:
        _, X, paths, failures = extract_features(
            files, features=args.features, size=args.size, mode=args.mode,
            n_components=args.components, random_state=args.seed, cache=_cache(args),
            progress=None if bar is None else bar.update, onnx_model=args.onnx,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    ks = parse_k(args.k, len(paths))
    ks = [ks] if isinstance(ks, int) else ks
    result = sweep(X, ks, random_state=args.seed)
    dists = {k: result.models[k].transform(X) for k in ks}  # each once
    arrays = {
        "paths": np.array(paths),
        "k": np.array(ks),
        "features": np.hstack(list(dists.values())),
    }
    for k in ks:
        arrays[f"distances_k{k}"] = dists[k]
        if args.gmm:
            arrays[f"proba_k{k}"] = _gmm_proba(X, result.models[k], args.seed)
    atomic_write(out, lambda fh: np.savez_compressed(fh, **arrays), overwrite=args.force)
    print(f"{len(paths)} images, k = {ks}: {arrays['features'].shape[1]} distance features "
          f"-> {out}" + (f"; {len(failures)} files skipped" if failures else ""))  # fmt: skip
    return 0


def _gmm_proba(X, kmeans, seed):
    """Posterior probabilities of a diagonal GMM started from the k-means solution."""
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(
        kmeans.n_clusters, covariance_type="diag", means_init=kmeans.cluster_centers_,
        random_state=seed, reg_covar=1e-4,
    )  # fmt: skip
    return gmm.fit(X).predict_proba(X).astype(np.float32)


def _write_rgb(arr: np.ndarray, out: Path, force: bool) -> None:
    from PIL import Image

    with atomic_path(out, overwrite=force) as tmp:  # the same suffix: the same format
        Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)).save(tmp)


def _quantize(args: argparse.Namespace) -> int:
    from .images.colour import quantize
    from .images.io import read_image

    out = _new_file(args.out or f"{Path(args.photo).stem}-{args.colors}colors.png", args.force,
                    args.photo)  # fmt: skip
    quantized, palette, _ = quantize(read_image(args.photo), args.colors, random_state=args.seed)
    _write_rgb(quantized, out, args.force)
    print(f"{args.photo}: {len(palette)} colours -> {out}")
    return 0


def _segment(args: argparse.Namespace) -> int:
    from .images.colour import segment
    from .images.io import read_image

    out = _new_file(args.out or f"{Path(args.photo).stem}-{args.k}segments.png", args.force,
                    args.photo)  # fmt: skip
    labels, means = segment(
        read_image(args.photo), args.k, position_weight=args.position_weight,
        random_state=args.seed,
    )  # fmt: skip
    _write_rgb(means, out, args.force)
    sizes = np.bincount(labels.ravel(), minlength=args.k)
    print(f"{args.photo}: {args.k} segments of {sizes.tolist()} pixels -> {out}")
    return 0


CLUSTER_EXAMPLE = """example:
  kmeanskit cluster ~/photos --k auto --features svd --out clusters/
  kmeanskit predict clusters/ new.jpg
  kmeanskit cluster ~/photos --k 20 --out clusters/ --scheduler tcp://HOST:8786   # on Dask

writes clusters/cluster_00 ... (copies; the inputs are never moved or changed),
assignments.csv (path, cluster, distance, rank), summary.json, report.html and
model.kmk (numpy arrays and JSON: loading it never runs code). The umap, cnn-umap and
ae-umap features write model.joblib instead (pickle: their UMAP step is not plain
arrays); load a joblib file only if you trust where it came from."""


def add_image_commands(sub) -> None:
    p = sub.add_parser(
        "cluster", help="cluster a folder of images into one folder per cluster",
        epilog=CLUSTER_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("photos", help="a folder of images (read recursively), one image, or a "
                   "table: CSV/TSV/TXT, Parquet, .npy/.npz")  # fmt: skip
    p.add_argument("--out", required=True, help="output folder (must be new or empty)")
    p.add_argument("--k", default="auto", help="N, A:B (choose in the range) or auto (2:50)")
    p.add_argument("--fit", default="fit", choices=["fit", "pad", "crop", "stretch"])
    p.add_argument("--labels-from", help="score against labels: 'parent' or a REGEX")
    p.add_argument("--link", action="store_true", help="symbolic links instead of copies")
    p.add_argument("--map", default="pca", choices=["pca", "tsne", "umap"],
                   help="the report's 2-d map of all images (default: pca)")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=None, help="decoding threads (all cores)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--joblib", action="store_true",
                   help="also write model.joblib (pickle-based, for joblib.load in Python; "
                   "it runs code when loaded)")  # fmt: skip
    p.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run on Dask (the 'dask' extra): a distributed scheduler's address "
        "(tcp://HOST:8786; workers must see the photos and --out under the same paths) or "
        "'threads' (Dask's local threads). One task per 256 files writes the feature rows "
        f"to OUT/{STORE} (zarr), then distributed k-means runs on it. Not with --features "
        "umap, cnn-umap, ae-umap; a --k range is chosen on a sample of 3000 images; "
        "--cache and --jobs are not used",
    )  # fmt: skip
    _add_feature_options(p)
    t = p.add_argument_group("tables (when the input is a table file)")
    t.add_argument("--columns", help="the feature columns, names or 0-based indices: a,b,3 "
                   "(default: all but --id-column)")  # fmt: skip
    t.add_argument("--id-column", help="a column of row names, shown in the outputs")
    t.add_argument("--scale", default="none", choices=["standard", "whiten", "none"],
                   help="scale the columns before clustering (default: none)")  # fmt: skip
    t.add_argument("--missing", default="error", choices=["error", "mean", "median", "drop"],
                   help="missing values: refuse, fill with the column's mean or median, or "
                   "drop their rows (default: error)")  # fmt: skip
    t.add_argument("--metric", default="euclidean", choices=["euclidean", "precomputed"],
                   help="precomputed: the table is a square distance table (k-medoids)")
    p.set_defaults(func=_cluster)
    q = sub.add_parser(
        "predict", help="the cluster of new images, from a saved model",
        epilog="example:\n  kmeanskit predict clusters/ new1.jpg new2.png --json\n\n"
        "a model.joblib (pickle-based) is loaded only when named explicitly, with a\n"
        "warning: it runs code when loaded, so use one only from a source you trust",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    q.add_argument("model", help="the --out folder of 'cluster' (its model.kmk), or a "
                   "model file: model.kmk, or model.joblib (see below)")  # fmt: skip
    q.add_argument("images", nargs="+")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_predict)

    r = sub.add_parser(
        "report", help="(re)build report.html of a finished 'cluster' run",
        epilog="example:\n  kmeanskit report clusters/   # then open clusters/report.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    r.add_argument("run", help="the --out folder of 'kmeanskit cluster'")
    r.set_defaults(func=_report)
    g = sub.add_parser("plot", help="the report's figures as PNG files (matplotlib)")
    g.add_argument("run", help="the --out folder of 'kmeanskit cluster'")
    g.add_argument("--out", help="folder for the PNG files (default: the run folder)")
    g.add_argument("--force", action="store_true", help="replace PNG files already there")
    g.set_defaults(func=_plot)

    f = sub.add_parser(
        "features", help="distances to the centres for one or many k, as classifier features",
        epilog="example:\n  kmeanskit features photos/ --k 50:500:50 --out feats.npz\n\n"
        "feats.npz holds paths, k, features (all distances side by side) and "
        "distances_kK (and proba_kK with --gmm) for every k",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    f.add_argument("photos")
    f.add_argument("--k", required=True, help="N, A:B or A:B:STEP")
    f.add_argument("--out", required=True, help="an .npz file")
    f.add_argument("--gmm", action="store_true", help="also GMM posterior probabilities")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--force", action="store_true", help="overwrite --out")
    _add_feature_options(f)
    f.set_defaults(func=_features)

    for name, func, helptext in (
        ("quantize", _quantize, "redraw a picture with few colours"),
        ("segment", _segment, "k-means segmentation on colour and position"),
    ):
        c = sub.add_parser(
            name, help=helptext,
            epilog=f"example:\n  kmeanskit {name} photo.jpg "
            + ("--colors 16 --out photo16.png" if name == "quantize" else "--k 4 --out seg.png"),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        c.add_argument("photo")
        if name == "quantize":
            c.add_argument("--colors", type=int, default=16)
        else:
            c.add_argument("--k", type=int, default=4)
            c.add_argument("--position-weight", type=float, default=1.0,
                           help="weight of (x, y) against colour; 0: colour only")  # fmt: skip
        c.add_argument("--out", help="output PNG (default: a new name in the current folder)")
        c.add_argument("--seed", type=int, default=0)
        c.add_argument("--force", action="store_true", help="overwrite --out")
        c.set_defaults(func=func)
