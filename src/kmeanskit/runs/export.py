"""Writing the curated clustering of a run out (``kmeanskit export RUN``): what every kind
of run shares, and the export of a table run.

An export is written as a run is (:mod:`.folder`): staged in a hidden folder inside
``out`` and published whole (:func:`staged_export`), so a failure leaves ``out`` as it
was; an ``out`` that holds files is refused unless ``force``, which replaces only what an
earlier export provably wrote (its manifest, :mod:`.manifest`): a file the user added to
an exported folder is never removed. The run folder itself is only read.

The folders of an export are named after the clusters (:func:`folder_names`: safe on
every file system, unique); an image run's are :func:`kmeanskit.images.curated.export_images`'s.
"""

from __future__ import annotations

import csv
import logging
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError, RunFolderError
from . import layout
from .curated import curated
from .folder import RunFolder, staged_run

logger = logging.getLogger(__name__)

__all__ = [
    "CENTRES_FILE",
    "EXPORT_DIR",
    "UNASSIGNED_DIR",
    "export_table",
    "export_target",
    "folder_names",
    "read_column",
    "staged_export",
]

#: where ``kmeanskit export RUN`` writes by default: ``RUN/curated``
EXPORT_DIR = "curated"
#: the folder of the rows no cluster holds
UNASSIGNED_DIR = "unassigned"
#: the curated centres of a table run's export
CENTRES_FILE = "centres.json"
#: the longest file name (bytes) most file systems take
NAME_MAX = 255
#: characters no file name may hold here ('/' and NUL anywhere; the others on Windows)
_BAD = set('/\\\0<>:"|?*')
_CONTROL = ("Cc", "Cf", "Cs", "Zl", "Zp")
_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10))}
_DEVICES |= {f"LPT{i}" for i in range(10)}


def _fit(stem: str, tail: str = "") -> str:
    """``stem + tail``, the stem shortened (by characters) until it fits NAME_MAX bytes."""
    while stem and len((stem + tail).encode("utf-8", "surrogateescape")) > NAME_MAX:
        stem = stem[:-1]
    return stem + tail


def folder_names(names, reserved=()) -> list[str]:
    """A folder name for each of ``names``: the characters a file system refuses or
    gives a meaning to (``/``, ``\\``, NUL, control characters, ``<>:"|?*``) replaced by
    ``_``, leading dots by ``_`` (no hidden folder, never ``.`` nor ``..``), a Windows
    device name prefixed with ``_``, at most 255 bytes, unique ignoring case and apart
    from ``reserved`` (``_2``, ``_3``... appended).

    Examples
    --------
    >>> folder_names(["cats", "../x", "a/b", "Cats", "unassigned"], reserved=["unassigned"])
    ['cats', '___x', 'a_b', 'Cats_2', 'unassigned_2']
    """
    taken = {r.casefold() for r in reserved}
    out = []
    for name in names:
        safe = "".join(
            "_" if c in _BAD or unicodedata.category(c) in _CONTROL else c for c in str(name)
        ).strip()
        bare = safe.lstrip(".")
        safe = "_" * (len(safe) - len(bare)) + bare
        if not safe or safe.split(".")[0].upper() in _DEVICES or safe.endswith((" ", ".")):
            safe = "_" + safe
        safe = _fit(safe)
        candidate, n = safe, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = _fit(safe, f"_{n}")
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def export_target(run, out=None) -> tuple[Path, Path]:
    """``(run, out)`` of an export: ``out`` defaults to ``RUN/curated``; the run folder
    itself (or a folder holding it) is refused, whose files an export would replace.

    Examples
    --------
    >>> export_target("run")
    (PosixPath('run'), PosixPath('run/curated'))
    """
    run = Path(run)
    out = run / EXPORT_DIR if out is None else Path(out)
    here, there = run.resolve(), out.resolve()
    if there == here or there in here.parents:
        raise InputError(
            f"out={str(out)!r} is the run folder {str(run)!r} or holds it: an export "
            f"goes into a folder of its own (default {str(run / EXPORT_DIR)!r})"
        )
    return run, out


@contextmanager
def staged_export(out, force: bool = False) -> Iterator[RunFolder]:
    """Write an export into a :class:`~kmeanskit.runs.folder.RunFolder` staged in ``out``;
    publish it when the block ends, with its manifest. ``out`` must be new or empty
    unless ``force``, which replaces only what an earlier export provably wrote.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "curated"
    >>> with staged_export(out) as folder:
    ...     _ = folder.write_assignments(["id", "cluster", "name"], [["a", 0, "cats"]])
    >>> sorted(p.name for p in out.iterdir())
    ['.kmeanskit-manifest.json', 'assignments.csv']
    """
    with staged_run(out, force, last=()) as folder:  # its manifest written at the end
        yield folder


