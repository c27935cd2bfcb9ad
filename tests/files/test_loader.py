"""Loading desired-state files: finding, merging, and reporting every problem at once."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeAlias

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.desired import DesiredState
from reconciler.errors import DesiredStateError, Problem
from reconciler.files.loader import load_desired
from tests.hypothesis_profiles import examples

WalkEntry: TypeAlias = tuple[str, list[str], list[str]]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory, so problems render with short relative names."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems_of(paths: list[str | Path]) -> list[str]:
    with pytest.raises(DesiredStateError) as info:
        load_desired(paths)
    return [str(problem) for problem in info.value.problems]


# --- what loads ---------------------------------------------------------------------


def test_files_merge_in_order_with_target_and_policy_from_their_one_file(workdir: Path) -> None:
    """Users and groups add up in file order; target and policy come from the file that has them."""
    write(
        workdir,
        "a.yaml",
        "version: 1\ntarget: {url: 'sandbox:x.db'}\n"
        "users:\n  - userName: alice@x.com\n    groups: [eng]\n  - userName: bob@x.com\n",
    )
    write(
        workdir,
        "b.json",
        '{"version": 1, "policy": {"users": {"unmanaged": "deactivate"}},\n'
        ' "users": [{"userName": "carol@x.com"}],\n'
        ' "groups": [{"displayName": "eng", "members": ["Bob@X.com"]}]}\n',
    )
    state = load_desired(["a.yaml", "b.json"])
    assert isinstance(state, DesiredState)
    assert [u.userName for u in state.users] == ["alice@x.com", "bob@x.com", "carol@x.com"]
    assert [g.displayName for g in state.groups] == ["eng"]
    assert state.target.url == "sandbox:x.db"
    assert state.policy.users.unmanaged == "deactivate"
    assert state.group_members() == {"eng": frozenset({"alice@x.com", "bob@x.com"})}


def test_members_and_groups_name_users_and_groups_in_any_form(workdir: Path) -> None:
    """A member or a user's group written in another Unicode form, case or width than
    the entry it names is that entry: no "unknown member" (issue 16, item 6)."""
    write(
        workdir,
        "a.yaml",
        "version: 1\npolicy: {users: {key: externalId}}\n"
        "users:\n  - {userName: jos\u00e9@x.com, externalId: E-JOS\u00c9, groups: [e\u0301quipe]}\n"
        "groups:\n  - {displayName: \u00c9quipe, members: [e-jose\u0301, \uff25-JOS\u00c9]}\n",
    )
    state = load_desired(["a.yaml"])
    assert state.group_members() == {"\u00c9quipe": frozenset({"e-jos\u00e9"})}


def test_defaults_apply_when_no_file_sets_target_or_policy(workdir: Path) -> None:
    """Without target or policy in any file, the model defaults are used."""
    write(workdir, "a.yaml", "version: 1\n")
    state = load_desired(["a.yaml"])
    assert state == DesiredState()


def test_directory_loads_yaml_and_json_below_it_sorted_skipping_hidden(workdir: Path) -> None:
    """A directory loads *.yaml, *.yml, *.json recursively, sorted by path component, not hidden."""
    for name in ("d/b.yml", "d/a/z.json", "d/a.yaml", "d/c/x.yaml"):
        user = name.replace("/", "-")
        text = f'{{"version": 1, "users": [{{"userName": "{user}"}}]}}'
        write(workdir, name, text)
    write(workdir, "d/.github/workflows/ci.yml", "on: push\njobs: {}\n")
    write(workdir, "d/.hidden.yaml", "not: desired state\n")
    write(workdir, "d/README.md", "# not loaded\n")
    state = load_desired(["d"])
    assert [u.userName for u in state.users] == ["d-a-z.json", "d-a.yaml", "d-b.yml", "d-c-x.yaml"]


def test_a_file_named_twice_is_loaded_once(workdir: Path) -> None:
    """The same file given directly and through its directory does not duplicate its users."""
    write(workdir, "d/a.yaml", "version: 1\nusers: [{userName: alice@x.com}]\n")
    state = load_desired(["d/a.yaml", "d", "./d/a.yaml"])
    assert [u.userName for u in state.users] == ["alice@x.com"]


def test_json_with_tabs_and_escaped_slashes_loads(workdir: Path) -> None:
    """JSON is read as JSON (RFC 8259): tabs between tokens and \\/ escapes are fine."""
    write(
        workdir,
        "a.json",
        '{\n\t"version": 1,\n\t"users": [{"userName": "a\\/b@x.com", "title": "R\\u0026D"}]\n}\n',
    )
    state = load_desired(["a.json"])
    assert (state.users[0].userName, state.users[0].title) == ("a/b@x.com", "R&D")


def test_yaml_1_1_booleans_are_plain_strings(workdir: Path) -> None:
    """yes/no/on/off are strings (YAML 1.2), so a title of `no` stays "no"."""
    write(workdir, "a.yaml", "version: 1\nusers: [{userName: a@x.com, title: no, nickName: on}]\n")
    user = load_desired(["a.yaml"]).users[0]
    assert (user.title, user.nickName) == ("no", "on")


def test_plain_scalars_in_text_fields_are_their_text_as_written(workdir: Path) -> None:
    """An unquoted 00018, 0042, 1e3, true or +4930 in a string field is that text, not a number."""
    write(
        workdir,
        "a.yaml",
        "version: 1\n"
        "policy:\n"
        "  users: {key: externalId, protect: [007], scope: [1e3]}\n"
        "  limits: {max_deactivations: 5, max_group_deletions: 0x1F}\n"
        "users:\n"
        "  - userName: 1e3\n"
        "    externalId: 00018\n"
        "    previousUserNames: [0042]\n"
        "    active: false\n"
        "    title: true\n"
        "    displayName: ~\n"
        "    name: {givenName: .inf, familyName: -0.0}\n"
        "    enterprise:\n"
        "      employeeNumber: 00018\n"
        "      costCenter: 0042\n"
        "      department:\n"
        "    phoneNumbers: [{value: +4930123, type: 2, primary: true}]\n"
        "    groups: [1234]\n"
        "groups: [{displayName: 1234, members: [00018]}]\n",
    )
    state = load_desired(["a.yaml"])
    (user,) = state.users
    assert (user.userName, user.externalId, user.previousUserNames) == ("1e3", "00018", ("0042",))
    assert (user.active, user.title, user.displayName) == (False, "true", None)
    assert user.name is not None
    assert (user.name.givenName, user.name.familyName) == (".inf", "-0.0")
    assert user.enterprise is not None
    assert (user.enterprise.employeeNumber, user.enterprise.costCenter) == ("00018", "0042")
    assert user.enterprise.department is None
    assert user.phoneNumbers is not None
    phone = user.phoneNumbers[0]
    assert (phone.value, phone.type, phone.primary) == ("+4930123", "2", True)
    assert state.groups[0].members == ("00018",)
    assert state.group_members() == {"1234": frozenset({"00018"})}
    assert (state.policy.users.protect, state.policy.users.scope) == (("007",), ("1e3",))
    limits = state.policy.limits
    assert (limits.max_deactivations, limits.max_group_deletions) == (5, 31)


def test_an_alias_is_resolved_by_the_field_it_is_used_in(workdir: Path) -> None:
    """One anchored plain 0042 is the text "0042" as a costCenter and the number 42 as a limit."""
    write(
        workdir,
        "a.yaml",
        "version: 1\n"
        "users: [{userName: a@x.com, enterprise: {costCenter: &cc 0042}}]\n"
        "policy: {limits: {max_member_removals: *cc}}\n",
    )
    state = load_desired(["a.yaml"])
    assert state.users[0].enterprise is not None
    assert state.users[0].enterprise.costCenter == "0042"
    assert state.policy.limits.max_member_removals == 42


def test_only_plain_scalars_become_text_other_types_in_text_fields_stay_errors(
    workdir: Path,
) -> None:
    """Plain numbers load as text; lists, mappings and explicit !!int tags are still refused."""
    write(
        workdir,
        "a.yaml",
        "version: 1\n"
        "users:\n"
        "  - userName: a@x.com\n"
        "    enterprise: {employeeNumber: 00018, costCenter: !!int 0042}\n"
        "    title: [1e3]\n"
        "    nickName: {a: 1}\n",
    )
    assert problems_of(["a.yaml"]) == [
        "a.yaml:4:53: users[0].enterprise.costCenter: expected a string, found the number 42; "
        "put the value in quotes",
        "a.yaml:5:12: users[0].title: expected a string, found a list",
        "a.yaml:6:15: users[0].nickName: expected a string, found a mapping",
    ]


def test_anchors_and_aliases_within_the_budget_load(workdir: Path) -> None:
    """A modest alias (a shared list of groups) loads as if written out."""
    write(
        workdir,
        "a.yaml",
        "version: 1\nusers:\n  - {userName: a@x.com, groups: &g [eng, ops]}\n"
        "  - {userName: b@x.com, groups: *g}\n"
        "groups: [{displayName: eng}, {displayName: ops}]\n",
    )
    state = load_desired(["a.yaml"])
    assert [u.groups for u in state.users] == [("eng", "ops"), ("eng", "ops")]


def test_a_utf8_byte_order_mark_is_accepted(workdir: Path) -> None:
    """Files saved with a UTF-8 BOM (some Windows editors) load normally."""
    write(workdir, "a.yaml", b"\xef\xbb\xbfversion: 1\n")
    assert load_desired(["a.yaml"]) == DesiredState()


# --- every problem, rendered exactly -------------------------------------------------

_BOMB = "version: 1\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)
)

CASES = [
    pytest.param(
        {"a.yaml": "version: 1\nusers:\n  - userName: a@x.com\n    displayname: A\n"},
        [
            'a.yaml:4:5: users[0].displayname: unknown key "displayname"; '
            'did you mean "displayName"?'
        ],
        id="unknown-key",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers:\n  - userName: a@x.com\n    active: yes\n"},
        ['a.yaml:4:13: users[0].active: expected true or false, found the string "yes"'],
        id="wrong-type-yes-is-not-a-boolean",
    ),
    pytest.param(
        {
            "a.json": '{"version": 1,\n'
            '"users": [{"userName": "a@x.com", "enterprise": {"employeeNumber": 1001}}]}\n'
        },
        [
            "a.json:2:68: users[0].enterprise.employeeNumber: expected a string, "
            "found the number 1001; put the value in quotes"
        ],
        id="wrong-type-json-number-for-string",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers:\n  - userName: a@x.com\n    title: A\n    title: B\n"},
        ['a.yaml:5:5: users[0].title: key "title" appears twice in one mapping, on lines 4 and 5'],
        id="duplicate-key-yaml",
    ),
    pytest.param(
        {"a.json": '{"version": 1,\n "version": 1}'},
        ['a.json:2:2: version: key "version" appears twice in one object, on lines 1 and 2'],
        id="duplicate-key-json",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nusers:\n  - userName: alice@x.com\n",
            "b.yaml": "version: 1\nusers:\n  - userName: Alice@X.com\n",
        },
        [
            'a.yaml:3:15: users[0].userName: user "alice@x.com" is listed twice: also at '
            'b.yaml:3:15 as "Alice@X.com" (userNames compare in any letter case and Unicode form)',
            'b.yaml:3:15: users[0].userName: user "Alice@X.com" is listed twice: also at '
            'a.yaml:3:15 as "alice@x.com" (userNames compare in any letter case and Unicode form)',
        ],
        id="duplicate-userName-other-case-across-files",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\ngroups:\n  - displayName: Eng\n",
            "b.yaml": "version: 1\ngroups:\n  - displayName: eng\n",
        },
        [
            'a.yaml:3:18: groups[0].displayName: group "Eng" is listed twice: also at '
            'b.yaml:3:18 as "eng" (displayNames compare in any letter case and Unicode form)',
            'b.yaml:3:18: groups[0].displayName: group "eng" is listed twice: also at '
            'a.yaml:3:18 as "Eng" (displayNames compare in any letter case and Unicode form)',
        ],
        id="duplicate-group",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nusers: [{userName: a@x.com}]\n",
            "b.yaml": "version: 1\ngroups:\n"
            "  - displayName: eng\n    members: [A@x.com, bob@x.com]\n",
        },
        [
            'b.yaml:4:24: groups[0].members[1]: unknown member "bob@x.com": '
            "no user in the files has this userName"
        ],
        id="unknown-member",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers: [{userName: a@x.com, groups: [eng]}]\n"},
        ['a.yaml:2:38: users[0].groups[0]: unknown group "eng": no file declares it under groups:'],
        id="unknown-group-named-by-user",
    ),
    pytest.param(
        {"a.yaml": "version: 1\ntarget: {}\n", "b.yaml": "version: 1\n\ntarget: {}\n"},
        [
            "b.yaml:3:1: target: target is already set at a.yaml:2:1; "
            "target may appear in one file only"
        ],
        id="target-in-two-files",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers:\n  - userName: 'alice\n"},
        [
            "a.yaml:4:1: invalid YAML: found unexpected end of stream "
            "(while scanning a quoted scalar at line 3, column 15)"
        ],
        id="yaml-syntax-error",
    ),
    pytest.param(
        {"a.yaml": b"version: 1\nusers: [{userName: \xe9@x.com}]\n"},
        ["a.yaml:2:20: file is not valid UTF-8 (byte 0xe9 at offset 30); save it as UTF-8"],
        id="not-utf8",
    ),
    pytest.param(
        {"a.yaml": b"\xff\xfev\x00e\x00r\x00"},
        ["a.yaml: file is UTF-16; save it as UTF-8"],
        id="utf16",
    ),
    pytest.param(
        {"a.yaml": _BOMB},
        [
            "a.yaml:7:12: aliases expand to more than 100000 nodes; refusing to load what looks "
            "like an alias bomb (billion laughs)"
        ],
        id="alias-bomb",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers:\n  - userName: !!python/object/apply:os.system [id]\n"},
        [
            "a.yaml:3:15: users[0].userName: tag !!python/object/apply:os.system is not allowed; "
            "only plain YAML is read (strings, numbers, true/false, null, lists, mappings)"
        ],
        id="python-tag",
    ),
    pytest.param(
        {"a.yaml": "version: 1\ntarget: !vault {url: x}\n"},
        [
            "a.yaml:2:9: target: tag !vault is not allowed; "
            "only plain YAML is read (strings, numbers, true/false, null, lists, mappings)"
        ],
        id="custom-tag",
    ),
    pytest.param(
        {"a.yaml": "# nothing here yet\n"},
        ["a.yaml: file is empty; expected a mapping with version: 1"],
        id="empty-file",
    ),
    pytest.param(
        {"a.json": " \n"},
        ["a.json: file is empty; expected a mapping with version: 1"],
        id="empty-json-file",
    ),
    pytest.param(
        {"a.yaml": "- userName: a@x.com\n"},
        ["a.yaml:1:1: expected a mapping with version: 1, found a list"],
        id="top-level-not-a-mapping",
    ),
    pytest.param(
        {"a.yaml": "users: []\n"},
        ['a.yaml:1:1: missing required key "version"; every file starts with version: 1'],
        id="missing-version",
    ),
    pytest.param(
        {"a.yaml": "version: 2\n"},
        [
            "a.yaml:1:10: version: version must be 1, the only format this reconciler reads; "
            "found the number 2"
        ],
        id="version-2",
    ),
    pytest.param(
        {"a.yaml": "version: true\n"},
        [
            "a.yaml:1:10: version: version must be 1, the only format this reconciler reads; "
            "found true"
        ],
        id="version-true",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers:\n  - displayName: A\n"},
        ['a.yaml:3:5: users[0]: missing required key "userName"'],
        id="missing-key-points-at-parent-mapping",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers:\n"},
        ["a.yaml:2:7: users: expected a list, found null; write [] for an empty list"],
        id="empty-users-key",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\n"
            "policy: {limits: {max_deactivations: '10 %', max_member_removals: 1.5}}\n"
        },
        [
            "a.yaml:2:38: policy.limits.max_deactivations: a limit is a whole number or a "
            "percentage like \"10%\", not '10 %'",
            "a.yaml:2:67: policy.limits.max_member_removals: expected a whole number or a "
            'percentage like "10%", found the number 1.5',
        ],
        id="bad-limits",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\npolicy: {users: {key: externalId}}\n"
            "users:\n  - {userName: a@x.com, externalId: e1}\n  - {userName: b@x.com}\n"
            "  - {userName: c@x.com, externalId: e1}\n"
            "groups: [{displayName: g, members: [e1, a@x.com]}]\n",
        },
        [
            'a.yaml:4:37: users[0].externalId: externalId "e1" is listed twice: also at '
            "a.yaml:6:37 (policy.users.key is externalId)",
            "a.yaml:5:5: users[1]: missing externalId: policy.users.key is externalId, so every "
            "user needs one",
            'a.yaml:6:37: users[2].externalId: externalId "e1" is listed twice: also at '
            "a.yaml:4:37 (policy.users.key is externalId)",
            'a.yaml:7:41: groups[0].members[1]: unknown member "a@x.com": no user in the files '
            "has this externalId",
        ],
        id="externalId-as-key",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nbase: &b {userName: a@x.com}\nusers:\n  - <<: *b\n"},
        [
            'a.yaml:2:1: base: unknown key "base"; expected one of: version, target, policy, '
            "users, groups",
            "a.yaml:4:5: users[0]: YAML merge keys (<<) are not supported; write the keys out",
            'a.yaml:4:5: users[0]: missing required key "userName"',
        ],
        id="merge-key",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nusers:\n  - userName: jose\u0301@x.com\n",
            "b.yaml": "version: 1\nusers:\n  - userName: JOS\u00c9@x.com\n",
        },
        [
            'a.yaml:3:15: users[0].userName: user "jose\u0301@x.com" is listed twice: also at '
            'b.yaml:3:15 as "JOS\u00c9@x.com" (userNames compare in any letter case and Unicode '
            "form; here U+006A U+006F U+0073 U+0065 U+0301, there U+004A U+004F U+0053 U+00C9)",
            'b.yaml:3:15: users[0].userName: user "JOS\u00c9@x.com" is listed twice: also at '
            'a.yaml:3:15 as "jose\u0301@x.com" (userNames compare in any letter case and Unicode '
            "form; here U+004A U+004F U+0053 U+00C9, there U+006A U+006F U+0073 U+0065 U+0301)",
        ],
        id="twin-userNames-in-two-unicode-forms",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\ngroups:\n  - displayName: \u00c9quipe\n"
            "  - displayName: \uff45\u0301quipe\n"
            "  - {displayName: ops, previousNames: [E\u0301QUIPE-old, \u00e9quipe-old]}\n",
        },
        [
            'a.yaml:3:18: groups[0].displayName: group "\u00c9quipe" is listed twice: also at '
            'a.yaml:4:18 as "\uff45\u0301quipe" (displayNames compare in any letter case and '
            "Unicode form; here U+00C9, there U+FF45 U+0301)",
            'a.yaml:4:18: groups[1].displayName: group "\uff45\u0301quipe" is listed twice: also '
            'at a.yaml:3:18 as "\u00c9quipe" (displayNames compare in any letter case and '
            "Unicode form; here U+FF45 U+0301, there U+00C9)",
            'a.yaml:5:53: groups[2].previousNames[1]: "\u00e9quipe-old" is listed as a previous '
            "name twice: also at a.yaml:5:40",
        ],
        id="twin-groups-fullwidth-and-previous-names",
    ),
    pytest.param(
        {
            "a.yaml": "version: 1\nusers:\n  - userName: ann\u200b@x.com\n"
            '    externalId: "E\\a1"\n'
            "    emails: [{value: \u202eann@x.com, primary: true}]\n"
            '    previousUserNames: ["ann@old.com "]\n'
            'groups:\n  - displayName: "eng "\n    members: [ann\u200b@x.com]\n',
        },
        [
            'a.yaml:3:15: users[0].userName: "ann?@x.com" holds U+200B (ZERO WIDTH SPACE), '
            "which shows as nothing or moves the text",
            'a.yaml:4:17: users[0].externalId: "E?1" holds U+0007 (a control character), '
            "which shows as nothing or moves the text",
            'a.yaml:5:22: users[0].emails[0].value: "?ann@x.com" holds U+202E (RIGHT-TO-LEFT '
            "OVERRIDE), which shows as nothing or moves the text",
            'a.yaml:6:25: users[0].previousUserNames[0]: "ann@old.com " has whitespace at its '
            "start or end, which a directory may keep or trim",
            'a.yaml:8:18: groups[0].displayName: "eng " has whitespace at its start or end, '
            "which a directory may keep or trim",
        ],
        id="invisible-characters-and-outer-whitespace",
    ),
    pytest.param(
        {"a.yaml": "version: 1\nusers: [{userName: a@x.com, title: \x07}]\n"},
        ["a.yaml:2:36: character U+0007 is not allowed in a YAML file"],
        id="control-character",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_problem_is_reported_at_its_place(
    workdir: Path, files: dict[str, str | bytes], expected: list[str]
) -> None:
    """Each kind of mistake is reported as `file:line:column: path: message`."""
    for name, text in files.items():
        write(workdir, name, text)
    assert problems_of(list(files)) == expected


_LONG = "A" * 30 + "B" * 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "TOPSECRET first line of some file\nand its second line\n",
            "a.yaml:1:1: expected a mapping with version: 1, found a string",
            id="not-a-mapping-quotes-nothing",
        ),
        pytest.param(
            "12345678901234567890\n",
            "a.yaml:1:1: expected a mapping with version: 1, found a number",
            id="not-a-mapping-number-quotes-nothing",
        ),
        pytest.param(
            f"version: 1\nusers: [{{userName: a@x.com, active: {_LONG}}}]\n",
            "a.yaml:2:37: users[0].active: expected true or false, found the string "
            f'"{_LONG[:37]}..."',
            id="wrong-type",
        ),
        pytest.param(
            'version: 1\nusers: [{userName: a@x.com, active: "a\\tb\\e[31mc"}]\n',
            'a.yaml:2:37: users[0].active: expected true or false, found the string "a b?[31mc"',
            id="unprintable",
        ),
        pytest.param(
            f"version: 1\n{_LONG}: 1\n",
            f'a.yaml:2:1: ["{_LONG[:37]}..."]: unknown key "{_LONG[:37]}..."; '
            "expected one of: version, target, policy, users, groups",
            id="unknown-key",
        ),
        pytest.param(
            f"version: 1\nusers: [{{userName: a@x.com, emails: [{{value: {_LONG}}}]}}]\n",
            f"a.yaml:2:46: users[0].emails[0].value: '{_LONG[:37]}...' is not an email address",
            id="model-message",
        ),
        pytest.param(
            f"version: 1\ntarget: !{_LONG} x\n",
            f"a.yaml:2:9: target: tag !{_LONG[:36]}... is not allowed; "
            "only plain YAML is read (strings, numbers, true/false, null, lists, mappings)",
            id="tag",
        ),
        pytest.param(
            f"version: 1\ntarget: *{_LONG}\n",
            f"a.yaml:2:9: target: alias *{_LONG[:37]}... has no anchor &{_LONG[:37]}... before it",
            id="alias",
        ),
    ],
)
def test_file_text_in_a_problem_is_a_short_printable_excerpt(
    workdir: Path, text: str, expected: str
) -> None:
    """A problem quotes at most 40 printable characters of a file, and nothing of a non-mapping."""
    write(workdir, "a.yaml", text)
    assert problems_of(["a.yaml"]) == [expected]


def test_missing_path_and_empty_directory_are_problems(workdir: Path) -> None:
    """A path that does not exist and a directory with nothing to load are both reported."""
    (workdir / "empty").mkdir()
    assert problems_of(["nope.yaml", "empty"]) == [
        "empty: no *.yaml, *.yml or *.json files in this directory",
        "nope.yaml: no such file or directory",
    ]


def test_a_directory_that_cannot_be_listed_is_a_problem(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subdirectory the walk cannot read is reported, not silently skipped."""
    write(workdir, "d/a.yaml", "version: 1\n")
    real_walk = os.walk

    def walk(top: Path, onerror: Callable[[OSError], None]) -> Iterator[WalkEntry]:
        onerror(PermissionError(13, "Permission denied", str(Path(top) / "locked")))
        yield from real_walk(top, onerror=onerror)

    monkeypatch.setattr(os, "walk", walk)
    assert problems_of(["d"]) == ["d/locked: cannot list: Permission denied"]


