"""Which directory to talk to, in which dialect, and how to connect to it.

Resolution order (docs/design.md "CLI"): ``--target``, then ``RECONCILER_TARGET``, then
``target.url`` in the files, then the embedded sandbox at ``.reconciler/sandbox.db``.
The token comes only from the environment variable named by ``target.token_env``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import httpx

from reconciler.desired import TargetSpec, parse_duration
from reconciler.dialect import DEFAULT_PAGE_SIZE, Dialect, DialectName, detect, dialect_named
from reconciler.errors import ConfigError
from reconciler.redaction import MIN_SECRET_CHARS
from reconciler.scim.admin import AdminClient, admin_base_url
from reconciler.scim.budget import Budget, max_response_bytes
from reconciler.scim.client import ScimClient, check_token
from reconciler.scim.network import is_loopback as _is_loopback
from reconciler.scim.network import network_transport, proxy_for
from reconciler.scim.retry import RetryPolicy

DEFAULT_SANDBOX = "sandbox:.reconciler/sandbox.db"
SANDBOX_ORG = "sandbox-org"  # the embedded sandbox's one organisation
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved target: safe to print (no credentials), ready to connect to."""

    url: str  # as shown in outputs and recorded in plans
    # As the URL or the files say; its one Dialect is the connection's, which discovery
    # completes (``Connection.dialect``).
    dialect: DialectName
    token_env: str
    sandbox_path: Path | None = None
    org_id: str | None = None  # the Atlassian organisation, for the Admin API
    org_token_env: str = "RECONCILER_ORG_TOKEN"  # noqa: S105 - a variable name, not a token
    timeout: float | None = None  # target.timeout: the run's budget, in seconds

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox_path is not None

    @property
    def description(self) -> str:
        if self.sandbox_path is not None:
            return f"the local embedded sandbox at {self.sandbox_path} (not a real directory)"
        return self.url


# Variables that hold credentials by name: never expanded into a URL, whatever
# target.token_env says (a URL is printed in every plan, log and saved plan).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|PRIVATE", re.IGNORECASE)
TOKEN_VARIABLES = ("RECONCILER_TOKEN", "RECONCILER_ORG_TOKEN")


def expand(value: str, env: Mapping[str, str], secret: str | tuple[str, ...] | None = None) -> str:
    """Expand ``${VAR}`` from the environment; a missing variable is an error.

    No variable that holds a token expands: not ``secret`` (the token's variable), not
    the default token variables, not one whose name says it is a credential, and not
    one whose value is a token's value (an alias). A file in a pull request could
    otherwise put the token into the URL that every output prints.
    """
    named = (secret,) if isinstance(secret, str) or secret is None else secret
    token_names = {name for name in (*named, *TOKEN_VARIABLES) if name}
    token_values = {env[name] for name in token_names if env.get(name)}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in token_names or _SECRET_NAME.search(name):
            raise ConfigError(f"target.url may not use ${{{name}}}: it may hold a credential")
        if name not in env:
            raise ConfigError(f"target.url uses ${{{name}}}, but {name} is not set")
        if env[name] in token_values:
            raise ConfigError(f"target.url may not use ${{{name}}}: it holds a token's value")
        return env[name]

    return _VAR.sub(substitute, value)


def printable_url(raw: str) -> str:
    """A URL as messages may show it: no userinfo, no query, no fragment."""
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
    except ValueError:
        return "(an unparsable URL)"
    with contextlib.suppress(ValueError):  # a port out of range is simply not shown
        if parts.port is not None:
            host = f"{host}:{parts.port}"
    shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path
    return shown + ("?…" if parts.query or parts.fragment else "")


