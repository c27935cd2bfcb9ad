"""The access stage: who gains and who loses which group, however the plan does it.

Reads the planned actions and the live memberships; adds no actions. A reviewer
approves a plan for this answer, so every way to lose a group is a loss here
(docs/design.md "The access review"):

- a member removed from a group;
- every holder of a group the plan deletes;
- every holder of the old group of a rename by create (the new group is a gain);
- everyone who held a group only through a nested group the plan removes from it.

A person *holds* a group when they are a member of it or of a group nested in it, at
any depth. For each group an action touches, and each group that holds one of those
(its access changes with theirs), the holders before and after the plan are
compared. A group with no nested groups, the common case, is compared through its
action alone (what it adds and removes); only nesting needs the whole closure.

People are named by user key (``UserPlan.members``); a live person no key names is
named by userName.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.live import LiveGroup, LiveSnapshot
from reconciler.plan import AccessChange, Action, ActionKind, Holders, Resource
from reconciler.planner.identity import UserMatches
from reconciler.planner.users import UserPlan

# What happens to a person's access as a whole, by the user action that does it.
STATUS = {
    ActionKind.CREATE: "new",
    ActionKind.DEACTIVATE: "loses all access (deactivated)",
    ActionKind.REACTIVATE: "regains access (reactivated)",
    ActionKind.ADOPT: "existing account taken over",
}

Holding = dict[str, str | None]  # person -> the nested group held through (None: directly)


@dataclass(frozen=True, slots=True)
class AccessReview:
    """What the access stage found."""

    access: tuple[AccessChange, ...] = ()
    holders: tuple[Holders, ...] = ()


@dataclass(slots=True)
class _Node:
    """One group as the plan leaves it: live (an id) or new (created by the plan)."""

    name: str
    live: LiveGroup | None
    added: frozenset[str] = frozenset()  # people the plan adds directly
    removed: frozenset[str] = frozenset()  # people the plan removes directly
    removed_ids: frozenset[str] = frozenset()  # nested groups and unknown ids removed
    gone: bool = False  # deleted (or the old group of a rename by create)
    parents: list[str] = field(default_factory=list)  # node ids that nest this one


class _Directory:
    """The live groups, the plan's changes to them, and how to name a person."""

    def __init__(
        self,
        live: LiveSnapshot,
        users: UserPlan,
        matches: UserMatches,
        actions: Sequence[Action],
        flat: Collection[str],
    ) -> None:
        self.users = users
        self.matches = matches
        self.live = live
        self.nodes: dict[str, _Node] = {}
        self.by_id = {group.id: group for group in live.groups}
        for action in actions:
            if action.resource is Resource.GROUP:
                self._record(action)
        self.children = self._nesting(flat)

    def _record(self, action: Action) -> None:
        change = action.member_change
        added = frozenset(change.add if change else ())
        removed = frozenset(change.remove if change else ())
        others = frozenset(o.id for o in change.remove_other) if change else frozenset()
        live = self.by_id.get(action.id) if action.id else None
        if action.action is ActionKind.CREATE or live is None:
            self.nodes["new:" + action.key] = _Node(action.key, None, added=added)
        elif action.action is ActionKind.RENAME:
            self.nodes[live.id] = _Node(live.displayName, live, gone=True)
            self.nodes["new:" + action.key] = _Node(action.key, None, added=added)
        else:
            gone = action.action is ActionKind.DELETE
            self.nodes[live.id] = _Node(action.key, live, added, removed, others, gone)

    def _nesting(self, flat: Collection[str]) -> dict[str, frozenset[str]]:
        """Group id -> the ids of the groups nested in it (only groups that nest any);
        ``flat`` groups are known to nest none."""
        group_ids = self.by_id.keys()
        children: dict[str, frozenset[str]] = {}
        for group in self.live.groups:
            if group.id in flat:
                continue
            nested = group.member_ids & group_ids
            if nested:
                children[group.id] = frozenset(nested)
        return children

    def node(self, group_id: str) -> _Node:
        found = self.nodes.get(group_id)
        if found is None:
            group = self.by_id[group_id]
            found = self.nodes[group_id] = _Node(group.displayName, group)
        return found

    def person(self, user_id: str) -> str | None:
        """The name of a live user in the review; None when the id is no user."""
        folded = self.users.key_of_id.get(user_id)
        if folded is not None:
            return self.users.members[folded]
        user = self.live.user_by_id(user_id)
        if user is None:
            return None
        return self.matches.carry_key(user_id) or user.userName

    def direct(self, group_id: str) -> set[str]:
        """The people who are members of a live group as read."""
        return {p for p in map(self.person, self.by_id[group_id].member_ids) if p is not None}


