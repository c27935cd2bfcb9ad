"""Properties of the pager against simulated servers (hypothesis).

Whatever page size a server really serves, and however it numbers pages, a listing
that arrives is complete and exact; and any single contradiction planted in a
listing makes the read fail rather than come back short.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import InconsistentReadError
from reconciler.scim.paging import Pager
from reconciler.scim.protocol import ListPage
from tests.hypothesis_profiles import examples


def serve(ids: list[str], start: int, count: int, cap: int) -> ListPage:
    """An honest server: at most ``cap`` per page, whatever was asked."""
    chunk = ids[start - 1 : start - 1 + min(count, cap)]
    return ListPage(
        total_results=len(ids), start_index=start, resources=tuple({"id": i} for i in chunk)
    )


def read(pager: Pager, answer: Any, limit: int = 10_000) -> list[str]:
    for _ in range(limit):
        request = pager.next_request()
        if request is None:
            return [r["id"] for r in pager.resources]
        pager.accept(answer(*request))
    raise AssertionError("the pager did not stop")


@settings(max_examples=examples(150), deadline=None)
@given(
    size=st.integers(min_value=0, max_value=700),
    page_size=st.integers(min_value=1, max_value=250),
    cap=st.integers(min_value=1, max_value=300),
)
def test_honest_servers_give_complete_exact_listings(size: int, page_size: int, cap: int) -> None:
    """Any directory size, asked page size and server cap: every id once, in order."""
    ids = [f"u{i}" for i in range(size)]
    pager = Pager("Users", page_size)
    assert read(pager, lambda start, count: serve(ids, start, count, cap)) == ids


FAULTS = ["total-grows", "duplicate", "repeat-first", "empty", "extra"]


@settings(max_examples=examples(150), deadline=None)
@given(
    size=st.integers(min_value=3, max_value=400),
    page_size=st.integers(min_value=1, max_value=100),
    fault=st.sampled_from(FAULTS),
    when=st.integers(min_value=1, max_value=50),
)
def test_a_planted_contradiction_always_fails_the_read(
    size: int, page_size: int, fault: str, when: int
) -> None:
    """totalResults that changes, a repeated id, page one again, an empty or an
    overfull page: the read raises instead of returning what arrived."""
    ids = [f"u{i}" for i in range(size)]
    pages_needed = -(-size // page_size)
    target_page = 2 + (when % max(1, pages_needed - 1)) if pages_needed > 1 else 1
    calls = {"n": 0}

    def answer(start: int, count: int) -> ListPage:
        calls["n"] += 1
        page = serve(ids, start, count, page_size)
        if calls["n"] != target_page:
            return page
        resources = list(page.resources)
        total = page.total_results
        if fault == "total-grows":
            total += 1
        elif fault == "duplicate":
            resources.append({"id": ids[0]})
        elif fault == "repeat-first":
            resources = [{"id": i} for i in ids[:page_size]]
        elif fault == "empty":
            resources = []
        elif fault == "extra":
            resources.append({"id": "stranger"})
        return ListPage(total_results=total, start_index=start, resources=tuple(resources))

    if pages_needed == 1 and fault in ("repeat-first",):
        return  # on a one-page listing, page one again is page one
    with pytest.raises(InconsistentReadError):
        read(Pager("Users", page_size), answer)
