"""Reading a whole listing, page by page, each page handed on as it arrives.

The pages go through one ``Pager`` in order, whoever fetched them: every consistency
check applies to a parallel read as to a sequential one. No page is kept here once
handed on, so a caller that keeps only what it needs of each (``reconciler.snapshot``)
never holds the listing's raw resources whole.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import Any

import structlog

from reconciler.scim.paging import Pager
from reconciler.scim.protocol import ListPage

ProgressCallback = Callable[[str, int, int], None]  # resource type, arrived, total
Fetch = Callable[[int, int], ListPage]  # (startIndex, count) -> the page, retried

log = structlog.get_logger("reconciler.scim")


def read_listing(
    fetch: Fetch,
    pager: Pager,
    accept: Callable[[Sequence[dict[str, Any]]], None],
    *,
    progress: ProgressCallback | None = None,
    concurrency: int = 1,
) -> None:
    """Hand every page of ``pager``'s listing to ``accept``, in order, or raise.

    Once ``totalResults`` have arrived, one more page is asked for past the end;
    resources there that the listing did not count fail the read. An error after
    some pages were accepted means the listing is not to be used at all.

    With ``concurrency`` above 1, the pages after the first are fetched in parallel
    (a 100k-user directory is a thousand round trips), but only while the server
    pages uniformly: every page must hold exactly as many resources as the first
    did. From the first page that does not, the rest is read one page at a time.
    """

    def take(page: ListPage) -> None:
        pager.accept(page)
        accept(page.resources)
        if progress is not None:
            progress(pager.resource_type, pager.arrived, pager.total or 0)

    if concurrency > 1 and (request := pager.next_request()) is not None:
        take(fetch(*request))
        with closing(_pages_in_parallel(fetch, pager, concurrency)) as pages:
            for page in pages:
                take(page)
    while (request := pager.next_request()) is not None:
        take(fetch(*request))
    if (request := pager.probe_request()) is not None:
        # One page past the announced end: a totalResults too small from the first
        # page on contradicts nothing else, but leaves resources unread.
        pager.accept_probe(fetch(*request))


def _pages_in_parallel(
    fetch: Fetch, pager: Pager, concurrency: int
) -> Generator[ListPage, None, None]:
    """The remaining pages, fetched in parallel, in order, while they are uniform.

    At most two pages per worker are asked for ahead of the one taken: a consumer
    slower than the server holds a few pages, never the listing.
    """
    step = pager.arrived  # what the server really serves per page
    total = pager.total or 0
    if pager.done or step == 0:
        return
    starts = range(pager.start_index, total + 1, step)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        ahead: deque[tuple[int, Future[ListPage]]] = deque()
        try:
            for start in starts:
                ahead.append((start, pool.submit(fetch, start, step)))
                while len(ahead) >= 2 * concurrency or (ahead and start == starts[-1]):
                    first, future = ahead.popleft()
                    page = future.result()
                    if len(page.resources) != min(step, total - first + 1):
                        log.info(
                            "scim.paging_not_uniform",
                            resource_type=pager.resource_type,
                            page_size=step,
                        )
                        return
                    yield page
        finally:
            for _, waiting in ahead:
                waiting.cancel()
