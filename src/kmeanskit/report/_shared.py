"""What the report's pages (and its figures) share: the cluster colours, the figures
drawn as inline SVG, reading a run folder's rows, map and k scores, and rendering a
page with Jinja2.

Everything read here comes from a run folder, and is untrusted: a damaged file raises
:class:`~kmeanskit.errors.RunFolderError` naming it (a ValueError: one line on the
command line), never a KeyError or an IndexError from deep inside a page.
"""

from __future__ import annotations

import colorsys
import csv
import html
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._atomic import atomic_write
from ..errors import RunFolderError
from ..runs.layout import (
    CSV_FILE,
    K_SCORES_FILE,
    MAP_FILE,
    REPORT_FILE,
    SUMMARY_FILE,
    from_csv_cell,
    n_items,
)
from ..tables._common import TableError
from ..tables._npyfile import read_npy_file, shape_text

logger = logging.getLogger(__name__)

__all__ = [
    "MAP_NAMES",
    "bars_svg",
    "cluster_colours",
    "cluster_sizes",
    "is_number",
    "k_svg",
    "normalise",
    "read_k_scores",
    "read_map",
    "read_rows",
    "render_page",
    "require",
    "review_state",
    "script_json",
]

#: how a summary's ``map`` method is written on the page and in the figures
MAP_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


#: the largest k a run folder may declare
MAX_K = 10**7
#: the largest coordinate a map may hold (its spans and offsets stay finite)
_MAP_LIMIT = 1e100


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


def script_json(data) -> str:
    """``data`` as JSON to embed in a ``<script>``: with ``<`` and ``>`` escaped, no
    ``</`` or ``<!--`` in a file name or an id can close or open anything.

    Examples
    --------
    >>> script_json({"name": "</script><b>"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e")


def is_number(value) -> bool:
    """A finite int or float (not a bool): what a number read back from JSON must be.

    Examples
    --------
    >>> is_number(2.5), is_number(True), is_number(float("nan")), is_number("1")
    (True, False, False, False)
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:  # an int of 400 digits has no float
        return math.isfinite(float(value))
    except OverflowError:
        return False


def require(run, summary: dict, key: str, test: Callable[[object], bool], what: str):
    """``summary[key]`` when ``test`` accepts it; else a
    :class:`~kmeanskit.errors.RunFolderError` naming the run's ``summary.json``. For what
    :func:`kmeanskit.runs.layout.read_summary` does not check: the items of its lists.

    Examples
    --------
    >>> require("run", {"k": 2}, "k", lambda v: v > 0, "positive")
    2
    """
    value = summary[key]
    if not test(value):
        raise RunFolderError(
            f"{str(Path(run) / SUMMARY_FILE)!r}: {key} should be {what}; got {value!r:.60}"
        )
    return value


def cluster_sizes(run, summary: dict) -> list[int]:
    """The summary's ``cluster_sizes``, checked to be ``k`` counts (read_summary checks
    that it is a list of ``k`` items, not what they are).

    Examples
    --------
    >>> cluster_sizes("run", {"cluster_sizes": [3, 1], "n_rows": 4})
    [3, 1]
    """
    return require(
        run,
        summary,
        "cluster_sizes",
        lambda v: (
            all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in v)
            and sum(v) == summary["n_rows"]
        ),
        f"a count per cluster, {summary['n_rows']} in all",
    )


