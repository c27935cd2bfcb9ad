"""Stopping ``sandbox serve``: Ctrl-C and SIGTERM end it cleanly and promptly, whatever
its connections are doing, and a worker stuck in a request cannot hold the stop."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from reconciler.cli.signals import stop_on_signals
from reconciler.sandbox import sandbox_base_url, sandbox_transport
from reconciler.sandbox.wsgiserver import HTTPServer
from tests.conftest import start_server

from .helpers import user_body


def _serve(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "reconciler", "sandbox", "serve",
                "--db", str(db), "--port", str(port), "-q"]  # fmt: skip

    def answers(port: int) -> bool:
        httpx.get(f"http://127.0.0.1:{port}/scim/directory/sandbox/Users", timeout=1)
        return True

    process, port = start_server(command, answers)
    return process, f"http://127.0.0.1:{port}/scim/directory/sandbox"


def _busy(url: str, done: threading.Event) -> None:
    """Read pages over one kept-alive connection until ``done`` or the server stops."""
    with httpx.Client(base_url=url, timeout=5) as own:
        while not done.is_set():
            try:
                own.get("/Users", params={"count": 50})
            except httpx.TransportError:
                return


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_serve_cleanly_while_requests_are_in_flight(
    signum: signal.Signals, tmp_path: Path
) -> None:
    """The signal arrives while clients hold kept-alive connections and requests are in
    flight (where an exception raised into the server's loop once left a worker never
    told to stop, and the process never ended): exit 0 within seconds, and what was
    written before stays in the database. Three rounds, the signal at a different
    moment each time."""
    db = tmp_path / "sandbox.db"
    for round_ in range(3):
        process, url = _serve(db)
        done = threading.Event()
        with httpx.Client(base_url=url, timeout=5) as client:
            assert client.post("/Users", json=user_body(f"u{round_}")).status_code == 201
            threads = [threading.Thread(target=_busy, args=(url, done)) for _ in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(0.05 + 0.1 * round_)
            started = time.monotonic()
            process.send_signal(signum)
            try:
                code = process.wait(timeout=10)
            finally:
                done.set()
                for thread in threads:
                    thread.join(10)
                if process.poll() is None:
                    process.kill()
                    process.wait()
        assert code == 0
        assert time.monotonic() - started < 5
    with httpx.Client(base_url=sandbox_base_url(), transport=sandbox_transport(db)) as c:
        assert c.get("/Users").json()["totalResults"] == 3


def test_a_worker_stuck_in_a_request_does_not_hold_the_stop() -> None:
    """cheroot waits for a busy worker without a bound once its timeout has passed;
    ours leaves it behind (a daemon thread) and says so."""
    release = threading.Event()

    def stuck(environ: object, start_response: object) -> list[bytes]:
        release.wait(30)
        return []

    server = HTTPServer("127.0.0.1", 0, stuck)  # type: ignore[arg-type]
    server.shutdown_timeout = 0.3
    server.prepare()
    loop = threading.Thread(target=server.serve, daemon=True)
    loop.start()
    port = server.bind_addr[1]

    def call() -> None:
        with contextlib.suppress(httpx.TransportError):  # closed by the stop: expected
            httpx.get(f"http://127.0.0.1:{port}/", timeout=30)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    deadline = time.monotonic() + 5
    while not any(w.conn is not None for w in server.requests._threads):
        assert time.monotonic() < deadline, "the request never reached a worker"
        time.sleep(0.01)
    try:
        with capture_logs() as logs:
            started = time.monotonic()
            server.stop()
            took = time.monotonic() - started
        assert took < 3
        assert any("1 worker(s) left busy" in e.get("message", "") for e in logs)
        loop.join(5)
        assert not loop.is_alive()
    finally:
        release.set()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_while_serving_a_signal_only_asks_the_loop_to_stop(signum: signal.Signals) -> None:
    """Within ``stop_on_signals`` the signal sets the event and raises nothing into the
    code that runs (the server's loop); outside it, the handlers before it are back."""
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    with stop_on_signals() as stop:
        signal.raise_signal(signum)
        assert stop.wait(1)
    assert {s: signal.getsignal(s) for s in before} == before


def test_asked_twice_while_stopping_it_does_what_it_did_before() -> None:
    """A second signal while the loop stops is the way out there was before the block
    (Ctrl-C twice): a stop that takes long can still be cut short."""

    class BeforeError(Exception):
        pass

    def before_handler(signum: int, frame: object) -> None:
        raise BeforeError

    previous = signal.signal(signal.SIGTERM, before_handler)
    try:
        with stop_on_signals() as stop:
            signal.raise_signal(signal.SIGTERM)
            assert stop.is_set()
            with pytest.raises(BeforeError):
                signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
