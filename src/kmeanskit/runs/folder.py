"""Writing a run folder: the output checks, the staging, and the writers every kind shares.

A run writes into a hidden staging folder inside ``out`` (:func:`staged_run`); each writer
records the file it wrote in the summary's ``outputs``; :meth:`RunFolder.write_summary`
writes ``summary.json`` once, checked against the schema of :mod:`.layout`; the folder is
published into ``out`` when the block ends, ``summary.json`` last (a run folder without it
is incomplete), and a run that fails leaves ``out`` as it was. An ``out`` that holds files
is refused unless ``force``, which replaces or removes only what the previous run
provably wrote (its manifest, :mod:`.manifest`), never anything else. The input files are only read.

A new kind of output is one writer: a method that writes its file and records it with
:meth:`RunFolder.record`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .._atomic import STAGE_PREFIX, staged_folder
from ..errors import OutputExistsError
from . import layout, manifest

__all__ = ["RunFolder", "check_out", "describe_kmeans", "staged_run"]


def check_out(out, force: bool) -> None:
    """Refuse an output folder that exists and holds files, unless ``force`` (the hidden
    staging folders that killed runs leave do not count).

    Examples
    --------
    >>> import tempfile
    >>> check_out(tempfile.mkdtemp(), force=False)  # an empty folder is fine
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"out={str(out)!r} exists and is not a folder")
    held = out.exists() and any(not p.name.startswith(STAGE_PREFIX) for p in out.iterdir())
    if held and not force:
        raise OutputExistsError(
            f"out={str(out)!r} is not empty; choose another folder or pass force=True "
            "(which overwrites kmeanskit's own files there and nothing else)"
        )
    if held:  # with force: the names every run writes must be free or provably ours
        ours = manifest.owned(out)
        for name in layout.FIXED_NAMES:
            if os.path.lexists(out / name):
                _check_ours(out, name, ours)


def _check_ours(out: Path, name: str, ours: dict) -> None:
    if name == layout.EDITS_FILE:
        raise OutputExistsError(
            f"{str(out / name)!r} holds the edits made by hand in 'kmeanskit review' of the "
            "run there, which force=True never removes: export them first if you want them "
            "(kmeanskit export), then move that file away, or choose another folder"
        )
    if name not in ours:
        raise OutputExistsError(
            f"{str(out / name)!r} was not written by kmeanskit; force=True replaces only "
            "what a kmeanskit run wrote: move it away or choose another folder"
        )
    if ours[name] is not None:
        raise OutputExistsError(
            f"{ours[name]!r} was changed or added since kmeanskit wrote {str(out / name)!r}; "
            "move it away or choose another folder"
        )


