"""The ``kmeanskit`` command line: parse, call the library, print."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

EXIT_USAGE = 2
EXIT_RUNTIME = 1
#: the scores the digits demo prints, as (printed name, key of metrics.evaluate)
SHOWN = [("acc", "accuracy"), ("nmi", "nmi"), ("ari", "ari"), ("v_measure", "v_measure")]


def _digits(args: argparse.Namespace) -> int:
    from sklearn.datasets import load_digits

    from .estimators import KMeans
    from .metrics import evaluate

    X, y = load_digits(return_X_y=True)
    start = time.perf_counter()
    km = KMeans(
        n_clusters=args.k, n_init=args.n_init, random_state=args.seed, cluster_order="size"
    ).fit(X)
    seconds = time.perf_counter() - start
    found = evaluate(y, km.labels_)
    scores = {name: found[key] for name, key in SHOWN}
    print(f"sklearn digits: {X.shape[0]} images of {X.shape[1]} pixels, k={args.k}")
    print(f"inertia {km.inertia_:.1f}  iterations {km.n_iter_}  time {seconds:.2f}s")
    print("  ".join(f"{name} {value:.3f}" for name, value in scores.items()))
    return 0


def _bar(total: int, what: str):
    """A progress bar on stderr (shown on a terminal only), or a no-op."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - the images extra brings tqdm
        return None
    return tqdm(total=total, desc=what, unit="img", disable=None, leave=False)


def _cluster(args: argparse.Namespace) -> int:
    from .images import cluster_images, labels_from_paths, list_images, write_outputs
    from .metrics import evaluate

    paths = list_images(args.photos)
    if not paths:
        raise ValueError(f"no image files found in {args.photos!r}")
    bar = _bar(len(paths) * (2 if args.features == "svd" else 1), "decoding")
    start = time.perf_counter()
    try:
        result = cluster_images(
            paths, k=args.k, features=args.features, size=args.size, mode=args.mode,
            fit=args.fit, n_components=args.components, random_state=args.seed,
            n_jobs=args.jobs, progress=None if bar is None else bar.update,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    scores = {}
    if args.labels_from:
        scores = evaluate(labels_from_paths(result.paths, args.labels_from), result.labels)
    summary = write_outputs(result, args.out, link=args.link, force=args.force, scores=scores)
    summary["seconds"] = round(time.perf_counter() - start, 2)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['n_images']} images in {summary['k']} clusters -> {args.out}")
    if summary["k_choice"]:
        print(summary["k_choice"])
    if scores:
        shown = ("accuracy", "nmi", "ari")
        print("  ".join(f"{name} {scores[name]:.3f}" for name in shown))
    if result.failures:
        print(f"{len(result.failures)} files skipped (see summary.json):")
        for f in result.failures[:10]:
            print(f"  {f.path}: {f.reason}")
    print(f"time {summary['seconds']:.1f}s")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .images import load_model

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
    return 0 if rows else EXIT_RUNTIME


CLUSTER_EXAMPLE = """example:
  kmeanskit cluster ~/photos --k auto --features svd --out clusters/
  kmeanskit predict clusters/model.joblib new.jpg

writes clusters/cluster_00 ... (copies; the inputs are never moved or changed),
assignments.csv (path, cluster, distance, rank), summary.json and model.joblib"""


def _add_cluster(sub) -> None:
    from .images.pipeline import FEATURES

    p = sub.add_parser(
        "cluster", help="cluster a folder of images into one folder per cluster",
        epilog=CLUSTER_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("photos", help="a folder (read recursively) or one image")
    p.add_argument("--out", required=True, help="output folder (must be new or empty)")
    p.add_argument("--k", default="auto", help="N, A:B (choose in the range) or auto (2:50)")
    p.add_argument("--features", default="svd", choices=sorted(FEATURES))
    p.add_argument("--size", type=int, default=64, help="images are resized to SIZE x SIZE")
    p.add_argument("--mode", default="grey", choices=["grey", "rgb"])
    p.add_argument("--fit", default="fit", choices=["fit", "pad", "crop", "stretch"])
    p.add_argument("--components", type=int, default=50, help="PCA components for svd")
    p.add_argument("--labels-from", help="score against labels: 'parent' or a REGEX")
    p.add_argument("--link", action="store_true", help="symbolic links instead of copies")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=None, help="decoding threads (all cores)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cluster)
    q = sub.add_parser("predict", help="the cluster of new images, from a saved model")
    q.add_argument("model", help="model.joblib, or the --out folder of 'cluster'")
    q.add_argument("images", nargs="+")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_predict)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kmeanskit", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    sub = parser.add_subparsers(dest="command", required=True)
    digits = sub.add_parser("digits", help="cluster scikit-learn's digits and print the scores")
    digits.add_argument("-k", type=int, default=10, help="number of clusters (default 10)")
    digits.add_argument("--n-init", type=int, default=10, help="runs from new seeds (default 10)")
    digits.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    digits.set_defaults(func=_digits)
    _add_cluster(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 usage, 1 runtime error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        if args.debug:
            raise
        print(f"kmeanskit: error: {exc}", file=sys.stderr)
        return EXIT_RUNTIME


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
