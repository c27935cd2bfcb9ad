"""Atlassian's organisation Admin APIs: SCIM links, managed accounts, verified domains.

An Atlassian organisation holds accounts outside any directory. A SCIM create whose
email belongs to an unlinked account links to it; an email whose account is linked
to a SCIM user of another directory gives 409. The SCIM-link endpoints, under
``/admin/user-provisioning/v1/org/{orgId}/`` with the organisation's API key (not
the directory's), are how an admin sees and detaches such links. With the same key,
the Organizations API under ``/admin/v1/orgs/{orgId}/`` lists the organisation's
managed accounts and its verified domains, a page at a time by ``cursor``
(docs/atlassian.md "The organisation around the directory").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from reconciler.errors import ProtocolError
from reconciler.scim.budget import Budget
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import RetryPolicy

ADMIN_PATH = "/admin/user-provisioning/v1/org"
ORG_API_PATH = "/admin/v1/orgs"
# Pages of the Organizations API read at most, a cycle of cursors guarded against (at
# 50 accounts a page, 20 million accounts).
MAX_PAGES = 400_000


@dataclass(frozen=True, slots=True)
class ScimLink:
    """One SCIM user of one directory, linked to one Atlassian account."""

    directory_id: str
    scim_user_id: str
    account_id: str | None
    org_id: str


@dataclass(frozen=True, slots=True)
class ManagedAccount:
    """An account the organisation manages, as its users listing shows it."""

    account_id: str
    email: str
    status: str  # "active", "inactive" or "closed"


def admin_base_url(target_url: str, org_id: str) -> str:
    """The Admin API's base for the organisation, on the host of the SCIM target."""
    parts = urlsplit(target_url)
    return f"{parts.scheme}://{parts.netloc}{ADMIN_PATH}/{quote(org_id, safe='')}"


def directory_id_of(target_url: str) -> str | None:
    """The directory id in an Atlassian SCIM base URL (``/scim/directory/{id}``)."""
    path = urlsplit(target_url).path
    marker = "/scim/directory/"
    if marker not in path:
        return None
    return path.split(marker, 1)[1].split("/", 1)[0] or None


class AdminClient:
    """The organisation's Admin API (SCIM links) and the Organizations API (managed
    accounts, verified domains), through the same retrying client as SCIM calls.

    ``base_url`` is the Admin API's base for one organisation (``admin_base_url``);
    the Organizations API is on the same host, with the same key.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        rate: float | None = None,
        budget: Budget | None = None,
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        head, marker, org = parts.path.rpartition(ADMIN_PATH + "/")
        if not marker or "/" in org:
            raise ValueError(f"not an Admin API base URL: {base_url}")
        self._links_path = f"{ADMIN_PATH}/{org}".removeprefix("/admin/")
        self._org_path = f"{ORG_API_PATH}/{org}".removeprefix("/admin/")
        root = f"{parts.scheme}://{parts.netloc}{head}/admin"
        self._client = ScimClient(
            root, token=token, transport=transport, retry=retry, rate=rate, budget=budget
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        return self._client.call(method, f"{self._links_path}/{path}", body)

    def links_for_email(self, email: str) -> list[ScimLink]:
        """The SCIM links of the account that holds ``email`` (none: no linked account)."""
        return _links(self._call("POST", "get-scim-links-for-email", {"email": email}))

    def links_for_account(self, account_id: str) -> list[ScimLink]:
        """The SCIM links of one Atlassian account."""
        return _links(self._call("GET", f"user/{quote(account_id, safe='')}/get-scim-links"))

    def unlink(self, directory_id: str, scim_user_id: str) -> None:
        """Detach a directory's SCIM user from its account; Atlassian's API reference says
        the SCIM user stays (unlinked), and its next update links it again."""
        self._call(
            "PATCH",
            f"scimDirectoryId/{quote(directory_id, safe='')}/scimUserId/"
            f"{quote(scim_user_id, safe='')}/unlink",
        )

    def managed_accounts(self) -> list[ManagedAccount]:
        """Every account the organisation manages (``GET /admin/v1/orgs/{orgId}/users``,
        every page). Accounts whose email the listing hides are left out."""
        found: list[ManagedAccount] = []
        for item in self._pages("users"):
            account_id, email = item.get("account_id"), item.get("email")
            if not isinstance(account_id, str) or not account_id:
                raise ProtocolError("the Organizations API answered a user without account_id")
            if isinstance(email, str) and email:
                status = item.get("account_status")
                found.append(ManagedAccount(account_id, email, str(status or "active")))
        return found

    def verified_domains(self) -> list[str]:
        """The organisation's verified domains, lower-cased and sorted
        (``GET /admin/v1/orgs/{orgId}/domains``, every page)."""
        names: set[str] = set()
        for item in self._pages("domains"):
            attributes = item.get("attributes")
            attributes = attributes if isinstance(attributes, Mapping) else {}
            claim = attributes.get("claim")
            status = claim.get("status") if isinstance(claim, Mapping) else None
            name = attributes.get("name")
            if isinstance(name, str) and name and status == "verified":
                names.add(name.lower())
        return sorted(names)

    def _pages(self, resource: str) -> list[Mapping[str, Any]]:
        """Every item of an Organizations API listing, following ``links.next`` by its
        ``cursor`` only (never to another host)."""
        items: list[Mapping[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = "" if cursor is None else f"?cursor={quote(cursor, safe='')}"
            body = self._client.call("GET", f"{self._org_path}/{resource}{query}")
            data = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(data, list) or not all(isinstance(i, Mapping) for i in data):
                raise ProtocolError(
                    f"the Organizations API answered {resource} without a data list"
                )
            items.extend(data)
            cursor = _next_cursor(body)
            if cursor is None:
                return items
        raise ProtocolError(f"the Organizations API's {resource} listing never ended")


def _next_cursor(body: Mapping[str, Any]) -> str | None:
    """The ``cursor`` of a page's ``links.next``; None on the last page."""
    links = body.get("links")
    following = links.get("next") if isinstance(links, Mapping) else None
    if not isinstance(following, str) or not following:
        return None
    cursors = parse_qs(urlsplit(following).query).get("cursor")
    if not cursors or not cursors[0]:
        raise ProtocolError("the Organizations API's next page has no cursor")
    return cursors[0]


def _links(body: Any) -> list[ScimLink]:
    items = body.get("scimLinks") if isinstance(body, Mapping) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise ProtocolError("the Admin API answered scimLinks that is not a list")
    links: list[ScimLink] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ProtocolError("the Admin API answered a SCIM link that is not an object")
        directory, user = item.get("directoryId"), item.get("scimUserId")
        if not isinstance(directory, str) or not isinstance(user, str):
            raise ProtocolError("the Admin API answered a SCIM link without its ids")
        account = item.get("atlassianAccountId")
        links.append(
            ScimLink(
                directory_id=directory,
                scim_user_id=user,
                account_id=account if isinstance(account, str) else None,
                org_id=str(item.get("orgId") or ""),
            )
        )
    return sorted(links, key=lambda link: (link.directory_id, link.scim_user_id))
