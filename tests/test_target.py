"""Which directory a run talks to, and in which dialect (docs/design.md "CLI")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import httpx
import pytest

from reconciler.desired import TargetSpec
from reconciler.errors import ConfigError
from reconciler.target import connect, connect_admin, default_rate, resolve_target

TOKEN = "target-test-token-0123"  # long enough to be cut out of output


def test_precedence_is_flag_then_environment_then_files_then_sandbox() -> None:
    """--target wins over RECONCILER_TARGET, which wins over target.url, then the sandbox."""
    spec = TargetSpec(url="https://files.example/scim")
    env = {"RECONCILER_TARGET": "https://env.example/scim"}
    assert resolve_target("https://flag.example/scim", spec, env).url == "https://flag.example/scim"
    assert resolve_target(None, spec, env).url == "https://env.example/scim"
    assert resolve_target(None, spec, {}).url == "https://files.example/scim"
    default = resolve_target(None, TargetSpec(), {})
    assert default.sandbox_path == Path(".reconciler/sandbox.db").absolute()
    assert default.is_sandbox


def test_a_sandbox_target_records_its_absolute_path(tmp_path: Path) -> None:
    """A saved plan for sandbox:rel.db names that very file, not whatever rel.db is later."""
    target = resolve_target("sandbox:rel.db", TargetSpec(), {})
    assert target.url == f"sandbox:{Path('rel.db').absolute()}"


def test_url_variables_expand_from_the_environment() -> None:
    """${VAR} in target.url expands; a variable that is not set is a clear error."""
    spec = TargetSpec(url="https://api.atlassian.com/scim/directory/${DIR_ID}")
    assert resolve_target(None, spec, {"DIR_ID": "abc"}).url.endswith("/directory/abc")
    with pytest.raises(ConfigError, match="DIR_ID is not set"):
        resolve_target(None, spec, {})


@pytest.mark.parametrize(
    ("url", "dialect"),
    [
        pytest.param("https://api.atlassian.com/scim/directory/abc", "atlassian", id="atlassian"),
        pytest.param(
            "http://127.0.0.1:8000/scim/directory/sandbox", "atlassian", id="served-sandbox"
        ),
        pytest.param("https://scim.example.com/scim/directory/abc", "generic", id="lookalike-path"),
        pytest.param("https://scim.example.com/v2", "generic", id="generic"),
    ],
)
def test_dialect_is_detected_from_the_url(url: str, dialect: str) -> None:
    """Atlassian's host and path, or the served sandbox, mean the atlassian dialect."""
    assert resolve_target(url, TargetSpec(), {}).dialect == dialect


def test_dialect_in_the_files_overrides_detection() -> None:
    """target.dialect set to generic or atlassian is used as given."""
    spec = TargetSpec(dialect="atlassian")
    assert resolve_target("https://scim.example.com/v2", spec, {}).dialect == "atlassian"


def test_token_env_is_carried_but_the_token_is_not() -> None:
    """The target knows which variable holds the token, never the token itself."""
    target = resolve_target(
        "https://x.example/v2", TargetSpec(token_env="MY_TOKEN"), {"MY_TOKEN": "s3cret"}
    )
    assert target.token_env == "MY_TOKEN"
    assert "s3cret" not in repr(target)


def test_the_token_variable_never_expands_into_the_url() -> None:
    """A URL is printed in every plan: ${TOKEN_VAR} in it is refused, not expanded."""
    spec = TargetSpec(url="https://x.example/${RECONCILER_TOKEN}")
    with pytest.raises(ConfigError, match="may hold a credential"):
        resolve_target(None, spec, {"RECONCILER_TOKEN": "s3cret"})


@pytest.mark.parametrize(
    ("url", "env"),
    [
        pytest.param(
            "https://x.example/${RECONCILER_TOKEN}",
            {"RECONCILER_TOKEN": "s3cret"},
            id="default-variable-with-token_env-renamed",
        ),
        pytest.param(
            "https://x.example/${GITHUB_TOKEN}",
            {"GITHUB_TOKEN": "s3cret"},
            id="named-like-a-secret",
        ),
        pytest.param(
            "https://x.example/${DIR}",
            {"DIR": "s3cret", "MY_TOKEN": "s3cret"},
            id="alias-of-the-token",
        ),
    ],
)
def test_no_variable_that_holds_a_token_expands_into_the_url(url: str, env: dict[str, str]) -> None:
    """Whatever token_env says, a variable holding a token never reaches the printed URL."""
    with pytest.raises(ConfigError) as raised:
        resolve_target(None, TargetSpec(url=url, token_env="MY_TOKEN"), env)
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://x.example/v2?token=s3cret", id="query"),
        pytest.param("ftp://user:s3cret@x.example/v2", id="userinfo"),
        pytest.param("https://x.example/v2#s3cret", id="fragment"),
        pytest.param("https://x.example:99999/v2?s3cret", id="bad-port"),
    ],
)
def test_messages_never_print_a_urls_userinfo_or_query(url: str) -> None:
    """A refused URL is named without the parts that carry credentials."""
    with pytest.raises(ConfigError) as raised:
        resolve_target(url, TargetSpec(), {})
    assert "s3cret" not in str(raised.value)
    assert "x.example" in str(raised.value)


