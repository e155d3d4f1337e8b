"""Readers for Fränti and Sieranoja's clustering basic benchmark (``../shared/data/sipu``).

Each set ``NAME`` has ``NAME.txt`` (the points, whitespace separated), ``NAME-gt.txt``
(the true centres) and ``NAME-gt.pa`` (the true partition: a header ending in a line of
dashes, then one 1-based label per point). The centroid index is
:func:`kmeanskit.metrics.centroid_index`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmeanskit.metrics import centroid_index

__all__ = ["SETS", "SIPU", "centroid_index", "read_labels", "read_set"]

SIPU = Path(__file__).resolve().parents[2] / "shared" / "data" / "sipu"
#: the sets and their true numbers of clusters
SETS = {"s1": 15, "s2": 15, "s3": 15, "s4": 15, "a1": 20, "a2": 35, "a3": 50, "unbalance": 8}


def read_labels(path: Path) -> np.ndarray:
    """The 0-based labels of a ``.pa`` partition file."""
    body = Path(path).read_text().split("-----")[-1].split()
    return np.array([int(v) for v in body if v.strip("-")]) - 1


def read_set(name: str, root: Path = SIPU):
    """``(points, true centres, true labels)`` of one set."""
    X = np.loadtxt(root / f"{name}.txt")
    centers = np.loadtxt(root / f"{name}-gt.txt")
    return X, centers, read_labels(root / f"{name}-gt.pa")