def read_rows(run, k: int, n_rows=None, ints=("cluster",), floats=(), texts=()) -> list[dict]:
    """The rows of the run's ``assignments.csv``, the columns ``ints`` and ``floats``
    converted, ``cluster`` checked to lie in ``range(k)``, the columns ``texts`` there;
    ``n_rows`` (when given): how many rows the summary says there are.

    Names that are not UTF-8 are there as their own bytes: they are read back as the
    same paths (``surrogateescape``).

    Examples
    --------
    >>> read_rows("no/such/run", 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kmeanskit.errors.RunFolderError: 'no/such/run/assignments.csv' cannot be read: ...
    """
    path = Path(run) / CSV_FILE
    try:
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (OSError, csv.Error) as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc}") from None
    if n_rows is not None and len(rows) != n_rows:
        raise RunFolderError(
            f"{str(path)!r} holds {len(rows)} rows; "
            f"{str(Path(run) / SUMMARY_FILE)!r} says n_rows={n_rows}"
        )
    for name in (*ints, *floats, *texts):
        if name not in columns:
            raise RunFolderError(f"{str(path)!r}: no {name!r} column")
    text_columns = [c for c in columns if c not in (*ints, *floats)]
    for row in rows:  # texts a spreadsheet would run were written with a leading '
        row.update({c: from_csv_cell(row[c]) for c in text_columns if isinstance(row[c], str)})
    for line, row in enumerate(rows, start=2):
        try:
            row.update({name: int(row[name]) for name in ints})
            row.update({name: float(row[name]) for name in floats})
        except (TypeError, ValueError):
            raise RunFolderError(
                f"{str(path)!r}, line {line}: expected numbers in {', '.join((*ints, *floats))}"
            ) from None
        if any(row[name] is None for name in texts):
            raise RunFolderError(f"{str(path)!r}, line {line}: too few values")
        if "cluster" in ints and not 0 <= row["cluster"] < k:
            raise RunFolderError(
                f"{str(path)!r}, line {line}: cluster {row['cluster']} "
                f"is not one of the {k} clusters"
            )
    return rows


def read_map(run, n: int) -> np.ndarray | None:
    """The run's ``map.npy`` (a 2-d view of its ``n`` rows), or None without one.

    Examples
    --------
    >>> read_map("no/such/run", 3) is None
    True
    """
    path = Path(run) / MAP_FILE
    if not path.is_file():
        return None

    def check(shape: tuple, dtype: np.dtype) -> None:
        # the header, before any of the data is read: a small file declaring a huge
        # array, or one holding objects, complex or time values, is refused here
        if tuple(shape) != (n, 2) or dtype.kind not in "iuf":
            raise RunFolderError(
                f"{str(path)!r}: expected {n} rows of 2 real numbers; got an "
                f"array of shape {shape_text(shape)} ({dtype})"
            )

    try:
        xy = read_npy_file(path, check)
    except TableError as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc}") from None
    except OSError as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc.strerror or exc}") from None
    xy = xy.astype(float)
    if not np.isfinite(xy).all() or np.abs(xy).max(initial=0.0) > _MAP_LIMIT:
        raise RunFolderError(
            f"{str(path)!r}: the map holds values that are not finite numbers of at most "
            f"{_MAP_LIMIT:g} in size"
        )
    return xy


def normalise(xy: np.ndarray) -> tuple[list, list]:
    """The columns of ``xy`` scaled to [0, 1] and rounded: the page's map coordinates.

    Examples
    --------
    >>> normalise(np.array([[0.0, 5.0], [2.0, 5.0]]))
    ([0.0, 1.0], [0.0, 0.0])
    """
    xy = np.asarray(xy, dtype=float)
    span = np.ptp(xy, axis=0) if len(xy) else np.ones(2)
    xy = (xy - (xy.min(axis=0) if len(xy) else 0)) / np.where(span > 0, span, 1.0)
    return np.round(xy[:, 0], 4).tolist(), np.round(xy[:, 1], 4).tolist()


def read_k_scores(run) -> dict | None:
    """The run's ``k_scores.json`` (when k was chosen), checked; None without one.

    Examples
    --------
    >>> read_k_scores("no/such/run") is None
    True
    """
    path = Path(run) / K_SCORES_FILE
    if not path.is_file():
        return None
    try:
        ks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc}") from None
    good = (
        isinstance(ks, dict)
        and isinstance(ks.get("k"), list)
        and all(isinstance(k, int) and 1 <= k <= MAX_K for k in ks["k"])
        and len(ks["k"]) > 0
        and isinstance(ks.get("scores"), dict)
        and isinstance(ks.get("best"), dict)
        and all(
            isinstance(v, list)
            and len(v) == len(ks["k"])
            and all(x is None or is_number(x) for x in v)
            for v in ks["scores"].values()
        )
        and all(v is None or (isinstance(v, int) and 1 <= v <= MAX_K) for v in ks["best"].values())
    )
    if not good:
        raise RunFolderError(
            f"{str(path)!r}: expected k, scores (one per k) and best "
            "(see kmeanskit.choose_k.KChoice.to_dict)"
        )
    return ks


