"""Properties of the planner, checked with hypothesis against an in-memory directory.

Each example draws a whole scenario from small pools of names, so that desired and
live objects overlap often: a policy, a desired state and a live directory holding
raw SCIM resources with attributes the files never mention. Group names, member
references, ``groups:`` shorthand, protect lists and scope globs come in any letter
case. Plans are applied with the real executor through ``ModelWriter``.
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from itertools import product
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.app.pipeline import kept_paths
from reconciler.attributes import ENTERPRISE_ATTRIBUTES, ENTERPRISE_URN, NAME_ATTRIBUTES
from reconciler.desired import (
    DesiredState,
    Email,
    Enterprise,
    GroupSpec,
    GroupsPolicy,
    LimitsPolicy,
    Name,
    PhoneNumber,
    Policy,
    UserSpec,
    UsersPolicy,
)
from reconciler.live import LiveSnapshot
from reconciler.plan import ActionKind, Plan, Resource
from reconciler.planner import PlanContext, limit_bases, plan, saved_plan_blocked
from tests.directory_model import DirectoryModel, apply_plan
from tests.hypothesis_profiles import examples

PROPERTY = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- the pools every scenario draws from -----------------------------------------

NAMES = ("ann", "bob", "cy", "dee", "eve", "fay")
DOMAINS = ("in.example", "out.example")
# One identity per person: the same userName and externalId wherever it appears, so
# desired and live never disagree about who is who (that would be a bad input, not
# a planner property).
IDENTITIES = tuple(
    (f"{name}@{domain}", f"E-{index}")
    for index, (name, domain) in enumerate(product(NAMES, DOMAINS))
)
GROUP_NAMES = ("eng", "ops", "sales", "ext-partners", "ext-vendors")
USER_SCOPES = (("*",), ("*@in.example",), ("*@IN.EXAMPLE", "ann@*"), ("a*", "b*", "c*"))
GROUP_SCOPES = (("*",), ("e*",), ("ENG", "ops"), ("ext-*",))
UNLIMITED = LimitsPolicy(
    max_deactivations=10**6, max_group_deletions=10**6, max_member_removals=10**6
)
NO_LIMITS = st.just(UNLIMITED)
ABSENT: Any = object()  # "the file does not mention this attribute"


Spell = Callable[[str], st.SearchStrategy[str]]


@functools.cache
def recased(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from((text, text.upper(), text.capitalize()))


def mentioned(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Not mentioned, written as null, or a value."""
    return st.one_of(st.just(ABSENT), st.none(), values)


@functools.cache
def subset(pool: tuple[Any, ...], max_size: int | None = None) -> st.SearchStrategy[list[Any]]:
    if not pool:
        return st.just([])
    return st.lists(st.sampled_from(pool), unique=True, max_size=max_size or len(pool))


@dataclass(frozen=True)
class Scenario:
    desired: DesiredState
    model: DirectoryModel
    context: PlanContext

    @property
    def policy(self) -> Policy:
        return self.desired.policy

    def plan(self, live: LiveSnapshot | None = None) -> Plan:
        live = self.model.snapshot() if live is None else live
        return plan(self.desired, live, self.context)

    def fold(self, key: str) -> str:
        return key.casefold() if self.policy.users.key == "userName" else key

    def key_of(self, identity: tuple[str, str]) -> str:
        return identity[0] if self.policy.users.key == "userName" else identity[1]


# --- policies ------------------------------------------------------------------------


@st.composite
def policies(draw: st.DrawFn, limits: st.SearchStrategy[LimitsPolicy]) -> Policy:
    user_names = [u for u, _ in IDENTITIES]
    return Policy(
        users=UsersPolicy(
            key=draw(st.sampled_from(("userName", "externalId"))),
            unmanaged=draw(st.sampled_from(("ignore", "deactivate"))),
            scope=draw(st.sampled_from(USER_SCOPES)),
            protect=tuple([draw(recased(u)) for u in draw(subset(tuple(user_names), 2))]),
        ),
        groups=GroupsPolicy(
            unmanaged=draw(st.sampled_from(("ignore", "delete"))),
            members=draw(st.sampled_from(("authoritative", "additive"))),
            scope=draw(st.sampled_from(GROUP_SCOPES)),
            protect=tuple([draw(recased(g)) for g in draw(subset(GROUP_NAMES, 1))]),
        ),
        limits=draw(limits),
    )


