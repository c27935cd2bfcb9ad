"""Member changes in as few PATCHes as the server takes: caps, 413 halving, chunks."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.attributes import member_add_operation, member_remove_operation, patch_body
from reconciler.errors import PayloadTooLargeError
from reconciler.executor.batching import chunks, fits, halve, send_patch, split, weight
from reconciler.scim.writes import WriteRequest, WriteResult

Operation = dict[str, Any]


def adds(count: int, prefix: str = "u") -> Operation:
    return member_add_operation([f"{prefix}{i}" for i in range(count)])


def removes(count: int) -> list[Operation]:
    return [member_remove_operation(f"r{i}") for i in range(count)]


def sizes(parts: list[list[Operation]]) -> list[int]:
    return [sum(weight(op) for op in part) for part in parts]


def test_an_operation_weighs_its_member_references() -> None:
    """An add of n members weighs n; a removal by filter or a rename weighs 1."""
    assert weight(adds(7)) == 7
    assert weight(member_remove_operation("u1")) == 1
    assert weight({"op": "replace", "path": "displayName", "value": "ops"}) == 1


@pytest.mark.parametrize(
    ("operations", "cap", "expected"),
    [
        pytest.param([adds(500), *removes(200)], None, [700], id="no-cap-one-patch"),
        pytest.param([adds(80), *removes(20)], 100, [100], id="at-the-cap-one-patch"),
        pytest.param([adds(250)], 100, [100, 100, 50], id="adds-chunked"),
        pytest.param([adds(150), *removes(60)], 100, [100, 100, 10], id="removes-fill-up"),
        pytest.param([], 100, [], id="nothing-to-send"),
        pytest.param([], None, [], id="nothing-without-cap"),
    ],
)
def test_split_by_cap(operations: list[Operation], cap: int | None, expected: list[int]) -> None:
    """Operations go in one PATCH unless over the cap, then in as few as the cap allows."""
    assert sizes(split(operations, cap)) == expected


def test_split_keeps_every_member_once_and_in_order() -> None:
    """Chunking an add neither loses, repeats nor reorders members."""
    parts = split([adds(250), *removes(3)], 100)
    sent = [m["value"] for part in parts for op in part if op["op"] == "add" for m in op["value"]]
    assert sent == [f"u{i}" for i in range(250)]
    assert [op for part in parts for op in part if op["op"] == "remove"] == removes(3)


def test_halve_splits_the_operations_then_a_single_add() -> None:
    """A PATCH found too large is halved by operations, and a lone add by its members."""
    first, second = halve([adds(2), *removes(3)]) or ([], [])
    assert (len(first), len(second)) == (2, 2)
    assert halve([adds(5)]) == ([adds(2)], [member_add_operation(["u2", "u3", "u4"])])


def test_halve_gives_up_on_what_cannot_be_split() -> None:
    """One removal, or an add of one member, is as small as a PATCH gets."""
    assert halve([member_remove_operation("u1")]) is None
    assert halve([adds(1)]) is None


def test_member_chunks() -> None:
    """Chunks are of the given size, the last one shorter; a list fits under no cap."""
    assert [len(c) for c in chunks(list(range(7)), 3)] == [3, 3, 1]
    assert fits(["u"] * 1000, None)
    assert fits(["u"] * 100, 100)
    assert not fits(["u"] * 101, 100)


class Server:
    """Answers 413 to any PATCH carrying more than ``limit`` member references."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent: list[WriteRequest] = []

    def send(self, request: WriteRequest) -> WriteResult:
        operations = (request.body or {})["Operations"]
        if sum(weight(op) for op in operations) > self.limit:
            raise PayloadTooLargeError(f"PATCH {request.path}: HTTP 413", status=413)
        self.sent.append(request)
        return WriteResult(200, request.resource_id)


def group_patch(operations: list[Operation], if_match: str | None = None) -> WriteRequest:
    return WriteRequest.patch(
        "Groups", "g1", patch_body(operations), if_match=if_match, key="eng", purpose="x"
    )


def test_413_halves_until_accepted_and_sends_every_member_once() -> None:
    """Only a 413 splits the PATCH; in the end each member goes exactly once."""
    server = Server(limit=100)
    send_patch(server.send, group_patch([adds(300), *removes(50)]), None)
    added = [
        m["value"]
        for r in server.sent
        for op in (r.body or {})["Operations"]
        if op["op"] == "add"
        for m in op["value"]
    ]
    assert sorted(added) == sorted(f"u{i}" for i in range(300))
    removed = [
        op for r in server.sent for op in (r.body or {})["Operations"] if op["op"] == "remove"
    ]
    assert len(removed) == 50
    assert len(server.sent) <= 16


def test_only_the_first_patch_carries_if_match() -> None:
    """The first write changes the version: the plan's ETag goes with it and no other."""
    server = Server(limit=1000)
    send_patch(server.send, group_patch([adds(250)], if_match='W/"7"'), 100)
    assert [r.if_match for r in server.sent] == ['W/"7"', None, None]
    assert {(r.key, r.purpose, r.path) for r in server.sent} == {("eng", "x", "/Groups/g1")}


def test_a_patch_too_large_to_split_fails() -> None:
    """A lone removal answered 413 cannot get smaller: the error stands."""
    with pytest.raises(PayloadTooLargeError):
        send_patch(Server(limit=0).send, group_patch(removes(1)), None)


def test_an_empty_patch_is_not_sent() -> None:
    """No operations, no request."""
    server = Server(limit=100)
    send_patch(server.send, group_patch([]), None)
    assert server.sent == []
