"""``reconciler links``: the SCIM links an Atlassian organisation holds, and detaching one.

A create that fails with 409 on Atlassian usually means the email belongs to an
account linked to a SCIM user of another directory (a re-hire, a guest turned
member, a second identity provider). These commands show such links and detach a
stale one, through the organisation's Admin API (docs/atlassian.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.commands import main
from reconciler.cli.common import global_options, target_option
from reconciler.cli.output import Output
from reconciler.cli.summary import summary_event
from reconciler.errors import ApprovalError, ConfigError

if TYPE_CHECKING:  # imported where used: --help and --version stay fast
    from reconciler.scim.admin import AdminClient, ScimLink
    from reconciler.target import Target


class UnapprovedError(ApprovalError):
    """A change to the organisation was not approved; nothing was sent."""

    exit_code = 3


@main.command(
    "links",
    context_settings={"ignore_unknown_options": False},
    epilog=(
        "Examples:\n\n"
        "  reconciler links dave@example.com\n\n"
        "  reconciler links unlink dave@example.com --directory other-dir"
    ),
)
@click.argument("words", nargs=-1, required=True, metavar="[unlink] EMAIL...")
@target_option
@click.option("--org", "org_id", metavar="ID", help="Organisation id (default: target.org_id).")
@click.option(
    "--files",
    "paths",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Desired-state files whose target section names the directory and organisation.",
)
@click.option("--directory", metavar="ID", help="unlink: the directory whose link to detach.")
@click.option("--auto-approve", is_flag=True, help="unlink: do not ask for confirmation.")
@global_options
def links(
    words: tuple[str, ...],
    target: str | None,
    org_id: str | None,
    paths: tuple[Path, ...],
    directory: str | None,
    auto_approve: bool,
    output: Output,
) -> None:
    """Show the SCIM links of EMAIL... in the Atlassian organisation, or detach one.

    `reconciler links EMAIL...` shows, for each email, which directory's SCIM user its
    Atlassian account is linked to. `reconciler links unlink EMAIL --directory ID`
    detaches that directory's link after showing it and asking (or with
    --auto-approve); without a terminal and without --auto-approve it refuses with
    exit 3. Atlassian keeps the SCIM user, unlinked, and links it again on its next
    update. The organisation comes from --org or target.org_id, its API key from
    RECONCILER_ORG_TOKEN (or the variable target.org_token_env names).
    """
    from reconciler.app import load_files
    from reconciler.desired import DesiredState
    from reconciler.target import connect_admin, resolve_target

    desired = load_files(paths) if paths else DesiredState()
    resolved = resolve_target(target, desired.target, output.runtime.env)
    unlinking = words[0] == "unlink"
    emails = words[1:] if unlinking else words
    if not emails:
        raise ConfigError("give at least one EMAIL")
    admin = connect_admin(resolved, org_id, output.runtime.env)
    assert admin is not None, "required=True never answers None"
    with admin:
        if unlinking:
            counts = {"unlinked": _unlink(admin, resolved, emails, directory, auto_approve, output)}
        else:
            counts = {"emails": len(emails), "links": 0}
            for email in emails:
                found = admin.links_for_email(email)
                counts["links"] += len(found)
                output.out(_describe(email, found, resolved))
    summary_event("links", counts, target=resolved.url)


def _this_directory(target: Target) -> str | None:
    from reconciler.scim.admin import directory_id_of

    return "sandbox" if target.is_sandbox else directory_id_of(target.url)


def _describe(email: str, found: list[ScimLink], target: Target) -> str:
    if not found:
        return f"{email}: no SCIM link (a create with this email is linked to its account, if any)"
    here = _this_directory(target)
    lines = [f"{email}:"]
    for link in found:
        where = " (this directory)" if link.directory_id == here else ""
        account = link.account_id or "(no account id)"
        lines.append(
            f"  account {account} linked to SCIM user {link.scim_user_id} of directory "
            f"{link.directory_id}{where}"
        )
    return "\n".join(lines)


def _unlink(
    admin: AdminClient,
    target: Target,
    emails: tuple[str, ...],
    directory: str | None,
    auto_approve: bool,
    output: Output,
) -> int:
    """Detach the link of one email to one directory; how many links were detached."""
    if len(emails) != 1 or directory is None:
        raise ConfigError("unlink takes one EMAIL and --directory ID")
    (email,) = emails
    chosen = [link for link in admin.links_for_email(email) if link.directory_id == directory]
    if not chosen:
        raise ConfigError(f"{email} has no SCIM link in directory {directory}; nothing to unlink")
    output.out(_describe(email, chosen, target))
    if not auto_approve:
        _ask(f"Detach {email} from directory {directory}? Only 'yes' is accepted", output)
    for link in chosen:
        admin.unlink(link.directory_id, link.scim_user_id)
    users = ", ".join(link.scim_user_id for link in chosen)
    if directory == _this_directory(target):
        after = (
            f"its SCIM user {users} stays in this directory, unlinked and out of its groups; "
            "its next update links it again"
        )
    else:
        after = (
            f"its SCIM user {users} stays in directory {directory}, unlinked; a create "
            "with this email here links to the account now"
        )
    output.out(f"Unlinked {email} from directory {directory}: {after}.")
    return len(chosen)


def _ask(question: str, output: Output) -> None:
    if not sys.stdin.isatty():
        raise UnapprovedError(
            "unlink needs confirmation and there is no terminal to ask on; nothing was sent. "
            "Use --auto-approve in unattended runs"
        )
    answer = output.ask(question)
    if answer.strip() != "yes":
        raise UnapprovedError("unlink cancelled; nothing was sent")
