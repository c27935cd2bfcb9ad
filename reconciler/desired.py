"""The desired-state file format, version 1, as pydantic models.

These models are the contract of the files people write; they are strict
(``extra="forbid"`` catches typos, ``strict`` refuses silent coercion of a number
into a string) and frozen. ``DesiredState`` is what the loader builds from any
number of files: users and groups added up, at most one ``target`` and ``policy``.

Field ownership: only attributes a file mentions are managed. pydantic records what
was mentioned in ``model_fields_set``; ``reconciler.ownership`` reads it. The value
types the models are made of are ``reconciler.fieldtypes``; the loader makes users
share what they have in common (``reconciler.desired_compact``).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.fieldtypes import Duration, Limit, check_limit
from reconciler.fieldtypes import EmailAddress as EmailAddress
from reconciler.fieldtypes import FormatVersion as FormatVersion
from reconciler.fieldtypes import parse_duration as parse_duration
from reconciler.identifiers import fold_identity


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# --- target and policy -------------------------------------------------------------


class CapsSpec(_Strict):
    """The directory's size caps, where they are not its dialect's published ones."""

    users: int | None = Field(default=None, ge=0, description="Users the directory may hold.")
    groups: int | None = Field(default=None, ge=0, description="Groups the directory may hold.")
    group_members: int | None = Field(default=None, ge=0, description="Members one group may hold.")
    memberships: int | None = Field(
        default=None, ge=0, description="Memberships all groups together may hold."
    )


class TargetSpec(_Strict):
    """Where the directory is and how to talk to it."""

    url: str | None = Field(
        default=None,
        description="SCIM base URL, or sandbox:PATH. ${VAR} expands from the environment.",
    )
    token_env: str = Field(
        default="RECONCILER_TOKEN",
        description="Name of the environment variable that holds the bearer token.",
    )
    dialect: Literal["auto", "atlassian", "generic"] = "auto"
    org_id: str | None = Field(
        default=None,
        description="Atlassian organisation id, for the Admin API (reconciler links).",
    )
    org_token_env: str = Field(
        default="RECONCILER_ORG_TOKEN",
        description="Name of the environment variable that holds the organisation API key.",
    )
    caps: CapsSpec = Field(
        default_factory=CapsSpec,
        description="Size caps the plan warns about (Atlassian: its published maxima; raised "
        "on request).",
    )
    timeout: Duration | None = Field(
        default=None,
        description="The most a run waits for the directory, its requests together: seconds, "
        'or "90s", "10m", "1h30m". --timeout overrides it. Default: no such budget; each '
        "request still has a deadline of 60s.",
    )


class LimitsPolicy(_Strict):
    """Brakes on destructive plans; a plan over a limit is refused whole."""

    max_deactivations: Limit = "10%"
    max_group_deletions: Limit = 0
    max_member_removals: Limit = "10%"
    max_adoptions: Limit = Field(
        default=0,
        description="Existing accounts taken over under another identity (policy.users.adopt).",
    )
    max_sensitive_changes: Limit = Field(
        default=0,
        description="Membership changes (adds and removes) of groups in policy.groups.sensitive.",
    )

    _check = field_validator(
        "max_deactivations",
        "max_group_deletions",
        "max_member_removals",
        "max_adoptions",
        "max_sensitive_changes",
    )(check_limit)


class UsersPolicy(_Strict):
    """What this repository owns among the live users."""

    key: Literal["userName", "externalId"] = "userName"
    unmanaged: Literal["ignore", "deactivate"] = "ignore"
    scope: tuple[str, ...] = ("*",)
    protect: tuple[str, ...] = ()
    adopt: Literal["never", "inactive", "always"] = Field(
        default="never",
        description=(
            "A file user whose userName (or, on Atlassian, email) an existing live account "
            "holds under another identity: never take it over (warn), take over only "
            "deactivated accounts, or always take it over."
        ),
    )
    email_follows_username: bool = Field(
        default=False,
        description=(
            "When a plan changes an account's userName and the files do not manage its "
            "emails, change its primary email with it (ann.archer@example.com -> "
            "ann.smith@example.com) instead of warning that it stays."
        ),
    )


class GroupsPolicy(_Strict):
    """What this repository owns among the live groups."""

    unmanaged: Literal["ignore", "delete"] = "ignore"
    members: Literal["authoritative", "additive"] = "authoritative"
    scope: tuple[str, ...] = ("*",)
    protect: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = Field(
        default=(),
        description="displayName globs of groups that grant power (admins): their "
        "membership changes are flagged and counted by max_sensitive_changes.",
    )


class Policy(_Strict):
    """Ownership, matching and safety rules for a reconcile."""

    users: UsersPolicy = UsersPolicy()
    groups: GroupsPolicy = GroupsPolicy()
    limits: LimitsPolicy = LimitsPolicy()


# --- users and groups --------------------------------------------------------------


class Name(_Strict):
    """The SCIM ``name`` complex attribute (RFC 7643 section 4.1.1)."""

    formatted: str | None = None
    familyName: str | None = None
    givenName: str | None = None
    middleName: str | None = None
    honorificPrefix: str | None = None
    honorificSuffix: str | None = None


class Email(_Strict):
    """One email address; exactly one of a user's emails should be primary."""

    value: EmailAddress = Field(min_length=3)
    type: str | None = None
    primary: bool = False


