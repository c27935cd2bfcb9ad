"""The users half made before the groups are read (``planner.users_first``): the plan is
the same with it as without, and a half made from other inputs is never taken."""

from __future__ import annotations

from hypothesis import given

from reconciler.live import LiveSnapshot
from reconciler.planner import PlanContext, plan, stage_users
from tests.planner.test_planner_properties import PROPERTY, Scenario, scenarios


@PROPERTY
@given(scenarios())
def test_a_plan_with_its_users_half_made_first_is_the_plan(scenario: Scenario) -> None:
    """Made from the same files, live users and context, the users half changes nothing
    of the plan: actions, warnings, access review and digest."""
    live = scenario.model.snapshot()
    reference = plan(scenario.desired, live, scenario.context)
    first = stage_users(scenario.desired, live.users, scenario.context)
    assert first.made_from(scenario.desired, live.users, scenario.context)
    staged = plan(scenario.desired, live, scenario.context, users_first=first)
    assert staged.to_dict() == reference.to_dict()
    assert staged.digest == reference.digest


@PROPERTY
@given(scenarios())
def test_a_users_half_made_from_other_inputs_is_not_taken(scenario: Scenario) -> None:
    """A users half made from other live users (an earlier read), other files or another
    context is worked out again: the plan is the one made without it."""
    live = scenario.model.snapshot()
    reference = plan(scenario.desired, live, scenario.context).to_dict()
    other_context = PlanContext("elsewhere:", scenario.context.dialect)
    stale = [
        stage_users(scenario.desired.model_copy(), live.users, scenario.context),
        stage_users(scenario.desired, live.users, other_context),
    ]
    if live.users:  # (an empty tuple is the one empty tuple: the same read)
        stale.append(stage_users(scenario.desired, (), scenario.context))
        stale.append(stage_users(scenario.desired, [*live.users], scenario.context))
    for first in stale:
        assert not first.made_from(scenario.desired, live.users, scenario.context)
        assert plan(scenario.desired, live, scenario.context, users_first=first).to_dict() == (
            reference
        )


def test_no_live_users_made_first_does_not_stand_for_a_directory_with_some() -> None:
    """The one case where a stale half would show: made from an empty read, it would
    deactivate nobody; not taken, the plan deactivates the unmanaged account."""
    from reconciler.desired import DesiredState, Policy, UsersPolicy
    from reconciler.live import PlainUser

    desired = DesiredState(policy=Policy(users=UsersPolicy(unmanaged="deactivate")))
    live = LiveSnapshot(users=(PlainUser.from_scim({"id": "1", "userName": "gone@example.com"}),))
    context = PlanContext("model:", "generic")
    empty = stage_users(desired, (), context)
    planned = plan(desired, live, context, users_first=empty)
    assert [(a.action, a.key) for a in planned.actions] == [("deactivate", "gone@example.com")]
