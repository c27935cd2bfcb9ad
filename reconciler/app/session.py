"""A run's outside world (``Runtime``), its connection (``Session``), reading and planning."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.app.pipeline import read_while_loading
from reconciler.app.runtime import Runtime
from reconciler.desired import DesiredState
from reconciler.errors import ConfigError
from reconciler.files.dialectcheck import check_dialect_attributes
from reconciler.files.loader import collector_paused
from reconciler.linkcheck import link_warnings, planned_emails
from reconciler.live import LiveSnapshot
from reconciler.plan import Plan
from reconciler.planner import PlanContext, plan
from reconciler.scim.admin import directory_id_of
from reconciler.snapshot import read_snapshot
from reconciler.target import Connection, Target, connect, connect_admin, resolve_target


@dataclass(frozen=True, slots=True)
class Session:
    """A resolved target and an open connection to it."""

    target: Target
    connection: Connection


@contextmanager
def opened(
    desired: DesiredState,
    cli_target: str | None,
    runtime: Runtime,
    *,
    paths: tuple[Path, ...] = (),
    rate: float | None = None,
    fallback: str | None = None,
    exclude: tuple[str, ...] = (),
) -> Iterator[Session]:
    """Resolve the target, check the files against its dialect, connect; close after."""
    target = resolve_target(cli_target, desired.target, runtime.env, fallback=fallback)
    # Before anything is read.
    check_dialect_attributes(desired, paths, target.dialect, exclude=exclude)
    connection = connect(
        target,
        runtime.env,
        rate=rate,
        retry=runtime.retry,
        wrap_transport=runtime.transport,
        budget=runtime.budget(target),
    )
    if connection.note is not None:
        runtime.note(connection.note)
    try:
        yield Session(target, connection)
    finally:
        connection.client.close()


def read_live(
    session: Session, runtime: Runtime, keep: frozenset[str] | None = None
) -> LiveSnapshot:
    """The whole live directory, consistently, with progress; users keep the attribute
    paths in ``keep`` only, when given (``read_snapshot``)."""
    connection = session.connection
    with runtime.progress("Reading the directory", None) as bar:
        live = read_snapshot(
            connection.client,
            page_size=connection.page_size,
            progress=bar.update,
            keep=None if keep is None else lambda: keep,
            users_without=connection.dialect.users_listed_without,
        )
    runtime.read_counts(len(live.users), len(live.groups))
    return live


def plan_live(
    session: Session, desired: DesiredState, live: LiveSnapshot, runtime: Runtime
) -> Plan:
    """Plan from a snapshot read; on Atlassian, warn about emails linked elsewhere."""
    target = session.target
    context = plan_context(session)
    # Planning makes millions of objects and next to no cycles; the collector would walk
    # them again and again (2 of 5 s at 100,000 users), so it waits for the plan.
    with collector_paused():
        planned = plan(desired, live, context)
    return with_link_checks(refuse_secrets_sent(planned), target, runtime)


def plan_context(session: Session) -> PlanContext:
    """What the planner needs to know of the target and the connection."""
    target, connection = session.target, session.connection
    token_env = None if target.is_sandbox else target.token_env
    return PlanContext(target.url, connection.dialect, token_env, connection.client.limiter.rate)


def refuse_secrets_sent(plan_: Plan) -> Plan:
    """``plan_``, unless applying it would send the token (``Plan.secrets_sent``).

    Every view and saved plan shows the token redacted, so such a plan could not be
    reviewed as it would be sent; and only a server that serves the token back (as
    an id, an ETag, a name) or files that hold it make one.
    """
    keys = plan_.secrets_sent()
    if keys:
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        raise ConfigError(
            f"the plan would send the target's token to the directory (in what it does to "
            f"{shown}): the directory serves the token back in its data, or the files hold "
            "it. Nothing was sent or saved"
        )
    return plan_


def with_link_checks(planned: Plan, target: Target, runtime: Runtime) -> Plan:
    """The plan's new emails that another directory's link will refuse (409), said
    before anything is sent, when the organisation's Admin API is at hand."""
    if not target.dialect.org_admin or not planned_emails(planned):
        return planned
    admin = connect_admin(target, env=runtime.env, required=False, budget=runtime.budget(target))
    if admin is None:
        return planned  # without an org key, a 409 in the report explains itself
    with admin:
        here = "sandbox" if target.is_sandbox else directory_id_of(target.url)
        found = link_warnings(planned, admin.links_for_email, here)
    if not found:
        return planned
    warnings = sorted({*planned.warnings, *found}, key=lambda w: (w.key.lower(), w.key, w.message))
    return planned.model_copy(update={"warnings": tuple(warnings)})


@dataclass(frozen=True, slots=True)
class Planned:
    """A plan and the target it was made for."""

    target: Target
    plan: Plan


def run_plan(
    paths: tuple[Path, ...],
    cli_target: str | None,
    runtime: Runtime,
    exclude: tuple[str, ...] = (),
    *,
    rate: float | None = None,
) -> Planned:
    """Load the files while the directory is read (``pipeline``), plan. Sends no writes.

    ``exclude``: gitignore patterns of files to leave out (``files.finding``); ``rate``:
    requests per second (``plan --rate``)."""
    with read_while_loading(paths, cli_target, runtime, rate=rate, exclude=exclude) as run:
        session = Session(run.target, run.connection)
        return Planned(run.target, plan_live(session, run.desired, run.live, runtime))


def run_export(cli_target: str | None, runtime: Runtime) -> tuple[Target, LiveSnapshot]:
    """Read the whole directory, for ``reconciler export``."""
    with opened(DesiredState(), cli_target, runtime) as session:
        return session.target, read_live(session, runtime)
