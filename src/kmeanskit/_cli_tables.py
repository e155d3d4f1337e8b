"""The table side of the command line: the table options of ``cluster``, and what
``cluster`` and ``predict`` do with a table file (dispatched here by :mod:`kmeanskit.cli`).

Thin: argparse parses, each handler calls one function of :mod:`kmeanskit.runs.tables`
and prints. Needs no image library.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path


def add_cluster_options(p) -> None:
    """The options of ``cluster`` on a table (``p``: the parser or an argument group)."""
    p.add_argument(
        "--columns",
        help="the feature columns, names or 0-based indices: a,b,3 (default: all but --id-column)",
    )
    p.add_argument("--id-column", help="a column of row names, shown in the outputs")
    p.add_argument(
        "--scale",
        default="none",
        choices=["standard", "whiten", "none"],
        help="scale the columns before clustering (default: none)",
    )
    p.add_argument(
        "--missing",
        default="error",
        choices=["error", "mean", "median", "drop"],
        help="missing values: refuse, fill with the column's mean or median, or "
        "drop their rows (default: error)",
    )
    p.add_argument(
        "--metric",
        default="euclidean",
        choices=["euclidean", "precomputed"],
        help="precomputed: the table is a square distance table (k-medoids)",
    )


def cluster(args: argparse.Namespace, finish=None) -> int:
    """``kmeanskit cluster TABLE``: :func:`kmeanskit.runs.tables.cluster_table`."""
    from .runs.tables import cluster_table

    summary = cluster_table(
        args.photos,
        args.out,
        k=args.k,
        columns=args.columns,
        id_column=args.id_column,
        scale=args.scale,
        missing=args.missing,
        metric=args.metric,
        random_state=args.seed,
        force=args.force,
        finish=finish,
    )
    summary["report"] = str(Path(args.out) / "report.html")
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(
        f"{summary['n_rows']} rows of {summary['n_features']} features in {summary['k']} "
        f"clusters -> {args.out}"
    )
    if summary["k_choice"]:
        print(summary["k_choice"])
    scores = summary["scores"]
    shown = [
        name for name in ("silhouette", "calinski_harabasz", "davies_bouldin") if name in scores
    ]
    if shown:
        print("  ".join(f"{name} {scores[name]:.3f}" for name in shown))
    print(f"report: {summary['report']}")
    print(f"time {summary['seconds']:.1f}s")
    return 0


def predict(args: argparse.Namespace) -> int:
    """``kmeanskit predict RUN DATA...`` with a table model: ``id,cluster,distance``."""
    from .runs.layout import csv_cell
    from .runs.tables import predict_table

    rows = predict_table(args.model, args.images)
    if args.json:
        print(json.dumps({"predictions": rows}))
        return 0
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", "cluster", "distance"])
    for row in rows:  # an id a spreadsheet would run as a formula is quoted
        writer.writerow([csv_cell(row["id"]), row["cluster"], repr(row["distance"])])
    sys.stdout.write(text.getvalue())
    return 0