def _outside_secret(workdir: Path) -> Path:
    """A credentials file outside the directory given, as a runner might hold one."""
    return write(workdir, "home/.aws/credentials.yaml", "aws_secret_access_key: TOPSECRET123\n")


def test_links_that_leave_the_directory_given_are_refused_by_name(workdir: Path) -> None:
    """A file or directory link, at any depth, that resolves outside the directory is refused."""
    secret = _outside_secret(workdir)
    write(workdir, "repo/users.yaml", "version: 1\nusers: [{userName: a@x.com}]\n")
    write(workdir, "repo/team/real.yaml", "version: 1\n")
    (workdir / "repo/more.yaml").symlink_to(secret)
    (workdir / "repo/team/deep").mkdir()
    (workdir / "repo/team/deep/more.json").symlink_to("../../../home/.aws/credentials.yaml")
    (workdir / "repo/team/aws").symlink_to(secret.parent, target_is_directory=True)
    (workdir / "repo/team/inside.yaml").symlink_to("real.yaml")  # stays inside: fine
    (workdir / "repo/team/up").symlink_to("..", target_is_directory=True)  # inside, not followed
    problems = problems_of(["repo"])
    refused = "symbolic link leads outside repo, the directory given; refused"
    assert problems == [
        f"repo/more.yaml: {refused}",
        f"repo/team/aws: {refused}",
        f"repo/team/deep/more.json: {refused}",
    ]
    assert not any("TOPSECRET" in p or ".aws" in p for p in problems)


