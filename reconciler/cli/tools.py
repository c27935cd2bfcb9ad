"""Tools around the main flow: export (bootstrap), and the sandbox: seed and serve."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.commands import main
from reconciler.cli.common import (
    global_options,
    paths_argument,
    target_option,
    timeout_option,
    with_timeout,
    write_atomically,
)
from reconciler.cli.output import Output
from reconciler.cli.signals import stop_on_signals
from reconciler.cli.summary import summary_event
from reconciler.errors import (
    ConfigError,
)
from reconciler.wording import plural

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.desired import Policy


@main.command()
@target_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write users and groups files into this directory (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="File format of the export.",
)
@click.option("--force", is_flag=True, help="Overwrite users and groups files already in --out.")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    help="Export only what this file's policy owns (scope, protect, key), so the bootstrap "
    "validates under it. The file must have a policy section.",
)
@timeout_option
@global_options
def export(
    target: str | None,
    out: Path | None,
    fmt: str,
    force: bool,
    policy_file: Path | None,
    timeout: float | None,
    output: Output,
) -> None:
    """Write today's directory as desired-state files, to start managing it as code.

    The export loads without problems and plans to no changes against the same
    directory. Without --out, one document goes to stdout.
    """
    from reconciler.app import run_export
    from reconciler.export import export_documents, render_export
    from reconciler.redaction import redact_secrets

    with_timeout(output, timeout)
    policy = _policy_of(policy_file) if policy_file is not None else None
    resolved, live = run_export(target, output.runtime)
    # Without secrets: a directory that serves the token back in its data gets
    # <redacted> there in the files (which a plan then shows as a change).
    users_doc, groups_doc = map(redact_secrets, export_documents(live, policy))
    output.info(f"Read {resolved.description}")
    counts = {"users": len(users_doc["users"]), "groups": len(groups_doc["groups"])}
    if out is None:
        output.out(render_export({**users_doc, "groups": groups_doc["groups"]}, fmt))
        summary_event("export", counts, target=resolved.url)
        return
    suffix = "yaml" if fmt == "yaml" else "json"
    names = (out / f"users.{suffix}", out / f"groups.{suffix}")
    existing = [p for p in names if p.exists() or p.is_symlink()]
    if existing and not force:
        raise ConfigError(
            f"{existing[0]} exists; an export would overwrite it (and any comments in it). "
            "Use --force to overwrite, or --out another directory"
        )
    for path, doc in zip(names, (users_doc, groups_doc), strict=True):
        write_atomically(path, render_export(doc, fmt))
    output.info(
        f"Exported {plural(counts['users'], 'user')} and {plural(counts['groups'], 'group')} "
        f"to {out}/users.{suffix} and {out}/groups.{suffix}"
    )
    summary_event("export", counts, target=resolved.url)


def _policy_of(path: Path) -> Policy:
    """The policy of the ``--policy`` file; one without any is refused, not read as
    "everything": whoever gave it meant to export less."""
    from reconciler.app import load_files

    desired = load_files((path,))
    if "policy" not in desired.model_fields_set:
        raise ConfigError(
            f"--policy {path}: the file has no policy section, so it would not narrow the "
            "export; add one (policy: users: scope: [...]) or leave --policy out to export "
            "everything"
        )
    return desired.policy


@main.group()
def sandbox() -> None:
    """The embedded local directory that behaves like the Atlassian API."""


db_option = click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=Path(".reconciler/sandbox.db"),
    show_default=True,
    help="SQLite file that holds the directory.",
)


@sandbox.command("seed")
@paths_argument
@db_option
@global_options
def sandbox_seed(paths: tuple[Path, ...], db: Path, output: Output) -> None:
    """Load an organisation fixture and desired-state files into the sandbox.

    A file with a top-level `org` is an organisation fixture: its verified `domains`,
    Atlassian accounts outside the directory (`accounts: [{email, linked_to}]`), group
    names other directories hold (`groups`) and size `caps`; it replaces the
    sandbox's organisation. Other
    files are desired-state files, as `export` writes them: together they replace
    the directory's users, groups and memberships, in one bulk load.
    """
    from reconciler.sandbox import open_store
    from reconciler.sandbox.seeding import seed

    if not paths:
        raise ConfigError("give at least one PATH: an organisation fixture or desired-state files")
    started = time.perf_counter()
    with open_store(db) as store:
        summary = seed(store, paths)
    parts = []
    if summary.accounts is not None:
        parts.append(
            f"organisation: {plural(summary.accounts, 'account')} ({summary.linked_elsewhere}"
            f" linked to other directories), {plural(summary.group_names, 'group name')} taken,"
            f" {plural(summary.domains, 'verified domain')}"
        )
    if summary.users is not None:
        parts.append(
            f"directory: {plural(summary.users, 'user')}, {plural(summary.groups, 'group')},"
            f" {plural(summary.memberships, 'membership')}"
        )
    seconds = time.perf_counter() - started
    output.info(f"Seeded {db} in {seconds:.1f} s: " + "; ".join(parts))


@sandbox.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--token",
    metavar="T",
    help="Require this bearer token (default: no auth, which only a loopback --host allows).",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Serve a non-loopback --host without --token: anyone who reaches it can read and "
    "change the whole directory. Warns on every start.",
)
@click.option(
    "--org-token",
    metavar="T",
    help="The organisation API key the Admin API under /admin/ requires"
    " (without it, the Admin API answers 401).",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="R",
    help="Fault knob: answer 429 above R requests per second (see --rate-limit-style).",
)
@click.option(
    "--rate-limit-style",
    type=click.Choice(["scim", "atlassian", "headerless"]),
    default="scim",
    show_default=True,
    help="Fault knob: a 429 with Retry-After and a SCIM body (scim); with X-RateLimit-Limit, "
    "-Remaining and an ISO 8601 -Reset and a non-SCIM body, as Atlassian's APIs answer "
    "(atlassian); or with that body and no header at all (headerless).",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="MS",
    help="Fault knob: delay every answer by MS milliseconds.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    metavar="P",
    help="Fault knob: answer this fraction of requests with 500 or 503.",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    metavar="P",
    help="Fault knob: drop this fraction of connections without an answer.",
)
@click.option(
    "--error-200-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    metavar="P",
    help="Fault knob: refuse this fraction of requests, but answer 200 with a SCIM error body.",
)
@click.option(
    "--writes-only",
    is_flag=True,
    help="Fault knob: --error-rate, --drop-rate and --error-200-rate hit only writes.",
)
@click.option(
    "--echo-auth",
    is_flag=True,
    help="Fault knob: error answers quote the request's Authorization header (detail, traceId).",
)
@click.option(
    "--total-cap",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Fault knob: user and group listings announce at most N totalResults.",
)
@click.option(
    "--lists-without-members",
    is_flag=True,
    help="Fault knob: group listings leave out members (GET /Groups/ID still has them).",
)
@click.option("--seed", type=int, default=None, help="Seed for the random fault knobs.")
@click.option(
    "--enterprise-read-only",
    is_flag=True,
    help="Take the enterprise extension as read-only, as Atlassian's OpenAPI marks it: ignored "
    "in a create or PUT, 400 in a PATCH.",
)
@global_options
def sandbox_serve(
    db: Path,
    host: str,
    port: int,
    token: str | None,
    insecure_no_auth: bool,
    org_token: str | None,
    seed: int | None,
    enterprise_read_only: bool,
    output: Output,
    **knobs: Any,
) -> None:
    """Serve the sandbox over HTTP at http://HOST:PORT/scim/directory/sandbox.

    Loopback by default; the same directory as the sandbox:PATH target. The base URL
    is printed on stdout once the server listens. The organisation's Admin API (SCIM
    links) is at http://HOST:PORT/admin/user-provisioning/v1/org/sandbox-org/ with
    --org-token. The fault knobs (all off by default) make it misbehave like a busy,
    or a lying, real directory, for tests and benchmarks.
    """
    with stop_on_signals() as stop:  # Ctrl-C and SIGTERM, from the start: a clean stop
        from reconciler.sandbox import FaultConfig, check_exposure, serve

        faults = FaultConfig(seed=seed, **knobs)  # every knob is a FaultConfig field
        if check_exposure(host, token, insecure_no_auth=insecure_no_auth):
            _warn_no_auth(host, db, output)
        serve(
            db,
            host=host,
            port=port,
            token=token,
            faults=faults,
            ready=_announce(output, db, org_token),
            stop=stop,
            org_token=org_token,
            enterprise_read_only=enterprise_read_only,
            insecure_no_auth=insecure_no_auth,
        )


def _announce(output: Output, db: Path, org_token: str | None) -> Callable[[str], None]:
    """What ``sandbox serve`` says once it listens: the URL on stdout, notes on stderr."""
    from reconciler.sandbox import SANDBOX_BASE_PATH, sandbox_admin_url

    def ready(url: str) -> None:
        output.out(url)
        output.info(f"Serving the sandbox at {url} from {db} (Ctrl-C or SIGTERM stops)")
        if org_token is not None:
            admin = sandbox_admin_url(url.removesuffix(SANDBOX_BASE_PATH))
            output.info(f"Serving the organisation's Admin API at {admin}/")

    return ready


def _warn_no_auth(host: str, db: Path, output: Output) -> None:
    """Said on every start, -q or not: the directory is open to the network."""
    text = (
        f"serving {db} on {host} with no token (--insecure-no-auth): anyone who can reach "
        "it can read and change the whole directory"
    )
    output.warn(text, "sandbox.no_auth", host=host)
