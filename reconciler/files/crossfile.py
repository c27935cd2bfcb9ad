"""Checks that need every desired-state file at once.

Each file can be valid on its own and the set still be wrong: a user listed in two
files (or twice under names that fold alike: ``reconciler.identifiers``), a group
member nobody declares, two files that both set ``policy``. Each identifier an entry
declares is also checked for characters nobody can see (``characters``). These
checks read the raw parsed data rather than the validated models, so that one
file with a typo does not hide (or fake) problems in the others: a user declared
in a file that fails validation still counts as declared when another file's
group names it. Names are quoted as ``excerpt``s, like anything else from a file.
A place (``file:line:column``) is looked up only when a problem names it: finding
positions can mean reading a file again (``sourcemap``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from reconciler.files.characters import (
    GROUP_IDENTIFIERS,
    USER_IDENTIFIERS,
    all_plain,
    check_characters,
)
from reconciler.files.sourcemap import NodePath, ParsedDocument, excerpt
from reconciler.identifiers import fold_identity
from reconciler.scope import in_scope


def check_across_files(documents: Sequence[ParsedDocument], *, all_read: bool) -> None:
    """Add to each document the problems that come from combining all of them.

    Only complete documents whose top level is a mapping take part; the others
    already carry the problem that explains why. Unless ``all_read`` (every file
    was found and parsed), references are not checked: the user or group that
    seems unknown may well be declared in the file that could not be read.
    """
    docs = [d for d in documents if d.complete and isinstance(d.data, dict)]
    _once_only(docs, "target")
    _once_only(docs, "policy")
    by_external_id = _policy_user_key(docs) == "externalId"
    user_keys = _users(docs, by_external_id)
    group_names = _groups(docs)
    if all_read and len(docs) == len(documents):
        _check_references(docs, by_external_id, user_keys, group_names)
    _check_scope(docs)
    _check_previous_names(docs, "users", "userName", "previousUserNames")
    _check_previous_names(docs, "groups", "displayName", "previousNames")


def _policy_scope(docs: Sequence[ParsedDocument], section: str) -> tuple[str, ...] | None:
    """``policy.<section>.scope`` of the file that sets it, when it is a list of strings."""
    for doc in docs:
        policy = doc.data.get("policy")
        rules = policy.get(section) if isinstance(policy, dict) else None
        scope = rules.get("scope") if isinstance(rules, dict) else None
        if isinstance(scope, tuple) and all(isinstance(p, str) for p in scope):
            return tuple(scope)
    return None


def _check_scope(docs: Sequence[ParsedDocument]) -> None:
    """Report users and groups the files list but their own scope puts out of reach.

    Such an entry would never be created or changed: almost always a typo in the
    name or in the scope, and a plan would otherwise look clean while ignoring it.
    """
    for section, attribute in (("users", "userName"), ("groups", "displayName")):
        scope = _policy_scope(docs, section)
        if scope is None:
            continue
        for doc, path, entry in _entries(docs, section):
            name = entry.get(attribute)
            if isinstance(name, str) and not in_scope(name, scope):
                doc.add_problem(
                    doc.position((*path, attribute)),
                    (*path, attribute),
                    f'"{excerpt(name)}" is outside policy.{section}.scope '
                    f"{[excerpt(pattern) for pattern in scope]}, so it would "
                    "never be created or changed; fix the name or widen the scope",
                )


def _check_previous_names(
    docs: Sequence[ParsedDocument], section: str, attribute: str, previous: str
) -> None:
    """A previous name must name one old object: not a current name, not listed twice.

    Otherwise the planner could not tell which entry a live object under that name is
    (docs/identity.md), and a rename would take over the other entry's object.
    """
    if not any(entry.get(previous) for _, _, entry in _entries(docs, section)):
        return  # the usual case: nobody was renamed, and nothing need be indexed
    what = section.removesuffix("s")
    current: dict[str, tuple[ParsedDocument, NodePath, int]] = {}
    for index, (doc, path, entry) in enumerate(_entries(docs, section)):
        name = entry.get(attribute)
        if isinstance(name, str):
            current.setdefault(fold_identity(name), (doc, (*path, attribute), index))
    seen: dict[str, tuple[ParsedDocument, NodePath]] = {}
    for index, (doc, path, entry) in enumerate(_entries(docs, section)):
        for j, name in enumerate(_list(entry.get(previous))):
            if not isinstance(name, str):
                continue
            at = (*path, previous, j)
            folded = fold_identity(name)
            holder = current.get(folded)
            if holder is not None and holder[2] != index:
                message = (
                    f'"{excerpt(name)}" is the {attribute} of another {what} '
                    f"(at {_place(holder[0], holder[1])}); "
                    f"it cannot also be a previous name of this {what}"
                )
                doc.add_problem(doc.position(at), at, message)
            elif folded in seen:
                message = (
                    f'"{excerpt(name)}" is listed as a previous name twice: '
                    f"also at {_place(*seen[folded])}"
                )
                doc.add_problem(doc.position(at), at, message)
            else:
                seen[folded] = (doc, at)


def _check_references(
    docs: Sequence[ParsedDocument], by_external_id: bool, users: _Known, groups: _Known
) -> None:
    """Report group members that name no user, and user groups that name no group."""
    what = "externalId" if by_external_id else "userName"
    for doc, path, group in _entries(docs, "groups"):
        members = _list(group.get("members"))
        if _all_in(users, members):
            continue
        for j, member in enumerate(members):
            if isinstance(member, str) and fold_identity(member) not in users.folded:
                doc.add_problem(
                    doc.position((*path, "members", j)),
                    (*path, "members", j),
                    f'unknown member "{excerpt(member)}": no user in the files has this {what}',
                )
    for doc, path, user in _entries(docs, "users"):
        names = _list(user.get("groups"))
        if _all_in(groups, names):
            continue
        for j, name in enumerate(names):
            if isinstance(name, str) and fold_identity(name) not in groups.folded:
                close = difflib.get_close_matches(fold_identity(name), sorted(groups.folded), n=1)
                hint = f' (did you mean "{excerpt(close[0])}"?)' if close else ""
                doc.add_problem(
                    doc.position((*path, "groups", j)),
                    (*path, "groups", j),
                    f'unknown group "{excerpt(name)}": no file declares it under groups:{hint}',
                )


def _all_in(known: _Known, names: tuple[Any, ...]) -> bool:
    """Whether every one of ``names`` is text in ``known`` once folded: the common
    case, checked at once (as spelled first, folding none); else each name is looked
    at for the problem."""
    try:
        return known.spelled.issuperset(names) or known.folded.issuperset(map(fold_identity, names))
    except (TypeError, AttributeError):  # a name that is not text: validation reports it
        return False


def _once_only(docs: Sequence[ParsedDocument], section: str) -> None:
    first: ParsedDocument | None = None
    for doc in docs:
        if section not in doc.data:
            continue
        if first is None:
            first = doc
            continue
        place = _place(first, (section,), at_key=True)
        doc.add_problem(
            doc.key_position((section,)),
            (section,),
            f"{section} is already set at {place}; {section} may appear in one file only",
        )


def _policy_user_key(docs: Sequence[ParsedDocument]) -> str:
    """The ``policy.users.key`` of the (first) file that sets one; else userName."""
    for doc in docs:
        policy = doc.data.get("policy")
        users = policy.get("users") if isinstance(policy, dict) else None
        if isinstance(users, dict):
            return str(users.get("key", "userName"))
    return "userName"


def _users(docs: Sequence[ParsedDocument], by_external_id: bool) -> _Known:
    """Report users listed twice and identifiers nobody can see; return every user key
    (folded as members compare them, and as spelled)."""
    entries = list(_entries(docs, "users"))
    if not all_plain([user for _, _, user in entries], USER_IDENTIFIERS):
        for doc, path, user in entries:
            check_characters(doc, path, user, USER_IDENTIFIERS)
    why = "userNames compare in any letter case and Unicode form"
    names = _listed(entries, "userName", _Listings("user", why), empty=True)
    if not by_external_id:
        return names
    for doc, path, user in entries:
        if user.get("externalId") in (None, ""):
            doc.add_problem(
                doc.position(path),
                path,
                "missing externalId: policy.users.key is externalId, so every user needs one",
            )
    listings = _Listings("externalId", "policy.users.key is externalId")
    return _listed(entries, "externalId", listings, empty=False)


def _groups(docs: Sequence[ParsedDocument]) -> _Known:
    """Report groups listed twice and names nobody can see; return every displayName
    (folded, and as spelled)."""
    entries = list(_entries(docs, "groups"))
    if not all_plain([group for _, _, group in entries], GROUP_IDENTIFIERS):
        for doc, path, group in entries:
            check_characters(doc, path, group, GROUP_IDENTIFIERS)
    why = "displayNames compare in any letter case and Unicode form"
    return _listed(entries, "displayName", _Listings("group", why), empty=True)


def _listed(
    entries: list[tuple[ParsedDocument, NodePath, dict[str, Any]]],
    attribute: str,
    listings: _Listings,
    *,
    empty: bool,
) -> _Known:
    """Every name given as ``attribute`` (text, and not empty unless ``empty``), folded
    and as spelled. When two fold alike, each entry is listed in turn (``_Listings``)
    to report both places; most directories have none, which one set tells."""
    spelled = [text for _, _, e in entries if isinstance(text := e.get(attribute), str)]
    if not empty:
        spelled = [text for text in spelled if text]
    folded = list(map(fold_identity, spelled))
    known = set(folded)
    if len(known) == len(folded):
        return _Known(known, set(spelled))
    for doc, path, entry in entries:
        text = entry.get(attribute)
        if isinstance(text, str) and (text or empty):
            listings.add(doc, (*path, attribute), text)
    return _Known(set(listings.first), listings.spellings)


_Listed = tuple[ParsedDocument, NodePath, str]
"""Where a name is first listed, and how it is spelled there."""


class _Known(NamedTuple):
    """The names the files declare: folded, and every spelling seen (each folds to one
    in ``folded``, so a name found as spelled is known)."""

    folded: set[str]
    spelled: set[str]


class _Listings:
    """Where each folded name is first listed; a later listing is a problem at both."""

    def __init__(self, what: str, why: str) -> None:
        self.what = what
        self.why = why
        self.first: dict[str, _Listed] = {}
        self.told: set[str] = set()  # names whose first listing already has its problem
        self.spellings: set[str] = set()

    def add(self, doc: ParsedDocument, path: NodePath, text: str) -> None:
        """Remember where ``text`` is first listed; report a later listing of it (or of
        a twin that folds alike) at both places, each naming the other."""
        key = fold_identity(text)
        self.spellings.add(text)
        first = self.first.get(key)
        if first is None:
            self.first[key] = (doc, path, text)
            return
        first_doc, first_path, first_text = first
        doc.add_problem(doc.position(path), path, self.message(text, first))
        if key not in self.told:
            self.told.add(key)
            first_doc.add_problem(
                first_doc.position(first_path),
                first_path,
                self.message(first_text, (doc, path, text)),
            )

    def message(self, text: str, other: _Listed) -> str:
        other_doc, other_path, other_text = other
        spelled = f' as "{excerpt(other_text)}"' if other_text != text else ""
        why = self.why
        if other_text.lower() != text.lower():  # more than letter case apart: show how
            why += (
                f"; here {_code_points(text, other_text)}, there {_code_points(other_text, text)}"
            )
        return (
            f'{self.what} "{excerpt(text)}" is listed twice: '
            f"also at {_place(other_doc, other_path)}{spelled} ({why})"
        )


def _code_points(text: str, other: str) -> str:
    """The code points where ``text`` differs from ``other`` (at most 6 of them): how
    two names that look the same are written apart."""
    start = 0
    while start < min(len(text), len(other)) and text[start] == other[start]:
        start += 1
    end = 0
    while end < min(len(text), len(other)) - start and text[-1 - end] == other[-1 - end]:
        end += 1
    differing = text[start : len(text) - end][:6]
    return " ".join(f"U+{ord(c):04X}" for c in differing) or "nothing"


def _entries(
    docs: Sequence[ParsedDocument], section: str
) -> Iterator[tuple[ParsedDocument, NodePath, dict[str, Any]]]:
    """Every mapping under ``section`` (users or groups) of every file, in file order."""
    for doc in docs:
        for i, entry in enumerate(_list(doc.data.get(section))):
            if isinstance(entry, dict):
                yield doc, (section, i), entry


def _list(value: object) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else ()


def _place(doc: ParsedDocument, path: NodePath, *, at_key: bool = False) -> str:
    """``file:line:column`` of a node (or of its key), for messages that name two places."""
    position = doc.key_position(path) if at_key else doc.position(path)
    return f"{doc.file}:{position[0]}:{position[1]}" if position else doc.file