class RunFolder:
    """The staging folder of a run, with the writers image and table runs share.

    Attributes
    ----------
    path : Path
        Where to write (published into ``out`` at the end of :func:`staged_run`).
    outputs : dict
        Role -> file name of every output written so far (the summary's ``outputs``).
    """

    def __init__(self, path):
        self.path = Path(path)
        self.outputs: dict = {}
        self.summary: dict | None = None

    def record(self, role: str, name) -> Path:
        """Record the output ``name`` (a plain file or folder name) under ``role``;
        returns its path in the staging folder."""
        self.outputs[role] = name
        return self.path / name

    def write_assignments(self, header: list, rows: Iterable) -> Path:
        """``assignments.csv``: one row per clustered row (names that are not UTF-8 are
        written as their own bytes, kept usable as paths; a text that a spreadsheet would
        run as a formula gets a leading ``'``, see :func:`~.layout.csv_cell`)."""
        path = self.record("csv", layout.CSV_FILE)
        with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
            writer = csv.writer(fh)
            writer.writerow([layout.csv_cell(v) for v in header])
            for row in rows:
                writer.writerow([layout.csv_cell(v) if isinstance(v, str) else v for v in row])
        return path

    def write_map(self, xy) -> Path:
        """``map.npy``: the 2-d view of every row (:mod:`kmeanskit.views`)."""
        path = self.record("map", layout.MAP_FILE)
        np.save(path, np.asarray(xy, dtype=np.float32))
        return path

    def write_features(self, X) -> Path:
        """``features.npy``: the rows k-means ran on, as float32 (what ``kmeanskit
        review`` finds similar rows in, and recomputes curated centres from)."""
        path = self.record("features_npy", layout.FEATURES_FILE)
        if not hasattr(X, "blocks"):
            np.save(path, np.asarray(X, dtype=np.float32))
            return path
        # a dask array (a run on Dask): written a block of rows at a time, never whole
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=X.shape)
        start = 0
        for i in range(X.numblocks[0]):
            block = np.asarray(X.blocks[i, :] if X.ndim == 2 else X.blocks[i], dtype=np.float32)
            out[start : start + len(block)] = block
            start += len(block)
        out.flush()
        del out
        return path

    def write_k_scores(self, choice) -> Path | None:
        """``k_scores.json`` of a :class:`~kmeanskit.KChoice`; nothing when k was given."""
        if choice is None:
            return None
        path = self.record("k_scores", layout.K_SCORES_FILE)
        path.write_text(json.dumps(choice.to_dict(), indent=1), encoding="utf-8")
        return path

    def write_json(self, role: str, name: str, data) -> Path:
        """Any other JSON output (a table run's ``table.json``)."""
        path = self.record(role, name)
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path

    def write_summary(self, summary: dict) -> dict:
        """``summary.json``, once: ``summary`` with the outputs written so far, checked
        against the schema of its kind (:func:`~kmeanskit.runs.layout.check_summary`)."""
        if self.summary is not None:
            raise RuntimeError("summary.json is written once per run")
        summary = layout.check_summary(
            {**summary, "outputs": {**self.outputs, **summary.get("outputs", {})}}
        )
        (self.path / layout.SUMMARY_FILE).write_text(
            json.dumps(summary, indent=2), encoding="utf-8"
        )
        self.summary = summary
        return summary


@contextmanager
def staged_run(
    out,
    force: bool = False,
    finish: Callable[[Path], object] | None = None,
    last: tuple = (layout.SUMMARY_FILE,),
):
    """Write a run into a :class:`RunFolder` staged in ``out``; publish it when the block
    ends, the names of ``last`` last (``summary.json``: a run folder without it is
    incomplete; an export has none). ``finish(path)`` runs after the block, before the
    publication (the command line builds the report there, so that a run is published
    with its report or not at all).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with staged_run(out) as run:
    ...     _ = run.write_assignments(["id", "cluster", "distance"], [["a", 0, 0.0]])
    >>> sorted(p.name for p in out.iterdir())  # and what it provably wrote
    ['.kmeanskit-manifest.json', 'assignments.csv']
    """
    check_out(out, force)
    with staged_folder(
        out,
        force=force,
        last=list(last),
        replaces=[manifest.MANIFEST_FILE],
        what="out",
        owned=lambda: manifest.owned(out),
    ) as stage:
        run = RunFolder(stage)
        yield run
        if finish is not None and run.summary is not None:
            finish(stage)
        manifest.write_manifest(stage)  # what this run provably wrote, for a later force


def describe_kmeans(km, X) -> str:
    """One line on how a fitted :class:`~kmeanskit.KMeans` found its clusters, for the
    summary and the report.

    Examples
    --------
    >>> from kmeanskit import KMeans
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> describe_kmeans(KMeans(2, n_init=1, random_state=0).fit(X), X)
    'k-means, k-means++ seeding, best of 1, auto (lloyd) iterations (2 to converge)'
    """
    init = km.init if isinstance(km.init, str) else "given"
    algorithm = km._algorithm(X)
    if algorithm == "auto":
        from .._engine.auto import choose

        algorithm = f"auto ({choose(X, km.n_clusters)})"
    return (
        f"k-means, {init} seeding, best of {km._resolve_n_init()}, {algorithm} iterations "
        f"({km.n_iter_} to converge)" + (f", {km.refine} refinement" if km.refine else "")
    )
