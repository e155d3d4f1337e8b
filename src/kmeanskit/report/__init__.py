"""The HTML report of a run of ``kmeanskit cluster`` (Jinja2; the ``images`` extra)."""

from .html import build_report, cluster_colours

__all__ = ["build_report", "cluster_colours"]
