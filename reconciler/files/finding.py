"""Which files to load: the paths on the command line, and what is below directories.

A CI runner checks out pull requests that anyone with write access wrote, and it
holds secrets (a token, cloud credentials) in files outside the checkout. A
symbolic link in the repository (``more.yaml -> /home/runner/.aws/credentials``)
would make the loader read such a file and quote it in the job log. So a link the
walk would load (a ``*.yaml``, ``*.yml`` or ``*.json`` file, or a directory, not
hidden) that resolves outside the directory given on the command line is a
problem naming the link and nothing of its target; links that stay inside are
fine. A PATH that is itself a link must resolve inside the directory that holds it.

A directory of desired state often holds other YAML (``kustomization.yaml``, CI
configuration), which the loader would report as a bad file: nothing is skipped
silently. A ``.reconcilerignore`` at the root of a directory PATH (gitignore
patterns, through ``pathspec``) and ``--exclude PATTERN`` on the command line (the
same patterns, after the file's) leave matches out: each file's path below the
PATH is matched as ``pathspec`` matches gitignore patterns (later lines win, ``!``
brings a file back). A file named on the command line is always loaded, as ruff
and black treat a file they are given. A ``.reconcilerignore`` further down is
not read: one file per PATH says what it leaves out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pathspec

from reconciler.errors import Problem

SUFFIXES = (".yaml", ".yml", ".json")
IGNORE_FILE = ".reconcilerignore"
# An ignore file is a few lines; a larger one is not one (and is not read whole).
_IGNORE_FILE_BYTES = 1024 * 1024
_COMMAND_LINE = "<command line>"


class Ignored:
    """The patterns of one directory PATH: what the walk leaves out below it."""

    def __init__(self, lines: Sequence[str]) -> None:
        self._match: Callable[[str], bool] = pathspec.GitIgnoreSpec.from_lines(lines).match_file
        # Without a negation, every file below a directory that matches matches too, so
        # the walk need not enter it (a large vendored tree, say); with one, it must.
        self._prunes = not any(line.startswith("!") for line in lines)

    def file(self, relative: str) -> bool:
        """Whether the file at this path below the PATH ("team/a.yaml") is left out."""
        return self._match(relative)

    def directory(self, relative: str) -> bool:
        """Whether the walk may skip this directory below the PATH ("vendor") whole."""
        return self._prunes and self._match(relative + "/")


_OUTSIDE_GIVEN = "symbolic link leads outside {root}, the directory given; refused"
_OUTSIDE_OWN = (
    "symbolic link leads outside its own directory; refused (give the path it points to instead)"
)


def find_files(
    paths: Sequence[str | Path], problems: list[Problem], *, exclude: Sequence[str] = ()
) -> list[tuple[str, Path]]:
    """The files to load, as (name to show, path), each once, in command-line order.

    A directory contributes every ``*.yaml``, ``*.yml`` and ``*.json`` below it,
    sorted by path component (``a/z.json`` before ``a.yaml``, on every platform),
    but those its ``.reconcilerignore`` or the ``exclude`` patterns leave out
    (module docstring). Hidden files and directories (``.git``, ``.github``) are
    skipped: they hold CI workflows and tool settings, never desired state. Symbolic
    links to directories are not followed, so a link loop cannot hang the walk;
    links that leave the directory are refused (module docstring).
    """
    found: list[tuple[str, Path]] = []
    seen: set[str] = set()

    def add(name: str, path: Path) -> None:
        real = os.path.realpath(path)  # unlike Path.resolve, never raises on a link loop
        if real not in seen:
            seen.add(real)
            found.append((name, path))

    if not paths:
        problems.append(Problem(_COMMAND_LINE, None, None, "", "no desired-state files were given"))
    excluded = _bad_patterns(exclude, _COMMAND_LINE, "--exclude ", problems)
    for given in paths:
        path = Path(given)
        name = os.fspath(given)
        if path.is_symlink() and not _inside(path, _real_parent(path)):
            problems.append(Problem(name, None, None, "", _OUTSIDE_OWN))
        elif path.is_dir():
            ignored = None if excluded else _ignored(path, name, exclude, problems)
            below = sorted(_walk(path, name, problems, ignored))
            if not below:
                message = "no *.yaml, *.yml or *.json files in this directory"
                if ignored is not None:
                    message += f" left after {IGNORE_FILE} and --exclude"
                problems.append(Problem(name, None, None, "", message))
            for relative in below:
                add(os.path.join(name, *relative), path.joinpath(*relative))
        elif path.exists():
            add(name, path)
        else:
            problems.append(Problem(name, None, None, "", "no such file or directory"))
    return found


def _ignored(
    root: Path, name: str, exclude: Sequence[str], problems: list[Problem]
) -> Ignored | None:
    """What ``root``'s ignore file and the ``exclude`` patterns leave out; None: nothing."""
    lines = _ignore_file_lines(root, name, problems)
    if lines is None:
        return Ignored(exclude) if exclude else None
    shown = os.path.join(name, IGNORE_FILE)
    if _bad_patterns(lines, shown, "", problems):
        return None
    return Ignored([*lines, *exclude])


