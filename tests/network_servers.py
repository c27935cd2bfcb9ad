"""Real servers on loopback for the network tests: a proxy that logs what it receives,
a server that answers slowly or without end, and the sandbox served over TLS.

Each runs on its own threads, on a free port of 127.0.0.1, until closed.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from reconciler.sandbox import SandboxStore
from reconciler.sandbox.app import SandboxApp


@dataclass
class ProxyRecord:
    """One request the proxy received: its method, target and headers (lower-case names)."""

    method: str
    target: str
    headers: dict[str, str]
    tunnelled: bytearray = field(default_factory=bytearray)  # what a CONNECT carried upstream


class LoggingProxy:
    """An HTTP proxy on 127.0.0.1 that logs every request it gets and passes it on.

    Plain requests (absolute-form ``GET http://host:port/path``) are forwarded;
    ``CONNECT host:port`` opens a tunnel. Every host is reached on 127.0.0.1 (its port
    kept), so a test can name a host no resolver knows, as a proxy's own DNS would.
    """

    def __init__(self) -> None:
        self.records: list[ProxyRecord] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _record(self) -> ProxyRecord:
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = ProxyRecord(self.command, self.path, headers)
                proxy.records.append(record)
                return record

            def do_CONNECT(self) -> None:
                record = self._record()
                port = int(self.path.rpartition(":")[2])
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
                self.send_response(200, "Connection established")
                self.end_headers()
                _pipe(self.connection, upstream, record.tunnelled)

            def _forward(self) -> None:
                self._record()
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                upstream = http.client.HTTPConnection("127.0.0.1", parts.port or 80, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                upstream.request(self.command, target, body=body or None, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                upstream.close()

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoggingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pipe(client: socket.socket, upstream: socket.socket, upward: bytearray) -> None:
    """Copy bytes both ways until either side closes; keep what went upstream."""
    sockets = [client, upstream]
    try:
        while True:
            ready, _, _ = select.select(sockets, [], [], 10)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                if sock is client:
                    upward.extend(data)
                    upstream.sendall(data)
                else:
                    client.sendall(data)
    finally:
        upstream.close()


class SlowServer:
    """An HTTP server on 127.0.0.1 that answers every request 200, headers at once, and
    then its body ``chunk`` at a time, one every ``interval`` seconds, ``chunks`` in all
    (a server that trickles, or one that floods), then closes.

    ``sent`` has, per connection, the bytes of body it managed to send before the
    client went away or the body ended.
    """

    def __init__(self, *, chunk: bytes, chunks: int, interval: float, length: bool = True) -> None:
        self.chunk, self.chunks, self.interval, self.length = chunk, chunks, interval, length
        self.sent: list[int] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/scim/v2"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        index = len(self.sent)
        self.sent.append(0)
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(65536)
                if not data:
                    return
                request += data
            total = len(self.chunk) * self.chunks
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\n"
            head += f"Content-Length: {total}\r\n" if self.length else "Connection: close\r\n"
            try:
                conn.sendall((head + "\r\n").encode())
                for _ in range(self.chunks):
                    conn.sendall(self.chunk)
                    self.sent[index] += len(self.chunk)
                    if self._stop.wait(self.interval):
                        return
            except OSError:  # the client went away
                return

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def __enter__(self) -> SlowServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def tls_sandbox(db: Path, context: ssl.SSLContext, token: str) -> Iterator[int]:
    """The sandbox at ``db`` served over https on 127.0.0.1 with ``context``'s
    certificate, requiring ``token``; yields the port."""
    store = SandboxStore(db)
    app = SandboxApp(store, token)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        store.close()
