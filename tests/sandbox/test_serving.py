"""Reaching the sandbox: the in-process transport, and serving over a loopback socket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

import reconciler.sandbox as sandbox
from reconciler.errors import ConfigError
from reconciler.sandbox import (
    SANDBOX_BASE_PATH,
    SANDBOX_ORIGIN,
    FaultConfig,
    SandboxServer,
    SandboxStore,
    sandbox_base_url,
    sandbox_transport,
    serve,
)
from reconciler.scim.client import ScimClient
from reconciler.snapshot import read_snapshot
from tests.e2e.helpers import reconciler

from .helpers import user_body

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what must be refused without a token


def test_public_api() -> None:
    """The package exports its API explicitly, with the fixed base path and origin."""
    assert set(sandbox.__all__) >= {
        "SANDBOX_BASE_PATH",
        "SANDBOX_ORIGIN",
        "sandbox_transport",
        "sandbox_base_url",
        "serve",
        "FaultConfig",
    }
    assert SANDBOX_BASE_PATH == "/scim/directory/sandbox"
    assert sandbox_base_url() == SANDBOX_ORIGIN + SANDBOX_BASE_PATH
    assert SANDBOX_ORIGIN.endswith(".invalid")  # RFC 2606: can never resolve


def test_transport_creates_parent_directories(tmp_path: Path) -> None:
    """sandbox:PATH works for a path whose directories do not exist yet."""
    db = tmp_path / "a" / "b" / "sandbox.db"
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(db)) as client:
        assert client.post("/Users", json=user_body("ann")).status_code == 201
    assert db.exists()


def test_closing_the_client_closes_the_database(sandbox_db: Path) -> None:
    """Closing the client closes the store: SQLite checkpoints and removes the WAL file."""
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        c.post("/Users", json=user_body("ann"))
        assert Path(f"{sandbox_db}-wal").exists()
    assert not Path(f"{sandbox_db}-wal").exists()


def test_data_persists_between_transports(sandbox_db: Path) -> None:
    """The sandbox is a file: a later run sees what an earlier run wrote."""
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        c.post("/Users", json=user_body("ann"))
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(sandbox_db)) as c:
        assert c.get("/Users").json()["totalResults"] == 1


@pytest.fixture
def served(sandbox_db: Path) -> Iterator[str]:
    """serve() running in a thread on a free loopback port; yields its base URL."""
    urls: list[str] = []
    ready = threading.Event()
    stop = threading.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    thread = threading.Thread(
        target=serve,
        kwargs={"db_path": sandbox_db, "port": 0, "token": "t0k", "ready": on_ready, "stop": stop},
    )
    thread.start()
    try:
        assert ready.wait(10), "the sandbox did not start"
        yield urls[0]
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive(), "serve() did not stop"


def test_serve_over_loopback(served: str) -> None:
    """serve() answers real HTTP on loopback at http://HOST:PORT/scim/directory/sandbox."""
    assert served.startswith("http://127.0.0.1:")
    assert served.endswith(SANDBOX_BASE_PATH)
    headers = {"Authorization": "Bearer t0k"}
    with httpx.Client(base_url=served, headers=headers, timeout=5) as client:
        created = client.post("/Users", json=user_body("ann"))
        assert created.status_code == 201
        assert created.headers["location"].startswith(served)
        assert client.get("/Users").json()["totalResults"] == 1
    assert httpx.get(f"{served}/Users", timeout=5).status_code == 401


