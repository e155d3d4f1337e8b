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


def print_k_progress(step) -> None:
    """A step of a k search (:class:`kmeanskit.choose_k.KProgress`) as one plain line
    on stderr: seen on a terminal and through a pipe alike."""
    from .choose_k import format_k_progress

    print(format_k_progress(step), file=sys.stderr, flush=True)


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
        k_progress=print_k_progress,
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
    named = bool(rows) and "name" in rows[0]  # a run curated by kmeanskit review
    writer.writerow(["id", "cluster", *(["name"] if named else []), "distance"])
    for row in rows:  # an id (or a name) a spreadsheet would run as a formula is quoted
        name = [csv_cell(row["name"])] if named else []
        writer.writerow([csv_cell(row["id"]), row["cluster"], *name, repr(row["distance"])])
    sys.stdout.write(text.getvalue())
    return 0


def export(args: argparse.Namespace) -> int:
    """``kmeanskit export RUN`` of a table run: :func:`kmeanskit.runs.export.export_table`."""
    from .runs.export import export_table

    if args.link:
        print(
            "--link is for image runs: a table run's export holds no files to link", file=sys.stderr
        )
    result = export_table(args.run, args.out, force=args.force)
    for c in result["clusters"]:
        print(f"cluster {c['id']}\t{c['size']} rows\t{c['name']}")
    if result["unassigned"]:
        print(f"unassigned\t{result['unassigned']} rows")
    print(f"-> {result['out']}")
    return 0