def resolve_target(
    cli_target: str | None,
    spec: TargetSpec,
    env: Mapping[str, str],
    *,
    fallback: str | None = None,
) -> Target:
    """Pick the target by precedence and check that it is usable.

    The one place for the precedence: ``--target``, ``RECONCILER_TARGET``,
    ``target.url`` in the files, then ``fallback`` (a saved plan's own target), then
    the embedded sandbox.
    """
    raw = cli_target or env.get("RECONCILER_TARGET") or spec.url or fallback or DEFAULT_SANDBOX
    raw = expand(raw, env, secret=(spec.token_env, spec.org_token_env)).strip()
    timeout = None if spec.timeout is None else parse_duration(spec.timeout)
    if raw.startswith("sandbox:"):
        if not raw.removeprefix("sandbox:").strip():
            raise ConfigError("sandbox: needs a PATH, for example sandbox:.reconciler/sandbox.db")
        # Absolute: a saved plan names this very file, wherever apply runs from.
        path = Path(raw.removeprefix("sandbox:")).expanduser().absolute()
        return Target(
            url=f"sandbox:{path}",
            dialect="atlassian",
            token_env=spec.token_env,
            sandbox_path=path,
            org_id=spec.org_id or SANDBOX_ORG,
            org_token_env=spec.org_token_env,
            timeout=timeout,
        )
    parts = _checked_url(raw, spec.token_env)
    hostname = parts.hostname or ""
    dialect = detect(hostname, parts.path, loopback=_is_loopback(hostname), declared=spec.dialect)
    return Target(
        url=raw.rstrip("/"),
        dialect=dialect,
        token_env=spec.token_env,
        org_id=spec.org_id,
        org_token_env=spec.org_token_env,
        timeout=timeout,
    )


def _checked_url(raw: str, token_env: str) -> SplitResult:
    """A target URL that is usable and safe to print, or a ``ConfigError`` saying why."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise ConfigError(f"target {printable_url(raw)!r} is not a valid URL: {error}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        shown = printable_url(raw)
        raise ConfigError(f"target {shown!r} is neither an http(s) URL nor sandbox:PATH")
    if parts.username or parts.password:
        raise ConfigError(
            "the target URL carries credentials; put the token in the environment variable "
            f"{token_env} instead"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(f"plain http is only allowed to loopback hosts, not {parts.hostname}")
    if parts.query or parts.fragment:
        raise ConfigError(f"target {printable_url(raw)!r} must not have a query or fragment")
    return parts


@dataclass(frozen=True, slots=True)
class Connection:
    """A client for a target, with what discovery said about the server."""

    client: ScimClient
    # The target's dialect, completed by what discovery said: the one Dialect of a run.
    dialect: Dialect
    note: str | None = None  # something a person should know about this connection

    @property
    def page_size(self) -> int:
        return self.dialect.page_size or DEFAULT_PAGE_SIZE

    @property
    def etags(self) -> bool:
        """Send If-Match with the ETags the server announced."""
        return self.dialect.etags


def connect(
    target: Target,
    env: Mapping[str, str] | None = None,
    *,
    rate: float | None = None,
    retry: RetryPolicy | None = None,
    wrap_transport: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None,
    budget: Budget | None = None,
) -> Connection:
    """Open a client for ``target`` and read ``/ServiceProviderConfig`` once.

    ``rate`` (requests per second) defaults to ``default_rate(target)``: the
    dialect's conservative rate on a real directory, no limit on the sandbox.
    ``wrap_transport`` puts a layer between the client and the network (the fault
    injection of the resilience tests); nothing else in the package knows of it.
    ``budget``: how long requests may take (``scim.budget``); the proxy, if any, is
    the one ``env`` names for the target (``scim.network``).
    """
    env = os.environ if env is None else env
    rate = default_rate(target) if rate is None else rate
    limit = max_response_bytes(env)
    base_url, token, transport = _endpoint(target, env)
    client = ScimClient(
        base_url,
        token=token,
        transport=wrap_transport(transport) if wrap_transport else transport,
        retry=retry,
        rate=rate,
        budget=budget,
        max_response_bytes=limit,
    )
    try:
        config = client.service_provider_config()
    except BaseException:
        client.close()
        raise
    return Connection(
        client=client,
        dialect=dialect_named(target.dialect).with_discovery(config),
        note=None if target.sandbox_path is not None else _token_note(target, env),
    )


def _endpoint(
    target: Target, env: Mapping[str, str]
) -> tuple[str, str | None, httpx.BaseTransport]:
    """Where a directory client talks, with what token, over what: the embedded
    sandbox in process (no token), or the target's URL over the network."""
    if target.sandbox_path is not None:
        from reconciler.sandbox import sandbox_base_url, sandbox_transport

        return sandbox_base_url(), None, sandbox_transport(target.sandbox_path)
    token = _token(target, env)
    return target.url, token, network_transport(target.url, proxy_for(target.url, env))


