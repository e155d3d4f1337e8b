"""``report.html`` of an image run (``summary["kind"] == "images"``): one self-contained
page to look at a clustering of images.

Built from the run folder (summary.json, assignments.csv, map.npy, k_scores.json) with
Jinja2 (auto-escaping every value: file names with quotes, ``<`` or anything else are
shown, never interpreted), plus a ``thumbs/`` folder of small JPEGs. No network: no CDN,
no web fonts; the figures are inline SVG and a canvas.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..runs.layout import THUMBS
from ._shared import MAP_NAMES, cluster_colours, normalise, read_map, read_rows, render_page

logger = logging.getLogger(__name__)

__all__ = ["build", "describe_map"]

#: images shown per cluster: closest to the centre, then the farthest
N_CLOSEST, N_FARTHEST = 12, 6
THUMB_SIZE = 64


def describe_map(summary: dict) -> str:
    """What the run's ``map.npy`` is, for the page and the figures.

    Examples
    --------
    >>> describe_map({"map": "tsne"})
    't-SNE of the features'
    """
    return f"{MAP_NAMES.get(summary['map'], summary['map'])} of the features"


def _thumb(src: Path, dst: Path) -> bool:
    from PIL import Image, ImageOps

    try:
        if not src.is_file():  # a path read back from a run folder: never a FIFO
            raise OSError("not a regular file (any more)")
        with Image.open(src) as img, atomic_path(dst, fsync=False) as tmp:  # never torn:
            img = ImageOps.exif_transpose(img)  # a thumbnail that exists is reused
            img.thumbnail((THUMB_SIZE, THUMB_SIZE))
            img.convert("RGB").save(tmp, "JPEG", quality=75)
        return True
    except (OSError, ValueError, MemoryError, Image.DecompressionBombError) as exc:
        logger.warning("no thumbnail for %s: %s", src, exc)
        return False


def _confusion(rows, k):
    from ..metrics import ClusterLabelMapper

    labels = [r["label"] for r in rows]
    clusters = [r["cluster"] for r in rows]
    mapper = ClusterLabelMapper().fit(clusters, labels)
    # natural order: 2 before 10, whatever the labels' type
    classes = sorted(
        mapper.classes_,
        key=lambda c: [
            (0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(c)) if t
        ],
    )
    table = np.zeros((len(classes), k), dtype=int)
    index = {c: i for i, c in enumerate(classes)}
    for lab, c in zip(labels, clusters, strict=True):
        table[index[lab], c] += 1
    return {
        "clusters": [{"id": j, "mapped": mapper.mapping_.get(j, "")} for j in range(k)],
        "rows": [{"label": c, "counts": table[i].tolist()} for i, c in enumerate(classes)],
    }


def build(run: Path, out: Path, summary: dict) -> Path:
    """Write ``report.html`` and ``thumbs/`` of the image run in ``run`` into ``out``
    (``summary``: its checked summary); returns the page's path.

    The page holds one section per cluster (its size and mean distance); the galleries
    (the ``N_CLOSEST`` images closest to the centre and the ``N_FARTHEST`` farthest) are
    built by the page's script when a section comes near the screen, from the embedded
    data, so that 500 clusters open as fast as 5. File names only ever reach the page
    as escaped text or as JSON read by ``textContent``/attributes, never as markup.

    Examples
    --------
    >>> from kmeanskit.runs.layout import read_summary
    >>> build(run, run, read_summary(run))  # doctest: +SKIP
    PosixPath('run/report.html')
    """
    k = summary["k"]
    rows = read_rows(
        run, k, summary["n_rows"], ints=("cluster", "rank"), floats=("distance",), texts=("path",)
    )
    colours = cluster_colours(k)
    xy = read_map(run, len(rows))  # everything read (and checked) before a file is written
    thumbs = out / THUMBS
    try:
        thumbs.mkdir(parents=True, exist_ok=True)
        can_thumb = True
    except OSError as exc:  # the thumbnails are optional: the page shows names instead
        logger.warning("no thumbnails: %s cannot be made: %s", thumbs, exc.strerror or exc)
        can_thumb = False
    members: list[list[tuple[int, dict]]] = [[] for _ in range(k)]
    for i, r in enumerate(rows):
        members[r["cluster"]].append((i, r))
    clusters, galleries, shown_paths, missing = [], [], {}, []
    for j in range(k):
        ranked = sorted(members[j], key=lambda item: item[1]["rank"])
        near = [i for i, _ in ranked[:N_CLOSEST]]
        far = [i for i, _ in ranked[N_CLOSEST:][-N_FARTHEST:][::-1]]
        for i in near + far:
            shown_paths[str(i)] = rows[i]["path"]
            thumb = thumbs / f"t{i}.jpg"
            if not thumb.is_file() and not (can_thumb and _thumb(Path(rows[i]["path"]), thumb)):
                missing.append(i)
        galleries.append({"near": near, "far": far})
        dists = [r["distance"] for _, r in ranked]
        clusters.append(
            {
                "id": j,
                "size": len(ranked),
                "colour": colours[j],
                "mean_distance": float(np.mean(dists)) if dists else 0.0,
            }
        )
    x, y = normalise(xy if xy is not None else np.zeros((len(rows), 2)))
    data = {
        "x": x,
        "y": y,
        "c": [r["cluster"] for r in rows],
        "colours": colours,
        "names": [Path(r["path"]).name for r in rows],
        "galleries": galleries,
        "paths": shown_paths,
        "missing": missing,
        "thumbs": THUMBS,
    }
    return render_page(
        "images.html.j2",
        run,
        out,
        summary,
        sizes=[c["size"] for c in clusters],
        colours=colours,
        data=data,
        clusters=clusters,
        confusion=_confusion(rows, k) if rows and "label" in rows[0] else None,
        map_description=describe_map(summary),
        n_closest=N_CLOSEST,
    )
