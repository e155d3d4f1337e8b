"""pytest plugin: run scikit-learn's and scipy's own k-means test modules against kmeanskit.

Loaded with ``-p kmeanskit_peer_plugin`` by ``test_peer_suites.py`` in a separate pytest
process that collects the installed peers' test modules (``--pyargs``).  Nothing is copied
out of those modules: while pytest imports and collects one of them, the names it takes
from the peer package (``from sklearn.cluster import KMeans``, ``from scipy.cluster.vq
import kmeans``...) are pointed at kmeanskit's, then put back, so the test module (its
parametrizations included) holds kmeanskit's estimators and functions and nothing else
changes.  Tests of the peers' private helpers are deselected and known differences are
marked as strict expected failures, both from ``deviations.py``.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import json
import os
import re

import deviations
import pytest

import kmeanskit
import kmeanskit.vq

# test file (path under site-packages) -> (package the names are imported from, swaps)
SWAPS = {
    "sklearn/cluster/tests/test_k_means.py": (
        "sklearn.cluster",
        {
            "KMeans": kmeanskit.KMeans,
            "MiniBatchKMeans": kmeanskit.MiniBatchKMeans,
            "k_means": kmeanskit.k_means,
            "kmeans_plusplus": kmeanskit.kmeans_plusplus,
        },
    ),
    "sklearn/cluster/tests/test_bisect_k_means.py": (
        "sklearn.cluster",
        {"BisectingKMeans": kmeanskit.BisectingKMeans},
    ),
    "scipy/cluster/tests/test_vq.py": (
        "scipy.cluster.vq",
        {
            "vq": kmeanskit.vq.vq,
            "kmeans": kmeanskit.vq.kmeans,
            "kmeans2": kmeanskit.vq.kmeans2,
            "whiten": kmeanskit.vq.whiten,
        },
    ),
}


def _peer_file(path) -> str | None:
    """The SWAPS key of a collected file, or None when it is not a swapped peer module."""
    posix = path.as_posix()
    for key in SWAPS:
        if posix.endswith("/" + key):
            return key
    return None


@contextlib.contextmanager
def _swapped(package_name: str, swaps: dict):
    package = importlib.import_module(package_name)
    saved = {name: getattr(package, name) for name in swaps}
    if package_name.startswith("scipy."):
        # scipy's test decorators (make_xp_test_case) look the tested function up in
        # scipy's table of array-API capabilities: kmeanskit's get the entry of the
        # function they stand in for (only the NumPy backend runs unless SCIPY_ARRAY_API)
        from scipy._lib._array_api import xp_capabilities_table

        for name, new in swaps.items():
            if saved[name] in xp_capabilities_table:
                xp_capabilities_table.setdefault(new, xp_capabilities_table[saved[name]])
    try:
        for name, new in swaps.items():
            setattr(package, name, new)
        yield
    finally:
        for name, old in saved.items():
            setattr(package, name, old)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    key = _peer_file(collector.path) if isinstance(collector, pytest.Module) else None
    if key is None:
        return (yield)
    package_name, swaps = SWAPS[key]
    with _swapped(package_name, swaps):
        report = yield
    if report.outcome != "passed":
        return report
    module = collector.obj
    for name, new in swaps.items():
        if getattr(module, name) is not new:
            raise pytest.UsageError(f"{key}: {name} was not swapped for kmeanskit's")
    return report


def _matcher(pattern: str):
    """``file::test`` (every parametrization), ``file::test[id]`` or a ``*`` wildcard."""
    if "[" not in pattern and "*" not in pattern:
        return re.compile(re.escape(pattern) + r"(\[.*\])?")
    return re.compile(re.escape(pattern).replace(r"\*", ".*"))


def _short_id(item) -> str:
    """Node id relative to the peer package's tests folder: ``test_k_means.py::test_x[a]``."""
    return item.nodeid.rsplit("/", 1)[-1]


def pytest_collection_modifyitems(session, config, items):
    private = {p: (_matcher(p), r) for p, r in deviations.DESELECTED.items()}
    # KMEANSKIT_PEERS_RAW=1: no expected failures, to measure what passes today
    raw = os.environ.get("KMEANSKIT_PEERS_RAW") == "1"
    xfails = {} if raw else {p: (_matcher(p), r) for p, r in deviations.XFAIL.items()}
    used = set()
    kept, deselected = [], []
    collected_files = set()
    # file -> {"collected": n, "deselected": {reason: n}, "xfail": {reason: n}}
    report = collections.defaultdict(
        lambda: {
            "collected": 0,
            "deselected": collections.Counter(),
            "xfail": collections.Counter(),
        }
    )
    for item in items:
        if _peer_file(item.path) is None:
            kept.append(item)
            continue
        collected_files.add(item.path.name)
        counts = report[item.path.name]
        counts["collected"] += 1
        short = _short_id(item)
        hit = next((p for p, (m, _) in private.items() if m.fullmatch(short)), None)
        if hit is not None:
            used.add(hit)
            deselected.append(item)
            counts["deselected"][private[hit][1]] += 1
            continue
        kept.append(item)
        for pattern, (matcher, reason) in xfails.items():
            if matcher.fullmatch(short):
                used.add(pattern)
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
                counts["xfail"][reason] += 1
                break
    if os.environ.get("KMEANSKIT_PEERS_REPORT"):
        with open(os.environ["KMEANSKIT_PEERS_REPORT"], "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, sort_keys=True)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    # an entry that names no collected test is stale (renamed upstream, or a typo)
    stale = [
        p for p in (*private, *xfails) if p not in used and p.split("::", 1)[0] in collected_files
    ]
    if stale:
        raise pytest.UsageError(
            "tests/peers/deviations.py names tests that were not collected: " + ", ".join(stale)
        )
