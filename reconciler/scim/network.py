"""The way out to the network: which hosts may see the token, and through which proxy.

httpx, left to itself, sends a request through whatever ``HTTP_PROXY``/``ALL_PROXY``
names, loopback targets included: on a CI runner with ``HTTP_PROXY`` set, a plain-http
test target on 127.0.0.1 sent ``Authorization: Bearer …`` in clear to the proxy host,
and the proxy could answer in the directory's place. So the client never reads the
environment itself (``trust_env`` is off for proxies); ``proxy_for`` decides, by one
rule:

- a loopback target never goes through a proxy;
- a plain-http target never does either (plain http is only allowed to loopback, and
  a proxy in its path would read the token);
- an https target honours ``HTTPS_PROXY``, else ``ALL_PROXY`` (either spelling), unless
  ``NO_PROXY`` names its host: the proxy sees a ``CONNECT host:port`` and then TLS.

``HTTP_PROXY`` is therefore never used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from reconciler.errors import ConfigError

# Lower case first, as curl and urllib read them.
_HTTPS_PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
_NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clear_text_allowed(host: str) -> bool:
    """Whether a request to ``host`` may go over plain http, token and all: a loopback
    host, or a ``.invalid`` name, which never resolves (RFC 2606; the in-process
    sandbox's origin), so nothing sent to it can leave the process."""
    return is_loopback(host) or host.lower().rstrip(".").endswith(".invalid")


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy the requests to ``url`` go through, or None (module docstring)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or is_loopback(host):
        return None
    name = next((n for n in _HTTPS_PROXY_VARIABLES if env.get(n, "").strip()), None)
    if name is None or _bypassed(host, _no_proxy(env)):
        return None
    proxy = env[name].strip()
    if "://" not in proxy:
        proxy = "http://" + proxy
    scheme = proxy.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise ConfigError(
            f"{name} names a {scheme} proxy; only http and https proxies are supported "
            f"(or leave {host} out with NO_PROXY)"
        )
    return proxy


def _no_proxy(env: Mapping[str, str]) -> list[str]:
    text = next((env[n] for n in _NO_PROXY_VARIABLES if env.get(n)), "")
    return [entry.strip().lower() for entry in text.split(",") if entry.strip()]


def _bypassed(host: str, entries: list[str]) -> bool:
    """Whether ``NO_PROXY`` names ``host``: ``*``, the host, a parent domain (with or
    without its leading dot), an address or a network (``10.0.0.0/8``)."""
    host = host.lower()
    for entry in entries:
        if entry == "*":
            return True
        name = entry.removeprefix("*").removeprefix(".")
        if host == name or host.endswith("." + name):
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                return True
        except ValueError:
            continue
    return False


def network_transport(url: str, proxy: str | None = None) -> httpx.HTTPTransport:
    """The transport to ``url``'s host: direct, or through ``proxy`` when the rule allows.

    A proxy given for a loopback or plain-http target is not used (module docstring).
    Certificates still come from ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set, as
    httpx reads them: a company's own certificate authority keeps working.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or is_loopback(parts.hostname or ""):
        proxy = None
    return httpx.HTTPTransport(proxy=proxy)
