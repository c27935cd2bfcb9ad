"""The identity stage for groups: every file group and live group, matched once.

By displayName (folded, as identities compare), then by ``previousNames`` among the live groups
no file group has by name. On a target that renames by create + delete, a live group
under a previous name of a group that exists is what an interrupted rename left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from reconciler.desired import GroupSpec
from reconciler.identifiers import fold_identity
from reconciler.live import LiveGroup
from reconciler.planner.identity import (
    FileGroupMatch,
    GroupMatches,
    Identity,
    LiveGroupMatch,
)


def match_groups(
    specs: Sequence[GroupSpec], live: Sequence[LiveGroup], *, renames_by_create: bool
) -> GroupMatches:
    """Decide the identity of every file group and every live group.

    ``renames_by_create``: the target cannot rename (Atlassian), so a live group under
    a previous name of a group that already exists is a rename left half done.
    """
    folded = [(fold_identity(g.displayName), g) for g in live]  # each name folded once
    by_name: dict[str, list[LiveGroup]] = defaultdict(list)
    for name, group in folded:
        by_name[name].append(group)
    ambiguous = {g.id for groups in by_name.values() if len(groups) > 1 for g in groups}
    fold_of = {s.displayName: fold_identity(s.displayName) for s in specs}
    ordered = sorted(specs, key=lambda s: (fold_of[s.displayName], s.displayName))
    by_key = {s.displayName: _by_name(s, by_name.get(fold_of[s.displayName], [])) for s in ordered}
    claimed = {m.group.id for m in by_key.values() if m.group is not None}
    renamed, wanted_by = _previous_names(ordered, by_name, claimed, ambiguous)
    leftovers: set[str] = set()
    for spec in ordered:
        olds = [g for g in renamed.get(spec.displayName, []) if g.id not in ambiguous]
        match = by_key[spec.displayName]
        if match.identity is Identity.UNMATCHED and len(olds) == 1:
            by_key[spec.displayName] = FileGroupMatch(spec, Identity.RENAMED, olds[0])
        elif match.identity is Identity.UNMATCHED and olds:
            ambiguous.update(g.id for g in olds)
            by_key[spec.displayName] = FileGroupMatch(spec, Identity.AMBIGUOUS)
        elif match.identity is Identity.MATCHED and olds and renames_by_create:
            by_key[spec.displayName] = FileGroupMatch(
                spec, match.identity, match.group, tuple(olds)
            )
            leftovers.update(g.id for g in olds)
    files = tuple(by_key[s.displayName] for s in ordered)
    return GroupMatches(
        files=files, live=_live_side(folded, files, ambiguous, leftovers, wanted_by)
    )


def _by_name(spec: GroupSpec, found: list[LiveGroup]) -> FileGroupMatch:
    if len(found) > 1:
        return FileGroupMatch(spec, Identity.AMBIGUOUS)
    if found:
        return FileGroupMatch(spec, Identity.MATCHED, found[0])
    return FileGroupMatch(spec, Identity.UNMATCHED)


def _previous_names(
    specs: Sequence[GroupSpec],
    by_name: dict[str, list[LiveGroup]],
    claimed: set[str],
    ambiguous: set[str],
) -> tuple[dict[str, list[LiveGroup]], dict[str, str]]:
    """Unclaimed live groups under a previous name: by the file group that names them.

    Also returns, for every such live group, the (first) file group that wants it. A
    live group two file groups name is ambiguous and given to neither.
    """
    naming: dict[str, set[str]] = defaultdict(set)
    groups: dict[str, LiveGroup] = {}
    for spec in specs:
        for name in spec.previousNames:
            for group in by_name.get(fold_identity(name), []):
                if group.id not in claimed and group.id not in ambiguous:
                    naming[group.id].add(spec.displayName)
                    groups[group.id] = group
    renamed: dict[str, list[LiveGroup]] = defaultdict(list)
    for group_id in sorted(naming):
        names = naming[group_id]
        if len(names) == 1:
            renamed[min(names)].append(groups[group_id])
        else:
            ambiguous.add(group_id)
    return renamed, {group_id: min(names) for group_id, names in naming.items()}


def _live_side(
    live: Sequence[tuple[str, LiveGroup]],
    files: Sequence[FileGroupMatch],
    ambiguous: set[str],
    leftovers: set[str],
    wanted_by: dict[str, str],
) -> tuple[LiveGroupMatch, ...]:
    owner = {m.group.id: m for m in files if m.group is not None}
    result: list[LiveGroupMatch] = []
    for _, group in sorted(live, key=lambda pair: (pair[0], pair[1].id)):
        claim = owner.get(group.id)
        if claim is not None:
            result.append(LiveGroupMatch(group, claim.identity, claim.spec.displayName))
        elif group.id in ambiguous:
            result.append(LiveGroupMatch(group, Identity.AMBIGUOUS, wanted_by.get(group.id)))
        elif group.id in leftovers:
            result.append(LiveGroupMatch(group, Identity.RENAMED, wanted_by[group.id]))
        elif group.id in wanted_by:
            result.append(LiveGroupMatch(group, Identity.COLLIDES, wanted_by[group.id]))
        else:
            result.append(LiveGroupMatch(group, Identity.UNMATCHED))
    return tuple(result)
