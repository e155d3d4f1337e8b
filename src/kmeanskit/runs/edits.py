"""The edits of a run, made by hand (``kmeanskit review``): an append-only log, replayed.

Every edit is one line of ``edits.jsonl`` in the run folder, appended whole and flushed to
disk before it is acknowledged (:meth:`EditLog.append`): a crash loses at most the edit in
flight, and the history stays readable. The curated state (the cluster of every row, the
clusters that exist, their names) is never stored: it is rebuilt by replaying the log over
the run's own ``assignments.csv`` (:func:`replay`). Undo and redo are edits too: an undo
takes back the last edit still in force, a redo puts back the last one undone, and any
other edit forgets what was undone.

The edits (ids are cluster ids; the run's clusters are ``0..k-1``, new ones get the next
free id; ``-1`` is "unassigned"):

- ``{"op": "rename", "cluster": C, "name": "cats"}``
- ``{"op": "merge", "clusters": [A, B], "into": A}``
- ``{"op": "move", "rows": [...], "to": C}`` (``"new": true`` when ``C`` is made by it)
- ``{"op": "split", "cluster": C, "parts": [[rows], [rows], ...], "created": [D, E]}``:
  the first part stays in ``C``, the others go to the new clusters
- ``{"op": "undo"}``, ``{"op": "redo"}``

The first line, ``{"op": "start", "assignments": SHA-256}``, ties the log to the
``assignments.csv`` it edits: a log over another clustering (a run redone in place) is
refused, never replayed onto the wrong rows.

The log is read back as untrusted input: each line is checked against the state it applies
to, and a damaged line raises :class:`~kmeanskit.errors.RunFolderError` naming the file
and line; only a last line cut short by a crash is dropped (with a warning).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import RunFolderError
from . import layout
from .manifest import sha256_file

logger = logging.getLogger(__name__)

__all__ = ["EDITS_FILE", "Curation", "EditError", "EditLog", "read_labels", "replay"]

EDITS_FILE = layout.EDITS_FILE
#: the longest line (one edit) and log read back
MAX_LINE = 8 * 2**20
MAX_LOG = 512 * 2**20
MAX_NAME = 100
UNASSIGNED = -1
OPS = ("rename", "merge", "move", "split", "undo", "redo")
START = "start"


class EditError(ValueError):
    """An edit that cannot apply to the current state (the message says why)."""


def default_name(cluster: int, k: int) -> str:
    """The name of a cluster nobody named: its folder's name in the run.

    Examples
    --------
    >>> default_name(3, 20), default_name(120, 20)
    ('cluster_03', 'cluster_120')
    """
    width = max(2, len(str(k - 1)))
    return f"cluster_{cluster:0{width}d}"


def check_name(name) -> str:
    """A cluster name as given: 1 to 100 characters, no control characters, not only
    spaces; returned without surrounding spaces.

    Examples
    --------
    >>> check_name("  cats ")
    'cats'
    """
    if not isinstance(name, str):
        raise EditError(f"name should be a text; got {type(name).__name__}")
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise EditError(f"name should be 1 to {MAX_NAME} characters; got {len(name)}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name):
        raise EditError(f"name {name!r:.60} holds control characters")
    return name


def read_labels(run, summary: dict | None = None) -> np.ndarray:
    """The cluster of every row of the run's ``assignments.csv``, checked against its
    summary (one row per clustered row, clusters ``0..k-1``)."""
    run = Path(run)
    summary = summary if summary is not None else layout.read_summary(run)
    path = run / layout.CSV_FILE
    n, k = summary["n_rows"], summary["k"]
    labels = np.empty(n, dtype=np.int64)
    try:
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            if "cluster" not in header:
                raise RunFolderError(f"{str(path)!r}: no 'cluster' column")
            col = header.index("cluster")
            i = -1
            for i, row in enumerate(reader):
                if i >= n:
                    raise RunFolderError(f"{str(path)!r}: more than n_rows={n} rows")
                try:
                    labels[i] = int(row[col])
                except (IndexError, ValueError):
                    raise RunFolderError(
                        f"{str(path)!r} row {i + 2}: cluster {row[col : col + 1]!r:.40} is not "
                        "a cluster id"
                    ) from None
    except (OSError, csv.Error, UnicodeError) as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc}") from None
    if i + 1 != n:
        raise RunFolderError(f"{str(path)!r}: {i + 1} rows; summary.json says {n}")
    if n and (labels.min() < 0 or labels.max() >= k):
        raise RunFolderError(f"{str(path)!r}: cluster ids outside 0..{k - 1}")
    return labels


@dataclass
class Curation:
    """The curated state of a run: the cluster of every row (``-1`` unassigned), the
    clusters that exist and their names (``None``: not named).

    Examples
    --------
    >>> c = Curation.initial(np.array([0, 0, 1]), k=2)
    >>> c.apply({"op": "rename", "cluster": 1, "name": "cats"})
    >>> [(d["id"], d["name"], d["size"]) for d in c.clusters()]
    [(0, 'cluster_00', 2), (1, 'cats', 1)]
    """

    k: int
    labels: np.ndarray
    names: dict = field(default_factory=dict)

    @classmethod
    def initial(cls, labels, k: int) -> Curation:
        return cls(k, np.array(labels, dtype=np.int64), {j: None for j in range(k)})

    def copy(self) -> Curation:
        return Curation(self.k, self.labels.copy(), dict(self.names))

    @property
    def next_id(self) -> int:
        return max(max(self.names, default=-1), self.k - 1) + 1

    def name(self, cluster: int) -> str:
        if cluster == UNASSIGNED:
            return "unassigned"
        return self.names.get(cluster) or default_name(cluster, self.k)

    def clusters(self) -> list[dict]:
        """``{"id", "name", "size"}`` of every cluster, by id; the unassigned rows last
        (id -1) when there are any."""
        sizes = np.bincount(self.labels + 1, minlength=self.next_id + 1)
        out = [
            {"id": j, "name": self.name(j), "size": int(sizes[j + 1])} for j in sorted(self.names)
        ]
        if sizes[0]:
            out.append({"id": UNASSIGNED, "name": "unassigned", "size": int(sizes[0])})
        return out

    def _cluster(self, value, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.names:
            raise EditError(f"{what}={value!r:.40} is not a cluster of this run")
        return value

    def _rows(self, value, what: str = "rows") -> np.ndarray:
        n = len(self.labels)
        if not isinstance(value, list) or not value:
            raise EditError(f"{what} should be a non-empty list of row numbers")
        if not all(isinstance(r, int) and not isinstance(r, bool) for r in value):
            raise EditError(f"{what} should hold row numbers (integers)")
        if not all(0 <= r < n for r in value):  # before numpy: any size of int
            raise EditError(f"{what}: row numbers outside 0..{n - 1}")
        rows = np.asarray(value, dtype=np.int64)
        if np.unique(rows).size != rows.size:
            raise EditError(f"{what}: a row is named twice")
        return rows

    def apply(self, edit: dict) -> None:
        """Apply one edit (not undo/redo) in place; raises :class:`EditError`, leaving the
        state as it was, when it cannot apply."""
        op = edit.get("op")
        if op == "rename":
            cluster = self._cluster(edit.get("cluster"), "cluster")
            self.names[cluster] = check_name(edit.get("name"))
        elif op == "merge":
            clusters = edit.get("clusters")
            if not isinstance(clusters, list) or len(clusters) < 2:
                raise EditError("clusters should list two clusters or more")
            ids = [self._cluster(c, "clusters") for c in clusters]
            if len(set(ids)) != len(ids):
                raise EditError("clusters: a cluster is named twice")
            into = self._cluster(edit.get("into"), "into")
            if into not in ids:
                raise EditError(f"into={into} is not one of clusters={ids}")
            gone = [c for c in ids if c != into]
            self.labels[np.isin(self.labels, gone)] = into
            for c in gone:
                del self.names[c]
        elif op == "move":
            rows = self._rows(edit.get("rows"))
            to = edit.get("to")
            if edit.get("new") is True:
                if to != self.next_id:
                    raise EditError(f"a new cluster gets id {self.next_id}; got to={to!r:.20}")
                self.names[to] = None
            elif to != UNASSIGNED:
                to = self._cluster(to, "to")
            self.labels[rows] = to
        elif op == "split":
            cluster = self._cluster(edit.get("cluster"), "cluster")
            parts, created = edit.get("parts"), edit.get("created")
            if not isinstance(parts, list) or len(parts) < 2:
                raise EditError("parts should list two parts or more")
            if created != list(range(self.next_id, self.next_id + len(parts) - 1)):
                raise EditError(f"created should be the next free ids; got {created!r:.40}")
            rows = [self._rows(p, "parts") for p in parts]
            together = np.concatenate(rows)
            members = np.flatnonzero(self.labels == cluster)
            if together.size != members.size or not np.array_equal(np.sort(together), members):
                raise EditError(f"parts should hold exactly the members of cluster {cluster}")
            for new, part in zip(created, rows[1:], strict=True):
                self.names[new] = None
                self.labels[part] = new
        else:
            raise EditError(f"op should be one of {', '.join(OPS)}; got {op!r:.40}")


class History:
    """The edits in force and those undone, over a :class:`Curation`; each edit in force
    keeps what it changed, so that an undo or a redo costs what the edit changed, not a
    replay of the whole log.

    Examples
    --------
    >>> h = History(Curation.initial(np.array([0, 1]), k=2))
    >>> h.play({"op": "move", "rows": [1], "to": 0}).tolist()
    [1]
    >>> h.play({"op": "undo"}).tolist(), h.state.labels.tolist()
    ([1], [0, 1])
    """

    def __init__(self, state: Curation):
        self.state = state
        self.in_force: list = []  # (edit, rows it changed, their labels before, names before)
        self.undone: list = []  # edits, the next redo last

    def _apply(self, edit: dict) -> np.ndarray:
        before_labels, before_names = self.state.labels.copy(), dict(self.state.names)
        self.state.apply(edit)
        rows = np.flatnonzero(before_labels != self.state.labels)
        self.in_force.append((edit, rows, before_labels[rows], before_names))
        return rows

    def play(self, edit: dict) -> np.ndarray:
        """Apply ``edit`` (undo and redo included); returns the rows whose cluster
        changed. Raises :class:`EditError`, the state unchanged, when it cannot apply."""
        op = edit.get("op")
        if op == "undo":
            if not self.in_force:
                raise EditError("nothing to undo")
            done, rows, labels, names = self.in_force.pop()
            self.state.labels[rows] = labels
            self.state.names = names
            self.undone.append(done)
            return rows
        if op == "redo":
            if not self.undone:
                raise EditError("nothing to redo")
            rows = self._apply(self.undone[-1])
            self.undone.pop()
            return rows
        rows = self._apply(edit)
        self.undone.clear()
        return rows

    def edits(self) -> list:
        return [edit for edit, *_ in self.in_force]


def replay(labels, k: int, edits: list[dict]) -> History:
    """The :class:`History` of ``edits`` played over the initial ``labels``; an undo or
    redo with nothing to take back or put back (which the log never holds) is skipped."""
    history = History(Curation.initial(labels, k))
    for edit in edits:
        if edit.get("op") == "undo" and not history.in_force:
            continue
        if edit.get("op") == "redo" and not history.undone:
            continue
        history.play(edit)
    return history


def _read_lines(path: Path) -> tuple[list[dict], int]:
    """The edits of the log ``path`` and the length of its complete lines (a last line
    cut short by a crash is left out)."""
    size = path.stat().st_size
    if size > MAX_LOG:
        raise RunFolderError(f"{str(path)!r}: {size} bytes; an edit log is read up to {MAX_LOG}")
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        logger.warning(
            "%s: the last edit was cut short (a crash while it was written); it is ignored",
            path,
        )
    edits = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{str(path)!r} line {number}"
        if len(line) > MAX_LINE:
            raise RunFolderError(f"{where}: over {MAX_LINE} bytes")
        try:
            edit = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise RunFolderError(f"{where} is not an edit: {exc}") from None
        first = not edits
        if not isinstance(edit, dict) or (edit.get("op") == START) != first:
            raise RunFolderError(f"{where}: an edit log starts with one 'start' line")
        if not first and edit.get("op") not in OPS:
            raise RunFolderError(f"{where} is not an edit (op one of {', '.join(OPS)})")
        edit["_line"] = number
        edits.append(edit)
    return edits, end


class EditLog:
    """The edit log of the run folder ``run``, replayed; edits appended one at a time
    (thread-safe).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kmeanskit.runs.folder import staged_run
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with staged_run(out) as run:
    ...     _ = run.write_assignments(["id", "cluster", "distance"], [["a", 0, 0.0], ["b", 1, 0.0]])
    ...     _ = run.write_summary({"kind": "table", "input": "", "n_rows": 2, "features": "x",
    ...         "k": 2, "k_choice": None, "algorithm": "", "inertia": 0.0,
    ...         "cluster_sizes": [1, 1], "scores": {}, "seconds": 0.0, "n_features": 1,
    ...         "feature_names": ["x"], "dropped_columns": [], "dropped_rows": 0,
    ...         "filled_values": 0, "scale": "none", "metric": "euclidean", "centres": [],
    ...         "feature_means": [], "feature_stds": []})
    >>> log = EditLog(out)
    >>> _ = log.append({"op": "move", "rows": [1], "to": 0})
    >>> EditLog(out).state.labels.tolist()
    [0, 0]
    """

    def __init__(self, run):
        self.run = Path(run)
        self.summary = layout.read_summary(self.run)
        self.path = self.run / EDITS_FILE
        self.initial = read_labels(self.run, self.summary)
        self.k = self.summary["k"]
        self._lock = threading.Lock()
        self.edits: list[dict] = []
        self.fingerprint = sha256_file(self.run / layout.CSV_FILE)
        self._end = None  # the length of the log's complete lines, as read
        if self.path.is_file() and not self.path.is_symlink():
            lines, self._end = _read_lines(self.path)
            if lines and lines[0].get("assignments") != self.fingerprint:
                raise RunFolderError(
                    f"{str(self.path)!r} holds the edits of another clustering (its "
                    f"{layout.CSV_FILE} has changed since): move it away to start afresh"
                )
            self.edits = lines[1:]
        elif os.path.lexists(self.path):
            raise RunFolderError(f"{str(self.path)!r} is not a plain file")
        try:
            self.history = replay(self.initial, self.k, self.edits)
        except EditError as exc:
            raise RunFolderError(f"{str(self.path)!r}: an edit does not apply: {exc}") from None

    @property
    def state(self) -> Curation:
        """The curated state: the log replayed."""
        return self.history.state

    @property
    def in_force(self) -> list:
        """The edits in force, in order."""
        return self.history.edits()

    @property
    def can_undo(self) -> bool:
        return bool(self.history.in_force)

    @property
    def can_redo(self) -> bool:
        return bool(self.history.undone)

    def _write(self, edit: dict) -> None:
        line = json.dumps(edit, separators=(",", ":")).encode() + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, edit: dict) -> np.ndarray:
        """Apply ``edit`` and append it to the log (flushed to disk first); returns the
        rows whose cluster changed. Raises :class:`EditError` for an edit that does not
        apply (nothing is written)."""
        if not isinstance(edit, dict):
            raise EditError("an edit is a JSON object")
        edit = {key: value for key, value in edit.items() if not key.startswith("_")}
        with self._lock:
            snapshot = (self.state.copy(), list(self.history.in_force), list(self.history.undone))
            rows = self.history.play(edit)
            edit["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            try:
                if self._end is not None and self._end < self.path.stat().st_size:
                    # a line cut short by a crash: it goes before the next edit (reading
                    # the log, as the report and predict do, never changes it)
                    os.truncate(self.path, self._end)
                self._end = None
                if not self.path.is_file() or not self.path.stat().st_size:
                    self._write(
                        {"op": START, "assignments": self.fingerprint, "time": edit["time"]}
                    )
                self._write(edit)
            except BaseException:  # not on disk: not done
                self.history.state, self.history.in_force, self.history.undone = snapshot
                raise
            self.edits.append(edit)
            return rows
