"""What a run folder holds: every file name, and the declared schema of ``summary.json``.

A run folder is what ``kmeanskit cluster`` writes (:func:`kmeanskit.runs.folder.staged_run`):
``summary.json`` (written once, published last: a folder without it is incomplete),
``assignments.csv``, ``map.npy`` (a 2-d view of every row, for the report),
``k_scores.json`` when k was chosen, ``features.npy`` (the rows k-means ran on), the
model, and what the kind of run adds (the
cluster folders of an image run, ``table.json`` of a table run). The report and the
figures are built from it (:mod:`kmeanskit.report`).

``summary.json`` declares its ``kind`` (:data:`KINDS`); its keys are :data:`COMMON` plus
those of its kind (:data:`SCHEMA`). Everything read back is untrusted:
:func:`read_summary` checks every declared key's type and raises
:class:`~kmeanskit.errors.RunFolderError` naming the file, the key and the value.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import NotARunFolderError, RunFolderError

__all__ = [
    "COMMON",
    "CSV_FILE",
    "EDITS_FILE",
    "FEATURES_FILE",
    "JOBLIB_FILE",
    "KINDS",
    "K_SCORES_FILE",
    "MAP_FILE",
    "MODEL_FILE",
    "REPORT_FILE",
    "SCHEMA",
    "STORE",
    "SUMMARY_FILE",
    "TABLE_FILE",
    "THUMBS",
    "csv_cell",
    "from_csv_cell",
    "n_items",
    "read_summary",
]

SUMMARY_FILE = "summary.json"
CSV_FILE = "assignments.csv"
MAP_FILE = "map.npy"
#: the rows k-means ran on (float32, one per row of assignments.csv): what ``review``
#: finds similar rows, near-duplicates and the centres of curated clusters in
FEATURES_FILE = "features.npy"
K_SCORES_FILE = "k_scores.json"
#: the model that loads without pickle (numpy arrays and JSON)
MODEL_FILE = "model.kmk"
#: the pickle-based model: only for models the safe format cannot hold, or on request
JOBLIB_FILE = "model.joblib"
#: a table run's column handling and scaler, beside its model
TABLE_FILE = "table.json"
#: the zarr store of the feature rows of an image run on Dask
STORE = "features.zarr"
REPORT_FILE = "report.html"
THUMBS = "thumbs"
#: the hand edits of ``kmeanskit review`` (:mod:`kmeanskit.runs.edits`)
EDITS_FILE = "edits.jsonl"
#: the names every run of any kind may write (checked before the work with force);
#: ``edits.jsonl`` is never provably a run's: a folder holding one is not overwritten,
#: even with force
FIXED_NAMES = (
    SUMMARY_FILE,
    CSV_FILE,
    MAP_FILE,
    K_SCORES_FILE,
    REPORT_FILE,
    THUMBS,
    FEATURES_FILE,
    EDITS_FILE,
)

#: the kinds of run, and what one row of each is called
KINDS = {"images": "images", "table": "rows"}

_NUM = (int, float)
_OPT_STR = (str, type(None))
#: key -> accepted types, in every summary
COMMON = {
    "kind": str,
    "input": str,
    "n_rows": int,
    "features": str,
    "k": int,
    "k_choice": _OPT_STR,
    "algorithm": str,
    "inertia": _NUM,
    "cluster_sizes": list,
    "scores": dict,
    "outputs": dict,
    "seconds": _NUM,
    #: per cluster: size, silhouette, neighbour (and majority, purity with labels), by
    #: :func:`kmeanskit.runs.quality.cluster_quality`; None in runs of earlier versions
    "cluster_quality": (list, type(None)),
}
#: kind -> key -> accepted types, beyond :data:`COMMON`
SCHEMA = {
    "images": {
        "n_images": int,
        "size": list,
        "mode": str,
        "map": str,
        "failures": list,
        "scheduler": _OPT_STR,
    },
    "table": {
        "n_features": int,
        "feature_names": list,
        "dropped_columns": list,
        "dropped_rows": int,
        "filled_values": int,
        "scale": str,
        "metric": str,
        "centres": list,
        "feature_means": list,
        "feature_stds": list,
    },
}
#: keys that a run of an earlier kmeanskit may lack (read with these values)
_OPTIONAL = {
    "input": "",
    "seconds": 0.0,
    "scheduler": None,
    "map": "pca",
    "cluster_quality": None,
}

#: keys a run being written may leave out (a table run has no cluster_quality yet)
_MAY_LACK = ("cluster_quality",)


#: a text cell starting with one of these is a formula to a spreadsheet
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A text value as written into a run's CSV files: one that a spreadsheet would run as
    a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is
    not a number) gets a leading ``'``; :func:`from_csv_cell` takes it off.

    Examples
    --------
    >>> csv_cell("=HYPERLINK(1)"), csv_cell("-3.5"), csv_cell("a.png")
    ("'=HYPERLINK(1)", '-3.5', 'a.png')
    """
    value = str(value)
    if value.startswith(_FORMULA):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def from_csv_cell(value: str) -> str:
    """The value :func:`csv_cell` wrote.

    Examples
    --------
    >>> from_csv_cell(csv_cell("@me")), from_csv_cell("'plain")
    ('@me', "'plain")
    """
    if value.startswith("'") and value[1:].startswith(_FORMULA):
        try:
            float(value[1:])
        except ValueError:
            return value[1:]
    return value


