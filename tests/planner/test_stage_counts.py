"""What the groups stage counts while comparing members is what counting afresh finds.

``GroupPlan.accounts`` (each compared group's members that are manageable accounts) and
``GroupPlan.flat`` (groups known to nest none) spare the limits' bases (planner.bases)
and the access review (planner.access) a pass over every membership of a directory.
For any directory (nested groups, cycles, unknown ids) and any files and policy, the
answers made from them are the plain ones: ``plain_bases``, and the review without
``flat``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import DesiredState
from reconciler.live import LiveSnapshot
from reconciler.planner import PlanContext, _stages
from reconciler.planner.access import review_access
from reconciler.planner.bases import count_bases, is_sensitive, plain_bases
from tests.directory_model import DirectoryModel
from tests.hypothesis_profiles import examples
from tests.planner.test_access_properties import desired_states, directories
from tests.planner.test_planner_properties import Scenario, scenarios

SETTINGS = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _agree(desired: DesiredState, live: LiveSnapshot, context: PlanContext) -> None:
    staged = _stages(desired, live, context)
    users, groups = staged.users, staged.groups
    globs = desired.policy.groups.sensitive
    assert count_bases(users, groups, globs) == plain_bases(users, groups, globs)
    group_ids = {g.id for g in live.groups}
    assert all(not g.member_ids & group_ids for g in live.groups if g.id in groups.flat)
    actions = sorted((*users.actions, *groups.actions), key=lambda a: (a.phase, a.key))

    def review(flat: frozenset[str]) -> object:
        marks = lambda name: is_sensitive(name, globs)  # noqa: E731
        return review_access(actions, live, users, staged.user_matches, marks, {}, flat)

    assert review(groups.flat) == review(frozenset())


@SETTINGS
@given(
    model=directories(), desired=desired_states(), dialect=st.sampled_from(("generic", "atlassian"))
)
def test_counts_agree_on_directories_of_nested_groups_and_unknown_ids(
    model: DirectoryModel, desired: DesiredState, dialect: str
) -> None:
    """Bases and access review from the stage's counts equal the plain ones, nesting and all."""
    _agree(desired, model.snapshot(), PlanContext("m", dialect))


@SETTINGS
@given(scenario=scenarios(), globs=st.sampled_from(((), ("e*", "OPS"), ("*",))))
def test_counts_agree_under_every_policy(scenario: Scenario, globs: tuple[str, ...]) -> None:
    """Bases and access review from the stage's counts equal the plain ones under any scope,
    protection, member policy, renames and sensitive groups."""
    policy = scenario.policy
    groups = policy.groups.model_copy(update={"sensitive": globs})
    desired = scenario.desired.model_copy(
        update={"policy": policy.model_copy(update={"groups": groups})}
    )
    _agree(desired, scenario.model.snapshot(), scenario.context)
