"""The image side of the command line: the image options of ``cluster``, what
``cluster`` and ``predict`` do with images (dispatched here by :mod:`kmeanskit.cli`), and
the image-only commands ``features``, ``quantize`` and ``segment``.

Thin: argparse parses, each handler calls one function of :mod:`kmeanskit.images` and
prints. Errors are raised by the library and printed on one line by
:func:`kmeanskit.cli.main`.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from ._atomic import atomic_path, atomic_write, check_replaceable


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

    p.add_argument(
        "--features",
        default="auto",
        choices=["auto", *sorted(FEATURES)],
        help="auto (default): cnn-pixels-umap, the CNN's features beside the pixels, then "
        "UMAP (without the cnn extra: umap, without umap-learn: svd)",
    )
    p.add_argument(
        "--size",
        type=int,
        help="resize to SIZE x SIZE (default: the features': 128 for cnn-pixels-umap, 224 "
        "for cnn and cnn-umap, else 64)",
    )
    p.add_argument("--mode", choices=["grey", "rgb"], help="default: the features' own")
    p.add_argument("--components", type=int, default=50, help="PCA components for svd")
    p.add_argument(
        "--onnx",
        metavar="MODEL.onnx",
        help="with the cnn features (cnn, cnn-umap, cnn-pixels-umap): your own ONNX network",
    )
    p.add_argument(
        "--cache", help="feature cache folder (default: ~/.cache/kmeanskit, or $KMEANSKIT_CACHE)"
    )
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def cluster(args: argparse.Namespace, finish=None) -> int:
    """``kmeanskit cluster FOLDER``: :func:`kmeanskit.images.run.cluster_images_to`."""
    from ._cli_tables import print_k_progress
    from .images.run import cluster_images_to
    from .runs.folder import check_out

    check_out(args.out, args.force)  # before listing the photos
    bar = _bar(None, "features")

    def k_progress(step):
        # the features are done: the bar goes before the search's lines come
        if bar is not None:
            bar.close()
        print_k_progress(step)

    try:
        summary = cluster_images_to(
            args.photos,
            args.out,
            k=args.k,
            labels_from=args.labels_from,
            link=args.link,
            map_method=args.map,
            joblib=args.joblib,
            scheduler_address=args.scheduler,
            force=args.force,
            progress=None if bar is None else bar.update,
            finish=finish,
            on_listed=None if bar is None else (lambda n: bar.reset(total=n)),
            n_jobs=args.jobs,
            cache=None if args.scheduler else _cache(args),
            features=args.features,
            size=args.size,
            mode=args.mode,
            fit=args.fit,
            n_components=args.components,
            random_state=args.seed,
            onnx_model=args.onnx,
            k_progress=k_progress,
        )
    finally:
        if bar is not None:
            bar.close()
    summary["report"] = str(Path(args.out) / "report.html")
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['n_images']} images in {summary['k']} clusters -> {args.out}")
    if summary["k_choice"]:
        print(summary["k_choice"])
    scores = summary["scores"]
    shown = [name for name in ("accuracy", "nmi", "ari", "silhouette") if name in scores]
    if shown:
        print("  ".join(f"{name} {scores[name]:.3f}" for name in shown))
    failures = summary["failures"]
    if failures:
        print(f"{len(failures)} files skipped (see summary.json):")
        for f in failures[:10]:
            print(f"  {f['path']}: {f['reason']}")
    print(f"report: {summary['report']}")
    print(f"time {summary['seconds']:.1f}s")
    return 0


def predict(args: argparse.Namespace) -> int:
    """``kmeanskit predict RUN IMAGE...``: the image model's clusters, one line each."""
    from .images import load_model

    model = load_model(args.model)
    labels, dist, kept, failures = model.predict(args.images)
    names = model.cluster_names  # a curated run's (kmeanskit review), else None
    rows = [
        {
            "path": str(args.images[i]),
            "cluster": model.cluster_id(lab),
            **({"name": names[lab]} if names is not None else {}),
            "distance": float(d[lab]),
            "distances": [round(float(v), 6) for v in d],
        }
        for i, lab, d in zip(kept, labels, dist, strict=True)
    ]
    if args.json:
        print(json.dumps({"predictions": rows, "failures": [f.__dict__ for f in failures]}))
    else:
        for row in rows:
            name = f"\tname {row['name']}" if "name" in row else ""
            print(f"{row['path']}\tcluster {row['cluster']}{name}\tdistance {row['distance']:.6g}")
        for f in failures:
            print(f"{f.path}\tskipped: {f.reason}")
    return 0 if rows else 1


def export(args: argparse.Namespace) -> int:
    """``kmeanskit export RUN``: :func:`kmeanskit.images.curated.export_images`."""
    from .images.curated import export_images
    from .runs.layout import read_summary

    bar = _bar(read_summary(args.run)["n_rows"], "export")
    try:
        result = export_images(
            args.run,
            args.out,
            link=args.link,
            force=args.force,
            progress=None if bar is None else bar.update,
        )
    finally:
        if bar is not None:
            bar.close()
    for c in result["clusters"]:
        print(f"{c['folder']}/\t{c['size']} images\tcluster {c['id']}\t{c['name']}")
    if result["unassigned"]:
        print(f"unassigned/\t{result['unassigned']} images")
    if result["missing"]:
        print(f"{len(result['missing'])} input files missing (left out): {result['missing'][0]}")
    print(f"-> {result['out']}")
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
    check_replaceable(out)  # a device, FIFO or socket is never replaced, even with --force
    if source is not None and out.exists() and os.path.samefile(out, source):
        raise ValueError(f"--out {str(out)!r} is the input; choose another name")
    try:  # the folder must exist and take new files (our temporary file, then the rename)
        tempfile.TemporaryFile(dir=out.parent).close()
    except OSError as exc:
        raise type(exc)(
            f"--out {str(out)!r}: cannot write in {str(out.parent)!r} ({exc.strerror or exc})"
        ) from None
    return out


