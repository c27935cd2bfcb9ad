"""Atlassian's organisation Admin APIs for SCIM links (docs/atlassian.md).

An Atlassian organisation holds accounts outside any directory. A SCIM create whose
email belongs to an unlinked account links to it; an email whose account is linked
to a SCIM user of another directory gives 409. These four endpoints, under
``/admin/user-provisioning/v1/org/{orgId}/`` with the organisation's API key (not
the directory's), are how an admin sees and detaches such links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from reconciler.errors import ProtocolError
from reconciler.scim.budget import Budget
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import RetryPolicy

ADMIN_PATH = "/admin/user-provisioning/v1/org"


@dataclass(frozen=True, slots=True)
class ScimLink:
    """One SCIM user of one directory, linked to one Atlassian account."""

    directory_id: str
    scim_user_id: str
    account_id: str | None
    org_id: str


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
    """The four SCIM-link endpoints, through the same retrying client as SCIM calls."""

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
        self._client = ScimClient(
            base_url, token=token, transport=transport, retry=retry, rate=rate, budget=budget
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        return self._client.call(method, path, body)

    def links_for_email(self, email: str) -> list[ScimLink]:
        """The SCIM links of the account that holds ``email`` (none: no linked account)."""
        return _links(self._call("POST", "get-scim-links-for-email", {"email": email}))

    def links_for_account(self, account_id: str) -> list[ScimLink]:
        """The SCIM links of one Atlassian account."""
        return _links(self._call("GET", f"user/{quote(account_id, safe='')}/get-scim-links"))

    def unlink(self, directory_id: str, scim_user_id: str) -> None:
        """Detach a directory's SCIM user from its account (Atlassian deletes that record)."""
        self._call(
            "PATCH",
            f"scimDirectoryId/{quote(directory_id, safe='')}/scimUserId/"
            f"{quote(scim_user_id, safe='')}/unlink",
        )


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