# --- desired state -------------------------------------------------------------------


@functools.cache
def email_lists(user_name: str) -> st.SearchStrategy[tuple[Email, ...]]:
    """Distinct addresses (in any letter case), exactly one of them primary."""
    local = user_name.split("@")[0]
    addresses = (user_name, f"{local}.alt@in.example", f"{local}@mail.example")

    @st.composite
    def build(draw: st.DrawFn) -> tuple[Email, ...]:
        chosen = draw(st.lists(st.sampled_from(addresses), min_size=1, max_size=3, unique=True))
        primary = draw(st.integers(0, len(chosen) - 1))
        return tuple(
            Email(
                value=draw(recased(value)),
                type=draw(st.sampled_from((None, "work", "home"))),
                primary=index == primary,
            )
            for index, value in enumerate(chosen)
        )

    # An empty list is refused by the file format (a user needs an email). Explicit
    # null is left out: see test_planner.py::test_explicit_null_emails_on_a_new_user_converges.
    return st.one_of(st.just(ABSENT), build())


name_specs = st.builds(
    lambda fields: Name(**fields),
    st.dictionaries(
        st.sampled_from(("givenName", "familyName", "formatted")),
        st.one_of(st.none(), st.sampled_from(("Ann", "Lee", "Ann Lee"))),
        max_size=3,
    ),
)
enterprise_specs = st.builds(
    lambda fields: Enterprise(**fields),
    st.dictionaries(
        st.sampled_from(("department", "costCenter", "employeeNumber")),
        st.one_of(st.none(), st.sampled_from(("R&D", "Sales", "1001"))),
        max_size=3,
    ),
)
phone_specs = st.lists(
    st.builds(
        PhoneNumber,
        value=st.sampled_from(("+1 555 0100", "+1 555 0101")),
        type=st.sampled_from((None, "work")),
        primary=st.booleans(),
    ),
    max_size=2,
    unique_by=lambda p: p.value,
).map(tuple)


OPTIONAL_USER_FIELDS = {
    "displayName": mentioned(st.sampled_from(("Ann Lee", "Bob", "X"))),
    "title": mentioned(st.sampled_from(("Engineer", "Manager"))),
    "nickName": mentioned(st.just("nick")),
    "name": mentioned(name_specs),
    "phoneNumbers": mentioned(phone_specs),
    "enterprise": mentioned(enterprise_specs),
    "active": st.sampled_from((ABSENT, True, False)),
}


@functools.cache
def maybe_external_id(identity: tuple[str, str]) -> st.SearchStrategy[Any]:
    return mentioned(st.just(identity[1]))


@st.composite
def user_specs(
    draw: st.DrawFn, identity: tuple[str, str], key: str, group_names: list[str], spell: Spell
) -> UserSpec:
    user_name, external_id = identity
    fields: dict[str, Any] = {
        "userName": draw(spell(user_name)),
        "externalId": external_id if key == "externalId" else draw(maybe_external_id(identity)),
        **{field: draw(values) for field, values in OPTIONAL_USER_FIELDS.items()},
        "emails": draw(email_lists(user_name)),
        "groups": tuple(draw(recased(g)) for g in draw(subset(tuple(group_names), 2))),
    }
    return UserSpec(**{k: v for k, v in fields.items() if v is not ABSENT})