def test_a_path_given_that_is_a_link_out_of_its_own_directory_is_refused(workdir: Path) -> None:
    """A PATH that is itself a link is read only if it resolves inside the directory holding it."""
    secret = _outside_secret(workdir)
    write(workdir, "repo/real.yaml", "version: 1\nusers: [{userName: a@x.com}]\n")
    (workdir / "repo/more.yaml").symlink_to(secret)
    (workdir / "repo/creds").symlink_to(secret.parent, target_is_directory=True)
    (workdir / "repo/same.yaml").symlink_to("real.yaml")
    refused = "symbolic link leads outside its own directory; refused"
    refused += " (give the path it points to instead)"
    assert problems_of(["repo/more.yaml", "repo/creds/", "repo/same.yaml"]) == [
        f"repo/creds/: {refused}",
        f"repo/more.yaml: {refused}",
    ]
    assert [u.userName for u in load_desired(["repo/same.yaml"]).users] == ["a@x.com"]


def test_a_link_loop_is_a_problem_not_a_crash(workdir: Path) -> None:
    """A link that points to itself is reported as unreadable instead of raising RuntimeError."""
    (workdir / "d").mkdir()
    (workdir / "d/a.yaml").symlink_to("a.yaml")
    assert problems_of(["d"]) == ["d/a.yaml: not a regular file"]


