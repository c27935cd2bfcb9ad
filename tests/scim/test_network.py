"""Which hosts may see the token and through which proxy (reconciler.scim.network)."""

from __future__ import annotations

import pytest

from reconciler.errors import ConfigError
from reconciler.scim.client import ScimClient
from reconciler.scim.network import clear_text_allowed, is_loopback, proxy_for

PROXY = "http://proxy.corp:3128"


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        pytest.param("http://127.0.0.1:8000/scim", {"HTTP_PROXY": PROXY}, None, id="http-loopback"),
        pytest.param("http://127.0.0.1:8000/scim", {"ALL_PROXY": PROXY}, None, id="all-loopback"),
        pytest.param("https://localhost/scim", {"HTTPS_PROXY": PROXY}, None, id="https-localhost"),
        pytest.param("https://[::1]:8443/scim", {"HTTPS_PROXY": PROXY}, None, id="https-ipv6-lo"),
        pytest.param("https://127.0.0.2/scim", {"https_proxy": PROXY}, None, id="https-127/8"),
        pytest.param(
            "https://scim.example.com/v2", {"HTTP_PROXY": PROXY}, None, id="http-proxy-unused"
        ),
        pytest.param(
            "https://scim.example.com/v2", {"HTTPS_PROXY": PROXY}, PROXY, id="https-proxy"
        ),
        pytest.param("https://scim.example.com/v2", {"https_proxy": PROXY}, PROXY, id="lower-case"),
        pytest.param("https://scim.example.com/v2", {"ALL_PROXY": PROXY}, PROXY, id="all-proxy"),
        pytest.param(
            "https://scim.example.com/v2", {"HTTPS_PROXY": "proxy.corp:3128"}, PROXY, id="no-scheme"
        ),
        pytest.param("https://scim.example.com/v2", {"HTTPS_PROXY": " "}, None, id="blank"),
    ],
)
def test_only_https_targets_off_this_machine_use_a_proxy(
    url: str, env: dict[str, str], expected: str | None
) -> None:
    """Loopback and plain-http targets never go through a proxy; https ones take
    HTTPS_PROXY, else ALL_PROXY; HTTP_PROXY is never used."""
    assert proxy_for(url, env) == expected


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        pytest.param("*", True, id="star"),
        pytest.param("scim.example.com", True, id="host"),
        pytest.param("example.com", True, id="parent-domain"),
        pytest.param(".example.com", True, id="dotted-parent"),
        pytest.param("other.com, example.com", True, id="list"),
        pytest.param("ample.com", False, id="not-a-suffix-of-a-label"),
        pytest.param("other.com", False, id="other"),
        pytest.param("", False, id="empty"),
    ],
)
def test_no_proxy_takes_hosts_off_the_proxy(no_proxy: str, bypassed: bool) -> None:
    """NO_PROXY names hosts, parent domains (with or without the dot) or ``*``."""
    env = {"HTTPS_PROXY": PROXY, "NO_PROXY": no_proxy}
    assert (proxy_for("https://scim.example.com/v2", env) is None) is bypassed


def test_no_proxy_takes_addresses_and_networks() -> None:
    """NO_PROXY may name an address or a network, as many CI runners set it."""
    env = {"HTTPS_PROXY": PROXY, "no_proxy": "10.0.0.0/8"}
    assert proxy_for("https://10.1.2.3/scim", env) is None
    assert proxy_for("https://192.0.2.7/scim", env) == PROXY


def test_a_socks_proxy_is_a_config_error_naming_the_variable() -> None:
    """A proxy the client cannot use is said, not silently skipped (the token would go direct)."""
    with pytest.raises(ConfigError, match="HTTPS_PROXY names a socks5 proxy"):
        proxy_for("https://scim.example.com/v2", {"HTTPS_PROXY": "socks5://proxy:1080"})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("example.com", False)],  # noqa: S104
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    """Loopback is localhost and the loopback addresses; every other host is the network."""
    assert is_loopback(host) is loopback


def test_plain_http_is_for_loopback_and_names_that_never_resolve() -> None:
    """Clear text may carry the token only where it cannot leave the machine (RFC 2606
    ``.invalid`` names are the in-process sandbox's)."""
    assert clear_text_allowed("127.0.0.1")
    assert clear_text_allowed("sandbox.invalid")
    assert not clear_text_allowed("scim.example.com")


def test_the_client_never_sends_the_token_over_plain_http_off_this_machine() -> None:
    """A client for a plain-http remote URL with a token is refused before anything is sent."""
    with pytest.raises(ConfigError, match="only sent over https"):
        ScimClient("http://scim.example.com/v2", token="t0ken")
    ScimClient("http://127.0.0.1:8000/v2", token="t0ken").close()
    ScimClient("http://scim.example.com/v2").close()  # no token, nothing to leak
