"""``report.html``: one self-contained page to look at a clustering of images.

Built from a run folder of ``kmeanskit cluster`` (summary.json, assignments.csv,
map.npy, k_scores.json) with Jinja2 (auto-escaping every value: file names with quotes,
``<`` or anything else are shown, never interpreted), plus a ``thumbs/`` folder of small
JPEGs. No network: no CDN, no web fonts; the figures are inline SVG and a canvas.
"""

from __future__ import annotations

import colorsys
import csv
import json
import logging
import re
from pathlib import Path

import numpy as np

from .._atomic import atomic_path, atomic_write

logger = logging.getLogger(__name__)

__all__ = ["build_report", "cluster_colours"]

REPORT_FILE = "report.html"
THUMBS = "thumbs"
#: images shown per cluster: closest to the centre, then the farthest
N_CLOSEST, N_FARTHEST = 12, 6
THUMB_SIZE = 64


def cluster_colours(k: int) -> list[str]:
    """``k`` distinct colours (golden-ratio hues); cluster j always gets colour j, and
    cluster ids are canonical (largest first), so colours are stable between runs.

    Examples
    --------
    >>> cluster_colours(2)
    ['#d84141', '#41d86d']
    """
    out = []
    for j in range(k):
        r, g, b = colorsys.hsv_to_rgb((j * 0.381966) % 1.0, 0.7, 0.85)
        out.append(f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}")
    return out


def _rows(run: Path) -> list[dict]:
    # names that are not UTF-8 are there as their own bytes: read back as the same paths
    with open(run / "assignments.csv", newline="", encoding="utf-8",
              errors="surrogateescape") as fh:  # fmt: skip
        return list(csv.DictReader(fh))


def _thumb(src: Path, dst: Path) -> bool:
    from PIL import Image, ImageOps

    try:
        with Image.open(src) as img, atomic_path(dst, fsync=False) as tmp:  # never torn:
            img = ImageOps.exif_transpose(img)  # a thumbnail that exists is reused
            img.thumbnail((THUMB_SIZE, THUMB_SIZE))
            img.convert("RGB").save(tmp, "JPEG", quality=75)
        return True
    except (OSError, ValueError) as exc:
        logger.warning("no thumbnail for %s: %s", src, exc)
        return False


def _bars_svg(sizes, colours) -> str:
    width, height = 640, 120
    top = max(max(sizes), 1)
    bar = width / max(len(sizes), 1)
    rects = "".join(
        f'<rect x="{i * bar:.2f}" y="{height - s / top * height:.2f}" '
        f'width="{max(bar - 1, 0.5):.2f}" height="{s / top * height:.2f}" '
        f'fill="{colours[i]}" data-cluster="{i}"><title>cluster {i}: {s}</title></rect>'
        for i, s in enumerate(sizes)
    )
    return f'<svg id="sizes" width="{width}" height="{height}" role="img">{rects}</svg>'


def _k_svg(k_scores: dict) -> str:
    ks = k_scores["k"]
    panels = []
    for method, values in k_scores["scores"].items():
        pts = [(k, v) for k, v in zip(ks, values, strict=True) if v is not None]
        if len(pts) < 2:
            continue
        lo_k, hi_k = ks[0], ks[-1]
        lo_v, hi_v = min(v for _, v in pts), max(v for _, v in pts)
        span_k, span_v = max(hi_k - lo_k, 1), (hi_v - lo_v) or 1.0

        def xy(k, v, lo_k=lo_k, lo_v=lo_v, span_k=span_k, span_v=span_v):
            return 10 + (k - lo_k) / span_k * 280, 110 - (v - lo_v) / span_v * 90

        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(k, v) for k, v in pts))
        best = k_scores["best"].get(method)
        mark = ""
        if best is not None:
            x = xy(best, lo_v)[0]
            mark = f'<line x1="{x:.1f}" x2="{x:.1f}" y1="15" y2="115" stroke="#d94040"/>'
        panels.append(
            f'<svg class="kcurve" width="300" height="130" role="img"><title>{method}</title>'
            f'<polyline points="{line}" fill="none" stroke="#333"/>{mark}'
            f'<text x="10" y="12" font-size="11">{method}: k={best}</text></svg>'
        )
    return "".join(panels)


