"""The way to the directory (issue 17): no proxy sees the token in clear, no server holds
a run forever or fills its memory.

Through the real CLI, against real servers on loopback (``tests.network_servers``):
a logging proxy, a served sandbox (plain http, and https with a certificate from a
test authority), and a server that trickles or floods its answer.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from reconciler.app import Runtime
from reconciler.scim.retry import RetryPolicy
from tests.e2e.helpers import reconciler, served_sandbox, write
from tests.network_servers import LoggingProxy, SlowServer, tls_sandbox

TOKEN = "network-test-token-5b8d1e"
# A name no resolver knows: only the proxy, which sends every host to 127.0.0.1, can
# reach it, so the run can only succeed through the proxy.
HOST = "directory.example.test"


def files(tmp_path: Path, target: str = "") -> Path:
    write(tmp_path / "files", "users.yaml", f"version: 1\n{target}users:\n  - userName: a@x.io\n")
    return tmp_path / "files"


def proxy_env(proxy: LoggingProxy, **more: str) -> dict[str, str]:
    """Every proxy variable a CI runner may set, pointing at ``proxy``."""
    names = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
    return {**dict.fromkeys(names, proxy.url), "NO_PROXY": "", "RECONCILER_TOKEN": TOKEN, **more}


def test_loopback_target_never_goes_through_the_proxy(tmp_path: Path) -> None:
    """With HTTP_PROXY set, a plain-http loopback target is reached directly: the proxy
    never sees a request, let alone the bearer token."""
    db = tmp_path / "s.db"
    with served_sandbox(db, "--token", TOKEN) as url, LoggingProxy() as proxy:
        run = reconciler("plan", str(files(tmp_path)), "--target", url, env=proxy_env(proxy))
    assert run.exit_code == 0, run.stderr
    assert "Plan: 1 to create" in run.stdout
    assert proxy.records == []


@pytest.fixture
def authority(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A test certificate authority: the server's TLS context for HOST, and the CA file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def test_https_target_goes_through_the_connect_proxy(
    tmp_path: Path, authority: tuple[ssl.SSLContext, Path]
) -> None:
    """HTTPS_PROXY still carries an https target: the proxy sees only ``CONNECT host:port``
    and then TLS, never the token, and the plan is made from the directory behind it."""
    context, ca_file = authority
    db = tmp_path / "s.db"
    with tls_sandbox(db, context, TOKEN) as port, LoggingProxy() as proxy:
        target = f"https://{HOST}:{port}/scim/directory/sandbox"
        env = proxy_env(proxy, SSL_CERT_FILE=str(ca_file))
        run = reconciler("plan", str(files(tmp_path)), "--target", target, env=env)
    assert run.exit_code == 0, run.stderr
    assert "Plan: 1 to create" in run.stdout
    assert {(r.method, r.target) for r in proxy.records} == {("CONNECT", f"{HOST}:{port}")}
    assert all("authorization" not in r.headers for r in proxy.records)
    assert all(TOKEN.encode() not in r.tunnelled for r in proxy.records)
    assert proxy.records[0].tunnelled  # the requests did go through the tunnel


def test_no_proxy_takes_an_https_target_off_the_proxy(
    tmp_path: Path, authority: tuple[ssl.SSLContext, Path]
) -> None:
    """A host NO_PROXY names is connected to directly: the proxy sees nothing (and the
    name, which only the proxy could resolve, cannot be reached)."""
    context, ca_file = authority
    with tls_sandbox(tmp_path / "s.db", context, TOKEN) as port, LoggingProxy() as proxy:
        target = f"https://{HOST}:{port}/scim/directory/sandbox"
        env = proxy_env(proxy, SSL_CERT_FILE=str(ca_file), NO_PROXY=".example.test")
        once = Runtime(retry=RetryPolicy(attempts=1))  # the name will not resolve: no retries
        run = reconciler("plan", str(files(tmp_path)), "--target", target, env=env, runtime=once)
    assert run.exit_code == 1
    assert "cannot connect" in run.stderr
    assert proxy.records == []


@pytest.mark.parametrize(
    ("flag", "section"),
    [
        pytest.param(("--timeout", "2s"), "", id="--timeout"),
        pytest.param((), "target: {timeout: 2s}\n", id="target.timeout"),
    ],
)
def test_trickling_server_ends_the_plan_at_the_timeout(
    tmp_path: Path, flag: tuple[str, ...], section: str
) -> None:
    """A server that answers 200 and then one byte every half second ends the plan with
    exit 1 at the run's budget, naming the host and the budget; it is not asked again."""
    with SlowServer(chunk=b" ", chunks=60, interval=0.5) as server:
        run = reconciler(
            "plan", str(files(tmp_path, section)), "--target", server.url, *flag,
            env={"RECONCILER_TOKEN": ""},
        )  # fmt: skip
    assert run.exit_code == 1, run.stdout
    assert f"no whole answer from 127.0.0.1:{server.port}" in run.stderr
    assert "the run's budget of 2s" in run.stderr
    assert len(server.sent) == 1  # not retried
    assert server.sent[0] < 60  # the client went away mid-body


def test_an_endless_answer_is_cut_at_the_size_cap(tmp_path: Path) -> None:
    """An answer larger than RECONCILER_MAX_RESPONSE_BYTES fails the plan (exit 1) and is
    not read to its end, nor asked for again."""
    # 64 MiB offered, far more than loopback's socket buffers hold once the client stops.
    with SlowServer(chunk=b" " * 65536, chunks=1024, interval=0, length=False) as server:
        run = reconciler(
            "plan", str(files(tmp_path)), "--target", server.url,
            env={"RECONCILER_TOKEN": "", "RECONCILER_MAX_RESPONSE_BYTES": str(1024 * 1024)},
        )  # fmt: skip
    assert run.exit_code == 1, run.stdout
    assert f"the answer from 127.0.0.1:{server.port} is larger than the 1 MiB" in run.stderr
    assert len(server.sent) == 1
    assert server.sent[0] < 1024 * 65536
