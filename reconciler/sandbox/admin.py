"""The organisation's Admin API for SCIM links, as the sandbox serves it.

Atlassian's user-provisioning Admin APIs (docs/atlassian.md "The sandbox's
organisation") are how an admin inspects and detaches the links between SCIM users and
Atlassian accounts, which is how the 409s of ``org`` are resolved. They live beside
the directory, under ``/admin/user-provisioning/v1/org/{orgId}/``, and take the
organisation's API key, not the directory's:

* ``GET user/{accountId}/get-scim-links`` and ``POST get-scim-links-for-email``
  (body ``{"email": ...}``) answer ``{"scimLinks": [{"atlassianAccountId",
  "directoryId", "orgId", "scimUserId"}, ...]}``; an email no account has has no
  links, an unknown account id is a 404;
* ``PATCH scimDirectoryId/{dir}/scimUserId/{id}/unlink`` and
  ``DELETE user/{accountId}/onlyDeleteUserInDB`` answer 204 (``org.unlink``,
  ``org.delete_scim_records``), or 404 when there is nothing to act on.

The same key reads the Organizations API's managed accounts and verified domains
under ``/admin/v1/orgs/{orgId}/`` (``orgapi``), routed here too.

Without the organisation token every request is 401 with Atlassian's non-SCIM body;
other refusals are SCIM error bodies, like the rest of the provisioning API. The
only organisation is ``sandbox-org``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from reconciler.sandbox import org, orgapi
from reconciler.sandbox.problems import (
    Reply,
    ScimRequestError,
    invalid_value,
    respond,
    unauthorized,
)
from reconciler.sandbox.resources import check_text
from reconciler.sandbox.store import SandboxStore

ADMIN_PREFIX = "/admin/user-provisioning/v1/org"
_ORG = f"{ADMIN_PREFIX}/<org_id>"

_ROUTES = Map(
    [
        Rule(f"{_ORG}/user/<account_id>/get-scim-links", endpoint="links", methods=["GET"]),
        Rule(f"{_ORG}/get-scim-links-for-email", endpoint="links_for_email", methods=["POST"]),
        Rule(
            f"{_ORG}/scimDirectoryId/<directory_id>/scimUserId/<user_id>/unlink",
            endpoint="unlink",
            methods=["PATCH"],
        ),
        Rule(f"{_ORG}/user/<account_id>/onlyDeleteUserInDB", endpoint="delete", methods=["DELETE"]),
        Rule(f"{orgapi.ORG_API_PREFIX}/<org_id>/users", endpoint="accounts", methods=["GET"]),
        Rule(f"{orgapi.ORG_API_PREFIX}/<org_id>/domains", endpoint="domains", methods=["GET"]),
    ],
    strict_slashes=False,
)


class AdminApi:
    """The four SCIM-link endpoints of the organisation ``sandbox-org``, and its accounts
    and domains (``orgapi``).

    ``token`` is the organisation API key every request must carry as a bearer
    token; with ``any_token`` (the in-process transport's default) any non-empty
    bearer token will do, and with neither, every request is refused.
    """

    def __init__(self, store: SandboxStore, token: str | None, *, any_token: bool = False) -> None:
        self.store = store
        self._token = token
        self._any_token = any_token and token is None
        self._handlers: dict[str, Callable[[Request, dict[str, str]], Reply]] = {
            "links": self._links,
            "links_for_email": self._links_for_email,
            "unlink": self._unlink,
            "delete": self._delete,
            "accounts": lambda request, _: orgapi.managed_accounts(
                store, request, org.SANDBOX_ORG_ID
            ),
            "domains": lambda request, _: orgapi.verified_domains(
                store, request, org.SANDBOX_ORG_ID
            ),
        }

    @staticmethod
    def serves(path: str) -> bool:
        """Whether a request path is the organisation's (Admin API, Organizations API)."""
        return path.startswith((ADMIN_PREFIX + "/", orgapi.ORG_API_PREFIX + "/"))

    def answer(self, request: Request) -> Response:
        """The HTTP answer to one request under ``ADMIN_PREFIX`` or ``ORG_API_PREFIX``."""
        if not self._authorized(request):
            return unauthorized("Unauthorized: the organization API key is required")
        headers: dict[str, str] = {}
        try:
            endpoint, matched = _ROUTES.bind_to_environ(request.environ).match()
            args = {key: str(value) for key, value in matched.items()}
            if args.pop("org_id") != org.SANDBOX_ORG_ID:
                raise ScimRequestError(404, f"no organization here but {org.SANDBOX_ORG_ID}")
            status, payload, headers = self._handlers[str(endpoint)](request, args)
        except ScimRequestError as problem:
            status, payload = problem.status, problem.body()
        except MethodNotAllowed as exc:
            status = 405
            payload = ScimRequestError(405, f"{request.method} is not allowed here").body()
            headers["Allow"] = ", ".join(exc.valid_methods or ())
        except NotFound:
            status, payload = 404, ScimRequestError(404, f"no endpoint at {request.path}").body()
        return respond((status, payload, headers), "application/json")

    def _authorized(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        given = credentials.strip().encode("utf-8", "replace")
        if scheme.lower() != "bearer" or not given:
            return False
        if self._any_token:
            return True
        return self._token is not None and hmac.compare_digest(given, self._token.encode())

    def _links(self, request: Request, args: dict[str, str]) -> Reply:
        links = org.links_of_account(self.store, args["account_id"])
        if links is None:
            raise ScimRequestError(404, f"no account [{args['account_id']}] in the organization")
        return 200, {"scimLinks": [link.to_json() for link in links]}, {}

    def _links_for_email(self, request: Request, args: dict[str, str]) -> Reply:
        links = org.links_for_email(self.store, _email(request))
        return 200, {"scimLinks": [link.to_json() for link in links]}, {}

    def _unlink(self, request: Request, args: dict[str, str]) -> Reply:
        if not org.unlink(self.store, args["directory_id"], args["user_id"]):
            raise ScimRequestError(
                404, f"no SCIM user [{args['user_id']}] in directory [{args['directory_id']}]"
            )
        return 204, None, {}

    def _delete(self, request: Request, args: dict[str, str]) -> Reply:
        if not org.delete_scim_records(self.store, args["account_id"]):
            raise ScimRequestError(404, f"no account [{args['account_id']}] in the organization")
        return 204, None, {}


def _email(request: Request) -> str:
    """The ``email`` of a ``{"email": ...}`` body; 400 for anything else."""
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise ScimRequestError(400, "the body is not valid JSON", "invalidSyntax") from None
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or "@" not in email:
        raise invalid_value('the body must be {"email": "<an email address>"}')
    check_text(email, "email")
    return email