def _token_note(target: Target, env: Mapping[str, str]) -> str | None:
    """What a person should know about the token of a loopback target: none, or short."""
    token = env.get(target.token_env)
    if not token:
        return (
            f"{target.token_env} is not set: talking to {target.url} without a token, "
            "as only a loopback target allows"
        )
    if len(token) < MIN_SECRET_CHARS:
        return (
            f"{target.token_env} holds a token shorter than {MIN_SECRET_CHARS} characters: "
            "it is not cut out of output, as only a loopback target allows"
        )
    return None


def _token(target: Target, env: Mapping[str, str]) -> str | None:
    """The target's bearer token; none, or a short one, is allowed only on a loopback host."""
    return _checked_token(env.get(target.token_env) or None, target.token_env, target.url)


def _checked_token(token: str | None, variable: str, url: str) -> str | None:
    """``token`` from ``variable`` if it may be sent to ``url``.

    A token shorter than ``MIN_SECRET_CHARS`` cannot be cut out of output without
    cutting ordinary words too (``reconciler.redaction``), so it is shown where an
    echoing server puts it: acceptable for the served sandbox or a test server on
    loopback, refused for anything else.
    """
    loopback = _is_loopback(urlsplit(url).hostname or "")
    if token is None and not loopback:
        raise ConfigError(
            f"no token: set the environment variable {variable} to the bearer token of {url}"
        )
    if token is None:
        return None
    try:
        check_token(token)
    except ConfigError as error:
        raise ConfigError(f"{variable}: {error}") from None
    if len(token) < MIN_SECRET_CHARS and not loopback:
        raise ConfigError(
            f"{variable} holds a token shorter than {MIN_SECRET_CHARS} characters, too short "
            "to be cut out of every output safely; only a loopback target (the served "
            "sandbox, a test server) accepts one"
        )
    return token


def default_rate(target: Target) -> float | None:
    """Requests per second when ``--rate`` is not given: the dialect's ``default_rate``
    (Atlassian: 10) on a real remote directory; none for ``sandbox:`` and loopback
    targets (the served sandbox, test servers), which have no quota to spend.
    """
    if target.sandbox_path is not None or _is_loopback(urlsplit(target.url).hostname or ""):
        return None
    return dialect_named(target.dialect).default_rate


def connect_admin(
    target: Target,
    org_id: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    required: bool = True,
    budget: Budget | None = None,
) -> AdminClient | None:
    """A client for the organisation's Admin API (SCIM links), or None when not set up.

    The organisation comes from ``org_id`` (``--org``), else ``target.org_id``; the
    token from the variable ``target.org_token_env`` (an organisation API key, not the
    directory's). ``required``: a missing organisation or token is an error rather
    than None. The embedded sandbox's organisation needs no token.
    """
    env = os.environ if env is None else env
    org = org_id or target.org_id
    if target.sandbox_path is not None:
        from reconciler.sandbox import sandbox_admin_url, sandbox_transport

        return AdminClient(
            sandbox_admin_url(),
            token="sandbox-org-token",  # noqa: S106 - the in-process sandbox takes any
            transport=sandbox_transport(target.sandbox_path),
        )
    token = env.get(target.org_token_env) or None
    if org is None or (token is None and not _is_loopback(urlsplit(target.url).hostname or "")):
        if not required:
            return None
        missing = (
            "an organisation id (--org or target.org_id)"
            if org is None
            else (f"the organisation API key in {target.org_token_env}")
        )
        raise ConfigError(f"the Admin API needs {missing}")
    token = _checked_token(token, target.org_token_env, target.url)
    url = admin_base_url(target.url, org)
    remote = network_transport(url, proxy_for(url, env))
    return AdminClient(url, token=token, transport=remote, budget=budget)
