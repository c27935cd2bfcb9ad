"""Injected faults: 429 with Retry-After, 500/503, latency, dropped connections and
refusals answered 200."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import (
    FaultConfig,
    FaultInjectingTransport,
    FaultInjector,
    SandboxApp,
    SandboxStore,
    sandbox_base_url,
    sandbox_transport,
)

from .helpers import scim_error, user_body


class FakeClock:
    """A monotonic clock the test moves by hand, and a sleep that only records."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def test_all_faults_off_by_default() -> None:
    """FaultConfig() injects nothing: the sandbox behaves like a healthy directory."""
    assert not FaultConfig().enabled
    assert FaultInjector(FaultConfig()).decide().kind == "answer"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_limit": 0},
        {"latency_ms": -1},
        {"latency_ms": float("inf")},
        {"error_rate": 1.5},
        {"drop_rate": -0.1},
        {"error_rate": float("nan")},
        {"error_200_rate": 2},
        {"total_cap": -1},
    ],
)
def test_config_rejects_nonsense(kwargs: dict[str, float]) -> None:
    """Out-of-range settings are a programmer mistake and fail at construction."""
    with pytest.raises(ValueError, match="must"):
        FaultConfig(**kwargs)  # type: ignore[arg-type]


def test_same_seed_same_faults() -> None:
    """A seed makes the random faults reproducible, run after run."""
    config = FaultConfig(error_rate=0.3, drop_rate=0.3, seed=7)
    a, b = FaultInjector(config), FaultInjector(config)
    decisions = [a.decide() for _ in range(50)]
    assert decisions == [b.decide() for _ in range(50)]
    assert {d.kind for d in decisions} > {"answer"}


def test_rate_limit_token_bucket() -> None:
    """Over the rate, requests get 429 with a Retry-After in whole seconds; tokens refill."""
    clock = FakeClock()
    injector = FaultInjector(FaultConfig(rate_limit=2), clock=clock, sleep=clock.sleep)
    assert [injector.decide().kind for _ in range(3)] == ["answer", "answer", "rate_limited"]
    refused = injector.decide()
    assert (refused.status, refused.retry_after) == (429, 1)
    clock.now += 0.5
    assert injector.decide().kind == "answer"
    assert injector.decide().kind == "rate_limited"


def test_rate_limit_in_process(sandbox_db: Path) -> None:
    """docs/atlassian.md "Errors, rate limits, retries": expect 429 with Retry-After and a SCIM
    error body."""
    transport = sandbox_transport(sandbox_db, faults=FaultConfig(rate_limit=1))
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        assert client.get("/Users").status_code == 200
        response = client.get("/Users")
    scim_error(response, 429)
    assert int(response.headers["retry-after"]) >= 1


def test_server_errors_are_500_or_503(sandbox_db: Path) -> None:
    """docs/atlassian.md "Errors, rate limits, retries": 500 and 503 happen (safe to retry),
    with SCIM bodies."""
    transport = sandbox_transport(sandbox_db, faults=FaultConfig(error_rate=1.0, seed=3))
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        statuses = Counter(client.get("/Users").status_code for _ in range(30))
    assert set(statuses) == {500, 503}


def test_injected_error_has_scim_body(sandbox_db: Path) -> None:
    """An injected 5xx carries a SCIM error body with the status as a string."""
    transport = sandbox_transport(sandbox_db, faults=FaultConfig(error_rate=1.0, seed=1))
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        response = client.get("/Users")
    scim_error(response, response.status_code)


def test_dropped_connections_in_process(sandbox_db: Path) -> None:
    """A drop raises an httpx transport error; a drop after processing kept the write."""
    transport = sandbox_transport(sandbox_db, faults=FaultConfig(drop_rate=1.0, seed=5))
    errors: Counter[str] = Counter()
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        for i in range(20):
            with pytest.raises(httpx.TransportError) as caught:
                client.post("/Users", json=user_body(f"u{i}"))
            errors[type(caught.value).__name__] += 1
    assert set(errors) == {"RemoteProtocolError", "ReadError"}
    with SandboxStore(sandbox_db) as store:
        assert store.count_users() == errors["ReadError"]


def test_latency_is_applied() -> None:
    """latency_ms delays every answer by that much."""
    clock = FakeClock()
    injector = FaultInjector(FaultConfig(latency_ms=40), clock=clock, sleep=clock.sleep)
    transport = FaultInjectingTransport(
        httpx.MockTransport(_ok), injector.config, injector=injector
    )
    with httpx.Client(transport=transport) as client:
        assert client.get("http://x/").status_code == 200
    assert clock.slept == [0.04]


