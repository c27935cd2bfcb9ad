"""Plans and reports for the renderer tests, built directly from the plan models.

Golden files live in ``tests/render/golden/``; ``UPDATE_GOLDEN=1 pytest tests/render``
rewrites them from the current output (review the diff before committing it).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.plan import (
    AccessChange,
    Action,
    ActionKind,
    Blocked,
    Change,
    LeftAlone,
    MemberChange,
    Plan,
    PlanWarning,
    Resource,
)
from reconciler.planner.access import STATUS
from reconciler.render import render_plan_markdown
from reconciler.report import ActionResult, ApplyReport, Outcome

GOLDEN_DIR = Path(__file__).parent / "golden"

U, G = Resource.USER, Resource.GROUP
K = ActionKind


def _ordered(actions: list[Action]) -> tuple[Action, ...]:
    """Actions in the planner's order: execution phase, then key."""
    return tuple(sorted(actions, key=lambda a: (a.phase, a.key.lower(), a.key)))


def representative_plan() -> Plan:
    """One of every action kind, with warnings, a blocked limit and left-alone objects."""
    actions = [
        Action(
            resource=U,
            action=K.CREATE,
            key="alice@example.com",
            changes=(
                Change(path="displayName", after="Alice Liddell"),
                Change(path="name.givenName", after="Alice"),
                Change(
                    path="emails",
                    after=[{"value": "alice@example.com", "type": "work", "primary": True}],
                ),
            ),
        ),
        Action(
            resource=U,
            action=K.UPDATE,
            key="bob@example.com",
            id="u-2",
            fingerprint="sha256:b0b",
            changes=(
                Change(path="displayName", before="Bob", after="Robert"),
                Change(path="title", before="Engineer", after=None),
                Change(path="enterprise.department", before="R&D", after="Research"),
            ),
        ),
        Action(
            resource=U,
            action=K.REACTIVATE,
            key="carol@example.com",
            id="u-3",
            fingerprint="sha256:ca201",
            changes=(Change(path="active", before=False, after=True),),
        ),
        Action(
            resource=G,
            action=K.CREATE,
            key="engineering",
            changes=(
                Change(path="displayName", after="engineering"),
                MemberChange(add=("alice@example.com",)),
            ),
        ),
        Action(
            resource=G,
            action=K.UPDATE,
            key="platform",
            id="g-7",
            fingerprint="sha256:91a7",
            changes=(
                MemberChange(
                    add=("alice@example.com", "carol@example.com"), remove=("bob@example.com",)
                ),
            ),
        ),
        Action(
            resource=U,
            action=K.DEACTIVATE,
            key="dave@example.com",
            id="u-4",
            fingerprint="sha256:da7e",
            changes=(Change(path="active", before=True, after=False),),
        ),
        Action(resource=G, action=K.DELETE, key="old-team", id="g-9", fingerprint="sha256:01d"),
    ]
    return Plan(
        target="https://api.atlassian.com/scim/directory/abc",
        dialect="atlassian",
        actions=_ordered(actions),
        warnings=(
            PlanWarning(
                key="dave@example.com",
                message="is deactivated but stays a member of 1 group: legacy",
            ),
            PlanWarning(
                key="ops",
                message='the live group is named "Ops"; this target cannot rename groups, '
                "so the name is left as it is",
            ),
        ),
        blocked=(Blocked(limit="max_deactivations", allowed=0, planned=1),),
        left_alone=(
            LeftAlone(
                resource=G,
                reason="protected by policy.groups.protect",
                count=1,
                keys=("admins",),
            ),
            LeftAlone(
                resource=U,
                reason="not in the files (policy.users.unmanaged: ignore)",
                count=12,
                keys=tuple(f"svc-{n}@example.com" for n in range(1, 8)),
            ),
        ),
        user_ids={"bob@example.com": "u-2"},
        # As the planner's access stage finds it: erin held old-team, which is deleted.
        access=(
            AccessChange(key="alice@example.com", gains=("engineering", "platform"), status="new"),
            AccessChange(key="bob@example.com", loses=("platform",)),
            AccessChange(
                key="carol@example.com",
                gains=("platform",),
                status="regains access (reactivated)",
            ),
            AccessChange(key="dave@example.com", status="loses all access (deactivated)"),
            AccessChange(key="erin@example.com", loses=("old-team",)),
        ),
    )


def _item(value: str, type_: str = "work", *, primary: bool = False) -> dict[str, object]:
    """One item of a multi-valued attribute, in the canonical form of the planner."""
    return {"value": value, "type": type_, "primary": primary}


