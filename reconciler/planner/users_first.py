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

from collections.abc import Mapping, Sequence
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
    # Each group's member keys, as ``desired.group_members()`` gives them (the files alone).
    group_members: Mapping[str, frozenset[str]]

    def made_from(
        self, desired: DesiredState, users: Sequence[LiveUser], context: PlanContext
    ) -> bool:
        """Whether these are the inputs it was made from: the same files and live users,
        an equal context."""
        return self.desired is desired and self.users is users and self.context == context


def stage_users(
    desired: DesiredState,
    users: Sequence[LiveUser],
    context: PlanContext,
    group_members: Mapping[str, frozenset[str]] | None = None,
) -> UsersStaged:
    """Match every file user and live user, and decide the user actions; the groups'
    member keys too (``group_members``: ``desired.group_members()``, when worked out
    already, before the users were read)."""
    policy = desired.policy
    matches = match_users(
        desired.users, users, policy.users.key, emails_unique=context.emails_unique
    )
    decided = plan_users(matches, policy.users, context)
    members = desired.group_members() if group_members is None else group_members
    return UsersStaged(desired, users, context, matches, decided, members)
