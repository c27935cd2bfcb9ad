"""Bootstrap: today's directory as desired-state files.

``export_documents`` turns a live snapshot into format-version-1 documents that
load without problems and plan to no changes against the same directory, so a team
can start managing an existing directory without retyping it. Pure: the CLI reads
the snapshot and writes the files.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from reconciler.attributes import ENTERPRISE_ATTRIBUTES, NAME_ATTRIBUTES, SIMPLE_ATTRIBUTES
from reconciler.desired import Policy
from reconciler.files.yamlcore import resolve_scalar
from reconciler.live import LiveSnapshot, LiveUser
from reconciler.scope import left_alone_reason


def _user_document(user: LiveUser) -> dict[str, Any]:
    attrs = user.attributes
    doc: dict[str, Any] = {"userName": user.userName}
    for attr in SIMPLE_ATTRIBUTES[1:]:
        if attrs.get(attr) is not None:
            doc[attr] = attrs[attr]
    if not user.active:
        doc["active"] = False
    name = {a: attrs[f"name.{a}"] for a in NAME_ATTRIBUTES if attrs.get(f"name.{a}") is not None}
    if name:
        doc["name"] = name
    emails = attrs.get("emails")
    # The file format wants exactly one primary email; a live list without one is
    # left out (and so left unmanaged) rather than exported as an invalid file.
    if emails and sum(1 for e in emails if e["primary"]) == 1:
        doc["emails"] = [_item(e) for e in emails]
    phones = attrs.get("phoneNumbers")
    if phones:
        doc["phoneNumbers"] = [_item(p) for p in phones]
    enterprise = {
        a: attrs[f"enterprise.{a}"]
        for a in ENTERPRISE_ATTRIBUTES
        if attrs.get(f"enterprise.{a}") is not None
    }
    if enterprise:
        doc["enterprise"] = enterprise
    return doc


def _item(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"value": item["value"]}
    if item.get("type") is not None:
        out["type"] = item["type"]
    if item.get("primary"):
        out["primary"] = True
    return out


def export_documents(
    live: LiveSnapshot, policy: Policy | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(users document, groups document), sorted for stable diffs in git.

    With a ``policy``, only what it owns is exported (in scope, not protected, and,
    under ``key: externalId``, users that have one), and members are named by its
    key: the export then validates and plans to no changes under that policy.
    """
    users = sorted(
        (u for u in live.users if _owned_user(u, policy)), key=lambda u: u.userName.lower()
    )
    by_external_id = policy is not None and policy.users.key == "externalId"
    names = {u.id: (u.externalId if by_external_id else u.userName) or u.userName for u in users}
    groups = sorted(
        (g for g in live.groups if _owned_group(g.displayName, policy)),
        key=lambda g: g.displayName.lower(),
    )
    users_doc = {"version": 1, "users": [_user_document(u) for u in users]}
    groups_doc = {
        "version": 1,
        "groups": [
            {
                "displayName": g.displayName,
                "members": sorted((names[i] for i in g.member_ids if i in names), key=str.lower),
            }
            for g in groups
        ],
    }
    return users_doc, groups_doc


def _owned_user(user: LiveUser, policy: Policy | None) -> bool:
    if policy is None:
        return True
    rules = policy.users
    if policy.users.key == "externalId" and not user.externalId:
        return False
    return left_alone_reason(user.userName, rules.scope, rules.protect, "users") is None


def _owned_group(name: str, policy: Policy | None) -> bool:
    if policy is None:
        return True
    return left_alone_reason(name, policy.groups.scope, policy.groups.protect, "groups") is None


class _ExportDumper(yaml.SafeDumper):
    """PyYAML writes YAML 1.1; the loader reads YAML 1.2. Strings that 1.2 would
    read as something else (``1e5``, ``0o17``) are quoted, so an export loads."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    try:
        reads_back = resolve_scalar(None, True, value) == value
    except ValueError:
        reads_back = False
    style = None if reads_back else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExportDumper.add_representer(str, _represent_str)


def render_export(document: dict[str, Any], fmt: str) -> str:
    """One exported document as YAML or JSON text."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return str(
        yaml.dump(document, Dumper=_ExportDumper, sort_keys=False, allow_unicode=True, width=100)
    )
