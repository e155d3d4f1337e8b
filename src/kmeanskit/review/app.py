"""The review server: a Starlette application over one :class:`~.session.ReviewSession`,
served by uvicorn.

Why Starlette and uvicorn: the page needs a handful of JSON requests, images and two
static files, and tests need a client that drives it without a socket; Starlette is a
small, well-kept ASGI toolkit (the base of FastAPI) with a test client, and uvicorn its
usual server, together about 1 MB with no compiled parts; Flask or Django would bring
a larger stack for the same few routes. Synchronous endpoints run in Starlette's thread
pool, so a slow thumbnail never blocks an edit.

Security (the server holds a user's files): it listens on 127.0.0.1 unless told
otherwise; every request must carry the session's random token (``?token=`` or the
``X-Kmeanskit-Token`` header), else 403; the ``Host`` header must be the server's own
(no DNS rebinding); a POST must be JSON from the page's own origin, else 403; bodies
over :data:`MAX_BODY` bytes get 413; images are served by row number from the run's own
list, never by a path from the request; every answer forbids framing, sniffing, caching
and referrers, and the page runs under a strict Content-Security-Policy.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import secrets
import threading
import time
from importlib import resources

from ..runs.edits import EditError
from .session import ReviewSession

logger = logging.getLogger(__name__)

__all__ = ["MAX_BODY", "ReviewServer", "create_app"]

MAX_BODY = 2 * 2**20
#: the threads decoding images at once
DECODERS = 2
TOKEN_HEADER = "x-kmeanskit-token"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
}
#: the page's own files (static/ of the package) by suffix; nothing else is served
STATIC = {".js": "text/javascript", ".css": "text/css"}
_STATIC_NAME = re.compile(r"[a-z][a-z0-9_-]{0,40}\.(js|css)")


def _package_file(*parts: str) -> str:
    return resources.files("kmeanskit.review").joinpath(*parts).read_text(encoding="utf-8")


class Guard:
    """ASGI middleware: the token, the Host header, the origin of a POST and the size of
    a body, checked before any endpoint runs."""

    def __init__(self, app, token: str, hosts: set):
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse

        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            status, text = refusal
            logger.warning("refused %s %s: %s", request.method, request.url.path, text)
            return await PlainTextResponse(text, status, headers=HEADERS)(scope, receive, send)
        return await self.app(scope, receive, send)

    def _refusal(self, request) -> tuple[int, str] | None:
        host = request.headers.get("host", "")
        if host not in self.hosts:
            return 403, "unknown host"
        given = request.query_params.get("token") or request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return 403, "no or wrong token"
        if request.method not in ("GET", "HEAD", "POST"):
            return 405, "method not allowed"
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin is None or origin != f"{request.url.scheme}://{host}":
                return 403, "cross-origin request"
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return 415, "expected application/json"
            length = request.headers.get("content-length")
            if length is None or not length.isdigit() or int(length) > MAX_BODY:
                return 413, f"a request body is at most {MAX_BODY} bytes"
        return None


def create_app(session: ReviewSession, token: str, hosts: set):
    """The Starlette application of ``session``; ``hosts``: the ``Host`` headers
    accepted (the server's own address; a set that may grow once the port is known).

    Examples
    --------
    See :func:`kmeanskit.review.review`.
    """
    import anyio.to_thread
    from jinja2 import Environment, select_autoescape
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    decoders = anyio.CapacityLimiter(DECODERS)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    files: dict = {}  # the page's files, read once, when first asked for

    def package_file(*parts: str) -> str:
        if parts not in files:
            files[parts] = _package_file(*parts)
        return files[parts]

    def answer(data, status=200):
        return JSONResponse(data, status, headers=HEADERS)

    def error(exc, status=400):
        return answer({"error": str(exc)}, status)

    def index(request):
        title = f"review: {session.run.resolve().name}"
        page = env.from_string(package_file("templates", "review.html.j2"))
        return HTMLResponse(page.render(token=token, title=title), headers=HEADERS)

    def static_file(request):
        name = request.path_params["name"]
        if not _STATIC_NAME.fullmatch(name):
            return Response(status_code=404, headers=HEADERS)
        try:
            text = package_file("static", name)
        except (FileNotFoundError, IsADirectoryError):
            return Response(status_code=404, headers=HEADERS)
        return Response(text, media_type=STATIC[name[name.rindex(".") :]], headers=HEADERS)

    def run_info(request):
        return answer(session.run_info())

    def state(request):
        return answer(session.state())

    async def edit(request):
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return error(f"a request body is at most {MAX_BODY} bytes", 413)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return error(f"the body is not JSON: {exc}")
        try:
            if isinstance(data, dict) and data.get("op") == "split":  # k-means: a thread
                return answer(await run_in_threadpool(session.edit, data))
            # the other edits take milliseconds: done here, never queued behind the
            # thumbnails that a page being loaded asks for
            return answer(session.edit(data))
        except EditError as exc:
            return error(exc)

    def _row(request) -> int | None:
        row = request.path_params["row"]
        return row if 0 <= row < session.n else None

    def similar(request):
        row = _row(request)
        if row is None:
            return error("no such row", 404)
        try:
            n = min(max(int(request.query_params.get("n", 12)), 1), 100)
            return answer(session.similar(row, n))
        except (EditError, ValueError) as exc:
            return error(exc)

    def duplicates(request):
        try:
            value = request.query_params.get("threshold")
            threshold = None if value is None else float(value)
            if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
                raise ValueError(f"threshold should be a number >= 0; got {value!r:.20}")
            return answer(session.duplicates(threshold))
        except (EditError, ValueError) as exc:
            return error(exc)

    async def image(request):
        row = _row(request)
        full = request.query_params.get("full") == "1"
        data = None
        if row is not None:  # decoded by a few threads: the others stay free for the page
            data = await anyio.to_thread.run_sync(session.image, row, full, limiter=decoders)
        if data is None:
            return Response(status_code=404, headers=HEADERS)
        return Response(
            data,
            media_type="image/jpeg",
            headers={**HEADERS, "Cache-Control": "private, max-age=3600"},
        )

    routes = [
        Route("/", index),
        Route("/static/{name}", static_file),
        Route("/api/run", run_info),
        Route("/api/state", state),
        Route("/api/edit", edit, methods=["POST"]),
        Route("/api/similar/{row:int}", similar),
        Route("/api/duplicates", duplicates),
        Route("/img/{row:int}", image),
    ]
    app = Starlette(routes=routes)
    return Guard(app, token, hosts)


class ReviewServer:
    """The review server of the run folder ``run`` on ``host:port`` (0: a free port), in
    a background thread: :meth:`start`, :attr:`url` (with the token), :meth:`stop`.

    Examples
    --------
    See :func:`kmeanskit.review.review`.
    """

    def __init__(self, run, host: str = "127.0.0.1", port: int = 0):
        self.session = ReviewSession(run)
        self.host, self.port = host, port
        self.token = secrets.token_urlsafe(24)
        self.hosts: set = set()
        self.app = create_app(self.session, self.token, self.hosts)
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/?token={self.token}"

    def start(self, timeout: float = 20.0) -> ReviewServer:
        import uvicorn

        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            limit_concurrency=64,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="kmeanskit-review", daemon=True
        )
        self._thread.start()
        end = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > end:
                raise OSError(f"the review server could not listen on {self.host}:{self.port}")
            time.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        names = (
            {self.host, "localhost", "127.0.0.1", "[::1]"} if self.host in LOCAL else {self.host}
        )
        self.hosts.update(f"{name}:{self.port}" for name in names | {f"[{self.host}]"})
        return self

    def wait(self) -> None:
        """Until the server stops (Ctrl-C in the caller's thread stops it)."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None


#: the addresses that are this machine only
LOCAL = ("127.0.0.1", "localhost", "::1")