def identity_plan() -> Plan:
    """Adoptions (with and without reactivating), a rename and item-level email/phone changes."""
    actions = [
        Action(
            resource=U,
            action=K.ADOPT,
            key="bob@example.com",
            id="u-2",
            fingerprint="sha256:b0b",
            changes=(
                Change(path="userName", before="robert@example.com", after="bob@example.com"),
                Change(path="displayName", before="Robert", after="Bob"),
                Change(
                    path="emails",
                    before=[_item("robert@example.com", primary=True)],
                    after=[_item("bob@example.com", primary=True)],
                ),
                Change(path="active", before=False, after=True),
            ),
        ),
        Action(
            resource=U,
            action=K.ADOPT,
            key="eve@example.com",
            id="u-5",
            fingerprint="sha256:e5e",
            changes=(Change(path="externalId", before="legacy-17", after="E-1001"),),
        ),
        Action(
            resource=U,
            action=K.UPDATE,
            key="erin@example.com",
            id="u-6",
            fingerprint="sha256:e61",
            changes=(
                Change(
                    path="emails",
                    before=[
                        _item("Erin@example.com", "home", primary=True),
                        _item("erin.old@example.com"),
                    ],
                    after=[
                        _item("erin@example.com", "work", primary=True),
                        _item("erin.new@example.com"),
                    ],
                ),
                Change(
                    path="phoneNumbers",
                    before=[_item("+1 555 0100", "work", primary=True)],
                    after=[
                        _item("+1 555 0100", "mobile", primary=True),
                        _item("+1 555 0199", "work"),
                    ],
                ),
            ),
        ),
        Action(
            resource=G,
            action=K.RENAME,
            key="operations",
            id="g-3",
            fingerprint="sha256:0b5",
            changes=(
                Change(path="displayName", before="ops", after="operations"),
                # The planner removes the old group's members that the new one does not get.
                MemberChange(
                    add=("alice@example.com", "bob@example.com"), remove=("dan@example.com",)
                ),
            ),
        ),
    ]
    return Plan(
        target="https://api.atlassian.com/scim/directory/abc",
        dialect="atlassian",
        actions=_ordered(actions),
        user_ids={"alice@example.com": "u-1", "bob@example.com": "u-2", "dan@example.com": "u-4"},
        # A rename by create: the old group's holders lose it, the new group's gain it.
        access=(
            AccessChange(key="alice@example.com", gains=("operations",), loses=("ops",)),
            AccessChange(
                key="bob@example.com", gains=("operations",), status="existing account taken over"
            ),
            AccessChange(key="dan@example.com", loses=("ops",)),
            AccessChange(key="eve@example.com", status="existing account taken over"),
        ),
    )


def _plain_access(actions: list[Action]) -> tuple[AccessChange, ...]:
    """The access review of actions on groups that nest no group and whose deletes empty
    groups: gains and losses are the member changes, with each user action's status."""
    gains: dict[str, list[str]] = defaultdict(list)
    loses: dict[str, list[str]] = defaultdict(list)
    status = {a.key: STATUS[a.action] for a in actions if a.resource is U and a.action in STATUS}
    for action in actions:
        change = action.member_change
        for key in change.add if change else ():
            gains[key].append(action.key)
        for key in change.remove if change else ():
            loses[key].append(action.key)
    return tuple(
        AccessChange(
            key=key,
            gains=tuple(sorted(gains[key])),
            loses=tuple(sorted(loses[key])),
            status=status.get(key),
        )
        for key in sorted({*gains, *loses, *status})
    )