@st.composite
def desired_states(draw: st.DrawFn, policy: Policy, spell: Spell) -> DesiredState:
    key = policy.users.key
    identities = draw(subset(IDENTITIES, 6))
    group_names = draw(subset(GROUP_NAMES, 4))
    users = tuple(draw(user_specs(identity, key, group_names, spell)) for identity in identities)
    groups = []
    for group_name in group_names:
        members = draw(subset(IDENTITIES, 4))  # anyone: desired, live only, or nobody
        groups.append(
            GroupSpec(
                displayName=draw(recased(group_name)),
                members=tuple(draw(recased(u)) if key == "userName" else e for u, e in members),
            )
        )
    return DesiredState(policy=policy, users=users, groups=tuple(groups))


# --- live directory ------------------------------------------------------------------

UNKNOWN_ATTRIBUTES = {
    "urn:example:params:scim:schemas:extension:badge:2.0:User": {"badge": "B-7"},
    "x-legacy-id": 4711,
    "meta": {"resourceType": "User", "version": 'W/"3"'},
}


@functools.cache
def live_attributes(user_name: str) -> dict[str, st.SearchStrategy[Any]]:
    """How a server might hold each optional attribute of this user, unknown ones included."""
    local = user_name.split("@")[0]
    return {
        "active": st.sampled_from((True, False, "false", "True")),
        "displayName": st.sampled_from(("Ann Lee", "Bob", "Legacy Name")),
        "title": st.sampled_from(("Engineer", "Intern")),
        "nickName": st.just("nick"),
        "name": st.dictionaries(
            st.sampled_from(NAME_ATTRIBUTES[:3]), st.sampled_from(("Ann", "Lee")), min_size=1
        ),
        "emails": st.lists(
            st.fixed_dictionaries(
                {
                    "value": st.sampled_from((user_name, f"{local}@mail.example")).flatmap(recased),
                    "type": st.sampled_from(("work", "home")),
                    "primary": st.booleans(),
                }
            ),
            max_size=2,
            unique_by=lambda e: e["value"].casefold(),
        ),
        "phoneNumbers": st.just([{"value": "+1 555 0100", "type": "work"}]),
        ENTERPRISE_URN: st.dictionaries(
            st.sampled_from(ENTERPRISE_ATTRIBUTES), st.sampled_from(("R&D", "7")), min_size=1
        ),
        **{name: st.just(value) for name, value in UNKNOWN_ATTRIBUTES.items()},
    }


@st.composite
def live_users(draw: st.DrawFn, identity: tuple[str, str], spell: Spell) -> dict[str, Any]:
    """A raw SCIM user as some server might return it, with attributes no file manages."""
    user_name, external_id = identity
    resource: dict[str, Any] = {"userName": draw(spell(user_name)), "externalId": external_id}
    optional = live_attributes(user_name)
    for attribute in draw(subset(tuple(optional))):
        resource[attribute] = draw(optional[attribute])
    return resource


@st.composite
def live_directories(draw: st.DrawFn, spell: Spell) -> DirectoryModel:
    model = DirectoryModel()
    user_ids = []
    for identity in draw(subset(IDENTITIES, 8)):
        resource = draw(live_users(identity, spell))
        user_ids.append(model.add_user(**resource))
    for group_name in draw(subset(GROUP_NAMES)):
        members = draw(subset(tuple(user_ids), 4))
        model.add_group(draw(recased(group_name)), members)
    return model


@st.composite
def scenarios(draw: st.DrawFn, limits: st.SearchStrategy[LimitsPolicy] = NO_LIMITS) -> Scenario:
    policy = draw(policies(limits))
    # Every name, userNames included, may differ in letter case between the files
    # and the directory: matching is case-insensitive wherever SCIM says so.
    spell: Spell = recased
    return Scenario(
        desired=draw(desired_states(policy, spell)),
        model=draw(live_directories(spell)),
        context=PlanContext("model:", draw(st.sampled_from(("generic", "atlassian")))),
    )


# --- what the policy keeps its hands off --------------------------------------------


def _glob(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name.casefold(), p.casefold()) for p in patterns)


