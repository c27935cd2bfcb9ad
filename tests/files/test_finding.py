"""Finding the files to load: .reconcilerignore and --exclude leave other YAML out (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import DesiredStateError, Problem
from reconciler.files.finding import find_files
from reconciler.files.loader import load_desired

USERS = "version: 1\nusers: [{userName: a@example.com}]\n"
# What a Kubernetes or CI directory holds beside the desired state.
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory, so problems render with short relative names."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def found(paths: list[str], exclude: tuple[str, ...] = ()) -> list[str]:
    problems: list[Problem] = []
    names = [name for name, _ in find_files(paths, problems, exclude=exclude)]
    assert problems == []
    return names


def problems_of(paths: list[str], exclude: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(DesiredStateError) as info:
        load_desired(paths, exclude=exclude)
    return [str(problem) for problem in info.value.problems]


def test_a_stray_yaml_file_stays_an_error_without_an_ignore(workdir: Path) -> None:
    """Without .reconcilerignore or --exclude, other YAML in the directory is a file problem:
    nothing is skipped silently."""
    write(workdir, "repo/users.yaml", USERS)
    write(workdir, "repo/kustomization.yaml", KUSTOMIZATION)
    problems = problems_of(["repo"])
    assert problems
    assert all(p.startswith("repo/kustomization.yaml:") for p in problems)


def test_the_ignore_file_leaves_its_matches_out(workdir: Path) -> None:
    """A .reconcilerignore at the root of the PATH leaves matching files out of the load."""
    write(workdir, "repo/users.yaml", USERS)
    write(workdir, "repo/kustomization.yaml", KUSTOMIZATION)
    write(workdir, "repo/.reconcilerignore", "# kustomize, not desired state\nkustomization.yaml\n")
    assert [u.userName for u in load_desired(["repo"]).users] == ["a@example.com"]


def test_exclude_on_the_command_line_does_the_same(workdir: Path) -> None:
    """--exclude PATTERN leaves matches out as a line of the ignore file would."""
    write(workdir, "repo/users.yaml", USERS)
    write(workdir, "repo/kustomization.yaml", KUSTOMIZATION)
    write(workdir, "repo/ci/pipeline.yml", "stages: [plan]\n")
    loaded = load_desired(["repo"], exclude=("kustomization.yaml", "ci/"))
    assert [u.userName for u in loaded.users] == ["a@example.com"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param("*.yml\n", ["repo/a.yaml", "repo/team/b.yaml"], id="a-glob-at-any-depth"),
        pytest.param(
            "/c.yml\n", ["repo/a.yaml", "repo/team/b.yaml", "repo/team/c.yml"], id="anchored"
        ),
        pytest.param("team/\n", ["repo/a.yaml", "repo/c.yml"], id="a-directory"),
        pytest.param(
            "*.yml\n!team/c.yml\n",
            ["repo/a.yaml", "repo/team/b.yaml", "repo/team/c.yml"],
            id="negation-brings-one-back",
        ),
        pytest.param(
            "*.yml\n!c.yml\n",
            ["repo/a.yaml", "repo/c.yml", "repo/team/b.yaml", "repo/team/c.yml"],
            id="negation-at-any-depth",
        ),
    ],
)
def test_gitignore_patterns(workdir: Path, lines: str, expected: list[str]) -> None:
    """The ignore file has gitignore semantics: globs at any depth, anchored patterns,
    directories, and negations that bring a file back."""
    for name in ("a.yaml", "c.yml", "team/b.yaml", "team/c.yml"):
        write(workdir, f"repo/{name}", USERS)
    write(workdir, "repo/.reconcilerignore", lines)
    assert found(["repo"]) == expected


def test_an_excluded_directory_is_left_out_whole(workdir: Path) -> None:
    """Every file below an excluded directory is left out, a link in it that leaves the
    repository included (it is never read); a negation brings one file back."""
    write(workdir, "repo/a.yaml", USERS)
    write(workdir, "repo/vendor/keep.yaml", USERS)
    (workdir / "repo/vendor/out.yaml").symlink_to(write(workdir, "secret.yaml", "x: 1\n"))
    (workdir / "repo/vendor/dir").symlink_to(workdir, target_is_directory=True)
    assert found(["repo"], exclude=("vendor/",)) == ["repo/a.yaml"]
    (workdir / "repo/vendor/dir").unlink()  # not left out by the patterns below: refused
    assert found(["repo"], exclude=("vendor/*.yaml", "!keep.yaml")) == [
        "repo/a.yaml",
        "repo/vendor/keep.yaml",
    ]


def test_command_line_patterns_come_after_the_file(workdir: Path) -> None:
    """--exclude '!NAME' brings back a file the ignore file leaves out (later lines win)."""
    write(workdir, "repo/a.yaml", USERS)
    write(workdir, "repo/b.yaml", USERS)
    write(workdir, "repo/.reconcilerignore", "b.yaml\n")
    assert found(["repo"]) == ["repo/a.yaml"]
    assert found(["repo"], exclude=("!b.yaml",)) == ["repo/a.yaml", "repo/b.yaml"]


def test_the_ignore_file_applies_at_the_root_of_each_path_only(workdir: Path) -> None:
    """Each directory PATH has its own .reconcilerignore, for the files below it; one further
    down the tree is not read."""
    for name in ("one/x.yaml", "one/y.yaml", "two/x.yaml", "two/y.yaml", "one/sub/z.yaml"):
        write(workdir, name, USERS)
    write(workdir, "one/.reconcilerignore", "x.yaml\n")
    write(workdir, "one/sub/.reconcilerignore", "z.yaml\n")  # not the root of a PATH
    assert found(["one", "two"]) == [
        "one/sub/z.yaml",
        "one/y.yaml",
        "two/x.yaml",
        "two/y.yaml",
    ]
    # Given as a PATH itself, that directory's file is its root's.
    assert problems_of(["one/sub"]) == [
        "one/sub: no *.yaml, *.yml or *.json files in this directory left after "
        ".reconcilerignore and --exclude"
    ]


def test_a_file_named_on_the_command_line_is_always_loaded(workdir: Path) -> None:
    """A PATH that is a file is loaded even when a pattern matches it (as ruff and black do)."""
    write(workdir, "repo/a.yaml", USERS)
    assert found(["repo/a.yaml"], exclude=("a.yaml",)) == ["repo/a.yaml"]


def test_a_directory_left_empty_by_the_patterns_says_so(workdir: Path) -> None:
    """When the patterns leave nothing, the problem says why the directory looks empty."""
    write(workdir, "repo/a.yaml", USERS)
    assert problems_of(["repo"], exclude=("*.yaml",)) == [
        "repo: no *.yaml, *.yml or *.json files in this directory left after "
        ".reconcilerignore and --exclude"
    ]


def test_a_bad_pattern_is_a_problem_at_its_line(workdir: Path) -> None:
    """A line that is no gitignore pattern is reported at its line, and nothing is loaded as
    if it were not there; a bad --exclude is reported once, on the command line."""
    write(workdir, "repo/a.yaml", USERS)
    write(workdir, "repo/.reconcilerignore", "ok.yaml\n!\n")
    assert problems_of(["repo"]) == ["repo/.reconcilerignore:2: '!' is not a gitignore pattern"]
    assert problems_of(["repo", "repo"], exclude=("\\",)) == [
        "<command line>: --exclude '\\\\' is not a gitignore pattern"
    ]
