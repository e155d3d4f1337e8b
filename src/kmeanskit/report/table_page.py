"""``report.html`` of a table run (``summary["kind"] == "table"``): the summary, a map of
every row (its id on hover), the cluster sizes, the k curves, the centres in the
table's own units and a per-feature profile of each cluster. Ids reach the page only
as auto-escaped text or as JSON read by ``textContent``, never as markup.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._shared import (
    cluster_colours,
    cluster_sizes,
    is_number,
    normalise,
    read_map,
    read_rows,
    render_page,
    require,
)

__all__ = ["build", "describe_map"]

#: the profile's colour saturates at this many standard deviations from the overall mean
Z_FULL = 2.0


def describe_map(summary: dict) -> str:
    """What the run's ``map.npy`` is, for the page and the figures.

    Examples
    --------
    >>> describe_map({"metric": "precomputed"})
    'classical MDS of the distances'
    """
    if summary["metric"] == "precomputed":
        return "classical MDS of the distances"
    return "PCA of the (scaled) features"


def _heat(z: float) -> str:
    """White at 0, blue below, red above (saturating at ``Z_FULL``)."""
    t = float(np.clip(z / Z_FULL, -1.0, 1.0))
    full = (214, 96, 77) if t > 0 else (67, 147, 195)
    rgb = [round(255 + (c - 255) * abs(t)) for c in full]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _profile(summary: dict, names: list) -> list | None:
    """Per cluster and feature: the centre, its distance from the overall mean in
    standard deviations, and a colour; None without feature statistics."""
    means, stds = summary["feature_means"], summary["feature_stds"]
    if not means or len(means) != len(names) or len(stds) != len(names):
        return None
    out = []
    for centre in summary["centres"]:
        cells = []
        for name, mean, std in zip(names, means, stds, strict=True):
            value = float(centre[name])
            z = (value - mean) / std if std > 0 else 0.0
            cells.append({"value": f"{value:.4g}", "z": f"{z:+.2f}", "colour": _heat(z)})
        out.append(cells)
    return out


def _checked(run, summary: dict) -> list:
    """The column names of the centres, after checking what the page reads of the
    summary beyond :func:`~kmeanskit.runs.layout.read_summary`: the items of its lists."""
    k = summary["k"]
    for key in ("feature_means", "feature_stds"):
        require(run, summary, key, lambda v: all(map(is_number, v)), "a list of numbers")
    centres = require(
        run,
        summary,
        "centres",
        lambda v: (
            len(v) in (0, k)
            and all(isinstance(c, dict) for c in v)
            and all(list(c) == list(v[0]) for c in v)
            and all(isinstance(x, str) or is_number(x) for c in v for x in c.values())
        ),
        f"{k} objects of the same columns, each a number or a text",
    )
    names = list(centres[0]) if centres else []
    if summary["feature_means"] and len(summary["feature_means"]) == len(names):
        require(
            run,
            summary,
            "centres",
            lambda v: all(is_number(x) for c in v for x in c.values()),
            "numbers, as the feature means are",
        )
    return names


def build(run: Path, out: Path, summary: dict) -> Path:
    """Write ``report.html`` of the table run in ``run`` into ``out`` (``summary``: its
    checked summary); returns the page's path.

    Examples
    --------
    >>> from kmeanskit.runs.layout import read_summary
    >>> build(run, run, read_summary(run))  # doctest: +SKIP
    PosixPath('run/report.html')
    """
    names = _checked(run, summary)
    k = summary["k"]
    rows = read_rows(run, k, summary["n_rows"], texts=("id",))
    colours = cluster_colours(k)
    sizes = cluster_sizes(run, summary)
    clusters = [
        {
            "id": j,
            "size": sizes[j],
            "colour": colours[j],
            "cells": [c[n] if isinstance(c[n], str) else f"{c[n]:.6g}" for n in names],
        }
        for j, c in enumerate(summary["centres"])
    ]
    xy = read_map(run, len(rows))
    x, y = normalise(xy if xy is not None else np.zeros((len(rows), 2)))
    data = {
        "x": x,
        "y": y,
        "c": [r["cluster"] for r in rows],
        "colours": colours,
        "ids": [r["id"] for r in rows],
    }
    return render_page(
        "table.html.j2",
        run,
        out,
        summary,
        sizes=sizes,
        colours=colours,
        data=data,
        clusters=clusters,
        names=names,
        profile=_profile(summary, names),
        overall=[f"{v:.4g}" for v in summary["feature_means"]],
        z_full=Z_FULL,
        map_description=describe_map(summary),
    )