def user_hands_off(policy: Policy, user_name: str) -> bool:
    protected = user_name.casefold() in {p.casefold() for p in policy.users.protect}
    return protected or not _glob(user_name, policy.users.scope)


def group_hands_off(policy: Policy, name: str) -> bool:
    protected = name.casefold() in {p.casefold() for p in policy.groups.protect}
    return protected or not _glob(name, policy.groups.scope)


def hands_off_user_keys(scenario: Scenario) -> set[str]:
    return {
        scenario.fold(scenario.key_of(identity))
        for identity in IDENTITIES
        if user_hands_off(scenario.policy, identity[0])
    }


def member_keys_of(plan_: Plan) -> set[str]:
    keys: set[str] = set()
    for action in plan_.actions:
        change = action.member_change
        if change is not None:
            keys.update(change.add, change.remove)
    return keys


def memberships(model: DirectoryModel, user_ids: set[str]) -> dict[str, frozenset[str]]:
    return {gid: model.member_ids(gid) & user_ids for gid in model.groups}


# --- field ownership ---------------------------------------------------------------


def managed_paths(spec: UserSpec) -> set[str]:
    """The attribute paths a file manages for this user (docs/design.md, field ownership)."""
    mentioned = spec.model_fields_set
    paths = {"userName", "active"}
    simple = ("externalId", "displayName", "title", "nickName", "emails", "phoneNumbers")
    paths.update(a for a in simple if a in mentioned)
    for field, attributes in (("name", NAME_ATTRIBUTES), ("enterprise", ENTERPRISE_ATTRIBUTES)):
        if field in mentioned:
            value = getattr(spec, field)
            chosen = attributes if value is None else value.model_fields_set
            paths.update(f"{field}.{a}" for a in chosen)
    return paths


def unmanaged_part(resource: Mapping[str, Any], paths: set[str]) -> dict[str, Any]:
    """The resource without the managed paths (and without ``schemas``, which a PATCH
    of an enterprise attribute legitimately extends)."""
    rest = copy.deepcopy(dict(resource))
    rest.pop("schemas", None)
    for path in paths:
        if path.startswith("name."):
            rest.get("name", {}).pop(path.removeprefix("name."), None)
        elif path.startswith("enterprise."):
            rest.get(ENTERPRISE_URN, {}).pop(path.removeprefix("enterprise."), None)
            if path in ("enterprise.department", "enterprise.organization"):
                rest.pop(path.removeprefix("enterprise."), None)  # Atlassian's place for them
        else:
            rest.pop(path, None)
    return {k: v for k, v in rest.items() if v != {}}


def specs_by_key(scenario: Scenario) -> dict[str, UserSpec]:
    return {scenario.fold(scenario.desired.user_key(s)): s for s in scenario.desired.users}


def live_key(scenario: Scenario, resource: Mapping[str, Any]) -> str | None:
    value = resource.get("userName" if scenario.policy.users.key == "userName" else "externalId")
    return None if value is None else scenario.fold(value)


# --- the properties ----------------------------------------------------------------


@PROPERTY
@given(scenario=scenarios())
def test_applying_the_desired_state_to_an_empty_directory_then_planning_again_is_empty(
    scenario: Scenario,
) -> None:
    """Equal states give no actions: what the plan built is exactly what the files say."""
    empty = Scenario(scenario.desired, DirectoryModel(), scenario.context)
    apply_plan(empty.model, empty.plan())
    assert empty.plan().actions == ()


@PROPERTY
@given(scenario=scenarios())
def test_the_compact_snapshot_a_read_makes_plans_as_the_plain_one(scenario: Scenario) -> None:
    """Users kept compact with only the paths the files manage (``live_compact``,
    ``pipeline.kept_paths``) plan exactly as the plain users of ``live`` do."""
    keep = kept_paths(scenario.desired)
    compact = scenario.plan(scenario.model.snapshot(keep))
    assert compact.to_dict() == scenario.plan(scenario.model.snapshot(plain=True)).to_dict()


