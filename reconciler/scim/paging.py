"""A pager that reads a whole listing or refuses: it never returns a partial one.

Pure state machine (no I/O): the client asks ``next_request()`` for the next
``(startIndex, count)``, sends it, and hands the page to ``accept()``. The pager
counts what arrived rather than trusting ``itemsPerPage``, de-duplicates by id,
stops on ``totalResults``, and raises ``InconsistentReadError`` when the listing
contradicts itself (docs/test-servers.md): a changed ``totalResults``, a repeated id, a
page that does not advance, the first page served again, more than was announced
or asked for. A listing that contradicts nothing can still be short (``totalResults``
too small from the first page on): once complete by its own count, one more page
past the end (``probe_request``) must hold nothing new (``accept_probe``).
A listing from which people could be deactivated must be complete.

Contradictions that objects added or removed during the read explain (a changed
``totalResults``, an id listed twice as an insert shifts the pages, an empty page
before the end as a delete does, more resources than announced, news past the end)
raise ``ListingChangedError``: the reader may read the listing again from the start
(``reconciler.snapshot``). Those no change explains (a resource without an id, a
page larger than ``count``, the first page served again) raise the plain
``InconsistentReadError``.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import InconsistentReadError, ListingChangedError
from reconciler.scim.protocol import ListPage
from reconciler.wording import plural


class Pager:
    """Collects every resource of one listing by ``startIndex``/``count``."""

    def __init__(self, resource_type: str, page_size: int, *, keep: bool = True) -> None:
        """``keep``: collect the resources in ``resources``; without it, the caller takes
        each page's resources as the pager accepts it."""
        if page_size < 1:
            raise ValueError("page_size must be positive")
        self.resource_type = resource_type
        self.page_size = page_size
        self.start_index = 1
        self.total: int | None = None
        self.first_id: str | None = None
        self.arrived = 0
        self.resources: list[dict[str, Any]] = []
        self._keep = keep
        self._seen: set[str] = set()

    @property
    def done(self) -> bool:
        return self.total is not None and self.arrived >= self.total

    def next_request(self) -> tuple[int, int] | None:
        """The next ``(startIndex, count)`` to ask for, or None when complete."""
        if self.done:
            return None
        return self.start_index, self.page_size

    def accept(self, page: ListPage) -> None:
        """Take one page; raise when it shows the listing cannot be trusted."""
        where = f"{self.resource_type} listing at startIndex {self.start_index}"
        if self.total is None:
            self.total = page.total_results
        elif page.total_results != self.total:
            raise ListingChangedError(
                f"{where}: totalResults changed from {self.total} to {page.total_results} "
                "while paging (the directory changed during the read, or the server is wrong)"
            )
        if not page.resources:
            if self.arrived == self.total:
                return  # an empty directory: one empty page is the whole listing
            # Deletes shift what is left below the cursor.
            raise ListingChangedError(
                f"{where}: empty page, but only {self.arrived} of {self.total} arrived"
            )
        if len(page.resources) > self.page_size:
            # RFC 7644 section 3.4.2.4: count is the most a page may hold. A server
            # that sends more cannot be trusted to have numbered its pages right.
            raise InconsistentReadError(
                f"{where}: {plural(len(page.resources), 'resource')} arrived "
                f"for count={self.page_size}"
            )
        for resource in page.resources:
            self._take(resource, where)
        if self.arrived > self.total:
            raise ListingChangedError(
                f"{where}: {plural(self.arrived, 'resource')} arrived "
                f"but totalResults is {self.total}"
            )
        # Page on what actually arrived: itemsPerPage is unreliable, and servers may
        # send fewer than asked for (their own maximum) without saying so.
        self.start_index += len(page.resources)

    def _take(self, resource: dict[str, Any], where: str) -> None:
        """Count one resource of a page; raise when its id is missing or already listed."""
        rid = resource.get("id")
        rid = str(rid) if rid is not None else None
        if rid is None:
            raise InconsistentReadError(f"{where}: a resource without an id")
        if rid in self._seen:
            if self.start_index > 1 and rid == self.first_id:
                raise InconsistentReadError(
                    f"{where}: the server returned the first page again "
                    f"after {self.arrived} of {self.total}"
                )
            # An insert before the cursor shifts the pages: one is served again.
            raise ListingChangedError(f"{where}: id {rid} was listed twice")
        if self.first_id is None:
            self.first_id = rid
        self._seen.add(rid)
        self.arrived += 1
        if self._keep:
            self.resources.append(resource)

    def probe_request(self) -> tuple[int, int] | None:
        """The one request past the announced end, once complete; None for an empty one.

        An empty first page is the whole of an empty listing: past its end is the
        same request again.
        """
        if not self.done or not self.arrived:
            return None
        return self.start_index, self.page_size

    def accept_probe(self, page: ListPage) -> None:
        """Take the page past the end: resources the listing did not count fail the read.

        Resources already seen are fine: servers that serve the first page again
        past the end (docs/test-servers.md) are read completely all the same.
        """
        where = f"{self.resource_type} listing past its end (startIndex {self.start_index})"
        if page.total_results != self.total:
            raise ListingChangedError(
                f"{where}: totalResults changed from {self.total} to {page.total_results} "
                "while paging (the directory changed during the read, or the server is wrong)"
            )
        unseen = [r for r in page.resources if str(r.get("id")) not in self._seen]
        if unseen:
            raise ListingChangedError(
                f"{where}: {plural(len(unseen), 'more resource')} arrived after the "
                f"{self.total} that totalResults announced; the listing is incomplete"
            )
