"""Look-alike identities, as a hypothesis property of the whole planner (issue 16, item 6).

Each example draws a live directory of people and groups whose names carry accents,
letters with special case mappings and non-Latin scripts, and files that list exactly
that directory, every identifier respelled: composed or decomposed (NFC or NFD),
each letter in another case (one with the same lower-case mapping, as RFC 8265's
UsernameCaseMapped compares them), ASCII letters sometimes in fullwidth. Such files
name the same people: the plan must create nothing, deactivate nobody, delete no
group and move no member.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import (
    DesiredState,
    Email,
    GroupSpec,
    GroupsPolicy,
    LimitsPolicy,
    Policy,
    UserSpec,
    UsersPolicy,
)
from reconciler.plan import ActionKind, Plan, Resource
from reconciler.planner import PlanContext, plan
from tests.directory_model import DirectoryModel
from tests.hypothesis_profiles import examples

PROPERTY = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
UNLIMITED = LimitsPolicy(
    max_deactivations=10**6, max_group_deletions=10**6, max_member_removals=10**6,
    max_adoptions=10**6, max_sensitive_changes=10**6,
)  # fmt: skip

# Names with accents (é, ë, å), a digraph with three cases (ǆ ǅ Ǆ), a dotted capital I
# whose lower case is two code points, sharp s (its upper case SS is not a case
# variant under toLowerCase), Greek with a final sigma, Cyrillic.
PEOPLE = (
    "jos\u00e9", "zo\u00eb", "\u00e5sa", "\u01c6enan", "\u0130pek", "stra\u00dfe",
    "\u1f00\u03bb\u03ad\u03be\u03b7\u03c2", "\u0438\u0432\u0430\u043d", "ann",
)  # fmt: skip
DOMAINS = ("example.com", "ex\u00e4mple.org")
GROUPS = (
    "\u00c9quipe",
    "ops",
    "\u00dcnits",
    "\u03a3\u03cd\u03bc\u03b2\u03bf\u03c5\u03bb\u03bf\u03b9",
)


def _case_variants(char: str) -> tuple[str, ...]:
    """``char`` and its other cases that lower-case to the same text (and, for ASCII
    letters and digits, the fullwidth form)."""
    lower = unicodedata.normalize("NFC", char.lower())
    found = [char]
    for variant in (char.lower(), char.upper(), char.title()):
        if variant not in found and unicodedata.normalize("NFC", variant.lower()) == lower:
            found.append(variant)
    if "!" <= char <= "~" and char.isalnum():
        found.append(chr(ord(char) + 0xFEE0))
    return tuple(found)


@functools.cache
def respelled(text: str) -> st.SearchStrategy[str]:
    """``text`` in either normal form, each character in any of its case variants."""
    letters = st.tuples(*(st.sampled_from(_case_variants(c)) for c in text))
    form = st.sampled_from(("NFC", "NFD"))
    return st.builds(lambda chars, nf: unicodedata.normalize(nf, "".join(chars)), letters, form)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DesiredState, DirectoryModel, PlanContext]:
    key = draw(st.sampled_from(("userName", "externalId")))
    model = DirectoryModel()
    people = draw(st.lists(st.sampled_from(PEOPLE), unique=True, min_size=1, max_size=5))
    specs: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    for person in people:
        user_name = f"{person}@{draw(st.sampled_from(DOMAINS))}"
        live_name = draw(respelled(user_name))
        ids[person] = model.add_user(
            live_name,
            externalId=draw(respelled(f"HR-{person}")),
            emails=[{"value": live_name, "type": "work", "primary": True}],
            active=draw(st.sampled_from((True, True, False))),
        )
        spec: dict[str, Any] = {
            "userName": draw(respelled(user_name)),
            "externalId": draw(respelled(f"HR-{person}")),
        }
        if draw(st.booleans()):
            spec["emails"] = (Email(value=draw(respelled(user_name)), type="work", primary=True),)
        specs.append(spec)
    groups = []
    for name in draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=3)):
        members = draw(st.lists(st.sampled_from(people), unique=True))
        model.add_group(draw(respelled(name)), [ids[p] for p in members])
        keys = [
            specs[people.index(p)]["userName" if key == "userName" else "externalId"]
            for p in members
        ]
        groups.append(
            GroupSpec(
                displayName=draw(respelled(name)),
                members=tuple(draw(respelled(k.lower())) for k in keys),
            )
        )
    policy = Policy(
        users=UsersPolicy(key=key, unmanaged="deactivate"),
        groups=GroupsPolicy(unmanaged="delete", members="authoritative"),
        limits=UNLIMITED,
    )
    desired = DesiredState(
        users=tuple(UserSpec(**spec) for spec in specs), groups=tuple(groups), policy=policy
    )
    context = PlanContext("model:", draw(st.sampled_from(("generic", "atlassian"))))
    return desired, model, context


def _only_respellings(result: Plan) -> list[str]:
    """What in the plan is more than a reactivation or a group's new letter case."""
    wrong = []
    for action in result.actions:
        paths = {c.path for c in action.attribute_changes}
        if action.resource is Resource.USER and action.action is ActionKind.REACTIVATE:
            ok = paths == {"active"}
        else:
            ok = action.action is ActionKind.UPDATE and action.member_change is None
            ok = ok and paths == {"displayName"}
        if not ok:
            wrong.append(f"{action.action.value} {action.resource.value} {action.key}: {paths}")
    return wrong


@PROPERTY
@given(scenarios())
def test_files_that_differ_only_in_form_or_case_create_and_deactivate_nothing(
    scenario: tuple[DesiredState, DirectoryModel, PlanContext],
) -> None:
    """Any directory, and files naming it in other Unicode forms or letter cases: no
    create, no deactivation, no deletion, no member moved; at most a reactivation of an
    account the files want active, and a group's displayName in its new case."""
    desired, model, context = scenario
    result = plan(desired, model.snapshot(), context)
    assert _only_respellings(result) == []
    assert not [w for w in result.warnings if "cannot be matched" in w.message]
