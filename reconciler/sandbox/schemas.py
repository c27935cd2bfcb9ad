"""The sandbox's schemas: one definition drives validation, PATCH paths and discovery.

The same ``Attribute`` trees that ``/Schemas`` publishes (RFC 7643 section 7) are
what ``resources`` validates bodies against and what ``patch`` resolves paths with,
so the directory can never advertise one thing and enforce another. Attribute names
are case-insensitive (RFC 7643 section 2.1); lookups here return the canonical name.

The user schema is the Atlassian dialect (docs/atlassian.md "Users"): the RFC core
user attributes Atlassian has, plus ``department`` and ``organization`` at the top
level, the enterprise extension with only those two, and Atlassian's read-only
``urn:scim:schemas:extension:atlassian-external:1.0`` block. ``UNSUPPORTED`` names the
RFC attributes Atlassian's schema lacks; the sandbox refuses them (docs/atlassian.md
"The sandbox's organisation" says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ATLASSIAN_URN = "urn:scim:schemas:extension:atlassian-external:1.0"
LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"

# docs/atlassian.md "Listing, paging, filtering": the default and effective page is 100.
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute definition (RFC 7643 section 7), with case-insensitive lookup."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    description: str = ""
    sub_attributes: tuple[Attribute, ...] = ()
    # By lower-cased name: a bulk seed looks sub-attributes up millions of times.
    _subs: dict[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_subs", _by_name(self.sub_attributes))

    @property
    def writable(self) -> bool:
        """Whether a client may set it at all (``immutable`` only on create/replace)."""
        return self.mutability != "readOnly"

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name`` in any letter case, if there is one."""
        return self._subs.get(name.lower())

    def to_scim(self) -> dict[str, Any]:
        """The attribute as ``/Schemas`` publishes it."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.sub_attributes:
            out["subAttributes"] = [a.to_scim() for a in self.sub_attributes]
        return out


@dataclass(frozen=True, slots=True)
class Schema:
    """A schema (core or extension) and its attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]
    # An extension whose attributes are the core attributes of the same name.
    stored_in_core: bool = False
    _attributes: dict[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_attributes", _by_name(self.attributes))

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called ``name`` in any letter case, if there is one."""
        return self._attributes.get(name.lower())

    def to_scim(self, base_url: str) -> dict[str, Any]:
        """The schema resource as ``/Schemas/{urn}`` answers it."""
        return {
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_scim() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{self.id}"},
        }


def _by_name(attributes: tuple[Attribute, ...]) -> dict[str, Attribute]:
    return {a.name.lower(): a for a in attributes}


def _multi(name: str, *, value_type: str = "string", description: str = "") -> Attribute:
    """A multi-valued complex attribute with the usual value/type/primary/display."""
    return Attribute(
        name,
        "complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            Attribute("value", value_type),
            Attribute("display"),
            Attribute("type"),
            Attribute("primary", "boolean"),
        ),
    )


# externalId is a common attribute (RFC 7643 section 3.1): on every resource, in no
# schema's attribute list, owned by the client and compared case-sensitively.
EXTERNAL_ID = Attribute("externalId", case_exact=True, description="The client's identifier.")

_NAME = Attribute(
    "name",
    "complex",
    description="The components of the user's name.",
    sub_attributes=tuple(
        Attribute(n)
        for n in (
            "formatted",
            "familyName",
            "givenName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
        )
    ),
)

USER_SCHEMA = Schema(
    USER_URN,
    "User",
    "User Account",
    (
        Attribute(
            "userName",
            required=True,
            uniqueness="server",
            description="Unique, compared case-insensitively.",
        ),
        _NAME,
        *(
            Attribute(n)
            for n in ("displayName", "nickName", "title", "preferredLanguage", "timezone")
        ),
        Attribute("active", "boolean", description="Defaults to true."),
        _multi("emails", description="Exactly one primary email; it identifies the account."),
        _multi("phoneNumbers"),
        Attribute(
            "groups",
            "complex",
            multi_valued=True,
            mutability="readOnly",
            description="Computed from group memberships; change them on the group.",
            sub_attributes=(
                Attribute("value", mutability="readOnly"),
                Attribute("$ref", "reference", mutability="readOnly"),
                Attribute("display", mutability="readOnly"),
                Attribute("type", mutability="readOnly"),
            ),
        ),
        # Atlassian accepts these two at the top level as well as in the extension.
        Attribute("department"),
        Attribute("organization"),
    ),
)

# Atlassian's extension has only these two. Its OpenAPI description calls the block
# read-only, yet Atlassian's own Entra ID mapping writes department here: the
# sandbox takes them in either place and keeps one value, at the top level
# (``stored_in_core``), shown in both places on read.
ENTERPRISE_SCHEMA = Schema(
    ENTERPRISE_URN,
    "EnterpriseUser",
    "Enterprise User",
    (
        Attribute("organization", description="The same value as the top-level organization."),
        Attribute("department", description="The same value as the top-level department."),
    ),
    stored_in_core=True,
)

ATLASSIAN_SCHEMA = Schema(
    ATLASSIAN_URN,
    "AtlassianExternal",
    "The Atlassian account behind the SCIM user (read-only).",
    (Attribute("atlassianAccountId", mutability="readOnly", case_exact=True),),
)

GROUP_SCHEMA = Schema(
    GROUP_URN,
    "Group",
    "Group",
    (
        Attribute(
            "displayName",
            required=True,
            mutability="immutable",
            uniqueness="server",
            description="Unique in the organization (case-insensitive); cannot be renamed.",
        ),
        Attribute(
            "members",
            "complex",
            multi_valued=True,
            description="Users only; nested groups are not supported.",
            sub_attributes=(
                Attribute("value", mutability="immutable", case_exact=True),
                Attribute("$ref", "reference", mutability="immutable"),
                Attribute("display", mutability="readOnly"),
                Attribute("type", mutability="immutable"),
            ),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class ResourceKind:
    """A resource type: its endpoint, core schema and extensions (RFC 7643 section 6)."""

    name: str
    endpoint: str
    schema: Schema
    extensions: tuple[Schema, ...]
    _by_urn: dict[str, Schema] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_urn", {s.id.lower(): s for s in self.extensions})

    def extension(self, urn: str) -> Schema | None:
        """The extension schema with this URN in any letter case, if there is one."""
        return self._by_urn.get(urn.lower()) if urn[:4].lower() == "urn:" else None

    def attribute(self, name: str) -> Attribute | None:
        """A core attribute or ``externalId``, by name in any letter case."""
        if name.lower() == "externalid":
            return EXTERNAL_ID
        return self.schema.attribute(name)

    def to_scim(self, base_url: str) -> dict[str, Any]:
        """The resource type as ``/ResourceTypes/{name}`` answers it."""
        return {
            "schemas": [RESOURCE_TYPE_URN],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": f"{self.name} resources",
            "schema": self.schema.id,
            "schemaExtensions": [{"schema": s.id, "required": False} for s in self.extensions],
            "meta": {
                "resourceType": "ResourceType",
                "location": f"{base_url}/ResourceTypes/{self.name}",
            },
        }


# RFC 7643 user attributes that Atlassian's user schema does not have (docs/atlassian.md
# "Users"), by schema: the sandbox answers 400 to a value for any of them.
UNSUPPORTED: dict[str, tuple[str, ...]] = {
    USER_URN: ("locale", "userType", "profileUrl"),
    ENTERPRISE_URN: ("employeeNumber", "costCenter", "division", "manager"),
}


_UNSUPPORTED_FOLDED = {
    (schema_id, name.lower()): name for schema_id, names in UNSUPPORTED.items() for name in names
}


def unsupported(schema_id: str, name: str) -> str | None:
    """The canonical name of ``name`` when it is an attribute Atlassian's schema lacks."""
    return _UNSUPPORTED_FOLDED.get((schema_id, name.lower()))


USER = ResourceKind("User", "/Users", USER_SCHEMA, (ENTERPRISE_SCHEMA, ATLASSIAN_SCHEMA))
GROUP = ResourceKind("Group", "/Groups", GROUP_SCHEMA, ())
RESOURCE_KINDS = (USER, GROUP)
SCHEMAS = (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_SCHEMA, ATLASSIAN_SCHEMA)


def service_provider_config(base_url: str) -> dict[str, Any]:
    """What the sandbox supports (RFC 7643 section 5), as Atlassian publishes it.

    PATCH and filters yes (one ``eq``, at most 100 results); Bulk, sorting, ETags
    and password changes no.
    """
    return {
        "schemas": [SPC_URN],
        "documentationUri": "https://developer.atlassian.com/cloud/admin/user-provisioning/rest/",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_PAGE_SIZE},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The directory's API key as a bearer token.",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/ServiceProviderConfig",
        },
    }