def test_serve_prints_url_without_ready(
    sandbox_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a ready callback, serve() prints its base URL once listening."""
    stop = threading.Event()
    stop.set()  # stop as soon as it has started
    serve(sandbox_db, port=0, stop=stop)
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("http://127.0.0.1:")
    assert printed.endswith(SANDBOX_BASE_PATH)


@pytest.fixture
def running(sandbox_db: Path) -> Iterator[SandboxServer]:
    """A SandboxServer serving on a free loopback port from a thread, five users in it."""
    with SandboxStore(sandbox_db) as store:
        store.seed_users(5, prefix="u", domain="example.com")
    with SandboxServer(sandbox_db, port=0) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            thread.join(10)
    assert not thread.is_alive()


def test_served_sandbox_keeps_the_connection_alive(running: SandboxServer) -> None:
    """Requests over one client share one connection, as with a real directory: one
    connect for ten requests, and no "Connection: close" in the answers."""
    connects: list[str] = []

    def trace(event: str, info: object) -> None:
        if event == "connection.connect_tcp.complete":
            connects.append(event)

    with httpx.Client(base_url=running.base_url, timeout=5) as client:
        answers = [client.get("/Users", extensions={"trace": trace}) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert len(connects) == 1
    assert all(a.headers.get("connection", "").lower() != "close" for a in answers)


def test_each_request_is_logged_with_the_connection_it_came_over(running: SandboxServer) -> None:
    """The access log has a sandbox.request event per request: the request line, the
    status, and the client's address and port (one port per connection)."""
    with capture_logs() as events, httpx.Client(base_url=running.base_url, timeout=5) as c:
        c.get("/Users", params={"count": 2})
        c.get("/Groups/nope")
    logged = [e for e in events if e["event"] == "sandbox.request"]
    assert [(e["request"], e["status"]) for e in logged] == [
        (f"GET {SANDBOX_BASE_PATH}/Users?count=2 HTTP/1.1", 200),
        (f"GET {SANDBOX_BASE_PATH}/Groups/nope HTTP/1.1", 404),
    ]
    assert {e["client"] for e in logged} == {"127.0.0.1"}
    assert len({e["port"] for e in logged}) == 1


def test_a_read_reuses_its_connections(running: SandboxServer) -> None:
    """The reconciler's client keeps its connections too: a read in pages of one, four at
    a time, comes over at most four connections (the server logs the client's port)."""
    with capture_logs() as events, ScimClient(running.base_url) as client:
        live = read_snapshot(client, page_size=1, concurrency=4)
    assert len(live.users) == 5
    logged = [e for e in events if e["event"] == "sandbox.request"]
    assert len(logged) == 7  # a page per user, the probe past the end, the Groups page
    assert 1 <= len({e["port"] for e in logged}) <= 4


def test_dropped_connection_over_http(sandbox_db: Path) -> None:
    """Served over HTTP, a drop closes the socket without an answer; the server lives on."""
    faults = FaultConfig(drop_rate=1.0, seed=2)
    with SandboxServer(sandbox_db, port=0, faults=faults) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            for _ in range(3):
                with pytest.raises(httpx.RemoteProtocolError):
                    httpx.get(f"{server.base_url}/Users", timeout=5)
        finally:
            server.shutdown()
            thread.join(10)
    assert not thread.is_alive()


def test_rate_limit_over_http(sandbox_db: Path) -> None:
    """Served over HTTP, requests over the rate get 429 with Retry-After."""
    with SandboxServer(sandbox_db, port=0, faults=FaultConfig(rate_limit=1)) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            with httpx.Client(base_url=server.base_url, timeout=5) as client:
                assert client.get("/Users").status_code == 200
                response = client.get("/Users")
        finally:
            server.shutdown()
            thread.join(10)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json()["status"] == "429"


def test_port_in_use_is_a_config_error(
    sandbox_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port that is taken is reported as a ConfigError that says why, not a process
    exit, and nothing else is printed (a plain line would break JSON logs)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}: Address already in use"):
            SandboxServer(sandbox_db, port=port)
    assert capsys.readouterr().err == ""
    assert not sandbox_db.exists(), "a server that cannot listen creates no database"


@pytest.mark.parametrize(
    ("host", "token", "insecure", "exposed"),
    [
        pytest.param("127.0.0.1", None, False, False, id="loopback"),
        pytest.param("::1", None, False, False, id="ipv6-loopback"),
        pytest.param("localhost", None, False, False, id="localhost"),
        pytest.param(ALL_INTERFACES, "t0ken", False, False, id="network-with-token"),
        pytest.param(ALL_INTERFACES, None, True, True, id="network-insecure"),
    ],
)
def test_serving_without_a_token_is_only_for_loopback(
    host: str, token: str | None, insecure: bool, exposed: bool
) -> None:
    """A token, or a loopback host, serves quietly; --insecure-no-auth serves openly and
    asks the caller to warn."""
    assert sandbox.check_exposure(host, token, insecure_no_auth=insecure) is exposed


@pytest.mark.parametrize("host", [ALL_INTERFACES, "::", "192.0.2.1", "sandbox.example.com"])
def test_a_network_host_without_a_token_is_refused_before_listening(
    sandbox_db: Path, host: str
) -> None:
    """SandboxServer refuses a non-loopback host without a token before it binds or
    creates the database."""
    with pytest.raises(ConfigError, match="--insecure-no-auth"):
        SandboxServer(sandbox_db, host, 0)
    assert not sandbox_db.exists()


def test_sandbox_serve_on_all_interfaces_without_token_exits_1(tmp_path: Path) -> None:
    """``sandbox serve --host 0.0.0.0`` without --token exits 1 at once, saying how to
    proceed, and serves nothing (a subprocess: a server that did start is ended)."""
    db = tmp_path / "s.db"
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", str(db),
               "--host", ALL_INTERFACES, "--port", "0"]  # fmt: skip
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("sandbox serve --host 0.0.0.0 served with no token")
    assert run.returncode == 1
    assert "without --token" in run.stderr
    assert "--insecure-no-auth" in run.stderr
    assert run.stdout == ""  # no base URL: nothing listened
    assert not db.exists()


def test_insecure_no_auth_warns_on_every_start(tmp_path: Path) -> None:
    """With --insecure-no-auth the serve goes on to listen, after a warning on stderr that
    -q does not silence. (192.0.2.1, a documentation address no machine has, fails to
    bind, so nothing is ever exposed by the test.)"""
    db = tmp_path / "s.db"
    args = ("sandbox", "serve", "--db", str(db), "--host", "192.0.2.1", "--port", "0")
    for _ in range(2):
        run = reconciler(*args, "--insecure-no-auth", "-q", "--log-format", "console")
        assert run.exit_code == 1  # the bind fails, past the check
        assert "cannot serve the sandbox on 192.0.2.1" in run.stderr
        assert "warning: serving" in run.stderr
        assert "anyone who can reach it can read and change the whole directory" in run.stderr
    refused = reconciler(*args, "--log-format", "console")
    assert "refusing to serve the sandbox on 192.0.2.1 without --token" in refused.stderr
    assert "warning" not in refused.stderr


def test_insecure_no_auth_warning_is_a_json_event_in_json_logs(tmp_path: Path) -> None:
    """Off a terminal (JSON logs by default) the warning is one event that -q does not
    silence, and why the bind failed is in the error event, not a stray plain line."""
    db = tmp_path / "s.db"
    args = ("sandbox", "serve", "--db", str(db), "--host", "192.0.2.1", "--port", "0")
    run = reconciler(*args, "--insecure-no-auth", "-q")
    assert run.exit_code == 1
    warning, error = [json.loads(line) for line in run.stderr.splitlines()]
    assert (warning["event"], warning["level"], warning["host"]) == (
        "sandbox.no_auth", "warning", "192.0.2.1",
    )  # fmt: skip
    assert "anyone who can reach it" in warning["message"]
    assert error["event"] == "error"
    assert error["message"].startswith("cannot serve the sandbox on 192.0.2.1:0: ")
