"""The ``kmeanskit`` command line: parse, call the library, print."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

EXIT_USAGE = 2
EXIT_RUNTIME = 1
#: Ctrl-C (SIGINT): 128 + 2, as shells report it
EXIT_INTERRUPTED = 130
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
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as cat does
        try:  # no second error when Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):  # stdout is not a file (a test)
            pass
        return EXIT_RUNTIME
    except (ValueError, TypeError, OSError, ImportError) as exc:
        if args.debug:
            raise
        print(f"kmeanskit: error: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("kmeanskit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
