"""The directory ``scale.py`` measures: a served sandbox and desired-state files, 1% apart.

Users have the attributes a real HR export gives (userName, externalId, names, title,
department) and each is a member of three groups drawn at random (seeded, so every
run builds the same directory). The files differ from the live directory in 1% of
the users: per ten changed users, six new titles, two moves from one group to
another, one user only the files have (a create) and one only the directory has (a
deactivation, with ``unmanaged: deactivate``).

The live directory is bulk-loaded into the sandbox's SQLite file the way
``reconciler sandbox seed`` loads desired-state files (each user as a create of it
would store it, then one transaction), without writing and parsing a file first.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.attributes import user_create_body
from reconciler.desired import UserSpec
from reconciler.ownership import create_user_attributes
from reconciler.sandbox import SandboxStore
from reconciler.sandbox.bulk import BulkGroup, load_directory
from reconciler.sandbox.resources import check_user, clean_attributes
from reconciler.sandbox.schemas import USER

USERS_PER_FILE = 50_000  # well below the loader's size limits, whatever N is
POLICY = """\
version: 1
policy:
  users: {key: userName, unmanaged: deactivate, scope: ["*@example.com"]}
  groups: {unmanaged: ignore, members: authoritative}
  limits: {max_deactivations: "100%", max_group_deletions: 0, max_member_removals: "100%"}
"""


@dataclass
class Directory:
    """The users and groups on both sides, and what the plan between them must hold."""

    groups: list[str]
    live: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[str, int] = field(default_factory=dict)
    touched_groups: set[str] = field(default_factory=set)

    @property
    def memberships(self) -> int:
        return sum(len(u["groups"]) for u in self.live)

    def expected_actions(self) -> dict[str, int]:
        """(resource action) -> count, as the plan JSON must list them."""
        return {
            "user create": self.changes["new"],
            "user update": self.changes["title"],
            "user deactivate": self.changes["gone"],
            "group update": len(self.touched_groups),
        }


def _user(i: int, groups: list[str]) -> dict[str, Any]:
    return {
        "userName": f"user{i:07d}@example.com",
        "externalId": f"E{i:07d}",
        "displayName": f"User {i}",
        "name": {"givenName": "User", "familyName": f"N{i}"},
        "title": "Engineer",
        "enterprise": {"department": f"Department {i % 50}"},
        "groups": groups,
    }


def build_directory(users: int, groups: int, seed: int = 11) -> Directory:
    """Both sides of the benchmark, deterministic for a seed: ``users`` live users."""
    rng = random.Random(seed)
    names = [f"team-{j:05d}" for j in range(groups)]
    per_user = min(3, groups)
    directory = Directory(names)
    kinds = ["title"] * 6 + ["move"] * 2 + ["new", "gone"]
    changed = rng.sample(range(users), max(1, users // 100))
    kind_of = {i: kinds[n % len(kinds)] for n, i in enumerate(sorted(changed))}
    directory.changes = {k: sum(1 for v in kind_of.values() if v == k) for k in kinds}
    for i in range(users):
        user = _user(i, sorted(rng.sample(names, per_user)))
        directory.live.append(user)
        kind = kind_of.get(i)
        if kind == "gone":
            directory.touched_groups.update(user["groups"])
            continue
        if kind == "new":  # the files also list a user the directory does not have yet
            new = _user(users + i, sorted(rng.sample(names, per_user)))
            directory.files.append(new)
            directory.touched_groups.update(new["groups"])
        elif kind == "title":
            user = {**user, "title": "Senior Engineer"}
        elif kind == "move":
            old = user["groups"][0]
            moved = rng.choice([g for g in names if g not in user["groups"]] or [old])
            user = {**user, "groups": sorted([moved, *user["groups"][1:]])}
            directory.touched_groups.update({old, moved} if moved != old else set())
        directory.files.append(user)
    return directory


def seed_sandbox(db: Path, directory: Directory) -> None:
    """Bulk-load the live side into a new sandbox at ``db``."""
    index = {g: n for n, g in enumerate(directory.groups)}
    members: list[list[int]] = [[] for _ in directory.groups]
    stored = []
    for position, raw in enumerate(directory.live):
        for group in raw["groups"]:
            members[index[group]].append(position)
        spec = UserSpec.model_validate({k: v for k, v in raw.items() if k != "groups"})
        stored.append(
            check_user(clean_attributes(user_create_body(create_user_attributes(spec)), USER))
        )
    groups = [BulkGroup(name, tuple(m)) for name, m in zip(directory.groups, members, strict=True)]
    with SandboxStore(db) as store, store.transaction():
        conflicts = load_directory(store, stored, groups)
    if conflicts:
        raise SystemExit(f"could not seed the sandbox: {conflicts[:3]}")


def write_files(root: Path, directory: Directory, fmt: str) -> list[Path]:
    """The desired-state files: a policy, the groups, the users in files of 50,000."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "policy.yaml").write_text(POLICY, encoding="utf-8")
    paths = [root / "policy.yaml"]
    chunks = [
        directory.files[i : i + USERS_PER_FILE]
        for i in range(0, len(directory.files), USERS_PER_FILE)
    ]
    documents: list[tuple[str, dict[str, Any]]] = [
        ("groups", {"groups": [{"displayName": g} for g in directory.groups]}),
        *((f"users-{n:03d}", {"users": chunk}) for n, chunk in enumerate(chunks)),
    ]
    for stem, document in documents:
        path = root / f"{stem}.{fmt}"
        text = _json(document) if fmt == "json" else _yaml(document)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _json(document: dict[str, Any]) -> str:
    return json.dumps({"version": 1, **document}, indent=1) + "\n"


def _yaml(document: dict[str, Any]) -> str:
    """Block-style YAML as people write it; every value here is plain text."""
    lines = ["version: 1"]
    for key, items in document.items():
        lines.append(f"{key}:")
        for item in items:
            lines += _yaml_item(item)
    return "\n".join(lines) + "\n"


def _yaml_item(item: dict[str, Any]) -> list[str]:
    lines = []
    for n, (key, value) in enumerate(item.items()):
        lead = "  - " if n == 0 else "    "
        if isinstance(value, dict):
            inner = ", ".join(f"{k}: {v}" for k, v in value.items())
            lines.append(f"{lead}{key}: {{{inner}}}")
        elif isinstance(value, list):
            lines.append(f"{lead}{key}: [{', '.join(value)}]")
        else:
            lines.append(f"{lead}{key}: {value}")
    return lines


def count_actions(plan: dict[str, Any]) -> dict[str, int]:
    """(resource action) -> count of the actions in a plan JSON."""
    counts: dict[str, int] = {}
    for action in plan["actions"]:
        key = f"{action['resource']} {action['action']}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def check_plan(plan: dict[str, Any], directory: Directory) -> Sequence[str]:
    """How the plan differs from the one the files were built to produce (none: empty)."""
    got = count_actions(plan)
    want = {k: v for k, v in directory.expected_actions().items() if v}
    return [f"{k}: planned {got.get(k, 0)}, expected {want.get(k, 0)}" for k in {*got, *want}
            if got.get(k, 0) != want.get(k, 0)]  # fmt: skip
