"""``report.html`` of a table run (``summary["kind"] == "table"``): the summary, a map of
every row (its id on hover), the cluster sizes, the k curves, the centres in the
table's own units and a per-feature profile of each cluster. Ids reach the page only
as auto-escaped text or as JSON read by ``textContent``, never as markup.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._atomic import atomic_write

__all__ = ["build_table_report"]

#: the profile's colour saturates at this many standard deviations from the overall mean
Z_FULL = 2.0


def _heat(z: float) -> str:
    """White at 0, blue below, red above (saturating at ``Z_FULL``)."""
    t = float(np.clip(z / Z_FULL, -1.0, 1.0))
    full = (214, 96, 77) if t > 0 else (67, 147, 195)
    rgb = [round(255 + (c - 255) * abs(t)) for c in full]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _profile(summary: dict, names: list) -> list | None:
    """Per cluster and feature: the centre, its distance from the overall mean in
    standard deviations, and a colour; None without feature statistics."""
    means, stds = summary.get("feature_means") or [], summary.get("feature_stds") or []
    if not means or len(means) != len(names):
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


def build_table_report(run, out, summary: dict) -> Path:
    """Write ``report.html`` of the table run in ``run`` into ``out``; returns its path."""
    from jinja2 import Environment, PackageLoader

    from .html import REPORT_FILE, _bars_svg, _k_svg, _rows, cluster_colours, script_json

    run, out = Path(run), Path(out)
    rows = _rows(run)
    k = int(summary["k"])
    colours = cluster_colours(k)
    sizes = summary.get("cluster_sizes") or np.bincount(
        [int(r["cluster"]) for r in rows], minlength=k).tolist()  # fmt: skip
    centres = summary.get("centres") or []
    names = list(centres[0]) if centres else []
    clusters = [
        {"id": j, "size": sizes[j], "colour": colours[j],
         "cells": [c[n] if isinstance(c[n], str) else f"{c[n]:.6g}" for n in names]}
        for j, c in enumerate(centres)
    ]  # fmt: skip
    xy = np.load(run / "map.npy") if (run / "map.npy").is_file() else np.zeros((len(rows), 2))
    span = np.ptp(xy, axis=0) if len(xy) else np.ones(2)
    xy = (xy - (xy.min(axis=0) if len(xy) else 0)) / np.where(span > 0, span, 1.0)
    data = {
        "x": np.round(xy[:, 0], 4).tolist(), "y": np.round(xy[:, 1], 4).tolist(),
        "c": [int(r["cluster"]) for r in rows], "colours": colours,
        "ids": [r["id"] for r in rows],
    }  # fmt: skip
    data_json = script_json(data)
    means = summary.get("feature_means") or []
    k_scores = run / "k_scores.json"
    env = Environment(loader=PackageLoader("kmeanskit.report"), autoescape=True)
    scores = summary.get("scores", {})
    page = env.get_template("report_table.html.j2").render(
        summary=summary,
        scores=[(n, f"{v:.4g}" if isinstance(v, float) else v) for n, v in scores.items()],
        clusters=clusters,
        names=names,
        profile=_profile(summary, names),
        overall=[f"{v:.4g}" for v in means],
        z_full=Z_FULL,
        sizes_svg=_bars_svg(sizes, colours),
        k_svg=_k_svg(json.loads(k_scores.read_text())) if k_scores.is_file() else "",
        data_json=data_json,
    )  # fmt: skip
    return atomic_write(out / REPORT_FILE, lambda fh: fh.write(page), text=True)
