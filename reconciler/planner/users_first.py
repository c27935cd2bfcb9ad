"""The users half of a plan, made as soon as the users are read.

A plan's users stages (``match_users`` and ``plan_users``) read the files, the live
users and the context, and nothing of the groups; they are most of a plan's work.
A read lists the users first and the groups after (a tenth of the pages, the
slowest ones), so ``stage_users`` can run while the groups are still read, and
``plan`` (``users_first=``) takes its result instead of working it out again.

What it was made from travels with it, and ``plan`` takes it only when it was made
from these very files and live users (the same objects) and an equal context;
otherwise it is worked out again. Given or not, the plan is the same
(``tests/planner/test_users_first.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.desired import DesiredState
from reconciler.live import LiveUser
from reconciler.planner.context import PlanContext
from reconciler.planner.identity import UserMatches
from reconciler.planner.match_users import match_users
from reconciler.planner.users import UserPlan, plan_users


@dataclass(frozen=True, slots=True, eq=False)
class UsersStaged:
    """The users stages' results, and the inputs they were worked out from."""

    desired: DesiredState
    users: Sequence[LiveUser]
    context: PlanContext
    matches: UserMatches
    plan: UserPlan

    def made_from(
        self, desired: DesiredState, users: Sequence[LiveUser], context: PlanContext
    ) -> bool:
        """Whether these are the inputs it was made from: the same files and live users,
        an equal context."""
        return self.desired is desired and self.users is users and self.context == context


def stage_users(
    desired: DesiredState, users: Sequence[LiveUser], context: PlanContext
) -> UsersStaged:
    """Match every file user and live user, and decide the user actions."""
    policy = desired.policy
    matches = match_users(
        desired.users, users, policy.users.key, emails_unique=context.emails_unique
    )
    return UsersStaged(desired, users, context, matches, plan_users(matches, policy.users, context))