def large_plan() -> Plan:
    """5,000 actions, one of them a group gaining 20,000 members, and 300 warnings."""
    actions: list[Action] = []
    for n in range(4000):
        key = f"new{n:05d}@example.com"
        actions.append(
            Action(
                resource=U,
                action=K.CREATE,
                key=key,
                changes=(
                    Change(path="displayName", after=f"New User {n}"),
                    Change(path="emails", after=[{"value": key, "type": "work", "primary": True}]),
                ),
            )
        )
    for n in range(900):
        actions.append(
            Action(
                resource=U,
                action=K.UPDATE,
                key=f"old{n:05d}@example.com",
                id=f"u-{n}",
                changes=(Change(path="title", before="Engineer", after="Senior Engineer"),),
            )
        )
    for n in range(20):
        actions.append(
            Action(
                resource=U,
                action=K.REACTIVATE,
                key=f"back{n:02d}@example.com",
                id=f"r-{n}",
                changes=(Change(path="active", before=False, after=True),),
            )
        )
    actions.append(
        Action(
            resource=G,
            action=K.CREATE,
            key="everyone",
            changes=(
                Change(path="displayName", after="everyone"),
                MemberChange(add=tuple(f"member{n:05d}@example.com" for n in range(20_000))),
            ),
        )
    )
    for n in range(49):
        actions.append(
            Action(
                resource=G,
                action=K.UPDATE,
                key=f"team-{n:02d}",
                id=f"g-{n}",
                changes=(
                    MemberChange(
                        add=tuple(f"new{m:05d}@example.com" for m in range(10)),
                        remove=tuple(f"gone{m:02d}@example.com" for m in range(5)),
                    ),
                ),
            )
        )
    for n in range(25):
        actions.append(
            Action(
                resource=U,
                action=K.DEACTIVATE,
                key=f"leaver{n:02d}@example.com",
                id=f"l-{n}",
                changes=(Change(path="active", before=True, after=False),),
            )
        )
    for n in range(5):
        actions.append(Action(resource=G, action=K.DELETE, key=f"dead-{n}", id=f"d-{n}"))
    assert len(actions) == 5000
    return Plan(
        target="https://api.atlassian.com/scim/directory/big",
        dialect="atlassian",
        actions=_ordered(actions),
        access=_plain_access(actions),
        warnings=tuple(
            PlanWarning(key=f"w{n:03d}@example.com", message="is deactivated but stays a member")
            for n in range(300)
        ),
        blocked=(
            Blocked(limit="max_deactivations", allowed=10, planned=25),
            Blocked(limit="max_member_removals", allowed=100, planned=245),
        ),
        left_alone=(
            LeftAlone(
                resource=U,
                reason="not in the files (policy.users.unmanaged: ignore)",
                count=3000,
                keys=tuple(f"kept{n:04d}@example.com" for n in range(20)),
            ),
        ),
    )


def representative_report(*, dry_run: bool = False) -> ApplyReport:
    """An apply of the representative plan where one group update failed."""
    plan = representative_plan()
    outcomes = {
        "alice@example.com": (Outcome.APPLIED, None, "u-1", 1),
        "bob@example.com": (Outcome.APPLIED, None, None, 1),
        "carol@example.com": (Outcome.APPLIED, None, None, 2),
        "engineering": (Outcome.APPLIED, None, "g-1", 1),
        "platform": (Outcome.FAILED, "HTTP 500 from PATCH /Groups/g-7: internal error", None, 3),
        "dave@example.com": (Outcome.SKIPPED, "a membership change it depends on failed", None, 0),
        "old-team": (Outcome.APPLIED, None, None, 1),
    }
    results = []
    for action in plan.actions:
        outcome, reason, new_id, attempts = outcomes[action.key]
        results.append(
            ActionResult(
                action=action,
                outcome=outcome,
                reason=reason,
                id=new_id,
                attempts=attempts,
                duration_ms=12.345 * attempts,
            )
        )
    return ApplyReport(
        target=plan.target, digest=plan.digest, dry_run=dry_run, results=tuple(results)
    )


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare output with ``golden/NAME``, or rewrite the file when UPDATE_GOLDEN=1."""

    def check(name: str, actual: str) -> None:
        path = GOLDEN_DIR / name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.write_bytes(actual.encode("utf-8"))
            return
        assert path.exists(), f"{path} is missing; run UPDATE_GOLDEN=1 pytest tests/render"
        assert actual == path.read_bytes().decode("utf-8")

    return check


@pytest.fixture
def plan() -> Plan:
    """The representative plan."""
    return representative_plan()


@pytest.fixture
def identity() -> Plan:
    """The plan of adoptions, a rename and item-level changes."""
    return identity_plan()


@pytest.fixture(scope="session")
def big_plan() -> Plan:
    """The large plan; built once, it is frozen."""
    return large_plan()


@pytest.fixture
def report() -> ApplyReport:
    """A real apply of the representative plan, one failure, one skip."""
    return representative_report()


@pytest.fixture
def dry_run_report() -> ApplyReport:
    """The same apply, recorded instead of sent."""
    return representative_report(dry_run=True)


@pytest.fixture(scope="session")
def big_markdown(big_plan: Plan) -> str:
    """The large plan as a comment at the default limit; rendered once."""
    return render_plan_markdown(big_plan)