@PROPERTY
@given(scenario=scenarios())
def test_applying_a_plan_converges(scenario: Scenario) -> None:
    """After applying a plan, planning again against the result gives no actions; or, when
    the plan said an account waits for an email another account gives up in the same
    plan (docs/identity.md rule 4: two steps, never a 409 halfway), after a second."""
    first = scenario.plan()
    apply_plan(scenario.model, first)
    waits = any("until that is resolved" in w.message for w in first.warnings)
    if waits and scenario.plan().actions:
        apply_plan(scenario.model, scenario.plan())
    assert scenario.plan().actions == ()


@PROPERTY
@given(scenario=scenarios())
def test_objects_outside_scope_and_protected_objects_are_never_touched(
    scenario: Scenario,
) -> None:
    """No action names a hands-off user or group, and applying leaves them as they were."""
    model, policy = scenario.model, scenario.policy
    hands_off_keys = hands_off_user_keys(scenario)
    frozen_users = {
        uid: copy.deepcopy(u)
        for uid, u in model.users.items()
        if user_hands_off(policy, u["userName"])
    }
    frozen_groups = {
        gid: copy.deepcopy(g)
        for gid, g in model.groups.items()
        if group_hands_off(policy, g["displayName"])
    }
    memberships_before = memberships(model, set(frozen_users))

    plan_ = scenario.plan()
    for action in plan_.actions:
        if action.resource is Resource.USER:
            assert scenario.fold(action.key) not in hands_off_keys, action
            assert action.id not in frozen_users, action
        else:
            assert not group_hands_off(policy, action.key), action
            assert action.id not in frozen_groups, action
    assert not {scenario.fold(k) for k in member_keys_of(plan_)} & hands_off_keys

    apply_plan(model, plan_)
    assert {uid: model.users[uid] for uid in frozen_users} == frozen_users
    assert {gid: model.groups[gid] for gid in frozen_groups} == frozen_groups
    after = memberships(model, set(frozen_users))
    survivors = memberships_before.keys() & after.keys()
    assert {g: after[g] for g in survivors} == {g: memberships_before[g] for g in survivors}


