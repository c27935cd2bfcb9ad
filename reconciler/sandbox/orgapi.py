"""The organisation's managed accounts and verified domains, as the Organizations API lists them.

Atlassian's Organizations REST API (docs/atlassian.md "The organisation's accounts and
domains"), under ``/admin/v1/orgs/{orgId}/`` with the same organisation API key as the
Admin API:

* ``GET users`` lists the organisation's *managed* accounts (those whose email is on a
  verified domain; all of them when the sandbox lists no domains), 50 a page (the page
  size reported in Atlassian's tracker, AX-243), in ``{"data": [...], "meta": {"total":
  n}, "links": {"self": ..., "next": ...}}``. ``next`` carries an opaque ``cursor``.
* ``GET domains`` lists the verified domains, as ``{"data": [{"id", "type": "domains",
  "attributes": {"name", "claim": {"type", "status": "verified"}}, "links"}], "links"}``.

``admin.AdminApi`` routes and authenticates these requests; this module only answers.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reconciler.sandbox import org, sql
from reconciler.sandbox.problems import Reply, ScimRequestError

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from reconciler.sandbox.store import SandboxStore

ORG_API_PREFIX = "/admin/v1/orgs"
ACCOUNTS_PAGE_SIZE = 50
_MAX_CURSOR = 128  # account ids are at most 128 characters (the published format)


def managed_accounts(store: SandboxStore, request: Request, org_id: str) -> Reply:
    """One page of the organisation's managed accounts, from after ``cursor``."""
    cursor = request.args.get("cursor", "")
    if len(cursor) > _MAX_CURSOR:
        raise _invalid_cursor()
    rows = store.rows(sql.ACCOUNTS_PAGE, (cursor, ACCOUNTS_PAGE_SIZE + 1))
    total = int(store.rows(sql.MANAGED_ACCOUNTS_COUNT)[0][0])
    base = f"{request.url_root.rstrip('/')}{ORG_API_PREFIX}/{quote(org_id, safe='')}/users"
    links = {"self": base + (f"?cursor={quote(cursor, safe='')}" if cursor else "")}
    page = rows[:ACCOUNTS_PAGE_SIZE]
    if len(rows) > ACCOUNTS_PAGE_SIZE:
        links["next"] = f"{base}?cursor={quote(str(page[-1][0]), safe='')}"
    data = [_account(*row, base=request.url_root.rstrip("/")) for row in page]
    return 200, {"data": data, "meta": {"total": total}, "links": links}, {}


def _account(
    account_id: str, email: str, display: str | None, attributes: str | None, *, base: str
) -> dict[str, Any]:
    """A managed account as the users listing shows it (the published ``User`` shape)."""
    active = True if attributes is None else json.loads(attributes).get("active", True) is not False
    return {
        "account_id": account_id,
        "account_type": "atlassian",
        "account_status": "active" if active else "inactive",
        "name": display or email,
        "picture": f"{base}/avatars/{quote(account_id, safe='')}",
        "email": email,
        "links": {"self": f"{base}/users/{quote(account_id, safe='')}/manage/profile"},
    }


def verified_domains(store: SandboxStore, request: Request, org_id: str) -> Reply:
    """Every verified domain of the organisation, in one page."""
    base = f"{request.url_root.rstrip('/')}{ORG_API_PREFIX}/{quote(org_id, safe='')}/domains"
    data = [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
            "type": "domains",
            "attributes": {"name": name, "claim": {"type": "dns", "status": "verified"}},
            "links": {"self": f"{base}/{uuid.uuid5(uuid.NAMESPACE_DNS, name)}"},
        }
        for name in org.domains(store)
    ]
    return 200, {"data": data, "links": {"self": base}}, {}


def _invalid_cursor() -> ScimRequestError:
    return ScimRequestError(400, "Invalid page cursor (ADMIN-400-1)")
