"""The ``kmeanskit`` command line: parse, call the library, print.

This module owns the commands that take either kind of input (``cluster``, ``predict``,
``report``, ``plot``) and dispatches by the input's kind to :mod:`._cli_images` or
:mod:`._cli_tables`, which parse their own options, call one library function and print.
Library errors name Python parameters (``out='runs/a'``, ``force=True``); they are
printed on one line with this command line's flags instead (``--out 'runs/a'``,
``--force``).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time

EXIT_USAGE = 2
EXIT_RUNTIME = 1
#: Ctrl-C (SIGINT): 128 + 2, as shells report it
EXIT_INTERRUPTED = 130
#: the scores the digits demo prints, as (printed name, key of metrics.evaluate)
SHOWN = [("acc", "accuracy"), ("nmi", "nmi"), ("ari", "ari"), ("v_measure", "v_measure")]
#: the library's parameter names -> the flags that set them
FLAGS = {
    "out": "--out",
    "k": "--k",
    "features": "--features",
    "labels_from": "--labels-from",
    "scheduler": "--scheduler",
    "map_method": "--map",
    "map": "--map",
    "n_jobs": "--jobs",
    "n_components": "--components",
    "onnx_model": "--onnx",
    "columns": "--columns",
    "id_column": "--id-column",
    "scale": "--scale",
    "missing": "--missing",
    "metric": "--metric",
    "size": "--size",
    "mode": "--mode",
    "fit": "--fit",
    "random_state": "--seed",
    "colors": "--colors",
    "cache": "--cache",
    "position_weight": "--position-weight",
    "n_colors": "--colors",
    "host": "--host",
    "port": "--port",
    "allow_remote": "--allow-remote",
}
_PARAM = re.compile(r"(?<![\w.-])(" + "|".join(FLAGS) + r")=\s*")


def as_flags(message: str) -> str:
    """A library message in this command line's words: ``force=True`` -> ``--force``,
    ``out='x'`` -> ``--out 'x'``.

    Examples
    --------
    >>> as_flags("out='a' is not empty; pass force=True")
    "--out 'a' is not empty; pass --force"
    """
    message = re.sub(r"(?<![\w.-])(force|overwrite)=True", "--force", message)
    message = re.sub(r"(?<![\w.-])allow_remote=True", "--allow-remote", message)
    return _PARAM.sub(lambda m: FLAGS[m.group(1)] + " ", message)


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


def _kind_module(path):
    """The command-line module of the kind of input ``path`` is: tables or images."""
    from .runs.tables import is_table

    if is_table(path):
        from . import _cli_tables as kind
    else:
        from . import _cli_images as kind
    return kind


def _cluster(args: argparse.Namespace) -> int:
    from .report import build_report

    return _kind_module(args.photos).cluster(args, finish=build_report)


def _predict(args: argparse.Namespace) -> int:
    from .runs.tables import is_table, is_table_model

    if is_table_model(args.model) or any(is_table(path) for path in args.images):
        from . import _cli_tables as kind
    else:
        from . import _cli_images as kind
    return kind.predict(args)


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    print(f"report: {build_report(args.run)}")
    return 0


def _run_kind_module(run):
    """The command-line module of the kind of the run folder ``run``."""
    from .runs.layout import read_summary

    if read_summary(run)["kind"] == "table":
        from . import _cli_tables as kind
    else:
        from . import _cli_images as kind
    return kind


def _export(args: argparse.Namespace) -> int:
    return _run_kind_module(args.run).export(args)


def _review(args: argparse.Namespace) -> int:
    from .review import review

    return review(
        args.run,
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        open_browser=not args.no_browser,
        announce=lambda url: print(f"review: {url}  (Ctrl-C to stop)", flush=True),
    )


def _plot(args: argparse.Namespace) -> int:
    from .report.figures import plot_run

    for path in plot_run(args.run, args.out, force=args.force):
        print(path)
    return 0


CLUSTER_EXAMPLE = """example:
  kmeanskit cluster ~/photos --k auto --features svd --out clusters/
  kmeanskit predict clusters/ new.jpg
  kmeanskit cluster ~/photos --k 20 --out clusters/ --scheduler tcp://HOST:8786   # on Dask
  kmeanskit cluster table.csv --k 2:10 --scale standard --out runs/table/

