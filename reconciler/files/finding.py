"""Which files to load: the paths on the command line, and what is below directories.

A CI runner checks out pull requests that anyone with write access wrote, and it
holds secrets (a token, cloud credentials) in files outside the checkout. A
symbolic link in the repository (``more.yaml -> /home/runner/.aws/credentials``)
would make the loader read such a file and quote it in the job log. So a link the
walk would load (a ``*.yaml``, ``*.yml`` or ``*.json`` file, or a directory, not
hidden) that resolves outside the directory given on the command line is a
problem naming the link and nothing of its target; links that stay inside are
fine. A PATH that is itself a link must resolve inside the directory that holds it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from reconciler.errors import Problem

SUFFIXES = (".yaml", ".yml", ".json")

_OUTSIDE_GIVEN = "symbolic link leads outside {root}, the directory given; refused"
_OUTSIDE_OWN = (
    "symbolic link leads outside its own directory; refused (give the path it points to instead)"
)


def find_files(paths: Sequence[str | Path], problems: list[Problem]) -> list[tuple[str, Path]]:
    """The files to load, as (name to show, path), each once, in command-line order.

    A directory contributes every ``*.yaml``, ``*.yml`` and ``*.json`` below it,
    sorted by path component (``a/z.json`` before ``a.yaml``, on every platform).
    Hidden files and directories (``.git``, ``.github``) are skipped: they hold CI
    workflows and tool settings, never desired state. Symbolic links to directories
    are not followed, so a link loop cannot hang the walk; links that leave the
    directory are refused (module docstring).
    """
    found: list[tuple[str, Path]] = []
    seen: set[str] = set()

    def add(name: str, path: Path) -> None:
        real = os.path.realpath(path)  # unlike Path.resolve, never raises on a link loop
        if real not in seen:
            seen.add(real)
            found.append((name, path))

    if not paths:
        problems.append(
            Problem("<command line>", None, None, "", "no desired-state files were given")
        )
    for given in paths:
        path = Path(given)
        name = os.fspath(given)
        if path.is_symlink() and not _inside(path, _real_parent(path)):
            problems.append(Problem(name, None, None, "", _OUTSIDE_OWN))
        elif path.is_dir():
            below = sorted(_walk(path, name, problems))
            if not below:
                message = "no *.yaml, *.yml or *.json files in this directory"
                problems.append(Problem(name, None, None, "", message))
            for relative in below:
                add(os.path.join(name, *relative), path.joinpath(*relative))
        elif path.exists():
            add(name, path)
        else:
            problems.append(Problem(name, None, None, "", "no such file or directory"))
    return found


def _walk(root: Path, name: str, problems: list[Problem]) -> list[tuple[str, ...]]:
    """Relative paths (as parts, so they sort per directory level) of loadable files."""

    def unreadable(exc: OSError) -> None:
        shown = os.path.join(name, os.path.relpath(exc.filename or "", root))
        problems.append(Problem(shown, None, None, "", f"cannot list: {exc.strerror or exc}"))

    def leaves(parts: tuple[str, ...]) -> bool:
        """Whether the entry at ``parts`` is a link that resolves outside ``root``."""
        entry = root.joinpath(*parts)
        if entry.is_symlink() and not _inside(entry, real_root):
            shown = os.path.join(name, *parts)
            problems.append(Problem(shown, None, None, "", _OUTSIDE_GIVEN.format(root=name)))
            return True
        return False

    real_root = os.path.realpath(root)
    out: list[tuple[str, ...]] = []
    for directory, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        base = Path(directory).relative_to(root).parts
        for d in dirnames:
            leaves((*base, d))  # os.walk does not enter a linked directory; report if outside
        out.extend(
            (*base, f)
            for f in filenames
            if not f.startswith(".") and f.lower().endswith(SUFFIXES) and not leaves((*base, f))
        )
    return out


def _inside(link: Path, real_directory: str) -> bool:
    """Whether ``link``, every link in it resolved, is ``real_directory`` or below it."""
    return Path(os.path.realpath(link)).is_relative_to(real_directory)


def _real_parent(path: Path) -> str:
    """The directory that holds ``path`` (a link itself: the one the link is in), resolved."""
    return os.path.realpath(os.path.dirname(os.path.abspath(path)))
