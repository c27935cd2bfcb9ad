"""The SCIM schemas and the attribute paths the files manage.

The vocabulary both directions share: the schema URNs of RFC 7643 and 7644, and the
*paths* in the file's vocabulary (``displayName``, ``name.givenName``, ``emails``,
``enterprise.department``) grouped by where a SCIM user keeps them. Reading them from a
resource and comparing them is ``reconciler.attributes``; writing them back is
``reconciler.scim_bodies``.
"""

from __future__ import annotations

ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

SIMPLE_ATTRIBUTES = (
    "userName",
    "externalId",
    "displayName",
    "nickName",
    "title",
    "preferredLanguage",
    "locale",
    "timezone",
    "userType",
    "profileUrl",
)
NAME_ATTRIBUTES = (
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
)
ENTERPRISE_ATTRIBUTES = ("employeeNumber", "costCenter", "organization", "division", "department")
MULTI_VALUED = ("emails", "phoneNumbers")
# Every path the files can manage, in the order ``live_user_attributes`` lists them.
LIVE_PATHS = (
    *SIMPLE_ATTRIBUTES,
    *(f"name.{a}" for a in NAME_ATTRIBUTES),
    *(f"enterprise.{a}" for a in ENTERPRISE_ATTRIBUTES),
    *MULTI_VALUED,
)
# Atlassian also accepts department and organization at the top level of a user.
TOP_LEVEL_ENTERPRISE = ("department", "organization")
