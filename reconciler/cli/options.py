"""Options that several subcommands share beyond the global ones: which files, which objects."""

from __future__ import annotations

import click

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