def test_middleware_when_served(sandbox_db: Path) -> None:
    """With faults, SandboxApp itself answers 429s (the path used when serving over HTTP)."""
    with SandboxStore(sandbox_db) as store:
        app = SandboxApp(store, faults=FaultConfig(rate_limit=1))
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=sandbox_base_url()) as c:
            assert c.get("/Users").status_code == 200
            response = c.get("/Users")
    scim_error(response, 429)
    assert response.headers["retry-after"] == "1"


def test_middleware_drop_without_socket(sandbox_db: Path) -> None:
    """Under a WSGI server that hides its socket, a drop degrades to an empty 502."""
    with SandboxStore(sandbox_db) as store:
        app = SandboxApp(store, faults=FaultConfig(drop_rate=1.0, seed=1))
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=sandbox_base_url()) as c:
            response = c.get("/Users")
    assert response.status_code == 502
    assert response.content == b""


def test_error_200_refuses_the_write_but_answers_200(sandbox_db: Path) -> None:
    """error_200_rate: the write is not done, yet the answer is 200 with a SCIM error body."""
    transport = sandbox_transport(sandbox_db, faults=FaultConfig(error_200_rate=1.0))
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        response = client.post("/Users", json=user_body("ann"))
    assert response.status_code == 200
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "400"
    with SandboxStore(sandbox_db) as store:
        assert store.count_users() == 0


def test_writes_only_spares_reads(sandbox_db: Path) -> None:
    """With writes_only, the random faults hit POST/PUT/PATCH/DELETE and never a GET."""
    faults = FaultConfig(error_rate=1.0, writes_only=True, seed=1)
    transport = sandbox_transport(sandbox_db, faults=faults)
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        assert all(client.get("/Users").status_code == 200 for _ in range(10))
        assert client.post("/Users", json=user_body("ann")).status_code in (500, 503)


def test_served_faults_rewrite_injected_answers(sandbox_db: Path) -> None:
    """Served over HTTP, an injected refusal under 200 is rewritten too (echo_auth)."""
    faults = FaultConfig(error_200_rate=1.0, writes_only=True, echo_auth=True)
    with SandboxStore(sandbox_db) as store:
        app = SandboxApp(store, faults=faults)
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=sandbox_base_url()) as c:
            assert c.get("/Users").status_code == 200
            response = c.post(
                "/Users", json=user_body("ann"), headers={"Authorization": "Bearer t-1"}
            )
    assert response.status_code == 200
    assert "Authorization: Bearer t-1" in response.json()["detail"]


def test_an_atlassian_style_429_has_rate_limit_headers_and_no_retry_after() -> None:
    """docs/atlassian.md "Errors, rate limits, retries": X-RateLimit-Limit, -Remaining and an
    ISO 8601 UTC -Reset (the wait rounded up to a whole second), no Retry-After, a
    non-SCIM {"code", "message"} body."""
    clock = FakeClock()
    config = FaultConfig(rate_limit=2, rate_limit_style="atlassian")
    injector = FaultInjector(config, clock=clock, sleep=clock.sleep, wall=lambda: 1_700_000_000.2)
    inner = httpx.MockTransport(_ok)
    with httpx.Client(transport=FaultInjectingTransport(inner, config, injector=injector)) as c:
        c.get("http://x/"), c.get("http://x/")
        response = c.get("http://x/")
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert response.headers["x-ratelimit-limit"] == "2"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == "2023-11-14T22:13:22Z"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "code": 429,
        "message": "Too many requests: the sandbox allows 2 per second",
    }


def test_a_headerless_429_says_nothing_about_when_to_retry(sandbox_db: Path) -> None:
    """Some 429s come with no header at all: only the non-SCIM body."""
    config = FaultConfig(rate_limit=1, rate_limit_style="headerless")
    transport = sandbox_transport(sandbox_db, faults=config)
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as client:
        client.get("/Users")
        response = client.get("/Users")
    assert response.status_code == 429
    assert not {h for h in response.headers if "rate" in h or h == "retry-after"}
    assert response.json()["code"] == 429


def test_an_unknown_rate_limit_style_is_refused() -> None:
    """The style is one of scim, atlassian, headerless."""
    with pytest.raises(ValueError, match="rate_limit_style"):
        FaultConfig(rate_limit=1, rate_limit_style="polite")  # type: ignore[arg-type]
