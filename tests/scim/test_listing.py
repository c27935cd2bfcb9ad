"""Reading a listing page by page: each page handed on in order, none kept."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from reconciler.errors import ListingChangedError
from reconciler.scim.listing import read_listing
from reconciler.scim.paging import Pager
from reconciler.scim.protocol import ListPage


class Server:
    """Pages of ``per_page`` numbered ids out of ``total``; counts what is in flight."""

    def __init__(self, total: int, per_page: int) -> None:
        self.total = total
        self.per_page = per_page
        self.asked: list[int] = []
        self.lock = threading.Lock()

    def fetch(self, start: int, count: int) -> ListPage:
        with self.lock:
            self.asked.append(start)
        ids = range(start, min(start + min(count, self.per_page), self.total + 1))
        return ListPage(self.total, start, tuple({"id": str(i)} for i in ids))


@pytest.mark.parametrize("concurrency", [1, 4])
def test_every_page_is_handed_on_once_in_order_and_not_kept(concurrency: int) -> None:
    """The consumer sees every resource once, in listing order; the pager keeps none."""
    server = Server(total=1050, per_page=100)
    pager = Pager("Users", 100, keep=False)
    pages: list[Sequence[dict[str, Any]]] = []
    read_listing(server.fetch, pager, pages.append, concurrency=concurrency)
    assert [int(r["id"]) for page in pages for r in page] == list(range(1, 1051))
    assert pager.resources == []
    assert sorted(server.asked) == [*range(1, 1051, 100), 1051]


def test_a_slow_consumer_holds_a_few_pages_not_the_listing() -> None:
    """Parallel pages are asked for at most two per worker ahead of the one handed on."""
    server = Server(total=5000, per_page=100)
    ahead: list[int] = []

    def accept(page: Sequence[dict[str, Any]]) -> None:
        taken = int(page[-1]["id"])
        ahead.append(sum(1 for start in server.asked if start > taken))

    read_listing(server.fetch, Pager("Users", 100, keep=False), accept, concurrency=4)
    assert max(ahead) <= 2 * 4


def test_a_page_that_contradicts_the_listing_stops_it_there() -> None:
    """A parallel page that fails the pager's checks ends the read; later pages are not taken."""
    server = Server(total=1000, per_page=100)
    fetch = server.fetch

    def changing(start: int, count: int) -> ListPage:
        page = fetch(start, count)
        return ListPage(1001, start, page.resources) if start == 301 else page

    taken: list[Sequence[dict[str, Any]]] = []
    with pytest.raises(ListingChangedError):
        read_listing(changing, Pager("Users", 100, keep=False), taken.append, concurrency=4)
    assert len(taken) == 3
