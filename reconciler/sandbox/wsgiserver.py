"""The HTTP server under ``sandbox serve``: cheroot, with connections kept alive.

A real directory keeps a client's connection open between requests; werkzeug's
development server, which served the sandbox before, closed it after every answer
(1,050 connects for the 1,050 pages of a 100,000-user read), so the served sandbox,
and the floor of every benchmark against it, cost a TCP handshake per request.
cheroot (CherryPy's server) keeps HTTP/1.1 connections alive, serves them from a
pool of worker threads, and spent the least CPU of those measured for the same
pages (docs/design.md "At scale").

What this module adds to cheroot: every request is logged as a ``sandbox.request``
event (``AccessLog``), the server's own messages as ``sandbox.server`` events, and
the client socket is handed to the app in ``environ[SERVED_SOCKET]``, which is how
an injected drop closes a connection without an answer (``faults``).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import structlog
from cheroot import wsgi
from cheroot.workers import threadpool
from cheroot.workers.threadpool import ThreadPool, WorkerThread

from reconciler.sandbox.faults import SERVED_SOCKET

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_log = structlog.get_logger("reconciler.sandbox")

# Worker threads: requests served at once. Each one waiting out an injected latency
# holds a thread, so there are a few more than a client's parallel pages.
THREADS = 16
# Seconds an idle kept-alive connection stays open (clients let theirs go sooner:
# httpx after 5 s).
KEEP_ALIVE = 10


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, with the client socket in the environ."""

    def respond(self) -> None:
        self.env[SERVED_SOCKET] = self.req.conn.socket
        super().respond()


class _DaemonPool(ThreadPool):
    """cheroot's pool with daemon workers, and a stop that ends in bounded time.

    cheroot's own ``stop`` waits ``timeout`` seconds for the workers, closes the
    connection of any still busy, then waits for it without a bound; a worker that
    never takes its stop request (one was seen waiting on the queue after a stop, in
    CI) would hold ``sandbox serve`` open for ever. Here a worker still alive after
    ``timeout`` has its connection closed and is left behind: it is a daemon thread,
    so it cannot keep the process from exiting.
    """

    def _spawn_worker(self) -> WorkerThread:
        worker = WorkerThread(self.server)  # type: ignore[no-untyped-call]
        worker.name = f"sandbox {worker.name}"
        worker.daemon = True
        worker.start()
        return worker

    def stop(self, timeout: float | None = 5) -> None:
        pool: Any = self  # cheroot's stubs declare none of the pool's own members
        workers = [w for w in pool._threads if w is not threading.current_thread()]
        pool._threads[:] = []
        for _ in workers:
            pool._queue.put(cast(Any, threadpool)._SHUTDOWNREQUEST)
        deadline = time.monotonic() + (timeout if timeout is not None else 5)
        left = []
        for worker in workers:
            worker.join(max(deadline - time.monotonic(), 0))
            if worker.is_alive():
                left.append(worker)
        for worker in left:
            with contextlib.suppress(OSError, AttributeError):
                pool._force_close(worker.conn)
        if left:
            _log.warning("sandbox.server", message=f"{len(left)} worker(s) left busy at stop")


class HTTPServer(wsgi.Server):
    """cheroot's WSGI server with the gateway above and structlog for its messages."""

    def __init__(self, host: str, port: int, app: WSGIApplication) -> None:
        super().__init__((host, port), app, numthreads=THREADS, timeout=KEEP_ALIVE)
        self.gateway = _Gateway
        self.requests.__class__ = _DaemonPool  # same pool, daemon workers
        self.bind_error: OSError | None = None  # why it could not listen

    def bind(self, family: int, type: int, proto: int = 0) -> socket.socket:
        """cheroot's ``bind``, but a socket that cannot bind is closed (cheroot leaves
        it open), and why it could not is kept."""
        sock: socket.socket = self.prepare_socket(
            self.bind_addr, family, type, proto, self.nodelay, self.ssl_adapter, self.reuse_port
        )
        try:
            sock.bind(self.bind_addr)
        except OSError as exc:
            sock.close()
            self.bind_error = exc
            raise
        self.socket = sock
        self.bind_addr = sock.getsockname()[:2]
        return sock

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        _log.info(
            "sandbox.server",
            level_name=logging.getLevelName(level).lower(),
            message=msg,
            exc_info=traceback,
        )


class AccessLog:
    """WSGI middleware that logs each request as a ``sandbox.request`` event.

    ``client`` is the peer's address and ``port`` its port: requests that share a
    port came over one connection (``benchmarks/scale.py`` counts connects that way).
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def logged(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            code = status.split(" ", 1)[0]
            _log.info(
                "sandbox.request",
                client=environ.get("REMOTE_ADDR", "-"),
                port=environ.get("REMOTE_PORT", "-"),
                request=_request_line(environ),
                status=int(code) if code.isdigit() else code,
            )
            return start_response(status, headers, exc_info)

        return self.app(environ, logged)


def _request_line(environ: WSGIEnvironment) -> str:
    """The request line as the client sent it: method, target, protocol."""
    target = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    return f"{environ['REQUEST_METHOD']} {target} {environ.get('SERVER_PROTOCOL', '')}".rstrip()