def _reordered(scenario: Scenario, rng: random.Random) -> tuple[DesiredState, LiveSnapshot]:
    def shuffled(items: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(rng.sample(items, len(items)))

    desired = scenario.desired
    users = tuple(u.model_copy(update={"groups": shuffled(u.groups)}) for u in desired.users)
    groups = tuple(g.model_copy(update={"members": shuffled(g.members)}) for g in desired.groups)
    reordered = desired.model_copy(update={"users": shuffled(users), "groups": shuffled(groups)})
    live = scenario.model.snapshot()
    return reordered, LiveSnapshot(users=shuffled(live.users), groups=shuffled(live.groups))


@PROPERTY
@given(scenario=scenarios(), rng=st.randoms(use_true_random=False))
def test_plan_json_is_deterministic_and_independent_of_input_order(
    scenario: Scenario, rng: random.Random
) -> None:
    """The JSON plan is byte-identical across runs and whatever the order of the inputs."""
    first = scenario.plan().to_json()
    assert scenario.plan().to_json() == first
    desired, live = _reordered(scenario, rng)
    assert plan(desired, live, scenario.context).to_json() == first


@PROPERTY
@given(scenario=scenarios())
def test_attributes_the_files_do_not_mention_are_never_changed(scenario: Scenario) -> None:
    """Field ownership: no change names an unmentioned attribute, and applying keeps them."""
    specs = specs_by_key(scenario)
    plan_ = scenario.plan()
    for action in plan_.actions:
        if action.resource is Resource.USER and action.action is not ActionKind.CREATE:
            spec = specs.get(scenario.fold(action.key))
            allowed = {"active"} if spec is None else managed_paths(spec)
            assert {c.path for c in action.attribute_changes} <= allowed, action

    before = copy.deepcopy(scenario.model.users)
    apply_plan(scenario.model, plan_)
    for user_id, resource in before.items():
        key = live_key(scenario, resource)
        spec = specs.get(key) if key is not None else None
        paths = {"active"} if spec is None else managed_paths(spec)
        assert unmanaged_part(scenario.model.users[user_id], paths) == unmanaged_part(
            resource, paths
        )


limit_values = st.one_of(st.integers(0, 3), st.integers(0, 100).map(lambda percent: f"{percent}%"))
limit_policies = st.builds(
    LimitsPolicy,
    max_deactivations=limit_values,
    max_group_deletions=limit_values,
    max_member_removals=limit_values,
)


def _allowed(limit: int | str, managed: int) -> int:
    if isinstance(limit, int):
        return limit
    return int(limit.removesuffix("%")) * managed // 100  # exact: integer percentages


@PROPERTY
@given(scenario=scenarios(limits=limit_policies))
def test_a_plan_is_blocked_exactly_when_a_planned_count_exceeds_its_limit(
    scenario: Scenario,
) -> None:
    """Blocked iff deactivations, group deletions or member removals exceed what is allowed;
    limits never change which actions are planned."""
    policy = scenario.policy
    live = scenario.model.snapshot()
    plan_ = scenario.plan(live)
    unlimited = scenario.desired.model_copy(
        update={"policy": policy.model_copy(update={"limits": UNLIMITED})}
    )
    assert plan(unlimited, live, scenario.context).actions == plan_.actions

    # The bases are what the plan could still change (docs/identity.md): at most the
    # in-scope, keyed live objects, fewer where identity leaves an account alone.
    bases = limit_bases(scenario.desired, live, scenario.context)
    in_scope = [
        u for u in live.users
        if not user_hands_off(policy, u.userName)
        and (policy.users.key == "userName" or u.externalId is not None)
    ]  # fmt: skip
    managed_groups = [g for g in live.groups if not group_hands_off(policy, g.displayName)]
    assert bases.active_users <= sum(u.active for u in in_scope)
    assert bases.groups <= len(managed_groups)
    assert bases.memberships <= sum(len(g.member_ids) for g in managed_groups)
    managed = {
        "max_deactivations": bases.active_users,
        "max_group_deletions": bases.groups,
        "max_member_removals": bases.memberships,
    }
    counted: dict[str, Callable[[Any], int]] = {
        "max_deactivations": lambda a: int(a.action is ActionKind.DEACTIVATE),
        "max_group_deletions": lambda a: int(a.action is ActionKind.DELETE),
        "max_member_removals": lambda a: len(a.member_change.remove) if a.member_change else 0,
    }
    expected = []
    for name, count in counted.items():
        planned = sum(count(a) for a in plan_.actions)
        allowed = _allowed(getattr(policy.limits, name), managed[name])
        if planned > allowed:
            expected.append((name, allowed, planned))
    assert [(b.limit, b.allowed, b.planned) for b in plan_.blocked] == expected
    # A saved plan held to the files' limits is blocked exactly as the plan was, with
    # nothing taken from it but its actions (apply --plan PATHS).
    assert saved_plan_blocked(plan_, scenario.desired, live, scenario.context) == plan_.blocked
    stripped = plan_.model_copy(update={"blocked": (), "access": (), "sensitive_groups": ()})
    assert saved_plan_blocked(stripped, scenario.desired, live, scenario.context) == plan_.blocked
    sensitive = scenario.desired.model_copy(
        update={
            "policy": policy.model_copy(
                update={"groups": policy.groups.model_copy(update={"sensitive": ("e*", "OPS")})}
            )
        }
    )
    guarded = plan(sensitive, live, scenario.context)
    edited = guarded.model_copy(update={"blocked": (), "access": (), "sensitive_groups": ()})
    assert saved_plan_blocked(edited, sensitive, live, scenario.context) == guarded.blocked
