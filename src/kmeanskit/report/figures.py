"""The report's figures as PNG files, through matplotlib (the ``plot`` extra).

Drawn on :class:`matplotlib.figure.Figure` objects, not through ``pyplot``: nothing
global changes (the caller's backend, its open figures), and no GUI is needed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..errors import OutputExistsError
from ..runs.layout import KINDS, n_items, read_summary
from ..runs.manifest import refresh
from ._shared import cluster_colours, cluster_sizes, read_k_scores, read_map, read_rows
from .pages import PAGES

__all__ = ["FIGURES", "plot_run"]

#: the files :func:`plot_run` writes (the last two when the run has a map / k scores)
FIGURES = ("sizes.png", "map.png", "k_scores.png")


def plot_run(run, out=None, force: bool = False) -> list[Path]:
    """Write ``sizes.png``, ``map.png`` and (when k was chosen) ``k_scores.png`` for a
    run folder of ``kmeanskit cluster`` (of any kind), into ``out`` (default: the run
    folder). Returns the files written.

    Files already there are replaced only with ``force`` (checked before any is
    written); each is written whole or not at all. The summary is read with
    :func:`kmeanskit.runs.layout.read_summary`; the titles say what the run's rows are
    (``120 images``, ``500 rows``) and what its map is.

    Examples
    --------
    >>> plot_run("no/such/run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kmeanskit.errors.NotARunFolderError: 'no/such/run' is not a run folder of ...
    """
    from matplotlib.figure import Figure

    run = Path(run)
    summary = read_summary(run)
    out = Path(out) if out is not None else run
    there = [n for n in FIGURES if (out / n).exists()]
    if there and not force:
        raise OutputExistsError(
            f"{str(out / there[0])!r} exists; pass force=True to replace the figures"
        )
    k = summary["k"]
    sizes = cluster_sizes(run, summary)
    colours = cluster_colours(k)
    # everything read (and checked) before the first file is written
    rows = read_rows(run, k, summary["n_rows"])
    xy = read_map(run, len(rows))
    ks = read_k_scores(run)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    fig = Figure(figsize=(8, 3))
    ax = fig.add_subplot()
    ax.bar(range(k), sizes, color=colours)
    ax.set_xlabel("cluster")
    ax.set_ylabel(KINDS[summary["kind"]])
    ax.set_title(f"{n_items(summary)} in {k} clusters")
    written.append(_save(fig, out / "sizes.png"))

    if xy is not None:
        fig = Figure(figsize=(6, 5))
        ax = fig.add_subplot()
        ax.scatter(xy[:, 0], xy[:, 1], s=6, c=[colours[r["cluster"]] for r in rows])
        describe = PAGES[summary["kind"]].describe_map(summary)
        ax.set_title(f"2-d {describe}, coloured by cluster")
        ax.set_xlabel("map axis 1")
        ax.set_ylabel("map axis 2")
        written.append(_save(fig, out / "map.png"))

    if ks is not None and ks["scores"]:
        methods = list(ks["scores"])
        cols = min(3, len(methods))
        n_rows = -(-len(methods) // cols)
        fig = Figure(figsize=(4.2 * cols, 3.0 * n_rows + 0.6), layout="constrained")
        axes = fig.subplots(n_rows, cols, squeeze=False).ravel()
        for ax in axes[len(methods) :]:
            ax.remove()
        for ax, method in zip(axes, methods, strict=False):
            values = [np.nan if v is None else v for v in ks["scores"][method]]
            ax.plot(ks["k"], values, marker=".")
            if ks["best"].get(method) is not None:
                ax.axvline(ks["best"][method], color="tab:red", linestyle="--")
            ax.set_title(_score_label(method), fontsize="small")
            ax.set_xlabel("k (number of clusters)")
            ax.set_ylabel(method)
        fig.suptitle(textwrap.fill(str(ks.get("explanation", "")), 110), fontsize="small")
        written.append(_save(fig, out / "k_scores.png"))
    if out == run:  # kmeanskit wrote them: a later force may replace them
        refresh(run, [p.name for p in written])
    return written


def _score_label(method: str) -> str:
    """The y label of a k-selection curve: the score and its good direction."""
    from ..metrics import SCORES

    info = SCORES.get(method)
    return f"{method} ({info.better} is better)" if info is not None and info.better else method


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    return path
