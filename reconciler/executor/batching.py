"""Member changes in as few PATCHes as the server takes.

Atlassian documents no cap on member references per request, so by default a
group's member changes go in one PATCH. With a cap (``member_chunk``), they are
split into as few PATCHes as it allows. Whatever the cap, a PATCH the server
answers 413 is halved and sent again: the only way a server "demands" smaller
requests that we can see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from reconciler.attributes import member_add_operation, patch_body
from reconciler.errors import PayloadTooLargeError
from reconciler.scim.writes import WriteRequest, WriteResult

Operation = dict[str, Any]
# Sends one write and raises its error, if any.
Send = Callable[[WriteRequest], WriteResult]


def weight(operation: Operation) -> int:
    """How many member references an operation carries."""
    value = operation.get("value")
    return len(value) if operation.get("path") == "members" and isinstance(value, list) else 1


def fits(member_ids: list[str], cap: int | None) -> bool:
    """Whether this many member references may go in one request."""
    return cap is None or len(member_ids) <= cap


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def split(operations: list[Operation], cap: int | None) -> list[list[Operation]]:
    """All operations in one PATCH, or split to at most ``cap`` member references each."""
    if cap is None or sum(weight(op) for op in operations) <= cap:
        return [operations] if operations else []
    flat: list[Operation] = []
    for op in operations:
        if weight(op) > cap and op.get("op") == "add":
            flat += [
                member_add_operation([m["value"] for m in chunk])
                for chunk in chunks(op["value"], cap)
            ]
        else:
            flat.append(op)
    parts: list[list[Operation]] = []
    total = 0
    for op in flat:
        if parts and total + weight(op) <= cap:
            parts[-1].append(op)
            total += weight(op)
        else:
            parts.append([op])
            total = weight(op)
    return parts


def halve(operations: list[Operation]) -> tuple[list[Operation], list[Operation]] | None:
    """Split a PATCH the server found too large in two, or None when it cannot be split."""
    if len(operations) > 1:
        middle = len(operations) // 2
        return operations[:middle], operations[middle:]
    (op,) = operations
    if weight(op) > 1 and op.get("op") == "add":
        ids = [m["value"] for m in op["value"]]
        middle = len(ids) // 2
        return [member_add_operation(ids[:middle])], [member_add_operation(ids[middle:])]
    return None


def send_patch(send: Send, request: WriteRequest, cap: int | None) -> None:
    """Send a PATCH split to at most ``cap`` member references per request.

    Only the first request carries the PATCH's If-Match: it changes the version, so
    the one the plan was made against is spent. A PATCH without operations is not sent.
    """
    if_match = request.if_match
    for part in split(_operations(request), cap):
        _send_halving(send, replace(request, body=patch_body(part), if_match=if_match))
        if_match = None


def _send_halving(send: Send, request: WriteRequest) -> None:
    """One PATCH; halved and sent again only when the server says it is too large."""
    try:
        send(request)
    except PayloadTooLargeError:
        halves = halve(_operations(request))
        if halves is None:
            raise
        if_match = request.if_match
        for half in halves:
            _send_halving(send, replace(request, body=patch_body(half), if_match=if_match))
            if_match = None


def _operations(request: WriteRequest) -> list[Operation]:
    operations = (request.body or {}).get("Operations")
    assert isinstance(operations, list), f"{request.method} {request.path} is no PatchOp"
    return operations