def review_state(run, summary: dict) -> dict | None:
    """What ``kmeanskit review`` made of the run, for the page: ``{"n_edits", "names"}``
    (the name of each of the run's clusters, None for one the edits emptied), or None
    when no edits are in force (or the edit log cannot be read: a warning).

    Examples
    --------
    >>> review_state("no/such/run", {"k": 2}) is None
    True
    """
    from ..runs.curated import curated
    from ..runs.edits import EDITS_FILE

    if not (Path(run) / EDITS_FILE).is_file():
        return None
    try:
        clustering = curated(run)
    except (RunFolderError, OSError) as exc:
        logger.warning("the report leaves out the edits of %s: %s", run, exc)
        return None
    if not clustering.edited:
        return None
    named = dict(zip(clustering.ids, clustering.names, strict=True))
    return {
        "n_edits": clustering.n_edits,
        "names": [named.get(j) for j in range(summary["k"])],
        "n_clusters": len(clustering.ids),
    }


def bars_svg(sizes, colours, names=None) -> str:
    """The cluster sizes as an SVG bar chart (``id="sizes"``; each bar has the
    ``data-cluster`` the page's script highlights; its title the cluster's name from
    ``names`` when given, escaped).

    Examples
    --------
    >>> bars_svg([2, 1], ["#000000", "#ffffff"])[:40]
    '<svg id="sizes" width="640" height="120"'
    """
    width, height = 640, 120
    top = max(max(sizes, default=0), 1)
    bar = width / max(len(sizes), 1)

    def title(i: int) -> str:
        name = names[i] if names is not None and i < len(names) else None
        return f"cluster {i}" + (f" ({html.escape(name, quote=True)})" if name else "")

    rects = "".join(
        f'<rect x="{i * bar:.2f}" y="{height - s / top * height:.2f}" '
        f'width="{max(bar - 1, 0.5):.2f}" height="{s / top * height:.2f}" '
        f'fill="{colours[i]}" data-cluster="{i}"><title>{title(i)}: {s}</title></rect>'
        for i, s in enumerate(sizes)
    )
    return f'<svg id="sizes" width="{width}" height="{height}" role="img">{rects}</svg>'


def _ticks(ks: list) -> list:
    """At most 8 of the k values, evenly spread, the first and the last among them."""
    if len(ks) <= 8:
        return list(ks)
    picks = np.linspace(0, len(ks) - 1, 8).round().astype(int)
    return [ks[i] for i in sorted(set(picks.tolist()))]


