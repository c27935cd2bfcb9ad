"""Properties of the identity rules, checked with hypothesis on the planner's pure stages.

Each example draws a directory and a set of files whose users and groups relate to
the live ones in the ways identity changes happen: the same identity, a re-keyed
externalId, a userName renamed with or without ``previousUserNames``, new people,
live accounts nobody lists, groups renamed with ``previousNames`` (and renames left
half done), and collisions with unrelated accounts that hold a userName or, on
Atlassian, an email a file user wants. Every fresh name or externalId is unused
elsewhere, so the files never contradict themselves (the loader's cross-file checks
would pass). Plans are applied with the real executor through ``ModelWriter``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest
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
from reconciler.live import LiveUser
from reconciler.plan import Action, ActionKind, Plan, Resource
from reconciler.planner import PlanContext, plan
from reconciler.planner.match_groups import match_groups
from reconciler.planner.match_users import match_users
from tests.directory_model import DirectoryModel, apply_plan
from tests.hypothesis_profiles import examples
from tests.planner.test_planner_properties import ABSENT, Scenario, _reordered, recased, subset

PROPERTY = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

UNLIMITED = LimitsPolicy(
    max_deactivations=10**6,
    max_group_deletions=10**6,
    max_member_removals=10**6,
    max_adoptions=10**6,
)
PEOPLE = ("ann", "bob", "cy", "dee", "eve", "fay", "gus")
GROUP_NAMES = ("eng", "ops", "sales", "hr")


class Relation(StrEnum):
    """How one person in the files relates to the live directory."""

    SAME = "same identity"
    REKEYED = "externalId changed, same userName, active account"
    RENAMED = "userName changed, old one in previousUserNames"
    RENAMED_BY_KEY = "userName changed, no previousUserNames"
    NEW = "new person"
    LIVE_ONLY = "live account nobody lists"
    HELD_NAME = "userName held by an unrelated account"
    HELD_EMAIL = "userName held as an email by an unrelated account"
    RENAMED_ONTO_HELD = "renamed to a userName an unrelated account holds"


class GroupRelation(StrEnum):
    """How one group in the files relates to the live directory."""

    SAME = "same name"
    RENAMED = "renamed, old name in previousNames"
    LEFTOVER = "renamed by create, old group not deleted yet"
    NEW = "new group"
    LIVE_ONLY = "live group nobody lists"


# Strategies built once (building them per draw is most of the cost of an example).
MOSTLY_ACTIVE = st.sampled_from((True, True, False))
FILE_ACTIVE = st.sampled_from((ABSENT, True, False))
LIVE_DISPLAY_NAMES = st.sampled_from(("Old Name", "Same Name"))
FILE_DISPLAY_NAMES = st.sampled_from((ABSENT, "Same Name", "New Name"))
PERSON_NAMES = st.sampled_from(PEOPLE)
RELATIONS = st.sampled_from(tuple(Relation))
GROUP_RELATIONS = st.sampled_from(tuple(GroupRelation))


@dataclass(frozen=True)
class Person:
    """One person: their names, how the files relate them to the directory, and
    (for collisions) the state of the unrelated account that holds what they want."""

    name: str
    relation: Relation
    spec: UserSpec | None = None
    holder_active: bool | None = None
    holder_external_id: str | None = None
    own_external_id: str | None = None  # of the person's own live account, if any

    @property
    def user_name(self) -> str:
        return f"{self.name}@in.example"

    @property
    def new_user_name(self) -> str:
        return f"{self.name}.new@in.example"


@dataclass(frozen=True)
class KeyChange:
    """A scenario plus the story behind it, for properties that need to know who is who."""

    scenario: Scenario
    people: tuple[Person, ...]

    @property
    def desired(self) -> DesiredState:
        return self.scenario.desired

    @property
    def model(self) -> DirectoryModel:
        return self.scenario.model

    @property
    def context(self) -> PlanContext:
        return self.scenario.context

    def file_key(self, spec: UserSpec) -> str:
        return self.desired.user_key(spec)


# --- drawing a scenario ------------------------------------------------------------


def _email_items(draw: st.DrawFn, addresses: tuple[str, ...]) -> list[dict[str, Any]]:
    chosen = draw(subset(addresses))
    primary = draw(st.integers(0, max(0, len(chosen) - 1)))
    return [
        {"value": draw(recased(a)), "type": "work", "primary": i == primary}
        for i, a in enumerate(chosen)
    ]


def _live(
    draw: st.DrawFn,
    user_name: str,
    external_id: str | None,
    *,
    active: bool | None = None,
    emails: tuple[str, ...] = (),
    held_email: str | None = None,
) -> dict[str, Any]:
    """A raw live user; ``held_email`` is always among its emails, as the primary one."""
    resource: dict[str, Any] = {"userName": draw(recased(user_name))}
    if external_id is not None:
        resource["externalId"] = external_id
    # Mostly active: a person's own account usually is, and only an active one can be
    # wrongly deactivated.
    resource["active"] = draw(MOSTLY_ACTIVE) if active is None else active
    items = _email_items(draw, emails)
    if held_email is not None:
        items = [{**i, "primary": False} for i in items if i["value"].lower() != held_email]
        items.append({"value": draw(recased(held_email)), "type": "work", "primary": True})
    if items:
        resource["emails"] = items
    if draw(st.booleans()):
        resource["displayName"] = draw(LIVE_DISPLAY_NAMES)
    return resource


def _spec(
    draw: st.DrawFn,
    key: str,
    user_name: str,
    external_id: str,
    own_emails: tuple[str, ...],
    group_names: list[str],
    *,
    previous: tuple[str, ...] = (),
    must_email: str | None = None,
) -> UserSpec:
    """A file user; with ``must_email`` its emails are left out (so that address is the
    default on create) or list it."""
    fields: dict[str, Any] = {
        "userName": draw(recased(user_name)),
        "externalId": external_id
        if key == "externalId"
        else draw(st.sampled_from((ABSENT, external_id))),
        "active": draw(FILE_ACTIVE),
        "displayName": draw(FILE_DISPLAY_NAMES),
        "groups": tuple(draw(recased(g)) for g in draw(subset(tuple(group_names), 2))),
    }
    if previous:
        fields["previousUserNames"] = tuple(draw(recased(p)) for p in previous)
    if draw(st.booleans()):
        addresses = draw(st.lists(st.sampled_from(own_emails), min_size=1, unique=True))
        if must_email is not None and must_email not in addresses:
            addresses.append(must_email)
        primary = draw(st.integers(0, len(addresses) - 1))
        fields["emails"] = tuple(
            Email(value=draw(recased(a)), type="work", primary=i == primary)
            for i, a in enumerate(addresses)
        )
    return UserSpec(**{k: v for k, v in fields.items() if v is not ABSENT})


@st.composite
def _person(
    draw: st.DrawFn, key: str, group_names: list[str]
) -> tuple[Person, list[dict[str, Any]]]:
    """One person of the files (or of the directory only) and their live accounts."""
    name = draw(PERSON_NAMES)
    relation = draw(RELATIONS)
    probe = Person(name, relation)
    user_name, new_user_name = probe.user_name, probe.new_user_name
    external_id, fresh_external_id = f"E-{name}", f"E-{name}-2"
    holder_external_id = draw(st.sampled_from((None, f"X-{name}")))
    mail = f"{name}@mail.example"
    own = (user_name, mail)
    renamed_own = (new_user_name, mail)
    live: list[dict[str, Any]] = []
    spec: UserSpec | None = None
    holder_active: bool | None = None
    own_external_id: str | None = external_id

    if relation is Relation.SAME:
        # A never-keyed account (no externalId) is the same person only by userName.
        own_external_id = draw(st.sampled_from((external_id, None)))
        live.append(_live(draw, user_name, own_external_id, emails=own))
        if own_external_id is None:  # the account is its own "holder" under key externalId
            holder_active, holder_external_id = live[-1]["active"], None
        spec = _spec(draw, key, user_name, external_id, own, group_names)
    elif relation is Relation.REKEYED:
        live.append(_live(draw, user_name, external_id, active=True, emails=own))
        spec = _spec(draw, key, user_name, fresh_external_id, own, group_names)
    elif relation is Relation.RENAMED:
        live.append(_live(draw, user_name, external_id, emails=own))
        previous = (user_name,) + ((f"{name}.older@in.example",) if draw(st.booleans()) else ())
        spec = _spec(
            draw, key, new_user_name, external_id, renamed_own, group_names, previous=previous
        )
    elif relation is Relation.RENAMED_BY_KEY:
        live.append(_live(draw, user_name, external_id, emails=own))
        spec = _spec(draw, key, new_user_name, external_id, renamed_own, group_names)
    elif relation is Relation.NEW:
        own_external_id = None
        spec = _spec(draw, key, user_name, external_id, own, group_names)
    elif relation is Relation.LIVE_ONLY:
        own_external_id = draw(st.sampled_from((external_id, None)))
        live.append(_live(draw, user_name, own_external_id, emails=own))
    elif relation is Relation.HELD_NAME:
        own_external_id = None
        holder_active = draw(st.booleans())
        live.append(
            _live(draw, user_name, holder_external_id, active=holder_active, emails=(user_name,))
        )
        spec = _spec(draw, key, user_name, external_id, own, group_names)
    elif relation is Relation.HELD_EMAIL:
        own_external_id = None
        holder_active = draw(st.booleans())
        holder_name = f"{name}.holder@in.example"
        live.append(
            _live(draw, holder_name, holder_external_id, active=holder_active, held_email=user_name)
        )
        spec = _spec(draw, key, user_name, external_id, (mail,), group_names, must_email=user_name)
    else:  # RENAMED_ONTO_HELD
        holder_active = draw(st.booleans())
        live.append(_live(draw, user_name, external_id, emails=own))
        live.append(_live(draw, new_user_name, holder_external_id, active=holder_active, emails=()))
        spec = _spec(
            draw, key, new_user_name, external_id, (mail,), group_names, previous=(user_name,)
        )
    person = Person(
        name,
        relation,
        spec,
        holder_active,
        holder_external_id if holder_active is not None else None,
        own_external_id,
    )
    return person, live


@st.composite
def key_changes(draw: st.DrawFn, key: str, dialect: str) -> KeyChange:
    policy = Policy(
        users=UsersPolicy(
            key=key,
            unmanaged=draw(st.sampled_from(("ignore", "deactivate"))),
            adopt=draw(st.sampled_from(("never", "inactive", "always"))),
            # Renamed and re-keyed accounts' primary emails follow, or stay with a warning.
            email_follows_username=draw(st.booleans()),
        ),
        groups=GroupsPolicy(
            unmanaged=draw(st.sampled_from(("ignore", "delete"))),
            members=draw(st.sampled_from(("authoritative", "additive"))),
        ),
        limits=UNLIMITED,
    )
    group_plan = {g: draw(GROUP_RELATIONS) for g in draw(subset(GROUP_NAMES))}
    file_group_names = [g for g, r in group_plan.items() if r is not GroupRelation.LIVE_ONLY]

    people: list[Person] = []
    model = DirectoryModel()
    live_ids: list[str] = []
    # Each person is drawn whole, so that shrinking can drop one cleanly.
    drawn = st.lists(
        _person(key, file_group_names), min_size=3, max_size=7, unique_by=lambda p: p[0].name
    )
    for person, resources in draw(drawn):
        people.append(person)
        live_ids += [model.add_user(**r) for r in resources]

    user_keys = [draw(recased(k)) if key == "userName" else k for k in _keys(people, key)]
    groups: list[GroupSpec] = []
    for name, relation in group_plan.items():
        old = f"{name}-old"
        live_names = {
            GroupRelation.SAME: [name],
            GroupRelation.RENAMED: [old],
            GroupRelation.LEFTOVER: [name, old],
            GroupRelation.NEW: [],
            GroupRelation.LIVE_ONLY: [name],
        }[relation]
        for live_name in live_names:
            model.add_group(draw(recased(live_name)), draw(subset(tuple(live_ids), 4)))
        if relation is not GroupRelation.LIVE_ONLY:
            renamed = relation in (GroupRelation.RENAMED, GroupRelation.LEFTOVER)
            groups.append(
                GroupSpec(
                    displayName=draw(recased(name)),
                    members=tuple(draw(subset(tuple(user_keys), 3))),
                    previousNames=(draw(recased(old)),) if renamed else (),
                )
            )
    users = tuple(p.spec for p in people if p.spec is not None)
    desired = DesiredState(policy=policy, users=users, groups=tuple(groups))
    context = PlanContext("model:", dialect)
    return KeyChange(Scenario(desired, model, context), tuple(people))


def _keys(people: Iterable[Person], key: str) -> list[str]:
    specs = [p.spec for p in people if p.spec is not None]
    return [s.userName if key == "userName" else s.externalId or "" for s in specs]


# --- what the properties look at ---------------------------------------------------


def _reaches(spec: UserSpec, user: LiveUser) -> bool:
    """Whether any identifier of this file user names this live account."""
    names = {spec.userName.lower(), *(p.lower() for p in spec.previousUserNames)}
    return user.userName.lower() in names or (
        spec.externalId is not None and user.externalId == spec.externalId
    )


def _sets_inactive(action: Action) -> bool:
    return action.resource is Resource.USER and any(
        c.path == "active" and c.after is False for c in action.attribute_changes
    )


def _user_actions(plan_: Plan, key: str) -> list[Action]:
    return [a for a in plan_.actions if a.resource is Resource.USER and a.key == key]


def _warnings(plan_: Plan, key: str) -> list[tuple[str, str]]:
    return [(w.key, w.message) for w in plan_.warnings if w.key == key]


def _collision(person: Person, key: str, dialect: str) -> str | None:
    """What the identity rules make of a person whose wanted identity another account
    holds: "adoptable" (a create that adopt may turn into a takeover), "blocked" (their
    own account cannot take the identity), or None (not a collision at all)."""
    relation = person.relation
    if relation is Relation.SAME and key == "externalId" and person.own_external_id is None:
        return "adoptable"  # a never-keyed account holds the userName: a takeover
    if relation is Relation.HELD_NAME and key == "externalId":
        rekey = person.holder_active and person.holder_external_id is not None
        return None if rekey else "adoptable"
    if relation is Relation.HELD_EMAIL and dialect == "atlassian":
        return "adoptable"
    if relation is Relation.RENAMED_ONTO_HELD and key == "externalId":
        return "blocked"
    return None


def _adopt_allowed(adopt: str, holder_active: bool) -> bool:
    return adopt == "always" or (adopt == "inactive" and not holder_active)


# --- the properties ----------------------------------------------------------------

# Every property runs for both policy keys on both dialects; the adopt and unmanaged
# settings are drawn.
VARIANTS = pytest.mark.parametrize(
    ("key", "dialect"),
    [
        pytest.param(key, dialect, id=f"{key}-{dialect}")
        for key in ("userName", "externalId")
        for dialect in ("generic", "atlassian")
    ],
)


@PROPERTY
@VARIANTS
@given(data=st.data())
def test_no_active_file_user_is_ever_deactivated(
    key: str, dialect: str, data: st.DataObject
) -> None:
    """No account that an active file user names by key, userName, externalId or a
    previous userName is deactivated, neither as unmanaged nor by an adoption."""
    case = data.draw(key_changes(key, dialect), label="case")
    live = case.model.snapshot()
    reached = {
        u.id: case.file_key(s)
        for s in case.desired.users
        if s.active
        for u in live.users
        if _reaches(s, u)
    }
    plan_ = plan(case.desired, live, case.context)
    offending = [
        (a.action.value, a.key, a.id, reached[a.id])
        for a in plan_.actions
        if _sets_inactive(a) and a.id in reached
    ]
    assert offending == [], offending


@PROPERTY
@VARIANTS
@given(data=st.data())
def test_no_create_takes_a_user_name_or_email_a_live_account_holds(
    key: str, dialect: str, data: st.DataObject
) -> None:
    """A user create never names a userName a live account holds (in any letter case),
    and on Atlassian never an email a live account holds."""
    case = data.draw(key_changes(key, dialect), label="case")
    live = case.model.snapshot()
    names = {u.userName.lower() for u in live.users}
    emails = {str(e["value"]).lower() for u in live.users for e in u.attributes["emails"] or []}
    for action in plan(case.desired, live, case.context).actions:
        if action.resource is not Resource.USER or action.action is not ActionKind.CREATE:
            continue
        after = {c.path: c.after for c in action.attribute_changes}
        assert after["userName"].lower() not in names, action
        if case.context.emails_unique:
            wanted = {str(e["value"]).lower() for e in after.get("emails") or []}
            assert not wanted & emails, action


@PROPERTY
@VARIANTS
@given(data=st.data())
def test_applying_a_plan_with_key_changes_converges_in_one_step(
    key: str, dialect: str, data: st.DataObject
) -> None:
    """After one apply the next plan has no actions; a collision is adopted exactly when
    policy.users.adopt allows it, and one it does not allow stays warnings-only."""
    case = data.draw(key_changes(key, dialect), label="case")
    live = case.model.snapshot()
    first = plan(case.desired, live, case.context)
    assert first.blocked == ()
    adopt = case.desired.policy.users.adopt
    collided: list[tuple[Person, str]] = []
    for person in case.people:
        kind = _collision(person, key, dialect)
        if kind is None or person.spec is None:
            continue
        user_key = case.file_key(person.spec)
        actions = _user_actions(first, user_key)
        assert person.holder_active is not None
        if kind == "adoptable" and _adopt_allowed(adopt, person.holder_active):
            assert [a.action for a in actions] == [ActionKind.ADOPT], (person, first.to_json())
        else:
            assert actions == [], (person, first.to_json())
            collided.append((person, user_key))

    apply_plan(case.model, first)
    second = plan(case.desired, case.model.snapshot(), case.context)
    assert second.actions == (), second.to_json()
    for person, user_key in collided:
        assert _warnings(second, user_key) == _warnings(first, user_key), person


@PROPERTY
@VARIANTS
@given(data=st.data(), rng=st.randoms(use_true_random=False))
def test_plan_json_does_not_depend_on_the_order_of_files_users_groups_or_pages(
    key: str, dialect: str, data: st.DataObject, rng: random.Random
) -> None:
    """Shuffling the desired users and groups and the live users and groups (pages)
    gives a byte-identical JSON plan."""
    case = data.draw(key_changes(key, dialect), label="case")
    first = case.scenario.plan().to_json()
    desired, live = _reordered(case.scenario, rng)
    assert plan(desired, live, case.context).to_json() == first


@PROPERTY
@VARIANTS
@given(data=st.data())
def test_every_file_and_live_object_gets_exactly_one_identity(
    key: str, dialect: str, data: st.DataObject
) -> None:
    """match_users and match_groups give each file entry and each live object one
    identity: every spec and every live id appears exactly once in the result."""
    case = data.draw(key_changes(key, dialect), label="case")
    live = case.model.snapshot()
    policy = case.desired.policy
    users = match_users(
        case.desired.users, live.users, policy.users.key, emails_unique=case.context.emails_unique
    )
    assert Counter(m.spec.model_dump_json() for m in users.files) == Counter(
        s.model_dump_json() for s in case.desired.users
    )
    assert Counter(m.account.id for m in users.live) == Counter(u.id for u in live.users)
    groups = match_groups(
        case.desired.groups, live.groups, renames_by_create=case.context.names_immutable
    )
    assert Counter(m.spec.model_dump_json() for m in groups.files) == Counter(
        g.model_dump_json() for g in case.desired.groups
    )
    assert Counter(m.group.id for m in groups.live) == Counter(g.id for g in live.groups)
