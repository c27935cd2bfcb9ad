"""What each dialect of SCIM can do, as data in one place (docs/atlassian.md).

The attribute tables name attributes in the file's vocabulary (``title``,
``name.givenName``, ``enterprise.department``). A file that manages an attribute its
target does not have is a file problem before anything is sent: on Atlassian such an
attribute is either refused or silently dropped, and a plan that sets it would never
converge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Literal

from reconciler.identifiers import fold_identity

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
class DirectoryCaps:
    """How many users, groups and memberships (all groups' together) a directory, and
    members a group, may hold (None: no cap)."""

    users: int | None = None
    groups: int | None = None
    group_members: int | None = None
    memberships: int | None = None

    def overridden(self, **caps: int | None) -> DirectoryCaps:
        """These caps with those given (not None) in their place."""
        return replace(self, **{name: cap for name, cap in caps.items() if cap is not None})


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
    # Resources per listing page: fixed by the API, or (None) what discovery announces.
    page_size: int | None = None
    # Writes carry If-Match with the object's ETag: only where discovery announces them.
    etags: bool = False
    # The organisation's Admin API for SCIM links exists beside the directory.
    org_admin: bool = False
    # File attribute paths that reach the user's account in the organisation (Atlassian:
    # a change of one on an unmanaged account unlinks it); a primary email change too.
    account_attributes: frozenset[str] = frozenset()
    # The directory's published size caps; the files' target.caps may set others.
    caps: DirectoryCaps | None = None
    # User attributes a listing asks the server to leave out (``excludedAttributes``,
    # which only some servers honour): ``groups`` is read from the groups listing, and
    # costs the server a lookup and the read a third of every page.
    users_listed_without: tuple[str, ...] = ()
    # Wording that differs by dialect; messages take it from here and nowhere else.
    # What changing an account's email risks beyond being found by it (None: nothing).
    email_change_risk: str | None = None
    # Why an email that stays while its userName changes matters, if it does.
    email_role: str | None = None
    # What a 409 on a group create most likely means ({name}: the group's), and on a
    # user write that sets a primary email ({email}); None: nothing more is known.
    group_conflict: str | None = None
    email_conflict: str | None = None
    # Why a group named like one of ``reserved_groups`` is a risk.
    reserved_group_risk: str = ""

    def with_discovery(self, config: Mapping[str, object]) -> Dialect:
        """This dialect as one server's /ServiceProviderConfig (RFC 7643 section 5) sets it.

        Atlassian's page size is 100 and it has no ETags, whatever it announces; a
        generic server pages by its ``filter.maxResults`` (capped at 1000; 100 when it
        announces none) and gets If-Match when it announces ETags.
        """
        if self.page_size is not None:
            return self
        return replace(
            self, page_size=_announced_page_size(config), etags=_supported(config, "etag")
        )

    def reserved_group(self, name: str) -> bool:
        """Whether a group name looks like one of the organisation's default groups."""
        folded = fold_identity(name)
        return any(fnmatchcase(folded, pattern) for pattern in self.reserved_groups)

    def identity_change_warning(self, path: str) -> str:
        """The warning for a change of an existing account's ``userName`` or ``emails``."""
        what = "userName" if path == "userName" else "email"
        if what == "email" and self.email_change_risk is not None:
            return f"changes the email of an existing account: {self.email_change_risk}"
        return (
            f"changes the {what} of an existing account: whatever finds this person by the "
            f"old {what} will not find it"
        )

    def conflict_hint(self, *, group: str | None = None, email: str | None = None) -> str:
        """What a 409 most likely means, to add to its message: for a create or rename
        of the group ``group``, or a user write whose primary email is ``email``."""
        if group is not None and self.group_conflict is not None:
            return "; " + self.group_conflict.format(name=group)
        if email is not None and self.email_conflict is not None:
            return "; " + self.email_conflict.format(email=email)
        return ""

    def unsupported(self, paths: frozenset[str]) -> frozenset[str]:
        """Which of these file attribute paths the target does not have."""
        return paths - self.user_attributes


# support.atlassian.com/provisioning-users/docs/users-and-groups-limits, "Unsupported
# limits for user directory" (maximum users, groups, users per group, total group
# memberships); the 2023 API reference said 150,000 users and 35,000 per group
# (docs/atlassian.md "Size caps").
ATLASSIAN_CAPS = DirectoryCaps(
    users=1_000_000, groups=250_000, group_members=290_000, memberships=8_000_000
)

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
    page_size=100,
    org_admin=True,
    users_listed_without=("groups",),
    # Support KB "Email address change via User Provisioning is not reflected on
    # Atlassian": display name (first and last name), email, organization, job title,
    # timezone, department, preferred language.
    account_attributes=frozenset(
        {"displayName", "title", "timezone", "preferredLanguage", "emails"}
        | {"enterprise.department", "enterprise.organization"}
        | _NAME
    ),
    caps=ATLASSIAN_CAPS,
    email_change_risk=(
        "Atlassian will unlink the account and drop it from its groups if the new email "
        "is outside the organisation's verified domains"
    ),
    email_role="on Atlassian the email is how the account is found and linked",
    group_conflict=(
        "group names are unique across the Atlassian organisation: another directory or "
        "the organisation itself holds the name {name}"
    ),
    email_conflict=(
        "the email {email} likely belongs to an Atlassian account linked to a SCIM user of "
        "another directory: see `reconciler links {email}`, and detach a stale link with "
        "`reconciler links unlink`"
    ),
    reserved_group_risk=(
        "is named like a default-access or built-in group of Atlassian's products: "
        "Atlassian will answer its create with success and never sync the group to its "
        "products, so its members will get no access through it; choose another name"
    ),
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
    """The dialect of this name (as a plan records it)."""
    return ATLASSIAN if name == "atlassian" else GENERIC


def detect(hostname: str, path: str, *, loopback: bool, declared: str = "auto") -> DialectName:
    """The name of a target's dialect: as declared, or from Atlassian's URL layout.

    ``/scim/directory/{id}`` on api.atlassian.com is Atlassian; so is the sandbox
    served by ``reconciler sandbox serve`` on a loopback host, which speaks it.
    """
    if declared != "auto":
        return dialect_named(declared).name
    atlassian = "/scim/directory/" in path and (hostname == "api.atlassian.com" or loopback)
    return "atlassian" if atlassian else "generic"


MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


def _announced_page_size(config: Mapping[str, object]) -> int:
    filter_ = config.get("filter")
    if isinstance(filter_, Mapping):
        max_results = filter_.get("maxResults")
        if isinstance(max_results, int) and not isinstance(max_results, bool) and max_results > 0:
            return min(max_results, MAX_PAGE_SIZE)
    return DEFAULT_PAGE_SIZE


def _supported(config: Mapping[str, object], feature: str) -> bool:
    """Whether /ServiceProviderConfig says ``feature.supported``."""
    section = config.get(feature)
    return isinstance(section, Mapping) and section.get("supported") is True
