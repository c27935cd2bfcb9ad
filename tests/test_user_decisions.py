"""The users stage's fold: decisions, in order, gathered into one UserPlan."""

from __future__ import annotations

from reconciler.live import LiveUser
from reconciler.plan import Resource
from reconciler.planner.user_decisions import NOTHING, Decision, FileUsersDecided, fold, warning

ANN = LiveUser.from_scim({"id": "u1", "userName": "Ann@example.com", "active": True, "schemas": []})


def test_fold_keeps_the_order_of_decisions_and_warns_each_shared_key_once_last() -> None:
    """Warnings come in decision order; a key several live users share is warned about
    once, by its least spelling, after every other warning."""
    plan = fold(
        [
            Decision((warning("b", "first"),)),
            Decision(shared_key=("x@example.com", "X@example.com")),
            NOTHING,
            Decision(
                (warning("a", "second"),), manages=("Ann@example.com", "ann@example.com", ANN)
            ),
            Decision(shared_key=("x@example.com", "x@example.com")),
        ]
    )
    assert [(w.key, w.message) for w in plan.warnings] == [
        ("b", "first"),
        ("a", "second"),
        ("X@example.com", "several live users share this key; they are left alone"),
    ]
    assert plan.members == {"ann@example.com": "Ann@example.com"}
    assert (plan.key_of_id, plan.ids, plan.managed) == (
        {"u1": "ann@example.com"},
        {"Ann@example.com": "u1"},
        (ANN,),
    )


def test_the_file_users_summary_names_what_their_decisions_settled() -> None:
    """The live users' pass sees which accounts the file users settled, named and manage."""
    left = (Resource.USER, "held", "bob")
    decided = FileUsersDecided.of(
        [
            Decision(left_alone=left, settles="u2", names="u3"),
            Decision(manages=("Ann@example.com", "ann@example.com", ANN)),
            Decision(manages=("new", "new", None)),
        ]
    )
    assert decided == FileUsersDecided(frozenset({"u2"}), frozenset({"u3"}), frozenset({"u1"}))
