"""Options several subcommands share beyond the global ones: which files, objects, how fast."""

from __future__ import annotations

import click

from reconciler.dialect import ATLASSIAN

exclude_option = click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="PATTERN",
    help="Leave files below a directory PATH out, as a gitignore pattern relative to it "
    "(repeatable; after the lines of the PATH's .reconcilerignore). A file named as a PATH "
    "is always loaded.",
)

only_option = click.option(
    "--only",
    "only",
    multiple=True,
    metavar="KEY",
    help="Apply only this user's (a user key) or group's (a displayName) actions and what "
    "they need, for emergencies (repeatable). A user's memberships in existing groups move "
    "with it; the rest is listed as left for a later run, and the next plan shows it. "
    "Limits and the digest are of what is sent.",
)


# Both plan (the read) and apply (the read and the writes) pace their requests.
rate_option = click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=None,
    help=(
        "At most this many requests per second. Default: "
        f"{ATLASSIAN.default_rate:g} on an Atlassian directory (its conservative rate), "
        "no limit on the sandbox, loopback hosts and other SCIM servers."
    ),
)
