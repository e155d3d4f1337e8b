"""``report.html`` of an image run (``summary["kind"] == "images"``): one self-contained
page to look at a clustering of images.

Built from the run folder (summary.json, assignments.csv, map.npy, k_scores.json) with
Jinja2 (auto-escaping every value: file names with quotes, ``<`` or anything else are
shown, never interpreted), plus a ``thumbs/`` folder of small JPEGs. No network: no CDN,
no web fonts; the figures are inline SVG and a canvas.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .._imagefiles import jpeg_thumbnail
from ..runs.layout import THUMBS
from ._shared import (
    MAP_NAMES,
    cluster_colours,
    is_number,
    normalise,
    read_map,
    read_rows,
    render_page,
    require,
)

logger = logging.getLogger(__name__)

__all__ = ["build", "describe_map"]

#: images shown per cluster: closest to the centre, then the farthest
N_CLOSEST, N_FARTHEST = 12, 6
#: a random sample of the other members (seeded: the same page for the same run)
N_SAMPLE, SAMPLE_SEED = 12, 0
#: clusters listed in each "check first" ranking
N_WORST = 8
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
    from PIL import Image

    try:
        # as the image reader opens it: a regular file, the allowed decoders only (by its
        # first bytes without an image extension; never EPS, PSD, ...), no bomb
        data = jpeg_thumbnail(src, THUMB_SIZE, quality=75)
        with atomic_path(dst, fsync=False) as tmp:  # never torn: one that exists is reused
            Path(tmp).write_bytes(data)
        return True
    except (
        OSError,
        ValueError,
        MemoryError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        logger.warning("no thumbnail for %s: %s", src, exc)
        return False


def _natural(label) -> list:
    """Sort key: numbers in a label compare as numbers (2 before 10), whatever its type."""
    return [
        (0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(label)) if t
    ]


def _confusion(rows, k):
    """The clusters against the labels (``rows`` with a ``label``), ordered so that the
    pairs of the Hungarian assignment lie on the diagonal, and each cluster's majority
    class and purity.

    The smaller side keeps its own order and the larger follows it: with at least as
    many clusters as classes, the rows are the classes in natural order (2 before 10)
    and column i is the cluster paired with class i; the clusters left over come after,
    in the order of their majority class. With fewer clusters, the columns are the
    clusters by id and row i the class paired with cluster i; the classes left over come
    after, in the order of the cluster holding most of them. Empty clusters (and classes
    left unpaired because of them) come last on their side.

    Returns the table for the page (``clusters``: the columns, ``rows``: each row's label
    and cells ``(count, shade 0-9 by the cell's share of its column, paired)``,
    ``pairs``: how many pairs lie on the diagonal) and, per cluster id, its majority
    class and purity in whole percent (None for an empty cluster).

    Examples
    --------
    >>> rows = [{"cluster": c, "label": l} for c, l in [(0, "b"), (0, "b"), (1, "a"), (2, "a")]]
    >>> table, majority = _confusion(rows, 3)
    >>> [(c["id"], c["mapped"]) for c in table["clusters"]], [r["label"] for r in table["rows"]]
    ([(1, 'a'), (0, 'b'), (2, 'a')], ['a', 'b'])
    >>> majority
    [('b', 100), ('a', 100), ('a', 100)]
    """
    from ..metrics import ClusterLabelMapper

    labels = ["" if r["label"] is None else str(r["label"]) for r in rows]  # a short row: ""
    clusters = [r["cluster"] for r in rows]
    # one cluster per class (Hungarian); clusters beyond the classes: their majority
    mapping = ClusterLabelMapper(mapping="hungarian").fit(clusters, labels).mapping_
    classes = sorted(set(labels), key=lambda c: (_natural(c), c))
    index = {c: i for i, c in enumerate(classes)}
    table = np.zeros((len(classes), k), dtype=np.int64)
    np.add.at(table, ([index[c] for c in labels], clusters), 1)
    sizes = table.sum(axis=0)
    # the pairs: each class with the cluster mapped to it that holds most of it (with
    # more clusters than classes several may be mapped to one; taking the one holding
    # most keeps the matching one to one and as large as the Hungarian one)
    partner: dict[int, int] = {}  # class index -> cluster
    for j, c in sorted(mapping.items()):
        i = index[str(c)]
        if i not in partner or table[i, j] > table[i, partner[i]]:
            partner[i] = j
    paired_cluster = {j: i for i, j in partner.items()}
    majority = [
        (classes[int(np.argmax(table[:, j]))], int(100 * table[:, j].max() // sizes[j]))
        if sizes[j]
        else None
        for j in range(k)
    ]
    if k >= len(classes):
        order_rows = sorted(range(len(classes)), key=lambda i: (i not in partner, i))
        order_cols = [partner[i] for i in order_rows if i in partner]
        position = {i: p for p, i in enumerate(order_rows)}
        rest = [j for j in range(k) if j not in paired_cluster]
        order_cols += sorted(  # by majority class (in the rows' order), empty ones last
            rest, key=lambda j: (0, position[index[majority[j][0]]], j) if sizes[j] else (1, 0, j)
        )
    else:
        order_cols = sorted(range(k), key=lambda j: (j not in paired_cluster, j))
        order_rows = [paired_cluster[j] for j in order_cols if j in paired_cluster]
        rest = [i for i in range(len(classes)) if i not in partner]
        order_rows += sorted(rest, key=lambda i: (int(np.argmax(table[i, order_cols])), i))
    shares = table / np.maximum(sizes, 1)
    shade = np.where(table > 0, np.minimum(9, 1 + (shares * 9).astype(int)), 0)
    columns = []
    for j in order_cols:
        if j in paired_cluster:
            columns.append({"id": j, "mapped": classes[paired_cluster[j]], "paired": True})
        else:
            columns.append(
                {"id": j, "mapped": majority[j][0] if majority[j] else "", "paired": False}
            )
    page = {
        "clusters": columns,
        "rows": [
            {
                "label": classes[i],
                "cells": [
                    (int(table[i, j]), int(shade[i, j]), paired_cluster.get(j) == i)
                    for j in order_cols
                ],
            }
            for i in order_rows
        ],
        "pairs": len(partner),
    }
    return page, majority


def _silhouettes(run: Path, summary: dict, rows: list[dict], k: int) -> list:
    """Each cluster's mean silhouette and neighbour cluster: the summary's
    ``cluster_quality`` (checked), or for a run without it computed from its
    ``features.npy``; ``None`` each when neither is there (the page shows sizes only).

    Examples
    --------
    >>> _silhouettes(Path("no/such/run"), {"k": 1}, [{"cluster": 0}], 1)
    [(None, None)]
    """
    k_range = range(k)

    def good(entry) -> bool:
        return (
            isinstance(entry, dict)
            and (entry.get("silhouette") is None or is_number(entry["silhouette"]))
            and (entry.get("neighbour") is None or entry["neighbour"] in k_range)
        )

    quality = summary.get("cluster_quality")
    if quality is not None:
        require(
            run,
            summary,
            "cluster_quality",
            lambda v: len(v) == k and all(good(e) for e in v),
            f"a list of {k} clusters' silhouette and neighbour",
        )
    else:
        from ..errors import RunFolderError
        from ..runs.curated import read_features
        from ..runs.quality import cluster_quality

        try:
            X = read_features(run, len(rows))
        except RunFolderError as exc:
            logger.info("no coherence scores on the page: %s", exc)
            return [(None, None)] * k
        quality = cluster_quality(X, [r["cluster"] for r in rows], k)
    return [
        (None if e.get("silhouette") is None else float(e["silhouette"]), e.get("neighbour"))
        for e in quality
    ]


def _file_urls(rows: list[dict]) -> tuple[list, list, list, dict]:
    """Where the page finds every original image: the folders (as shown, and as
    ``file://`` URLs resolved now: the page is opened from disk), each row's folder
    index, and the URL of each row whose name is not UTF-8 (its bytes quoted)."""
    dirs: dict[str, int] = {}
    shown, urls, index, odd = [], [], [], {}
    for i, r in enumerate(rows):
        path = Path(r["path"])
        parent = str(path.parent)
        if parent not in dirs:
            dirs[parent] = len(dirs)
            shown.append(parent)
            try:
                urls.append(path.parent.resolve().as_uri() + "/")
            except (OSError, ValueError):  # cannot be resolved: the name alone
                urls.append("")
        index.append(dirs[parent])
        try:
            path.name.encode("utf-8")
        except UnicodeEncodeError:  # surrogate escapes: quote the bytes themselves
            from urllib.parse import quote

            odd[str(i)] = urls[dirs[parent]] + quote(os.fsencode(path.name))
    return shown, urls, index, odd


def build(run: Path, out: Path, summary: dict) -> Path:
    """Write ``report.html`` and ``thumbs/`` of the image run in ``run`` into ``out``
    (``summary``: its checked summary); returns the page's path.

    The page holds one section per cluster (its size, mean distance, mean silhouette
    and, with labels, majority class and purity), in an order the reader picks (largest,
    least coherent or least pure first), and rankings of the clusters to check first.
    The galleries (the ``N_CLOSEST`` images closest to the centre, the ``N_FARTHEST``
    farthest and a seeded random sample of ``N_SAMPLE`` others, with thumbnails) are
    built by the page's script when a section comes near the screen, from the embedded
    data, so that 500 clusters open as fast as 5; the full member list opens on demand,
    100 a page, showing the original files (``file://`` URLs resolved when the page is
    built, loaded lazily): writing a thumbnail of every image would cost more time and
    disk than the page gains. File names only ever reach the page
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
    confusion, majority = _confusion(rows, k) if rows and "label" in rows[0] else (None, [None] * k)
    quality = _silhouettes(run, summary, rows, k)
    rng = np.random.RandomState(SAMPLE_SEED)
    clusters, galleries, shown_paths, missing, order = [], [], {}, [], []
    for j in range(k):
        ranked = sorted(members[j], key=lambda item: item[1]["rank"])
        near = [i for i, _ in ranked[:N_CLOSEST]]
        far = [i for i, _ in ranked[N_CLOSEST:][-N_FARTHEST:][::-1]]
        rest = [i for i, _ in ranked[N_CLOSEST:-N_FARTHEST]] if len(ranked) > N_CLOSEST else []
        sample = (
            sorted(rng.choice(rest, N_SAMPLE, replace=False).tolist())
            if len(rest) > N_SAMPLE
            else rest
        )
        for i in near + far + sample:
            shown_paths[str(i)] = rows[i]["path"]
            thumb = thumbs / f"t{i}.jpg"
            if not thumb.is_file() and not (can_thumb and _thumb(Path(rows[i]["path"]), thumb)):
                missing.append(i)
        galleries.append({"near": near, "far": far, "sample": sample})
        order.append([i for i, _ in ranked])
        dists = [r["distance"] for _, r in ranked]
        silhouette, neighbour = quality[j]
        clusters.append(
            {
                "id": j,
                "majority": majority[j],  # (class, purity %) with labels, else None
                "size": len(ranked),
                "colour": colours[j],
                "mean_distance": float(np.mean(dists)) if dists else 0.0,
                "silhouette": silhouette if ranked else None,
                "neighbour": neighbour,
            }
        )
    # the rankings of the clusters to check first: least coherent, least pure
    scored = [c for c in clusters if c["silhouette"] is not None]
    # a cluster of one image scores 0 by convention: no sign of a mixed cluster
    ranked_scores = [c for c in scored if c["size"] > 1]
    worst = {"coherent": sorted(ranked_scores, key=lambda c: (c["silhouette"], c["id"]))[:N_WORST]}
    if confusion:
        pure = [c for c in clusters if c["majority"]]
        worst["pure"] = sorted(pure, key=lambda c: (c["majority"][1], c["id"]))[:N_WORST]
    x, y = normalise(xy if xy is not None else np.zeros((len(rows), 2)))
    dirs, dir_urls, dir_index, odd_urls = _file_urls(rows)
    data = {
        "x": x,
        "y": y,
        "c": [r["cluster"] for r in rows],
        "colours": colours,
        "names": [Path(r["path"]).name for r in rows],
        "galleries": galleries,
        "members": order,  # each cluster's rows, nearest the centre first
        "paths": shown_paths,
        "dirs": dirs,
        "dirUrls": dir_urls,
        "d": dir_index,
        "urls": odd_urls,
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
        confusion=confusion,
        map_description=describe_map(summary),
        n_closest=N_CLOSEST,
        n_sample=N_SAMPLE,
        worst=worst,
        has_silhouette=bool(scored),
    )
