"""The report's figures as PNG files, through matplotlib (the ``plot`` extra)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .html import cluster_colours

__all__ = ["plot_run"]


def plot_run(run, out=None, force: bool = False) -> list[Path]:
    """Write ``sizes.png``, ``map.png`` and (when k was chosen) ``k_scores.png`` for a
    run folder of ``kmeanskit cluster``, into ``out`` (default: the run folder).
    Returns the files written. Files already there are replaced only with ``force``
    (checked before any is written); each is written whole or not at all."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run)
    if not (run / "summary.json").is_file():
        raise FileNotFoundError(f"{str(run)!r} is not a run folder of 'kmeanskit cluster'")
    out = Path(out) if out is not None else run
    names = ["sizes.png", "map.png", "k_scores.png"]
    there = [n for n in names if (out / n).exists()]
    if there and not force:
        raise FileExistsError(
            f"{str(out / there[0])!r} exists; pass --force (force=True) to replace the figures"
        )
    out.mkdir(parents=True, exist_ok=True)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    k = int(summary["k"])
    colours = cluster_colours(k)
    written = []

    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar(range(k), summary["cluster_sizes"], color=colours)
    ax.set_xlabel("cluster")
    ax.set_ylabel("images")
    ax.set_title(f"{summary['n_images']} images in {k} clusters")
    written.append(out / "sizes.png")
    _save(fig, written[-1])
    plt.close(fig)

    if (run / "map.npy").is_file():
        xy = np.load(run / "map.npy")
        with open(run / "assignments.csv", newline="", encoding="utf-8",
                  errors="surrogateescape") as fh:  # fmt: skip
            clusters = np.array([int(r["cluster"]) for r in csv.DictReader(fh)])
        fig, ax = plt.subplots(figsize=(6, 5))
        ax.scatter(xy[:, 0], xy[:, 1], s=6, c=[colours[c] for c in clusters])
        ax.set_title("2-d PCA of the features, coloured by cluster")
        written.append(out / "map.png")
        _save(fig, written[-1])
        plt.close(fig)

    if (run / "k_scores.json").is_file():
        ks = json.loads((run / "k_scores.json").read_text())
        methods = list(ks["scores"])
        fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 2.8), squeeze=False)
        for ax, method in zip(axes[0], methods, strict=True):
            values = [np.nan if v is None else v for v in ks["scores"][method]]
            ax.plot(ks["k"], values, marker=".")
            if method in ks["best"]:
                ax.axvline(ks["best"][method], color="tab:red", linestyle="--")
            ax.set_title(method, fontsize="small")
            ax.set_xlabel("k")
        fig.suptitle(ks["explanation"], fontsize="small")
        written.append(out / "k_scores.png")
        _save(fig, written[-1])
        plt.close(fig)
    return written


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
