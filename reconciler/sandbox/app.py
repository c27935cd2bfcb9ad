"""The sandbox as a WSGI app: SCIM 2.0 over HTTP, in Atlassian's dialect.

Routing, authentication and HTTP status codes live here; reading a request's body,
paging and projection, and the ListResponse, in ``messages``; what a valid resource is
in ``resources``, PATCH in ``patch``, filters in ``filters`` and storage in ``store``.
Every refusal is a ``ScimRequestError`` turned into one SCIM error answer in
``_dispatch``, so bad client input gets a 4xx and never a traceback. The behaviours
are those of docs/atlassian.md; the tests in ``tests/sandbox`` cite each one.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from reconciler.sandbox.admin import AdminApi
from reconciler.sandbox.faults import FaultConfig, with_faults
from reconciler.sandbox.filters import list_filter
from reconciler.sandbox.messages import json_body, list_response, paging, projected, projection
from reconciler.sandbox.patch import apply_operations, parse_patch
from reconciler.sandbox.problems import (
    SCIM_CONTENT_TYPE,
    Reply,
    ScimRequestError,
    mutability,
    respond,
    unauthorized,
)
from reconciler.sandbox.resources import (
    check_group,
    check_user,
    clean_attributes,
    project,
    render_group,
    render_user,
    split_members,
)
from reconciler.sandbox.schemas import (
    ENTERPRISE_SCHEMA,
    ENTERPRISE_URN,
    GROUP,
    GROUP_URN,
    RESOURCE_KINDS,
    SCHEMAS,
    USER,
    USER_URN,
    service_provider_config,
)
from reconciler.sandbox.store import GroupRecord, MemberOperation, SandboxStore, UserRecord

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

BASE_PATH = "/scim/directory/sandbox"
MAX_BODY_BYTES = 64 * 1024 * 1024  # a PATCH adding tens of thousands of members fits

_ROUTES = Map(
    [
        Rule(f"{BASE_PATH}/Users", endpoint="users", methods=["GET", "POST"]),
        Rule(
            f"{BASE_PATH}/Users/<rid>", endpoint="user", methods=["GET", "PUT", "PATCH", "DELETE"]
        ),
        Rule(f"{BASE_PATH}/Groups", endpoint="groups", methods=["GET", "POST"]),
        Rule(
            f"{BASE_PATH}/Groups/<rid>", endpoint="group", methods=["GET", "PUT", "PATCH", "DELETE"]
        ),
        Rule(f"{BASE_PATH}/Schemas", endpoint="schemas", methods=["GET"]),
        Rule(f"{BASE_PATH}/Schemas/<rid>", endpoint="schema", methods=["GET"]),
        Rule(f"{BASE_PATH}/ResourceTypes", endpoint="resource_types", methods=["GET"]),
        Rule(f"{BASE_PATH}/ResourceTypes/<rid>", endpoint="resource_type", methods=["GET"]),
        Rule(f"{BASE_PATH}/ServiceProviderConfig", endpoint="spc", methods=["GET"]),
    ],
    strict_slashes=False,
)


class SandboxApp:
    """The WSGI callable serving one sandbox directory under ``BASE_PATH``.

    With ``token`` set, every request needs ``Authorization: Bearer <token>``. With
    ``faults`` enabled, ``with_faults`` puts them in front (for HTTP serving; the
    in-process transport injects faults itself and passes no ``faults`` here). The
    organisation's Admin API (``admin``) is served under ``ADMIN_PREFIX`` with its
    own ``org_token``; with ``any_org_token`` any bearer token is taken instead.
    ``enterprise_read_only`` makes the enterprise extension read-only, as Atlassian's
    OpenAPI description marks it: ignored in a POST or PUT body (RFC 7644 section 3.3),
    400 ``mutability`` in a PATCH (docs/atlassian.md "Users").
    """

    def __init__(
        self,
        store: SandboxStore,
        token: str | None = None,
        faults: FaultConfig | None = None,
        *,
        org_token: str | None = None,
        any_org_token: bool = False,
        enterprise_read_only: bool = False,
    ) -> None:
        self.store = store
        self._token = token
        self._enterprise_read_only = enterprise_read_only
        self._admin = AdminApi(store, org_token, any_token=any_org_token)
        self._wsgi: WSGIApplication = self._serve
        if faults is not None and faults.enabled:
            self._wsgi = with_faults(self._serve, faults)
        self._handlers: dict[str, Callable[[Request, str, str | None], Reply]] = {
            "users": self._users,
            "user": self._user,
            "groups": self._groups,
            "group": self._group,
            "schemas": self._schemas,
            "schema": self._schema,
            "resource_types": self._resource_types,
            "resource_type": self._resource_type,
            "spc": self._spc,
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def _serve(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        return self._dispatch(request)(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if self._admin.serves(request.path):
            return self._admin.answer(request)
        if self._token is not None and not self._authorized(request):
            return unauthorized("Unauthorized: a valid bearer token is required")
        try:
            endpoint, args = _ROUTES.bind_to_environ(request.environ).match()
            base_url = request.url_root.rstrip("/") + BASE_PATH
            status, payload, headers = self._handlers[str(endpoint)](
                request, base_url, args.get("rid")
            )
        except ScimRequestError as problem:
            status, payload, headers = problem.status, problem.body(), problem.headers
        except MethodNotAllowed as exc:
            allowed = ", ".join(exc.valid_methods or ())
            refused = ScimRequestError(405, f"{request.method} is not allowed on {request.path}")
            status, payload, headers = 405, refused.body(), {"Allow": allowed}
        except NotFound:
            status, payload, headers = 404, _no_endpoint(request.path), {}
        except HTTPException as exc:
            code = exc.code or 400
            status, payload, headers = code, ScimRequestError(code, str(exc.description)).body(), {}
        return respond((status, payload, headers), SCIM_CONTENT_TYPE)

    def _authorized(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        expected = (self._token or "").encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode("utf-8", "replace"), expected
        )

    # Users -------------------------------------------------------------------

    def _users(self, request: Request, base_url: str, _: str | None) -> Reply:
        if request.method == "POST":
            attrs = check_user(clean_attributes(self._user_body(request), USER))
            record = self.store.create_user(attrs)
            resource = render_user(record, [], base_url)
            return 201, projected(request, resource), {"Location": resource["meta"]["location"]}
        start, count = paging(request)
        text = request.args.get("filter")
        where = list_filter(text, USER_URN) if text else None
        total, records = self.store.list_users(start, count, where)
        attributes, excluded = projection(request)
        # Left out anyway: not looked up (a join per page), as a real directory would not.
        wanted = project({"schemas": [], "id": "", "groups": []}, attributes, excluded)
        seqs = [r.seq for r in records] if "groups" in wanted else []
        groups: dict[int, list[tuple[str, str]]] = self.store.groups_of(seqs) if seqs else {}
        resources = [
            project(render_user(r, groups.get(r.seq, []), base_url), attributes, excluded)
            for r in records
        ]
        return 200, list_response(total, start, resources), {}

    def _user(self, request: Request, base_url: str, user_id: str | None) -> Reply:
        assert user_id is not None
        store = self.store
        if request.method == "DELETE":
            store.delete_user(user_id)
            return 204, None, {}
        if request.method == "GET":
            return (
                200,
                projected(request, self._render_user(store.get_user(user_id), base_url)),
                {},
            )
        body = self._user_body(request) if request.method == "PUT" else json_body(request)
        with store.transaction():
            old = store.get_user(user_id)  # 404 before 400: the resource must exist
            if request.method == "PUT":
                # Omitted attributes are cleared; an omitted active takes its default, true.
                attrs = clean_attributes(body, USER)
            else:
                patch = parse_patch(body, USER)
                if self._enterprise_read_only and any(
                    op.path.extension is ENTERPRISE_SCHEMA for op in patch.operations
                ):
                    raise mutability(f"{ENTERPRISE_URN} is read-only")
                attrs = clean_attributes(apply_operations(old.attributes, patch.operations), USER)
            record = store.replace_user(user_id, check_user(attrs))
            resource = self._render_user(record, base_url)
        return 200, projected(request, resource), {}

    def _user_body(self, request: Request) -> dict[str, Any]:
        """A POST or PUT body; without the enterprise extension when it is read-only."""
        body = json_body(request)
        if self._enterprise_read_only:
            body = {k: v for k, v in body.items() if k.lower() != ENTERPRISE_URN.lower()}
        return body

    def _render_user(self, record: UserRecord, base_url: str) -> dict[str, Any]:
        return render_user(record, self.store.groups_of([record.seq])[record.seq], base_url)

    # Groups ------------------------------------------------------------------

    def _groups(self, request: Request, base_url: str, _: str | None) -> Reply:
        if request.method == "POST":
            attrs = clean_attributes(json_body(request), GROUP)
            member_ids = split_members(attrs) or []
            record = self.store.create_group(check_group(attrs), member_ids)
            resource = self._render_group(record, base_url)
            return 201, resource, {"Location": resource["meta"]["location"]}
        # attributes/excludedAttributes are not honoured on groups (docs/atlassian.md).
        start, count = paging(request)
        text = request.args.get("filter")
        where = list_filter(text, GROUP_URN) if text else None
        total, records = self.store.list_groups(start, count, where)
        members = self.store.members_of([r.seq for r in records])
        resources = [render_group(r, members[r.seq], base_url) for r in records]
        return 200, list_response(total, start, resources), {}

    def _group(self, request: Request, base_url: str, group_id: str | None) -> Reply:
        assert group_id is not None
        store = self.store
        if request.method == "DELETE":
            store.delete_group(group_id)
            return 204, None, {}
        if request.method == "GET":
            return 200, self._render_group(store.get_group(group_id), base_url), {}
        body = json_body(request)
        with store.transaction():
            old = store.get_group(group_id)
            if request.method == "PUT":
                attrs = clean_attributes(body, GROUP)
                changes = [MemberOperation("replace", tuple(split_members(attrs) or ()))]
                unknown_status = 400  # docs/atlassian.md: PUT with unknown member ids is 400
            else:
                patch = parse_patch(body, GROUP)
                attrs = clean_attributes(apply_operations(old.attributes, patch.operations), GROUP)
                changes = list(patch.members)
                unknown_status = 404  # docs/atlassian.md: PATCH naming an unknown user is 404
            if attrs.get("displayName") != old.attributes["displayName"]:
                raise mutability(
                    "displayName is immutable: create a new group, move the members,"
                    " then delete the old group"
                )
            record = store.update_group(
                group_id, check_group(attrs), changes, unknown_status=unknown_status
            )
            resource = self._render_group(record, base_url)
        return 200, resource, {}

    def _render_group(self, record: GroupRecord, base_url: str) -> dict[str, Any]:
        return render_group(record, self.store.members_of([record.seq])[record.seq], base_url)

    # Discovery ---------------------------------------------------------------

    def _schemas(self, request: Request, base_url: str, _: str | None) -> Reply:
        resources = [schema.to_scim(base_url) for schema in SCHEMAS]
        return 200, list_response(len(resources), 1, resources), {}

    def _schema(self, request: Request, base_url: str, urn: str | None) -> Reply:
        for schema in SCHEMAS:
            if schema.id.lower() == (urn or "").lower():
                return 200, schema.to_scim(base_url), {}
        raise ScimRequestError(404, f"Schema [{urn}] not found")

    def _resource_types(self, request: Request, base_url: str, _: str | None) -> Reply:
        resources = [kind.to_scim(base_url) for kind in RESOURCE_KINDS]
        return 200, list_response(len(resources), 1, resources), {}

    def _resource_type(self, request: Request, base_url: str, name: str | None) -> Reply:
        for kind in RESOURCE_KINDS:
            if kind.name.lower() == (name or "").lower():
                return 200, kind.to_scim(base_url), {}
        raise ScimRequestError(404, f"ResourceType [{name}] not found")

    def _spc(self, request: Request, base_url: str, _: str | None) -> Reply:
        return 200, service_provider_config(base_url), {}


def _no_endpoint(path: str) -> dict[str, Any]:
    return ScimRequestError(404, f"no SCIM endpoint at {path}").body()
