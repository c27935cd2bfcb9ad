"""The files' target section from a first look: found alone, or None when unsure."""

from __future__ import annotations

from pathlib import Path

import pytest

import reconciler.app.firstlook as firstlook
from reconciler.app.firstlook import early_target_spec
from reconciler.desired import TargetSpec

USERS = "version: 1\nusers:\n- userName: a@example.com\n  title: x\ngroups: []\n"


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"a.yaml": USERS + "target:\n  url: https://x.example/scim\n  dialect: generic\n"},
            TargetSpec(url="https://x.example/scim", dialect="generic"),
            id="yaml-after-users",
        ),
        pytest.param(
            {"a.yaml": "---\n# config\ntarget: {token_env: MY_TOKEN}  # flow\nversion: 1\n"},
            TargetSpec(token_env="MY_TOKEN"),
            id="yaml-flow",
        ),
        pytest.param(
            {"a.yaml": "version: 1\r\ntarget:\r\n  org_id: 12345\r\n"},
            TargetSpec(org_id="12345"),
            id="yaml-crlf-number-as-text",
        ),
        pytest.param({"a.yaml": USERS}, TargetSpec(), id="yaml-none"),
        pytest.param(
            {"a.json": '{"version": 1, "t\\u0061rget": {"url": "https://x.example/s"}}'},
            TargetSpec(url="https://x.example/s"),
            id="json-escaped-key",
        ),
        pytest.param({"a.json": '{"version": 1, "users": []}'}, TargetSpec(), id="json-none"),
        pytest.param(
            {"a.yaml": "target: {url: https://a.example}\n", "b.yaml": "target: {}\n"},
            None,
            id="two-sections",
        ),
        pytest.param(
            {"a.yaml": 'policy: {users: {scope: ["*"]},\ntarget: {url: https://x.example}}\n'},
            None,
            id="column-0-continuation",
        ),
        pytest.param({"a.yaml": '"target": {url: https://x.example}\n'}, None, id="quoted-key"),
        pytest.param({"a.yaml": "target: {url: 5, colour: red}\n"}, None, id="invalid-section"),
        pytest.param({"a.yaml": "target: *elsewhere\n"}, None, id="alias"),
    ],
)
def test_the_first_look_finds_the_target_section_or_gives_up(
    tmp_path: Path, files: dict[str, str], expected: TargetSpec | None
) -> None:
    """The target section is read alone; anything unsure means: load the files first."""
    for name, text in files.items():
        write(tmp_path, name, text)
    assert early_target_spec((tmp_path,)) == expected


def test_a_path_that_is_not_there_gives_up(tmp_path: Path) -> None:
    """File problems are the full load's to report."""
    assert early_target_spec((tmp_path / "missing.yaml",)) is None


def test_a_byte_order_mark_and_an_empty_file_are_fine(tmp_path: Path) -> None:
    """A BOM before the first key is skipped, as the loader does; an empty file names no target."""
    write(tmp_path, "a.yaml", b"\xef\xbb\xbftarget: {dialect: generic}\n")
    write(tmp_path, "b.yaml", b"")
    assert early_target_spec((tmp_path,)) == TargetSpec(dialect="generic")


def test_a_large_json_file_with_a_target_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON file is parsed whole only when small; a large one naming a target is not."""
    write(tmp_path, "a.json", '{"version": 1, "target": {"dialect": "generic"}}')
    assert early_target_spec((tmp_path,)) == TargetSpec(dialect="generic")
    monkeypatch.setattr(firstlook, "_JSON_WHOLE", 10)
    assert early_target_spec((tmp_path,)) is None