def read_column(run, column: str, n_rows: int) -> list[str]:
    """The values of ``column`` in the run's ``assignments.csv`` (as written: the
    ``'`` that :func:`~kmeanskit.runs.layout.csv_cell` adds taken off), checked to be
    ``n_rows``.

    Examples
    --------
    >>> read_column("no/such/run", "id", 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kmeanskit.errors.RunFolderError: 'no/such/run/assignments.csv' cannot be read: ...
    """
    path = Path(run) / layout.CSV_FILE
    values = []
    try:
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            if column not in header:
                raise RunFolderError(f"{str(path)!r}: no {column!r} column")
            col = header.index(column)
            for number, row in enumerate(reader, start=2):
                if len(values) >= n_rows or col >= len(row):
                    raise RunFolderError(f"{str(path)!r} row {number}: not one of {n_rows} rows")
                values.append(layout.from_csv_cell(row[col]))
    except (OSError, csv.Error, UnicodeError) as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc}") from None
    if len(values) != n_rows:
        raise RunFolderError(f"{str(path)!r}: {len(values)} rows; summary.json says {n_rows}")
    return values


def export_table(run, out=None, force: bool = False) -> dict:
    """Write the curated clustering of the table run ``run`` into ``out`` (default
    ``RUN/curated``): ``assignments.csv`` (id, cluster, name; ``-1``/``unassigned`` for
    the rows no cluster holds) and ``centres.json`` (each curated cluster's id, name,
    size and centre, the mean of its members, in the table's units and scaled; none for
    a run on a precomputed distance table). Returns what was written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kmeanskit.runs.tables import cluster_table
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("a,b\\n0,0\\n0,1\\n9,9\\n9,8\\n")
    >>> _ = cluster_table(d / "t.csv", d / "run", k=2)
    >>> result = export_table(d / "run")
    >>> [(c["id"], c["name"], c["size"]) for c in result["clusters"]]
    [(0, 'cluster_00', 2), (1, 'cluster_01', 2)]
    """
    run, out = export_target(run, out)
    summary = layout.read_summary(run)
    if summary["kind"] != "table":
        raise InputError(f"run={str(run)!r} is an {summary['kind']} run, not a table run")
    clustering = curated(run)
    ids = read_column(run, "id", summary["n_rows"])
    sizes = clustering.sizes
    clusters = [
        {"id": j, "name": name, "size": size}
        for j, name, size in zip(clustering.ids, clustering.names, sizes, strict=True)
    ]
    centres = None
    if summary["metric"] != "precomputed" and clustering.ids:
        from ..tables import Scaler
        from .tables import _load_settings

        settings, _ = _load_settings(run)
        scaled = clustering.centres()
        original = Scaler.from_dict(settings["scaler"]).inverse_transform(scaled)
        names = settings["feature_names"]
        for c, row, raw in zip(clusters, scaled, original, strict=True):
            c["centre"] = dict(zip(names, map(float, raw), strict=True))
            c["centre_scaled"] = [float(v) for v in row]
        centres = {
            "format": "kmeanskit-curated-centres",
            "version": 1,
            "run": str(run),
            "n_edits": clustering.n_edits,
            "scale": summary["scale"],
            "feature_names": names,
            "clusters": clusters,
        }
    else:
        logger.info("%s: no centres (a run on a precomputed distance table)", run)
    rows = [
        [ident, int(lab), clustering.name(int(lab))]
        for ident, lab in zip(ids, clustering.labels, strict=True)
    ]
    with staged_export(out, force) as folder:
        folder.write_assignments(["id", "cluster", "name"], rows)
        if centres is not None:
            folder.write_json("centres", CENTRES_FILE, centres)
    unassigned = int((clustering.labels < 0).sum())
    logger.info("%s: %d curated clusters of %s -> %s", run, len(clusters), run, out)
    return {
        "out": str(out),
        "n_edits": clustering.n_edits,
        "clusters": [{k: c[k] for k in ("id", "name", "size")} for c in clusters],
        "unassigned": unassigned,
        "centres": str(out / CENTRES_FILE) if centres is not None else None,
    }
