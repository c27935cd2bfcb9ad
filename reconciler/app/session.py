"""A run's outside world (``Runtime``), its connection (``Session``), reading and planning."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.app.context import context_of
from reconciler.app.gcpolicy import gc_policy
from reconciler.app.pipeline import read_while_loading
from reconciler.app.reader import connect_to
from reconciler.app.runtime import Runtime
from reconciler.desired import DesiredState
from reconciler.dialect import dialect_named
from reconciler.errors import ConfigError
from reconciler.files.dialectcheck import check_dialect_attributes
from reconciler.linkcheck import (
    Organisation,
    planned_emails,
    profile_changes,
    user_creates,
)
from reconciler.linkcheck import enrich as enrich_plan
from reconciler.live import LiveSnapshot
from reconciler.plan import Plan
from reconciler.planner import PlanContext, plan
from reconciler.planner.users_first import UsersStaged
from reconciler.scim.admin import directory_id_of
from reconciler.snapshot import read_snapshot
from reconciler.target import Connection, Target, connect_admin, resolve_target


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
    check_dialect_attributes(desired, paths, dialect_named(target.dialect), exclude=exclude)
    connection = connect_to(target, runtime, rate)
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
    session: Session,
    desired: DesiredState,
    live: LiveSnapshot,
    runtime: Runtime,
    users_first: UsersStaged | None = None,
) -> Plan:
    """The plan path after the read: the pure plan, refused when it would send the token,
    then enriched (``enrich``: on Atlassian, emails linked elsewhere). ``users_first``:
    the users half, made while the groups were read (``Loaded.users_first``)."""
    context = plan_context(session, desired)
    planned = plan(desired, live, context, users_first=users_first)
    return enrich(refuse_secrets_sent(planned), session, runtime, live)


def plan_context(session: Session, desired: DesiredState) -> PlanContext:
    """What the planner needs to know of the target, the connection, and the size caps
    (``context.plan_context``)."""
    return context_of(session.target, session.connection, desired)


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


def enrich(
    planned: Plan, session: Session, runtime: Runtime, live: LiveSnapshot | None = None
) -> Plan:
    """The enrich stage (``linkcheck.enrich``): the plan with what the organisation decides
    said before anything is sent, when its Admin API is at hand: new emails another
    directory's link will refuse (409), creates that link to an account it manages, and
    what happens to accounts outside its verified domains. Each read is done once, and
    only when the plan has something it could be about; a new plan, or ``planned``."""
    target, dialect = session.target, session.connection.dialect
    emails = planned_emails(planned)
    if not dialect.org_admin or not (emails or profile_changes(planned)):
        return planned
    admin = connect_admin(target, env=runtime.env, required=False, budget=runtime.budget(target))
    if admin is None:
        return planned  # without an org key, a 409 in the report explains itself
    with admin:
        here = "sandbox" if target.is_sandbox else directory_id_of(target.url)
        links = {email: admin.links_for_email(email) for email in emails}
        managed: dict[str, str] = {}
        if user_creates(planned):
            managed = {a.email.lower(): a.account_id for a in admin.managed_accounts()}
        verified = admin.verified_domains() if profile_changes(planned) else []
    organisation = Organisation(
        directory_id=here,
        links=links,
        managed=managed,
        verified=verified,
        live_email=_live_emails(live),
        account_paths=dialect.account_attributes,
    )
    return enrich_plan(planned, organisation)


def _live_emails(live: LiveSnapshot | None) -> Callable[[str], str | None]:
    """A live user's primary email by id (its first email when none is primary)."""

    def primary(user_id: str) -> str | None:
        user = live.user_by_id(user_id) if live is not None else None
        if user is None:
            return None
        (items,) = user.values_at(("emails",))
        chosen = [value for value, _, is_primary in items or () if is_primary] or [
            value for value, _, _ in items or ()
        ]
        return str(chosen[0]) if chosen else None

    return primary


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
    with (
        gc_policy(),
        read_while_loading(paths, cli_target, runtime, rate=rate, exclude=exclude) as run,
    ):
        session = Session(run.target, run.connection)
        planned = plan_live(session, run.desired, run.live, runtime, run.users_first)
        if runtime.hold is not None:
            runtime.hold(run)
        return Planned(run.target, planned)


def run_export(cli_target: str | None, runtime: Runtime) -> tuple[Target, LiveSnapshot]:
    """Read the whole directory, for ``reconciler export``."""
    with opened(DesiredState(), cli_target, runtime) as session:
        return session.target, read_live(session, runtime)