class PhoneNumber(_Strict):
    """One phone number."""

    value: str = Field(min_length=1)
    type: str | None = None
    primary: bool = False


class Enterprise(_Strict):
    """The enterprise user extension (RFC 7643 section 4.3)."""

    employeeNumber: str | None = None
    costCenter: str | None = None
    organization: str | None = None
    division: str | None = None
    department: str | None = None


class UserSpec(_Strict):
    """A user as the files want it. Attributes left out are never changed."""

    userName: str = Field(
        min_length=1, description="Required; compared in any letter case and Unicode form."
    )
    externalId: str | None = Field(
        default=None, description="Compared like userName: in any letter case and Unicode form."
    )
    active: bool = Field(default=True, description="false keeps the account, deactivated.")
    displayName: str | None = None
    nickName: str | None = None
    title: str | None = None
    preferredLanguage: str | None = None
    locale: str | None = None
    timezone: str | None = None
    userType: str | None = None
    profileUrl: str | None = None
    name: Name | None = None
    emails: tuple[Email, ...] | None = Field(
        default=None,
        description="Default on create only: the userName as the one primary work email.",
    )
    phoneNumbers: tuple[PhoneNumber, ...] | None = None
    enterprise: Enterprise | None = None
    groups: tuple[str, ...] = Field(
        default=(), description="Shorthand: also makes this user a member of these groups."
    )
    previousUserNames: tuple[str, ...] = Field(
        default=(),
        description="userNames this user had before: a live account under one is renamed.",
    )

    @field_validator("emails")
    @classmethod
    def _one_primary(cls, emails: tuple[Email, ...] | None) -> tuple[Email, ...] | None:
        if emails is not None:
            if not emails:
                # A SCIM user needs an email (Atlassian: exactly one primary); to leave a
                # user's emails to the directory, leave the key out instead.
                raise ValueError(
                    "a user needs at least one email; leave emails out to keep the directory's"
                )
            primaries = sum(1 for e in emails if e.primary)
            if primaries != 1:
                raise ValueError(f"exactly one email must be primary, found {primaries}")
        return emails


class GroupSpec(_Strict):
    """A group as the files want it; ``members`` are user keys."""

    displayName: str = Field(
        min_length=1, description="The group's key; compared in any letter case and Unicode form."
    )
    members: tuple[str, ...] = ()
    previousNames: tuple[str, ...] = Field(
        default=(),
        description="displayNames this group had before: a live group under one is renamed.",
    )


class DesiredFile(_Strict):
    """One desired-state file, format version 1."""

    version: FormatVersion
    target: TargetSpec | None = None
    policy: Policy | None = None
    users: tuple[UserSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()


class DesiredState(BaseModel):
    """Everything the files ask for, merged from every file that was loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: TargetSpec = TargetSpec()
    policy: Policy = Policy()
    users: tuple[UserSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()

    def user_key(self, user: UserSpec) -> str:
        """The value that matches this user to a live one, per ``policy.users.key``."""
        if self.policy.users.key == "externalId":
            return user.externalId or ""
        return user.userName

    def group_members(self) -> dict[str, frozenset[str]]:
        """Each group's member keys: its ``members`` plus the users that name it.

        Keys and group names are folded (``fold_identity``), as identities compare.
        """
        key_attribute = self.policy.users.key
        members: dict[str, set[str]] = {
            g.displayName: {fold_user_key(m, key_attribute) for m in g.members} for g in self.groups
        }
        by_name = {fold_identity(g.displayName): members[g.displayName] for g in self.groups}
        # A user names a group as it is written nearly always: found as written, a
        # membership needs no folding (the name's folded form is found the same).
        as_written = {**by_name, **members}
        for user in self.users:
            if user.groups:  # one lookup per membership: a directory has millions
                key = fold_user_key(self.user_key(user), key_attribute)
                for group_name in user.groups:
                    named = as_written.get(group_name)
                    if named is None:
                        named = by_name.get(fold_identity(group_name))
                    if named is not None:
                        named.add(key)
        return {name: frozenset(keys) for name, keys in members.items()}

    def fold_user_key(self, key: str) -> str:
        """A user key as keys compare (``fold_user_key``)."""
        return fold_user_key(key, self.policy.users.key)


def fold_user_key(key: str, key_attribute: str) -> str:
    """A user key as keys compare: userNames and externalIds alike, by the one rule for
    identifiers (``reconciler.identifiers.fold_identity``: width, case and Unicode
    normalisation folded). ``key_attribute`` stays for the callers that name it."""
    del key_attribute  # both keys fold alike since issue 16; see docs/identity.md
    return fold_identity(key)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one desired-state file, for editors and ``reconciler schema``."""
    schema = DesiredFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "reconciler desired state, format version 1"
    return schema


def render_schema() -> str:
    """The text of ``schemas/desired-state.schema.json``: stable, so a test can diff it."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
