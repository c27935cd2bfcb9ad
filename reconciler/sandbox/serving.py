"""Two ways to reach the sandbox: in-process through httpx, or over loopback HTTP.

In-process, the sandbox is an ``httpx.WSGITransport`` to ``SandboxApp`` behind the
fixed fake origin ``SANDBOX_ORIGIN``: the reconciler's client sends real HTTP requests
through its one transport seam, with no socket and no port (docs/design.md "Data
flow": the sandbox is reached through the same client as a remote server). ``serve``
puts the same app on an HTTP server that keeps connections alive (``wsgiserver``)
for other tools.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from reconciler.errors import ConfigError
from reconciler.sandbox.admin import ADMIN_PREFIX
from reconciler.sandbox.app import BASE_PATH, SandboxApp
from reconciler.sandbox.faults import FaultConfig, FaultInjectingTransport
from reconciler.sandbox.org import SANDBOX_ORG_ID
from reconciler.sandbox.store import SandboxStore
from reconciler.sandbox.wsgiserver import AccessLog, HTTPServer
from reconciler.scim.network import is_loopback

SANDBOX_BASE_PATH = BASE_PATH
# ".invalid" can never resolve (RFC 2606), so a request that escapes the in-process
# transport fails loudly instead of reaching some real host.
SANDBOX_ORIGIN = "http://sandbox.invalid"


def sandbox_base_url() -> str:
    """The base URL a client uses with ``sandbox_transport``."""
    return SANDBOX_ORIGIN + SANDBOX_BASE_PATH


def sandbox_admin_url(origin: str = SANDBOX_ORIGIN) -> str:
    """The Admin API's base URL for the organisation ``sandbox-org`` (in-process by default).

    For a served sandbox, pass its origin (``http://127.0.0.1:8000``).
    """
    return f"{origin.rstrip('/')}{ADMIN_PREFIX}/{SANDBOX_ORG_ID}"


def open_store(db_path: str | os.PathLike[str]) -> SandboxStore:
    """Open (creating it and its parent directories if needed) the sandbox at ``db_path``."""
    path = Path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the directory for the sandbox {path}: {exc}") from exc
    return SandboxStore(path)


class _SandboxTransport(httpx.WSGITransport):
    """``WSGITransport`` that owns the store: closing the client closes the database."""

    def __init__(self, store: SandboxStore, app: SandboxApp) -> None:
        super().__init__(app=app)
        self._store = store

    def close(self) -> None:
        self._store.close()


def sandbox_transport(
    db_path: str | os.PathLike[str],
    *,
    token: str | None = None,
    faults: FaultConfig | None = None,
    org_token: str | None = None,
    enterprise_read_only: bool = False,
) -> httpx.BaseTransport:
    """An httpx transport to the sandbox at ``db_path``, in-process.

    Use it with ``sandbox_base_url()`` for the directory and ``sandbox_admin_url()``
    for the organisation's Admin API. With ``faults`` enabled, the transport
    injects them (dropped connections raise the httpx errors a real drop raises).
    The Admin API takes ``org_token``, or any bearer token when none is given: a
    local file has no secret to keep, but a request without the header is still
    refused, as by Atlassian. ``enterprise_read_only``: see ``SandboxApp``. Closing the
    transport (or the client holding it) closes the database.
    """
    store = open_store(db_path)
    app = SandboxApp(
        store,
        token,
        org_token=org_token,
        any_org_token=org_token is None,
        enterprise_read_only=enterprise_read_only,
    )
    transport: httpx.BaseTransport = _SandboxTransport(store, app)
    if faults is not None and faults.enabled:
        transport = FaultInjectingTransport(transport, faults)
    return transport


def _not_ready(environ: object, start_response: Callable[..., object]) -> list[bytes]:
    """The WSGI app between binding the port and opening the database: never called,
    since nothing is served before ``serve_forever``."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"the sandbox is starting"]


def check_exposure(host: str, token: str | None, *, insecure_no_auth: bool = False) -> bool:
    """Whether serving on ``host`` is open to anyone who can reach it (and allowed).

    Served without a token, the whole directory can be read and changed by any
    request: fine on a loopback address, refused on any other unless
    ``insecure_no_auth`` says the operator means it (then True: the caller warns, on
    every start). Checked before anything listens.
    """
    if token is not None or is_loopback(host):
        return False
    if not insecure_no_auth:
        raise ConfigError(
            f"refusing to serve the sandbox on {host} without --token: anyone who can reach "
            "it could read and change the whole directory. Give --token, listen on "
            "127.0.0.1, or pass --insecure-no-auth if that is what you mean"
        )
    return True


class SandboxServer:
    """The sandbox on an HTTP server (``wsgiserver``); ``port=0`` picks a free port.

    A host other than loopback needs a ``token``, or ``insecure_no_auth`` (``check_exposure``).
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        token: str | None = None,
        faults: FaultConfig | None = None,
        org_token: str | None = None,
        enterprise_read_only: bool = False,
        insecure_no_auth: bool = False,
    ) -> None:
        check_exposure(host, token, insecure_no_auth=insecure_no_auth)
        # Listen first: a busy port must not leave a new, empty database behind.
        self._server = HTTPServer(host, port, _not_ready)
        try:
            self._server.prepare()  # binds, listens and starts the worker threads
        except OSError as exc:
            reason = self._server.bind_error or exc
            raise ConfigError(
                f"cannot serve the sandbox on {host}:{port}: {reason.strerror or reason}"
            ) from exc
        try:
            self.store = open_store(db_path)
        except BaseException:
            self._server.stop()
            raise
        self._server.wsgi_app = AccessLog(
            SandboxApp(
                self.store,
                token,
                faults,
                org_token=org_token,
                enterprise_read_only=enterprise_read_only,
            )
        )
        self.host = host
        self._stopped = threading.Event()  # set while serve_forever is not running
        self._stopped.set()
        # One stop at a time: the loop's own stop, when ``shutdown`` has begun one from
        # another thread, waits for it to finish (the workers done) before the
        # database is closed under them.
        self._stopping = threading.Lock()

    @property
    def origin(self) -> str:
        """``http://HOST:PORT`` with the port actually bound."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.bind_addr[1]}"

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/scim/directory/sandbox`` with the port actually bound."""
        return self.origin + SANDBOX_BASE_PATH

    def serve_forever(self) -> None:
        """Serve until ``shutdown()`` is called from another thread or Ctrl-C (a clean
        return)."""
        self._stopped.clear()
        try:
            self._server.serve()
        except KeyboardInterrupt:
            pass
        finally:
            # Whatever ended it (Ctrl-C, shutdown(), an error): the worker threads
            # stop too, or they would keep the process alive.
            self._stop_server()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread); waits until it has stopped."""
        self._stop_server()
        self._stopped.wait()

    def close(self) -> None:
        """Release the listening socket, the worker threads and the database."""
        self._stop_server()
        self.store.close()

    def _stop_server(self) -> None:
        with self._stopping:
            self._server.stop()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def serve(
    db_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    faults: FaultConfig | None = None,
    ready: Callable[[str], None] | None = None,
    *,
    stop: threading.Event | None = None,
    org_token: str | None = None,
    enterprise_read_only: bool = False,
    insecure_no_auth: bool = False,
) -> None:
    """Serve the sandbox over HTTP until interrupted (Ctrl-C) or until ``stop`` is set.

    Once listening, calls ``ready(base_url)``, or prints the base URL when no
    ``ready`` is given. The Admin API answers only requests that carry ``org_token``
    (none: every one is refused); ``enterprise_read_only``: see ``SandboxApp``.
    Setting ``stop`` (from any thread) stops it cleanly: the CLI sets it on Ctrl-C
    and SIGTERM (``stop_on_signals``), so no exception is ever raised into the
    server's loop; embedders and the tests set it themselves.
    """
    with SandboxServer(
        db_path,
        host,
        port,
        token=token,
        faults=faults,
        org_token=org_token,
        enterprise_read_only=enterprise_read_only,
        insecure_no_auth=insecure_no_auth,
    ) as server:
        if ready is not None:
            ready(server.base_url)
        else:
            print(server.base_url, flush=True)
        finished = threading.Event()
        if stop is not None:

            def watch() -> None:
                while not finished.is_set():
                    if stop.wait(0.1):
                        server.shutdown()
                        return

            threading.Thread(target=watch, name="sandbox-stop", daemon=True).start()
        try:
            server.serve_forever()
        finally:
            finished.set()