def _ignore_file_lines(root: Path, name: str, problems: list[Problem]) -> list[str] | None:
    """The lines of ``root``'s ignore file; None when there is none (or it is unreadable:
    a problem, so that nothing it meant to leave out is loaded in silence)."""
    path = root / IGNORE_FILE
    if not path.is_file() and not path.is_symlink():
        return None
    shown = os.path.join(name, IGNORE_FILE)
    if path.is_symlink() and not _inside(path, os.path.realpath(root)):
        problems.append(Problem(shown, None, None, "", _OUTSIDE_GIVEN.format(root=name)))
        return None
    try:
        with path.open("rb") as handle:
            data = handle.read(_IGNORE_FILE_BYTES + 1)
        if len(data) > _IGNORE_FILE_BYTES:
            raise ValueError(f"larger than {_IGNORE_FILE_BYTES} bytes")
        return data.decode("utf-8-sig").splitlines()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        problems.append(Problem(shown, None, None, "", f"cannot read: {reason}"))
        return None


def _bad_patterns(lines: Sequence[str], shown: str, prefix: str, problems: list[Problem]) -> bool:
    """Whether any line is no gitignore pattern; each one is a problem at its line."""
    bad = False
    for number, line in enumerate(lines, start=1):
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except ValueError:
            where = None if prefix else number
            message = f"{prefix}{line[:40]!r} is not a gitignore pattern"
            problems.append(Problem(shown, where, None, "", message))
            bad = True
    return bad


def _walk(
    root: Path, name: str, problems: list[Problem], ignored: Ignored | None = None
) -> list[tuple[str, ...]]:
    """Relative paths (as parts, so they sort per directory level) of loadable files,
    without those ``ignored`` leaves out."""

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
        base = Path(directory).relative_to(root).parts
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith(".") and not (ignored and ignored.directory("/".join((*base, d))))
        ]
        for d in dirnames:
            leaves((*base, d))  # os.walk does not enter a linked directory; report if outside
        out.extend(
            (*base, f)
            for f in filenames
            if not f.startswith(".")
            and f.lower().endswith(SUFFIXES)
            and not (ignored and ignored.file("/".join((*base, f))))
            and not leaves((*base, f))
        )
    return out


def _inside(link: Path, real_directory: str) -> bool:
    """Whether ``link``, every link in it resolved, is ``real_directory`` or below it."""
    return Path(os.path.realpath(link)).is_relative_to(real_directory)


def _real_parent(path: Path) -> str:
    """The directory that holds ``path`` (a link itself: the one the link is in), resolved."""
    return os.path.realpath(os.path.dirname(os.path.abspath(path)))
