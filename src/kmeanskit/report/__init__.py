"""The HTML report of a run of ``kmeanskit cluster`` (Jinja2; the thumbnails of an image
run need Pillow, the ``images`` extra) and its figures as PNG files (matplotlib; the
``plot`` extra).

:func:`build_report` and :func:`plot_run` read the run's summary with
:func:`kmeanskit.runs.layout.read_summary` and draw what its ``kind`` holds: an image run
(:mod:`.images_page`) or a table run (:mod:`.table_page`), both made of the parts in
:mod:`._shared`. Nothing here imports :mod:`kmeanskit.images` or the estimators.
"""

from ._shared import cluster_colours
from .figures import plot_run
from .pages import build_report

__all__ = ["build_report", "cluster_colours", "plot_run"]