def test_a_malformed_url_is_a_config_error_not_a_traceback() -> None:
    """An unparsable target (a broken IPv6 literal) is reported like any bad target."""
    with pytest.raises(ConfigError, match="not a valid URL"):
        resolve_target("https://[::1/v2", TargetSpec(), {})


def _server_config(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"schemas": [], "filter": {"supported": True}})


@pytest.mark.parametrize(
    ("url", "dialect", "rate"),
    [
        pytest.param("https://api.atlassian.com/scim/directory/abc", "auto", 10.0, id="atlassian"),
        pytest.param("https://scim.example.com/v2", "atlassian", 10.0, id="declared-atlassian"),
        pytest.param("https://scim.example.com/v2", "auto", None, id="generic"),
        pytest.param(
            "http://127.0.0.1:8000/scim/directory/sandbox", "auto", None, id="served-sandbox"
        ),
        pytest.param("http://localhost:8000/scim/directory/x", "atlassian", None, id="localhost"),
    ],
)
def test_atlassian_remote_targets_default_to_the_conservative_rate(
    url: str, dialect: Literal["auto", "atlassian", "generic"], rate: float | None
) -> None:
    """Without --rate, a real Atlassian directory gets ATLASSIAN.default_rate (10 requests per
    second); loopback hosts (the served sandbox, test servers) and generic servers get none."""
    target = resolve_target(url, TargetSpec(dialect=dialect), {})
    assert default_rate(target) == rate
    connection = connect(
        target,
        {"RECONCILER_TOKEN": TOKEN},
        wrap_transport=lambda inner: httpx.MockTransport(_server_config),
    )
    with connection.client:
        assert connection.client.limiter.rate == rate


def test_the_embedded_sandbox_has_no_default_rate(tmp_path: Path) -> None:
    """sandbox:PATH speaks the Atlassian dialect but is local: no rate limit unless asked."""
    target = resolve_target(f"sandbox:{tmp_path / 's.db'}", TargetSpec(), {})
    assert target.dialect == "atlassian"
    connection = connect(target, {})
    with connection.client:
        assert connection.client.limiter.rate is None


def test_an_explicit_rate_wins_over_the_default() -> None:
    """--rate R is used as given, on Atlassian as anywhere."""
    target = resolve_target("https://api.atlassian.com/scim/directory/abc", TargetSpec(), {})
    connection = connect(
        target,
        {"RECONCILER_TOKEN": TOKEN},
        rate=2.5,
        wrap_transport=lambda inner: httpx.MockTransport(_server_config),
    )
    with connection.client:
        assert connection.client.limiter.rate == 2.5


def test_a_remote_target_refuses_a_token_too_short_to_cut_out() -> None:
    """A token under 16 characters for a non-loopback host is refused before anything is
    sent: it could not be cut out of output without cutting ordinary words too."""
    env = {"RECONCILER_TOKEN": "t0k"}
    target = resolve_target("https://scim.example.com/v2", TargetSpec(), env)
    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _server_config(request)

    with pytest.raises(ConfigError, match="RECONCILER_TOKEN holds a token shorter than 16"):
        connect(target, env, wrap_transport=lambda inner: httpx.MockTransport(server))
    assert sent == []


def test_a_remote_organisation_refuses_an_api_key_too_short_to_cut_out() -> None:
    """The organisation's API key (the Admin API) is held to the same length as the token."""
    env = {"RECONCILER_TOKEN": TOKEN, "RECONCILER_ORG_TOKEN": "org-t0k"}
    url = "https://api.atlassian.com/scim/directory/abc"
    target = resolve_target(url, TargetSpec(org_id="org1"), env)
    with pytest.raises(ConfigError, match="RECONCILER_ORG_TOKEN holds a token shorter than 16"):
        connect_admin(target, env=env)


def test_a_loopback_target_takes_a_short_token_and_says_it_is_not_cut_out() -> None:
    """The served sandbox and test servers may use a short token (``--token T``), with a note."""
    target = resolve_target("http://127.0.0.1:8000/scim/directory/sandbox", TargetSpec(), {})
    connection = connect(
        target,
        {"RECONCILER_TOKEN": "T"},
        wrap_transport=lambda inner: httpx.MockTransport(_server_config),
    )
    with connection.client:
        assert connection.note is not None
        assert "shorter than 16 characters: it is not cut out of output" in connection.note


def test_the_runs_budget_is_the_flag_else_target_timeout() -> None:
    """``--timeout`` (the runtime's) wins over ``target.timeout``; neither: no budget, and
    each request keeps its own deadline."""
    from reconciler.app import Runtime

    target = resolve_target("https://scim.example.com/v2", TargetSpec(timeout="10m"), {})
    assert target.timeout == 600
    assert Runtime(started=5.0).budget(target).run_seconds == 600
    assert Runtime(started=5.0).budget(target).started == 5.0
    assert Runtime(timeout=3.0).budget(target).run_seconds == 3.0
    untimed = resolve_target("https://scim.example.com/v2", TargetSpec(), {})
    assert Runtime().budget(untimed).run_seconds is None