writes clusters/cluster_00 ... (copies; the inputs are never moved or changed),
assignments.csv (path, cluster, distance, rank), summary.json, report.html and
model.kmk (numpy arrays and JSON: loading it never runs code), for every --features;
--joblib also writes model.joblib (pickle: load it only if you trust where it came
from). A table run writes
assignments.csv (id, cluster, distance), table.json and model.kmk."""


def _add_run_commands(sub) -> None:
    from . import _cli_images, _cli_tables

    p = sub.add_parser(
        "cluster",
        help="cluster a folder of images (or a table) into one folder per cluster",
        epilog=CLUSTER_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "photos",
        help="a folder of images (read recursively), one image, or a "
        "table: CSV/TSV/TXT, Parquet, .npy/.npz",
    )
    p.add_argument("--out", required=True, help="output folder (must be new or empty)")
    p.add_argument(
        "--k",
        default="auto",
        help="N, A:B (choose in the range) or auto (default: 2 to 50, and beyond up to one "
        "cluster per 40 rows, at most 200)",
    )
    p.add_argument("--force", action="store_true", help="write into a non-empty --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    _cli_images.add_cluster_options(p.add_argument_group("images (a folder or an image)"))
    _cli_tables.add_cluster_options(p.add_argument_group("tables (a table file)"))
    p.set_defaults(func=_cluster)
    q = sub.add_parser(
        "predict",
        help="the cluster of new images (or table rows), from a saved model",
        epilog="example:\n  kmeanskit predict clusters/ new1.jpg new2.png --json\n\n"
        "a model.joblib (pickle-based) is loaded only when named explicitly, with a\n"
        "warning: it runs code when loaded, so use one only from a source you trust",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument(
        "model",
        help="the --out folder of 'cluster' (its model.kmk), or a "
        "model file: model.kmk, or model.joblib (see below)",
    )
    q.add_argument("images", nargs="+", help="image files, or table files for a table model")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_predict)
    r = sub.add_parser(
        "report",
        help="(re)build report.html of a finished 'cluster' run",
        epilog="example:\n  kmeanskit report clusters/   # then open clusters/report.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("run", help="the --out folder of 'kmeanskit cluster'")
    r.set_defaults(func=_report)
    v = sub.add_parser(
        "review",
        help="review and correct a run in the browser: rename, merge, move, split clusters",
        epilog="example:\n  kmeanskit review clusters/   # then: kmeanskit export clusters/\n\n"
        "every edit is appended to clusters/edits.jsonl; the server listens on 127.0.0.1\n"
        "only, and every request must carry the random token of the printed address",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("run", help="the --out folder of 'kmeanskit cluster'")
    v.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    v.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than this machine (anyone who can reach it and has the "
        "address with its token can edit the run)",
    )
    v.add_argument("--no-browser", action="store_true", help="print the address only")
    v.set_defaults(func=_review)
    e = sub.add_parser(
        "export",
        help="write the clusters of a reviewed run into folders named after them",
        epilog="example:\n  kmeanskit export clusters/ --out curated/\n\n"
        "the folders hold copies of the images (--link: symbolic links); the model there\n"
        "has centres recomputed from the curated members and the clusters' names",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("run", help="the --out folder of 'kmeanskit cluster'")
    e.add_argument("--out", help="output folder (default: RUN/curated; must be new or empty)")
    e.add_argument("--link", action="store_true", help="symbolic links instead of copies")
    e.add_argument("--force", action="store_true", help="replace an earlier export there")
    e.set_defaults(func=_export)
    g = sub.add_parser("plot", help="the report's figures as PNG files (matplotlib)")
    g.add_argument("run", help="the --out folder of 'kmeanskit cluster'")
    g.add_argument("--out", help="folder for the PNG files (default: the run folder)")
    g.add_argument("--force", action="store_true", help="replace PNG files already there")
    g.set_defaults(func=_plot)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kmeanskit",
        description="k-means for folders of images and for tables: cluster, look at the "
        "report, predict new items.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    sub = parser.add_subparsers(dest="command", required=True)
    digits = sub.add_parser("digits", help="cluster scikit-learn's digits and print the scores")
    digits.add_argument("-k", type=int, default=10, help="number of clusters (default 10)")
    digits.add_argument("--n-init", type=int, default=10, help="runs from new seeds (default 10)")
    digits.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    digits.set_defaults(func=_digits)
    _add_run_commands(sub)
    from ._cli_images import add_image_commands

    add_image_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 usage, 1 runtime error, 130
    interrupted by Ctrl-C: one line on stderr, and nothing half-written)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # file names that are not UTF-8 are printed as their own bytes, as ls and find do
    # (Python's UTF-8 mode does the same), rather than failing
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    from .errors import KmeanskitError

    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as cat does
        try:  # no second error when Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):  # stdout is not a file (a test)
            pass
        return EXIT_RUNTIME
    except (KmeanskitError, ValueError, TypeError, OSError, ImportError) as exc:
        if args.debug:
            raise
        print(f"kmeanskit: error: {as_flags(str(exc))}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("kmeanskit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
