"""One run folder under review: its rows, map, feature rows, edit log and thumbnails.

Everything here is read from the run folder, which is untrusted input: the rows and the
map are read by the report's checked readers, the feature rows by
:func:`~kmeanskit.runs.curated.read_features`, the edits by :class:`~kmeanskit.runs.edits.EditLog`.
An image is only ever opened by its row number, from the path the run's own
``assignments.csv`` lists for that row; never by a path a request names.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .._imagefiles import jpeg_thumbnail
from ..report._shared import normalise, read_map, read_rows
from ..runs import layout
from ..runs.curated import read_features
from ..runs.edits import EditError, EditLog
from .neighbours import Neighbours, split_rows

logger = logging.getLogger(__name__)

__all__ = ["ReviewSession"]

THUMB, FULL = 128, 1024
#: thumbnails kept in memory (about 4 KB each)
CACHE_SIZE = 8192


class ReviewSession:
    """The state of one run under review; shared by the server's requests (thread-safe).

    Examples
    --------
    See :func:`kmeanskit.review.review`.
    """

    def __init__(self, run):
        self.run = Path(run)
        self.log = EditLog(self.run)
        summary = self.log.summary
        self.summary = summary
        self.kind = summary["kind"]
        self.n = summary["n_rows"]
        column = "path" if self.kind == "images" else "id"
        rows = read_rows(self.run, summary["k"], self.n, texts=(column,))
        self.items = [row[column] for row in rows]
        self.names = [Path(p).name if self.kind == "images" else p for p in self.items]
        if self.kind == "images":
            self._check_paths()
        xy = read_map(self.run, self.n)
        self.map = None if xy is None else [list(p) for p in zip(*normalise(xy), strict=True)]
        has = (self.run / layout.FEATURES_FILE).is_file()  # none: an earlier kmeanskit's run
        self.features = read_features(self.run, self.n).astype(np.float32) if has else None
        self.neighbours = None if self.features is None else Neighbours(self.features)
        self._thumbs: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def _check_paths(self) -> None:
        """Warn when the images cannot be found from here (a run made with relative
        paths, reviewed from another folder)."""
        sample = self.items[:: max(1, self.n // 20)][:20]
        found = sum(Path(p).is_file() for p in sample)
        if sample and not found:
            logger.warning(
                "none of %d images sampled from %s is found from %s (the first: %r): its "
                "paths are relative to the folder 'kmeanskit cluster' ran in; start the "
                "review there, or the page shows no images",
                len(sample),
                self.run / "assignments.csv",
                Path.cwd(),
                sample[0],
            )

    # -- what the page reads ----------------------------------------------------------
    def run_info(self) -> dict:
        return {
            "kind": self.kind,
            "n": self.n,
            "k": self.summary["k"],
            "title": self.run.resolve().name,
            "names": self.names,
            "map": self.map,
            "has_features": self.features is not None,
            "has_images": self.kind == "images",
        }

    def _status(self) -> dict:
        log = self.log
        return {
            "seq": len(log.edits),
            "clusters": log.state.clusters(),
            "can_undo": log.can_undo,
            "can_redo": log.can_redo,
            "n_edits": len(log.in_force),
        }

    def state(self) -> dict:
        return {**self._status(), "labels": self.log.state.labels.tolist()}

    # -- edits --------------------------------------------------------------------------
    def edit(self, edit) -> dict:
        """Apply one edit from the page (see ``docs/review-api.md``); raises
        :class:`~kmeanskit.runs.edits.EditError` for one that does not apply."""
        if not isinstance(edit, dict):
            raise EditError("an edit is a JSON object")
        op = edit.get("op")
        state = self.log.state
        created = None
        if op == "move" and edit.get("to") == "new":
            edit = {"op": "move", "rows": edit.get("rows"), "to": state.next_id, "new": True}
            created = state.next_id
        elif op == "move":
            edit = {key: edit[key] for key in ("op", "rows", "to") if key in edit}
        elif op == "split":
            edit, created = self._split(edit, state)
        elif op in ("rename", "merge", "undo", "redo"):
            keys = {"rename": ("cluster", "name"), "merge": ("clusters", "into")}.get(op, ())
            edit = {key: edit[key] for key in ("op", *keys) if key in edit}
        else:
            raise EditError(
                f"op should be one of rename, merge, move, split, undo, redo; got {op!r:.40}"
            )
        changed = self.log.append(edit)
        labels = self.log.state.labels
        return {
            **self._status(),
            "changed": [[int(r), int(labels[r])] for r in changed],
            "created": created,
        }

    def _split(self, edit: dict, state) -> tuple[dict, list]:
        if self.features is None:
            raise EditError("this run has no features.npy (an earlier kmeanskit): no split")
        cluster, k = edit.get("cluster"), edit.get("k")
        if isinstance(cluster, bool) or not isinstance(cluster, int) or cluster not in state.names:
            raise EditError(f"cluster={cluster!r:.40} is not a cluster of this run")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
            raise EditError(f"k should be a whole number or null; got {k!r:.40}")
        members = np.flatnonzero(state.labels == cluster)
        if members.size < 2:
            raise EditError(f"cluster {cluster} has {members.size} members: nothing to split")
        try:
            parts = split_rows(self.features, members, k)
        except ValueError as exc:
            raise EditError(str(exc)) from None
        created = list(range(state.next_id, state.next_id + len(parts) - 1))
        return {
            "op": "split",
            "cluster": cluster,
            "k": len(parts),
            "parts": parts,
            "created": created,
        }, created

    # -- neighbours -----------------------------------------------------------------------
    def similar(self, row: int, n: int) -> dict:
        if self.neighbours is None:
            raise EditError("this run has no features.npy: no similar images")
        found = self.neighbours.similar(row, n)
        return {"row": row, "neighbours": [{"row": r, "distance": d} for r, d in found]}

    def duplicates(self, threshold: float | None) -> dict:
        if self.neighbours is None:
            raise EditError("this run has no features.npy: no near-duplicates")
        scale = self.neighbours.scale()
        threshold = scale["default"] if threshold is None else threshold
        groups = self.neighbours.groups(threshold)
        return {**scale, "threshold": threshold, "n_groups": len(groups), "groups": groups[:200]}

    # -- images ---------------------------------------------------------------------------
    def image(self, row: int, full: bool) -> bytes | None:
        """The JPEG of row ``row``'s image, at most 128 (or 1024) pixels a side; None when
        the run has no images or the file cannot be read now."""
        if self.kind != "images":
            return None
        key = (row, full)
        with self._lock:
            if key in self._thumbs:
                self._thumbs.move_to_end(key)
                return self._thumbs[key]
        data = _jpeg(Path(self.items[row]), FULL if full else THUMB)
        if data is not None and not full:
            with self._lock:
                self._thumbs[key] = data
                while len(self._thumbs) > CACHE_SIZE:
                    self._thumbs.popitem(last=False)
        return data


def _jpeg(src: Path, side: int) -> bytes | None:
    from PIL import Image

    try:
        return jpeg_thumbnail(src, side, quality=80)
    except (
        OSError,
        ValueError,
        MemoryError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        logger.warning("no image for %s: %s", src, exc)
        return None