def review_access(
    actions: Sequence[Action],
    live: LiveSnapshot,
    users: UserPlan,
    matches: UserMatches,
    is_sensitive: Callable[[str], bool],
    user_names: Mapping[str, str],
    flat: Collection[str] = frozenset(),
) -> AccessReview:
    """Every person whose access the actions change, and the sensitive groups' holders.

    ``flat``: ids of live groups known to nest no group (``GroupPlan.flat``), whose
    members need no look; the review is the same without it."""
    directory = _Directory(live, users, matches, actions, flat)
    is_sensitive = functools.cache(is_sensitive)  # a few group names, asked per person
    gains: dict[str, dict[str, str | None]] = defaultdict(dict)
    loses: dict[str, dict[str, str | None]] = defaultdict(dict)
    holders: list[Holders] = []
    for node_id in _affected(directory):
        node = directory.node(node_id)
        sensitive = is_sensitive(node.name)
        if node_id in directory.children:
            before, after = _closure(directory, node_id, False), _closure(directory, node_id, True)
            gained = {p: after[p] for p in after.keys() - before.keys()}
            lost = {p: before[p] for p in before.keys() - after.keys()}
            counts = (len(before), len(after))
        else:
            gained, lost, counts = _flat(directory, node, counted=sensitive)
        for person, via in gained.items():
            gains[person][node.name] = via
        for person, via in lost.items():
            loses[person][node.name] = via
        if (gained or lost) and sensitive:
            holders.append(Holders(group=node.name, before=counts[0], after=counts[1]))
    status = {
        a.key: STATUS[a.action]
        for a in actions
        if a.resource is Resource.USER and a.action in STATUS
    }
    people = sorted({*gains, *loses, *status}, key=_order)
    return AccessReview(
        access=tuple(
            _change(p, gains.get(p, {}), loses.get(p, {}), status, is_sensitive, user_names)
            for p in people
        ),
        holders=tuple(sorted(holders, key=lambda h: _order(h.group))),
    )


def _affected(directory: _Directory) -> list[str]:
    """The nodes the actions touch and every live group that holds one of them."""
    parents: dict[str, list[str]] = defaultdict(list)
    for parent, nested in directory.children.items():
        for child in nested:
            parents[child].append(parent)
    seen = list(directory.nodes)
    queue = [node_id for node_id in seen if node_id in parents]
    reached = set(seen)
    while queue:
        for parent in parents[queue.pop()]:
            if parent not in reached:
                reached.add(parent)
                seen.append(parent)
                queue.append(parent)
    return seen


def _flat(
    directory: _Directory, node: _Node, *, counted: bool
) -> tuple[Holding, Holding, tuple[int, int]]:
    """Gains, losses and (when ``counted``) holder counts of a group that nests no group."""
    if node.live is None:  # created: everyone added gains it
        return dict.fromkeys(node.added), {}, (0, len(node.added))
    before = 0
    if counted or node.gone:
        before = sum(1 for m in node.live.member_ids if directory.live.user_by_id(m) is not None)
    if node.gone:
        return {}, dict.fromkeys(directory.direct(node.live.id)), (before, 0)
    gained, lost = dict.fromkeys(node.added), dict.fromkeys(node.removed)
    return gained, lost, (before, before + len(gained) - len(lost))


def _closure(directory: _Directory, root: str, planned: bool) -> Holding:
    """Who holds a group, before the plan or as it leaves it, and through which nested group."""
    held: Holding = {}
    for person in _members(directory, root, planned):
        held[person] = None
    visited = {root}
    frontier = [(child, directory.node(child).name) for child in _nested(directory, root, planned)]
    frontier.sort(key=lambda item: _order(item[1]))
    while frontier:
        group_id, via = frontier.pop(0)
        if group_id in visited:
            continue
        visited.add(group_id)
        for person in _members(directory, group_id, planned):
            held.setdefault(person, via)
        frontier += [(child, via) for child in _nested(directory, group_id, planned)]
    return held


def _members(directory: _Directory, group_id: str, planned: bool) -> set[str]:
    node = directory.nodes.get(group_id)
    if node is not None and node.live is None:  # created by the plan
        return set(node.added) if planned else set()
    people = directory.direct(group_id)
    if planned and node is not None:
        if node.gone:
            return set()
        people = (people - node.removed) | node.added
    return people


def _nested(directory: _Directory, group_id: str, planned: bool) -> list[str]:
    nested = directory.children.get(group_id, frozenset())
    node = directory.nodes.get(group_id)
    if planned and node is not None:
        nested = frozenset() if node.gone else nested - node.removed_ids
    return sorted(nested)


def _change(
    person: str,
    gains: Mapping[str, str | None],
    loses: Mapping[str, str | None],
    status: Mapping[str, str],
    is_sensitive: Callable[[str], bool],
    user_names: Mapping[str, str],
) -> AccessChange:
    via = {g: v for g, v in (*gains.items(), *loses.items()) if v is not None}
    # Built without validation: every field is made here, of the right type, and a
    # group gaining 100,000 people makes 100,000 of these.
    return AccessChange.model_construct(
        key=person,
        userName=user_names.get(person),
        gains=_sorted(gains),
        loses=_sorted(loses),
        via=dict(sorted(via.items())) if via else {},
        status=status.get(person),
        sensitive=_sorted([g for g in (*gains, *loses) if is_sensitive(g)]),
    )


def _order(name: str) -> tuple[str, str]:
    return (name.lower(), name)


def _sorted(names: Iterable[str]) -> tuple[str, ...]:
    unique = set(names)
    if len(unique) <= 1:  # nearly every person gains or loses one group
        return tuple(unique)
    return tuple(sorted(unique, key=_order))
