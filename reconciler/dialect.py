"""What each dialect of SCIM can do, as data in one place (docs/atlassian.md).

The attribute tables name attributes in the file's vocabulary (``title``,
``name.givenName``, ``enterprise.department``). A file that manages an attribute its
target does not have is a file problem before anything is sent: on Atlassian such an
attribute is either refused or silently dropped, and a plan that sets it would never
converge.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

DialectName = Literal["atlassian", "generic"]

_NAME = frozenset(
    f"name.{a}"
    for a in ("formatted", "familyName", "givenName", "middleName", "honorificPrefix",
              "honorificSuffix")
)  # fmt: skip
_COMMON = frozenset(
    {
        "userName", "externalId", "active", "displayName", "nickName", "title",
        "preferredLanguage", "timezone", "emails", "phoneNumbers",
    }
) | _NAME  # fmt: skip
_ENTERPRISE = frozenset(
    f"enterprise.{a}"
    for a in ("employeeNumber", "costCenter", "organization", "division", "department")
)


@dataclass(frozen=True, slots=True)
class Dialect:
    """One family of servers and what the reconciler may rely on from it."""

    name: DialectName
    label: str  # how messages name the target's API
    # Group displayName cannot change: a rename is create new + move members + delete old.
    names_immutable: bool
    # Two accounts cannot share an email: a held email blocks a create.
    emails_unique: bool
    # File attribute paths this target stores (``user_attributes``).
    user_attributes: frozenset[str]
    # Enterprise attributes written at the top level of a user, not in the extension.
    top_level_enterprise: frozenset[str]
    # Requests per second when --rate is not given; None: as fast as answers come.
    default_rate: float | None
    # Globs (case-insensitive) of group names the organisation or its products use for
    # default access: a create under one may 409 or never reach the products.
    reserved_groups: tuple[str, ...] = ()

    def reserved_group(self, name: str) -> bool:
        """Whether a group name looks like one of the organisation's default groups."""
        folded = name.lower()
        return any(fnmatchcase(folded, pattern) for pattern in self.reserved_groups)

    def unsupported(self, paths: frozenset[str]) -> frozenset[str]:
        """Which of these file attribute paths the target does not have."""
        return paths - self.user_attributes


# Atlassian's user schema has no locale, userType or profileUrl, and its enterprise
# extension only organization and department, which it takes at the top level (the
# extension is read-only in its OpenAPI description). Its published rate limits are
# per organisation and not stated for SCIM; 10 requests per second stays well under
# what real directories were seen to accept (docs/atlassian.md).
ATLASSIAN = Dialect(
    name="atlassian",
    label="the Atlassian API",
    names_immutable=True,
    emails_unique=True,
    user_attributes=_COMMON | {"enterprise.organization", "enterprise.department"},
    top_level_enterprise=frozenset({"department", "organization"}),
    default_rate=10.0,
    # Default-access groups of Atlassian's products, optionally suffixed with a site.
    reserved_groups=(
        "site-admins*",
        "administrators",
        "system-administrators*",
        "trusted-users*",
        "atlassian-addons-admin*",
        "jira-admins*",
        "jira-administrators*",
        "jira-users*",
        "jira-software-*",
        "jira-core-*",
        "jira-servicemanagement-*",
        "jira-work-management-*",
        "confluence-users*",
        "confluence-admins*",
        "confluence-administrators*",
        "bitbucket-*users*",
        "opsgenie-*users*",
        "statuspage-*users*",
    ),
)

GENERIC = Dialect(
    name="generic",
    label="this SCIM server",
    names_immutable=False,
    emails_unique=False,
    user_attributes=_COMMON | {"locale", "userType", "profileUrl"} | _ENTERPRISE,
    top_level_enterprise=frozenset(),
    default_rate=None,
)


def dialect_named(name: str) -> Dialect:
    """The dialect a target resolved to."""
    return ATLASSIAN if name == "atlassian" else GENERIC