def n_items(summary: dict) -> str:
    """``'120 images'`` or ``'500 rows'``: how many rows a run clustered, in its kind's words.

    Examples
    --------
    >>> n_items({"kind": "table", "n_rows": 3})
    '3 rows'
    """
    return f"{summary['n_rows']} {KINDS[summary['kind']]}"


def _upgrade(summary: dict) -> dict:
    """A summary written by an earlier kmeanskit, in today's schema: image runs did not
    say their kind nor ``n_rows``; table runs kept their column names in ``features``."""
    summary = dict(summary)
    summary.setdefault("kind", "images")
    if summary["kind"] == "table" and isinstance(summary.get("features"), list):
        summary["feature_names"] = summary["features"]
        summary["features"] = "columns"
    if summary.get("n_rows") is None and isinstance(summary.get("n_images"), int):
        summary["n_rows"] = summary["n_images"]
    for key, value in _OPTIONAL.items():
        summary.setdefault(key, value)
    return summary


def check_summary(summary, where: str = "summary") -> dict:
    """``summary`` checked against the schema of its kind (types of the declared keys;
    other keys are kept); raises :class:`~kmeanskit.errors.RunFolderError`.

    Examples
    --------
    >>> try:
    ...     check_summary({"kind": "table"})
    ... except RunFolderError as exc:
    ...     print(str(exc)[:24])
    summary: no 'input' (a t
    """
    if not isinstance(summary, dict):
        raise RunFolderError(f"{where}: expected a JSON object; got {type(summary).__name__}")
    kind = summary.get("kind")
    if kind not in SCHEMA:
        raise RunFolderError(f"{where}: kind should be one of {sorted(SCHEMA)}; got {kind!r:.40}")
    for key, types in {**COMMON, **SCHEMA[kind]}.items():
        if key not in summary and key in _MAY_LACK:
            continue
        if key not in summary:
            raise RunFolderError(
                f"{where}: no {key!r} (a {kind} run's summary declares "
                f"{', '.join(sorted({**COMMON, **SCHEMA[kind]}))})"
            )
        value = summary[key]
        bad = not isinstance(value, types) or (isinstance(value, bool) and types is int)
        if not bad and isinstance(value, float) and not math.isfinite(value):
            bad = key != "inertia"
        if bad:
            raise RunFolderError(f"{where}: {key} has the wrong type: {value!r:.60}")
    if len(summary["cluster_sizes"]) != summary["k"] or summary["k"] < 1:
        raise RunFolderError(
            f"{where}: k={summary['k']!r} and cluster_sizes of "
            f"{len(summary['cluster_sizes'])} clusters disagree"
        )
    if not 1 <= summary["k"] <= summary["n_rows"]:
        # more clusters than rows is no run of kmeanskit (and a page of k sections)
        raise RunFolderError(
            f"{where}: k={summary['k']} clusters of n_rows={summary['n_rows']} {KINDS[kind]}"
        )
    return summary


def read_summary(run) -> dict:
    """The ``summary.json`` of the run folder ``run``, checked (:func:`check_summary`;
    runs of earlier versions are read in today's schema).

    Raises
    ------
    NotARunFolderError
        When ``run`` holds no ``summary.json`` (a FileNotFoundError).
    RunFolderError
        When its summary is damaged or not kmeanskit's (a ValueError).
    """
    path = Path(run) / SUMMARY_FILE
    if not path.is_file():
        raise NotARunFolderError(
            f"{str(run)!r} is not a run folder of 'kmeanskit cluster' (no {SUMMARY_FILE})"
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc}") from None
    if not isinstance(summary, dict):
        raise RunFolderError(f"{str(path)!r}: expected a JSON object")
    return check_summary(_upgrade(summary), repr(str(path)))
