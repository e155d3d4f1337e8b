"""``kmeanskit review``: correct a run by hand in the browser.

A small local web server (:mod:`.app`, Starlette and uvicorn: the ``review`` extra) over
one run folder: rename, merge and split clusters, move rows between them, find similar
rows and near-duplicates. Every edit is appended to the run's ``edits.jsonl``
(:mod:`kmeanskit.runs.edits`); ``kmeanskit export`` writes the curated clusters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["review"]


def review(
    run,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    allow_remote: bool = False,
    open_browser: bool = True,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Serve the review page of the run folder ``run`` until interrupted (Ctrl-C).

    Parameters
    ----------
    run : path
        A run folder of ``kmeanskit cluster`` (images or a table).
    host : str, default='127.0.0.1'
        The address to listen on; one that is not this machine's only with
        ``allow_remote``.
    port : int, default=0
        0: a free port.
    allow_remote : bool, default=False
        Allow ``host`` to be reachable from other machines (with a warning: whoever has
        the address with its token can edit the run).
    open_browser : bool, default=True
    announce : callable, optional
        Called with the page's address (with its token) once the server listens.

    Examples
    --------
    ``review`` serves until Ctrl-C; :class:`~.app.ReviewServer` is the same server in a
    background thread:

    >>> import tempfile, pathlib
    >>> from kmeanskit.runs.tables import cluster_table
    >>> from kmeanskit.review.app import ReviewServer
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("a,b\\n0,0\\n0,1\\n9,9\\n9,8\\n")
    >>> _ = cluster_table(d / "t.csv", d / "run", k=2)
    >>> server = ReviewServer(d / "run").start()
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.stop()
    """
    from .app import LOCAL

    if host not in LOCAL and not allow_remote:
        raise InputError(
            f"host={host!r} is reachable from other machines: pass allow_remote=True to "
            "listen there (anyone with the address and its token can edit the run)"
        )
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError(f"port should be 0 to 65535; got {port!r}")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from .app import ReviewServer
    except ImportError as exc:  # pragma: no cover - the review extra is installed in CI
        raise ImportError(
            f"kmeanskit review needs: pip install 'kmeanskit[review]' ({exc})"
        ) from exc
    server = ReviewServer(run, host, port)
    if host not in LOCAL:
        logger.warning(
            "listening on %s: anyone who can reach it and has the address with its token "
            "can read the images and edit the run",
            host,
        )
    server.start()
    if announce is not None:
        announce(server.url)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0