def _features(args: argparse.Namespace) -> int:
    from .choose_k import parse_k
    from .images import scan_images
    from .images.pipeline import extract_features
    from .sweep import sweep

    out = _new_file(args.out, args.force)
    files, skipped = scan_images(args.photos)
    if not files:
        why = "; ".join(f"{f.path}: {f.reason}" for f in skipped[:3])
        raise ValueError(f"no image files found in {args.photos!r}" + (f" ({why})" if why else ""))
    bar = _bar(len(files), "features")
    try:
        _, X, paths, failures = extract_features(
            files,
            features=args.features,
            size=args.size,
            mode=args.mode,
            n_components=args.components,
            random_state=args.seed,
            cache=_cache(args),
            progress=None if bar is None else bar.update,
            onnx_model=args.onnx,
        )
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
    print(
        f"{len(paths)} images, k = {ks}: {arrays['features'].shape[1]} distance features "
        f"-> {out}"
        + (f"; {len(failures) + len(skipped)} files skipped" if failures or skipped else "")
    )
    for f in [*skipped, *failures][:10]:
        print(f"  {f.path}: {f.reason}")
    return 0


def _gmm_proba(X, kmeans, seed):
    """Posterior probabilities of a diagonal GMM started from the k-means solution."""
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(
        kmeans.n_clusters,
        covariance_type="diag",
        means_init=kmeans.cluster_centers_,
        random_state=seed,
        reg_covar=1e-4,
    )
    return gmm.fit(X).predict_proba(X).astype(np.float32)


def _write_rgb(arr: np.ndarray, out: Path, force: bool) -> None:
    from PIL import Image

    with atomic_path(out, overwrite=force) as tmp:  # the same suffix: the same format
        Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)).save(tmp)


def _quantize(args: argparse.Namespace) -> int:
    from .images.colour import quantize
    from .images.io import read_image

    out = _new_file(
        args.out or f"{Path(args.photo).stem}-{args.colors}colors.png", args.force, args.photo
    )
    quantized, palette, _ = quantize(read_image(args.photo), args.colors, random_state=args.seed)
    _write_rgb(quantized, out, args.force)
    print(f"{args.photo}: {len(palette)} colours -> {out}")
    return 0


def _segment(args: argparse.Namespace) -> int:
    from .images.colour import segment
    from .images.io import read_image

    out = _new_file(
        args.out or f"{Path(args.photo).stem}-{args.k}segments.png", args.force, args.photo
    )
    labels, means = segment(
        read_image(args.photo),
        args.k,
        position_weight=args.position_weight,
        random_state=args.seed,
    )
    _write_rgb(means, out, args.force)
    sizes = np.bincount(labels.ravel(), minlength=args.k)
    print(f"{args.photo}: {args.k} segments of {sizes.tolist()} pixels -> {out}")
    return 0


def add_cluster_options(p) -> None:
    """The options of ``cluster`` on images (``p``: the parser or an argument group)."""
    p.add_argument("--fit", default="fit", choices=["fit", "pad", "crop", "stretch"])
    p.add_argument("--labels-from", help="score against labels: 'parent' or a REGEX")
    p.add_argument("--link", action="store_true", help="symbolic links instead of copies")
    p.add_argument(
        "--map",
        default="pca",
        choices=["pca", "tsne", "umap"],
        help="the report's 2-d map of all images (default: pca)",
    )
    p.add_argument("--jobs", type=int, default=None, help="decoding threads (all cores)")
    p.add_argument(
        "--joblib",
        action="store_true",
        help="also write model.joblib (pickle-based, for joblib.load in Python; "
        "it runs code when loaded)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on Dask (the 'dask' extra): a distributed scheduler's address "
        "(tcp://HOST:8786; workers must see the photos and --out under the same paths) or "
        "'threads' (Dask's local threads). One task per 256 files writes the feature rows "
        "to OUT/features.zarr (zarr), then distributed k-means runs on it. Not with "
        "--features umap, cnn-umap, cnn-pixels-umap, ae-umap (auto is svd there); a --k "
        "range is chosen on a sample of 3000 "
        "images; --cache and --jobs are not used",
    )
    _add_feature_options(p)


def add_image_commands(sub) -> None:
    """The image-only commands: ``features``, ``quantize``, ``segment``."""
    f = sub.add_parser(
        "features",
        help="distances to the centres for one or many k, as classifier features",
        epilog="example:\n  kmeanskit features photos/ --k 50:500:50 --out feats.npz\n\n"
        "feats.npz holds paths, k, features (all distances side by side) and "
        "distances_kK (and proba_kK with --gmm) for every k",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
            name,
            help=helptext,
            epilog=f"example:\n  kmeanskit {name} photo.jpg "
            + ("--colors 16 --out photo16.png" if name == "quantize" else "--k 4 --out seg.png"),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        c.add_argument("photo")
        if name == "quantize":
            c.add_argument("--colors", type=int, default=16)
        else:
            c.add_argument("--k", type=int, default=4)
            c.add_argument(
                "--position-weight",
                type=float,
                default=1.0,
                help="weight of (x, y) against colour; 0: colour only",
            )
        c.add_argument("--out", help="output PNG (default: a new name in the current folder)")
        c.add_argument("--seed", type=int, default=0)
        c.add_argument("--force", action="store_true", help="overwrite --out")
        c.set_defaults(func=func)
