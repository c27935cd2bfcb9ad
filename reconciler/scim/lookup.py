"""One resource found by its key, for the writes and checks that must not guess.

The directory is always read by full listing; an ``eq`` filter serves only lookups
(docs/atlassian.md "Listing, paging, filtering"): after a 409 on create, before a
create whose outcome is unknown is sent again, and when a saved plan checks that
what it creates does not exist yet. Servers filter more loosely than the key
compares (some ignore letter case everywhere, some return nothing they cannot
filter), so what comes back is compared again here, by the one rule for
identifiers: in any letter case and Unicode form (``reconciler.identifiers``).
"""

from __future__ import annotations

from typing import Any

from reconciler.identifiers import fold_identity
from reconciler.scim.client import ScimClient
from reconciler.scim.protocol import UNIQUE_ATTRIBUTE


def find_by_key(
    client: ScimClient, resource_type: str, value: str, attribute: str | None = None
) -> dict[str, Any] | None:
    """The resource whose ``attribute`` is ``value``, or None when the directory has none.

    ``attribute`` defaults to the one the directory keeps unique (``userName``,
    ``displayName``). Errors
    of the lookup itself propagate: a caller that cannot tell "absent" from "could
    not look" must not act as if it were absent.
    """
    attribute = attribute or UNIQUE_ATTRIBUTE[resource_type]
    wanted = fold_identity(value)
    for resource in client.find(resource_type, attribute, value):
        found = resource.get(attribute)
        if isinstance(found, str) and fold_identity(found) == wanted:
            return resource
    return None
