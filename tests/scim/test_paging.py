"""The pager reads a whole listing or refuses (docs/design.md "Safety model": fail-closed reads).

The misbehaviours it meets are those of docs/test-servers.md.
"""

from __future__ import annotations

import pytest

from reconciler.errors import InconsistentReadError, ListingChangedError
from reconciler.scim.paging import Pager
from reconciler.scim.protocol import ListPage


def page(total: int, *ids: str) -> ListPage:
    return ListPage(total_results=total, start_index=None, resources=tuple({"id": i} for i in ids))


def test_pages_on_what_arrived_not_on_what_was_asked() -> None:
    """A server that sends fewer than asked is paged by what arrived, so nobody is skipped."""
    pager = Pager("Users", page_size=100)
    assert pager.next_request() == (1, 100)
    pager.accept(page(5, "a", "b"))
    assert pager.next_request() == (3, 100)
    pager.accept(page(5, "c", "d", "e"))
    assert pager.next_request() is None
    assert [r["id"] for r in pager.resources] == ["a", "b", "c", "d", "e"]


def test_empty_directory_is_one_empty_page() -> None:
    """totalResults 0 with no resources is a complete, empty listing."""
    pager = Pager("Users", page_size=100)
    pager.accept(page(0))
    assert pager.done
    assert pager.resources == []


@pytest.mark.parametrize(
    ("pages", "message", "changed"),
    [
        pytest.param(
            [page(4, "a", "b"), page(5, "c", "d")],
            "totalResults changed",
            True,
            id="total-changes",
        ),
        pytest.param(
            [page(4, "a", "b"), page(4, "b", "c")], "listed twice", True, id="duplicate-id"
        ),
        pytest.param(
            [page(4, "a", "b"), page(4, "a", "b")], "first page again", False, id="first-page-again"
        ),
        pytest.param([page(4, "a", "b"), page(4)], "empty page", True, id="page-does-not-advance"),
        pytest.param([page(2, "a", "b", "c")], "totalResults is 2", True, id="more-than-announced"),
        pytest.param(
            [page(9, "a", "b", "c", "d")],
            "4 resources arrived for count=3",
            False,
            id="more-than-asked",
        ),
    ],
)
def test_inconsistent_listing_is_refused(
    pages: list[ListPage], message: str, changed: bool
) -> None:
    """Any contradiction in a listing raises instead of returning a partial directory; those
    that objects added or removed during the read explain are ListingChangedError (read again)."""
    pager = Pager("Users", page_size=3)
    for p in pages[:-1]:
        pager.accept(p)
    with pytest.raises(InconsistentReadError, match=message) as caught:
        pager.accept(pages[-1])
    assert isinstance(caught.value, ListingChangedError) is changed


def test_resource_without_id_is_refused() -> None:
    """A listed resource without an id cannot be matched or de-duplicated: refused."""
    pager = Pager("Users", page_size=2)
    with pytest.raises(InconsistentReadError, match="without an id") as caught:
        pager.accept(ListPage(total_results=1, start_index=1, resources=({"userName": "x"},)))
    assert not isinstance(caught.value, ListingChangedError)  # no change explains it


def test_probe_is_asked_once_the_listing_is_complete() -> None:
    """Once complete by its own count, the pager asks for one page past the end; none for empty."""
    pager = Pager("Users", page_size=2)
    assert pager.probe_request() is None  # nothing has arrived yet
    pager.accept(page(3, "a", "b"))
    assert pager.probe_request() is None  # not complete yet
    pager.accept(page(3, "c"))
    assert pager.probe_request() == (4, 2)
    empty = Pager("Groups", page_size=2)
    empty.accept(page(0))
    assert empty.probe_request() is None


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        pytest.param(page(2, "c"), "1 more resource arrived after the 2", id="uncounted"),
        pytest.param(page(3), "totalResults changed from 2 to 3", id="total-changes"),
    ],
)
def test_probe_past_the_end_with_news_is_refused(probe: ListPage, message: str) -> None:
    """Resources past the announced end, or a changed total there, make the listing untrusted;
    both are what users added during the read look like, so the listing may be read again."""
    pager = Pager("Users", page_size=2)
    pager.accept(page(2, "a", "b"))
    with pytest.raises(ListingChangedError, match=message):
        pager.accept_probe(probe)


@pytest.mark.parametrize(
    "probe",
    [
        pytest.param(page(2), id="empty"),
        pytest.param(page(2, "a", "b"), id="first-page-again"),
    ],
)
def test_probe_past_the_end_with_nothing_new_is_accepted(probe: ListPage) -> None:
    """An empty page past the end, or the first page served again, leaves the listing complete."""
    pager = Pager("Users", page_size=2)
    pager.accept(page(2, "a", "b"))
    pager.accept_probe(probe)
    assert [r["id"] for r in pager.resources] == ["a", "b"]
