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