def _confusion(rows, k):
    from ..metrics import ClusterLabelMapper

    labels = [r["label"] for r in rows]
    clusters = [int(r["cluster"]) for r in rows]
    mapper = ClusterLabelMapper().fit(clusters, labels)
    # natural order: 2 before 10, whatever the labels' type
    classes = sorted(mapper.classes_, key=lambda c: [
        (0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(c)) if t
    ])  # fmt: skip
    table = np.zeros((len(classes), k), dtype=int)
    index = {c: i for i, c in enumerate(classes)}
    for lab, c in zip(labels, clusters, strict=True):
        table[index[lab], c] += 1
    return {
        "clusters": [{"id": j, "mapped": mapper.mapping_.get(j, "")} for j in range(k)],
        "rows": [{"label": c, "counts": table[i].tolist()} for i, c in enumerate(classes)],
    }


def script_json(data) -> str:
    """``data`` as JSON to embed in a ``<script>``: with ``<`` and ``>`` escaped, no
    ``</`` or ``<!--`` in a file name or an id can close or open anything.

    Examples
    --------
    >>> script_json({"name": "</script><b>"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e")


def build_report(run, out=None) -> Path:
    """Write ``report.html`` and ``thumbs/`` into the run folder (or ``out``); returns
    the page's path.

    The page holds one section per cluster (its size and mean distance); the galleries
    (the ``N_CLOSEST`` images closest to the centre and the ``N_FARTHEST`` farthest) are
    built by the page's script when a section comes near the screen, from the embedded
    data, so that 500 clusters open as fast as 5. File names only ever reach the page
    as escaped text or as JSON read by ``textContent``/attributes, never as markup.

    Examples
    --------
    >>> build_report("no/such/run")
    Traceback (most recent call last):
    ...
    FileNotFoundError: 'no/such/run' is not a run folder of 'kmeanskit cluster'
    """
    from jinja2 import Environment, PackageLoader

    run = Path(run)
    if not (run / "summary.json").is_file():
        raise FileNotFoundError(f"{str(run)!r} is not a run folder of 'kmeanskit cluster'")
    out = Path(out) if out is not None else run
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    if summary.get("kind") == "table":
        from .table_report import build_table_report

        return build_table_report(run, out, summary)
    rows = _rows(run)
    k = int(summary["k"])
    colours = cluster_colours(k)
    thumbs = out / THUMBS
    thumbs.mkdir(parents=True, exist_ok=True)
    members: list[list[tuple[int, dict]]] = [[] for _ in range(k)]
    for i, r in enumerate(rows):
        members[int(r["cluster"])].append((i, r))
    clusters, galleries, shown_paths, missing = [], [], {}, []
    for j in range(k):
        ranked = sorted(members[j], key=lambda item: int(item[1]["rank"]))
        near = [i for i, _ in ranked[:N_CLOSEST]]
        far = [i for i, _ in ranked[N_CLOSEST:][-N_FARTHEST:][::-1]]
        for i in near + far:
            shown_paths[str(i)] = rows[i]["path"]
            thumb = thumbs / f"t{i}.jpg"
            if not thumb.exists() and not _thumb(Path(rows[i]["path"]), thumb):
                missing.append(i)
        galleries.append({"near": near, "far": far})
        dists = [float(r["distance"]) for _, r in ranked]
        clusters.append({
            "id": j, "size": len(ranked), "colour": colours[j],
            "mean_distance": float(np.mean(dists)) if dists else 0.0,
        })  # fmt: skip
    xy = np.load(run / "map.npy") if (run / "map.npy").is_file() else np.zeros((len(rows), 2))
    span = np.ptp(xy, axis=0)
    xy = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0)
    data = {
        "x": np.round(xy[:, 0], 4).tolist(), "y": np.round(xy[:, 1], 4).tolist(),
        "c": [int(r["cluster"]) for r in rows], "colours": colours,
        "names": [Path(r["path"]).name for r in rows], "galleries": galleries,
        "paths": shown_paths, "missing": missing, "thumbs": THUMBS,
    }  # fmt: skip
    data_json = script_json(data)
    k_scores = run / "k_scores.json"
    # autoescape for every template, whatever its name ends with
    env = Environment(loader=PackageLoader("kmeanskit.report"), autoescape=True)
    scores = summary.get("scores", {})
    page = env.get_template("report.html.j2").render(
        summary=summary,
        scores=[(n, f"{v:.4g}" if isinstance(v, float) else v) for n, v in scores.items()],
        clusters=clusters,
        sizes_svg=_bars_svg([c["size"] for c in clusters], colours),
        k_svg=_k_svg(json.loads(k_scores.read_text())) if k_scores.is_file() else "",
        confusion=_confusion(rows, k) if rows and "label" in rows[0] else None,
        data_json=data_json,
        n_closest=N_CLOSEST,
    )  # fmt: skip
    # a name that is not UTF-8 shows its undecodable bytes as U+FFFD on the page
    page = page.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return atomic_write(out / REPORT_FILE, lambda fh: fh.write(page), text=True)