def test_no_paths_is_a_problem() -> None:
    """Loading nothing at all is refused rather than planning against an empty desired state."""
    assert problems_of([]) == ["<command line>: no desired-state files were given"]


def test_references_are_not_checked_when_a_file_could_not_be_read(workdir: Path) -> None:
    """A member is not called unknown while a file that may declare it is unreadable."""
    write(workdir, "groups.yaml", "version: 1\ngroups: [{displayName: g, members: [a@x.com]}]\n")
    write(workdir, "users.yaml", "version: 1\nusers: [{userName: a@x.com]\n")
    missing, syntax = problems_of(["groups.yaml", "users.yaml", "more.yaml"])
    assert missing == "more.yaml: no such file or directory"
    assert syntax.startswith("users.yaml:2:27: invalid YAML: ")


def test_a_file_over_the_size_limit_is_refused_unread(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file larger than RECONCILER_MAX_FILE_BYTES is refused with its size, before it is read."""
    monkeypatch.setenv("RECONCILER_MAX_FILE_BYTES", str(2 * 1024 * 1024))
    write(workdir, "big.yaml", b"#" * (2 * 1024 * 1024 + 1))
    write(workdir, "odd.json", b" " * 1001)
    assert problems_of(["big.yaml"]) == [
        "big.yaml: file is 2097153 bytes, over the 2 MiB limit (RECONCILER_MAX_FILE_BYTES); "
        "split it up"
    ]
    monkeypatch.setenv("RECONCILER_MAX_FILE_BYTES", "1000")
    assert problems_of(["odd.json"]) == [
        "odd.json: file is 1001 bytes, over the 1000 bytes limit (RECONCILER_MAX_FILE_BYTES); "
        "split it up"
    ]


def test_node_limits_are_read_from_the_environment(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECONCILER_MAX_FILE_NODES bounds YAML nodes and JSON values; the problem names it."""
    monkeypatch.setenv("RECONCILER_MAX_FILE_NODES", "5")
    write(workdir, "a.yaml", "version: 1\nusers: [{userName: a@x.com}]\n")
    write(workdir, "b.json", '{"version": 1, "users": [{"userName": "a@x.com"}, {}]}')
    assert problems_of(["a.yaml", "b.json"]) == [
        "a.yaml:2:9: more than 5 YAML nodes (RECONCILER_MAX_FILE_NODES); split the file",
        "b.json:1:51: more than 5 JSON values (RECONCILER_MAX_FILE_NODES); split the file",
    ]


def test_alias_bomb_is_refused_fast(workdir: Path) -> None:
    """A billion-laughs document is refused in well under a second, without expanding it."""
    write(workdir, "a.yaml", _BOMB)
    started = time.monotonic()
    problems = problems_of(["a.yaml"])
    assert time.monotonic() - started < 1
    assert "alias bomb" in problems[0]


def test_a_refused_tag_is_reported_once_without_follow_on_errors(workdir: Path) -> None:
    """A value refused for its tag does not also fail validation as null."""
    write(workdir, "a.yaml", "version: 1\nusers: !!set {a: null}\ngroups: !!omap [a: 1]\n")
    problems = problems_of(["a.yaml"])
    assert [p.split(": ")[1] for p in problems] == ["users", "groups"]


# --- properties -----------------------------------------------------------------------

_DEFECTS = {
    "unknown key": "{{userName: {u}, bogus: 1}}",
    "wrong type": "{{userName: {u}, active: 'yes'}}",
    "duplicate key": "{{userName: {u}, title: a, title: b}}",
    "python tag": "{{userName: {u}, title: !!python/name:os.system ''}}",
    "unknown group": "{{userName: {u}, groups: [nope]}}",
    "bad email": "{{userName: {u}, emails: [{{value: nope, primary: true}}]}}",
    "no defect": "{{userName: {u}}}",
}


@settings(max_examples=examples(30), deadline=None)
@given(
    files=st.lists(st.lists(st.sampled_from(sorted(_DEFECTS)), max_size=6), min_size=1, max_size=5)
)
def test_every_problem_in_every_file_is_reported_in_one_error(
    tmp_path_factory: pytest.TempPathFactory, files: list[list[str]]
) -> None:
    """However many mistakes sit in however many files, one error lists each of them once."""
    root = tmp_path_factory.mktemp("files")
    for i, defects in enumerate(files):
        users = "".join(
            "  - " + _DEFECTS[d].format(u=f"u{i}-{j}@x.com") + "\n" for j, d in enumerate(defects)
        )
        write(root, f"f{i}.yaml", f"version: 1\nusers:\n{users}" if users else "version: 1\n")
    # Each defect is on its own line, the (j + 3)th, and makes exactly one problem there.
    expected = [
        (f"f{i}.yaml", j + 3)
        for i, defects in enumerate(files)
        for j, defect in enumerate(defects)
        if defect != "no defect"
    ]
    if not expected:
        load_desired([root])
        return
    with pytest.raises(DesiredStateError) as info:
        load_desired([root])
    assert [(Path(p.file).name, p.line) for p in info.value.problems] == expected


@settings(max_examples=examples(150), deadline=None)
@given(
    content=st.one_of(st.text(max_size=200), st.binary(max_size=200)),
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_any_content_loads_or_raises_desired_state_error(
    tmp_path_factory: pytest.TempPathFactory, content: str | bytes, suffix: str
) -> None:
    """Whatever a file holds, loading gives a DesiredState or a DesiredStateError, never a crash."""
    path = write(tmp_path_factory.mktemp("fuzz"), "f" + suffix, content)
    problems: list[Problem] = []
    try:
        load_desired([path])
    except DesiredStateError as exc:
        problems = exc.problems
        assert problems, "a DesiredStateError always says what is wrong"
    assert all(p.file == str(path) for p in problems)


# --- previous names ---------------------------------------------------------------------


def test_a_previous_user_name_that_is_another_users_name_is_a_problem(workdir: Path) -> None:
    """previousUserNames may not name a user the files still list: which one would it be?"""
    write(
        workdir,
        "a.yaml",
        "version: 1\nusers:\n"
        "  - {userName: alice@x.com}\n"
        "  - {userName: alicia@x.com, previousUserNames: [ALICE@x.com]}\n",
    )
    assert problems_of(["a.yaml"]) == [
        'a.yaml:4:50: users[1].previousUserNames[0]: "ALICE@x.com" is the userName of another '
        "user (at a.yaml:3:16); it cannot also be a previous name of this user"
    ]


def test_a_previous_group_name_listed_twice_is_a_problem(workdir: Path) -> None:
    """Two groups that claim one previous name would both want the same live group."""
    write(
        workdir,
        "a.yaml",
        "version: 1\ngroups:\n"
        "  - {displayName: eng, previousNames: [dev]}\n"
        "  - {displayName: ops, previousNames: [Dev]}\n",
    )
    assert problems_of(["a.yaml"]) == [
        'a.yaml:4:40: groups[1].previousNames[0]: "Dev" is listed as a previous name twice: '
        "also at a.yaml:3:40"
    ]


def test_an_unknown_group_name_suggests_the_declared_one_it_resembles(workdir: Path) -> None:
    """A user's group with a typo names the declared group it probably meant."""
    write(
        workdir,
        "a.yaml",
        "version: 1\nusers:\n  - {userName: a@x.com, groups: [enginering]}\n"
        "groups:\n  - {displayName: engineering}\n",
    )
    (problem,) = problems_of(["a.yaml"])
    assert problem.endswith('unknown group "enginering": no file declares it under groups: '
                            '(did you mean "engineering"?)')  # fmt: skip