def k_svg(k_scores: dict) -> str:
    """One small SVG curve per method of ``k_scores.json`` with its axes: k (the number
    of clusters) along the bottom, the score up the side with its lowest and highest
    value and the direction that is good (:data:`kmeanskit.metrics.SCORES`), and the
    method's best k marked (methods with fewer than two scores are left out).

    Examples
    --------
    >>> k_svg({"k": [2, 3], "scores": {"elbow": [2.0, 1.0]}, "best": {"elbow": 3}})[:21]
    '<svg class="kcurve" w'
    """
    from ..metrics import SCORES

    ks = k_scores["k"]
    left, right, top, bottom = 58, 310, 24, 128
    panels = []
    for method, values in k_scores["scores"].items():
        pts = [(k, v) for k, v in zip(ks, values, strict=True) if v is not None]
        if len(pts) < 2:
            continue
        lo_k, hi_k = ks[0], ks[-1]
        lo_v, hi_v = min(v for _, v in pts), max(v for _, v in pts)
        span_k, span_v = max(hi_k - lo_k, 1), (hi_v - lo_v) or 1.0

        def x_of(k, lo_k=lo_k, span_k=span_k):
            return left + (k - lo_k) / span_k * (right - left)

        def y_of(v, lo_v=lo_v, span_v=span_v):
            return bottom - (v - lo_v) / span_v * (bottom - top)

        line = " ".join(f"{x_of(k):.1f},{y_of(v):.1f}" for k, v in pts)
        best = k_scores["best"].get(method)
        mark = ""
        if best is not None:
            x = x_of(best)
            mark = f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#d94040"/>'
        ticks = "".join(
            f'<line x1="{x_of(k):.1f}" x2="{x_of(k):.1f}" y1="{bottom}" y2="{bottom + 4}" '
            f'stroke="#333"/><text x="{x_of(k):.1f}" y="{bottom + 15}" font-size="10" '
            f'text-anchor="middle">{int(k)}</text>'
            for k in _ticks(ks)
        )
        info = SCORES.get(str(method))
        better = f" ({info.better} is better)" if info is not None and info.better else ""
        name = html.escape(str(method), quote=True)  # read back from a file: untrusted
        meaning = html.escape(info.meaning if info is not None else str(method), quote=True)
        axes = (
            f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#333"/>'
            f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#333"/>'
            f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{hi_v:.3g}</text>'
            f'<text x="{left - 4}" y="{bottom}" font-size="10" text-anchor="end">{lo_v:.3g}</text>'
            f'<text x="{(left + right) / 2:.0f}" y="{bottom + 28}" font-size="10" '
            f'text-anchor="middle">k (number of clusters)</text>'
            f'<text x="12" y="{(top + bottom) / 2:.0f}" font-size="10" text-anchor="middle" '
            f'transform="rotate(-90 12 {(top + bottom) / 2:.0f})">{name}</text>'
        )
        panels.append(
            f'<svg class="kcurve" width="320" height="162" role="img">'
            f"<title>{name}{better}: {meaning}</title>{axes}{ticks}"
            f'<polyline points="{line}" fill="none" stroke="#333"/>{mark}'
            f'<text x="{left}" y="14" font-size="11">{name}{better}: best k={best}</text></svg>'
        )
    return "".join(panels)


def render_page(template: str, run, out, summary: dict, *, sizes, colours, data, **context) -> Path:
    """Render ``template`` (a page extending ``base.html.j2``) for the run folder
    ``run`` and write it whole to ``out/report.html``; returns its path.

    Jinja2 auto-escapes every value, whatever the template's name: file names and ids
    reach the page as escaped text, or inside ``data`` (the page's JSON) escaped by
    :func:`script_json`. The page's shared parts are made here: the summary's scores,
    the sizes bars, the k curves (from ``k_scores.json``) and the embedded data.

    Examples
    --------
    >>> from kmeanskit.runs.layout import read_summary
    >>> render_page("table.html.j2", run, run, read_summary(run), sizes=[2, 1],
    ...             colours=cluster_colours(2), data={})  # doctest: +SKIP
    PosixPath('run/report.html')
    """
    from jinja2 import Environment, PackageLoader

    from ..metrics import describe_score

    env = Environment(loader=PackageLoader("kmeanskit.report"), autoescape=True)
    k_scores = read_k_scores(run)
    review = review_state(run, summary)
    page = env.get_template(template).render(
        review=review,
        run_path=str(run),
        cluster_names=review["names"] if review else [None] * len(sizes),
        summary=summary,
        items=n_items(summary),
        scores=[
            (n, f"{v:.4g}" if isinstance(v, float) else v, describe_score(str(n)))
            for n, v in summary["scores"].items()
        ],
        sizes_svg=bars_svg(sizes, colours, review["names"] if review else None),
        k_svg=k_svg(k_scores) if k_scores is not None else "",
        data_json=script_json(data),
        **context,
    )
    # a name that is not UTF-8 shows its undecodable bytes as U+FFFD on the page
    page = page.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return atomic_write(Path(out) / REPORT_FILE, lambda fh: fh.write(page), text=True)
