"""``build_report``: the page of a run folder, by the kind its summary declares.

Each kind of run has its page module (:data:`PAGES`), with the same two functions:
``build(run, out, summary)`` writes the page, ``describe_map(summary)`` says what the
run's 2-d map is (for the page and for :func:`kmeanskit.report.figures.plot_run`).
Both pages are made of the parts in :mod:`._shared` and extend ``base.html.j2``;
neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

from ..runs.layout import REPORT_FILE, THUMBS, read_summary
from ..runs.manifest import claimable, refresh
from . import images_page, table_page
from ._shared import cluster_sizes

__all__ = ["PAGES", "build_report"]

#: the kind a summary declares -> the module of its page
PAGES = {"images": images_page, "table": table_page}


def build_report(run, out=None) -> Path:
    """Write ``report.html`` (and, for images, ``thumbs/``) of a run folder of
    ``kmeanskit cluster`` into the run folder (or ``out``); returns the page's path.

    The summary is read with :func:`kmeanskit.runs.layout.read_summary` (a damaged one
    raises :class:`~kmeanskit.errors.RunFolderError`, naming the file); the page is
    that of its ``kind`` (:data:`PAGES`).

    Examples
    --------
    >>> build_report("no/such/run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kmeanskit.errors.NotARunFolderError: 'no/such/run' is not a run folder of ...
    """
    run = Path(run)
    summary = read_summary(run)
    cluster_sizes(run, summary)
    out = Path(out) if out is not None else run
    # the page is written whole; thumbs/ is added to, and stays its maker's unless ours
    claim = [REPORT_FILE, *claimable(run, [THUMBS])] if out == run else []
    page = PAGES[summary["kind"]].build(run, out, summary)
    if claim:  # kmeanskit wrote them: a later force may replace them
        refresh(run, claim)
    return page
