"""Writers: writes as data through the SCIM client (httpx.MockTransport), and the dry run."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from reconciler.dialect import GENERIC
from reconciler.errors import ConflictError
from reconciler.executor import Executor, RecordingWriter, ScimWriter, WriteRequest
from reconciler.plan import Action, ActionKind, Change, Plan, Resource
from reconciler.report import Outcome
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import RetryPolicy

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def writer_for(handler: Any) -> ScimWriter:
    client = ScimClient(
        "https://scim.example.test/v2",
        token="t0ken",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=4, base_delay=0.0, sleep=lambda s: None),
    )
    return ScimWriter(client)


def conflict_then(existing: dict[str, Any] | None) -> Any:
    """A server where every POST answers 409 and the lookup finds ``existing``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"status": "409", "scimType": "uniqueness"})
        found = [existing] if existing else []
        return httpx.Response(200, json={"totalResults": len(found), "Resources": found})

    return handler


def new_user(external_id: str | None = "emp-1") -> WriteRequest:
    body: dict[str, Any] = {"schemas": [USER], "userName": "ann@example.com"}
    if external_id is not None:
        body["externalId"] = external_id
    return WriteRequest.post("Users", body, key="ann@example.com", purpose="create user")


def test_a_503_then_200_is_one_write_in_two_attempts() -> None:
    """Retries live in the client: the result says how many attempts the write took."""
    answers = iter(
        [
            httpx.Response(503, json={"status": "503", "detail": "busy"}),
            httpx.Response(200, json={"id": "u1", "userName": "ann@example.com"}),
        ]
    )
    writer = writer_for(lambda request: next(answers))
    body = {"Operations": [{"op": "replace", "path": "title", "value": "CTO"}]}
    result = writer.write(WriteRequest.patch("Users", "u1", body))
    assert (result.status, result.id, result.attempts, result.error) == (200, "u1", 2, None)


def test_a_create_returns_the_new_id() -> None:
    """A 201 names the created resource."""
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"id": "u9", **sent[-1]})

    result = writer_for(handler).write(new_user())
    assert (result.status, result.id, result.adopted, result.attempts) == (201, "u9", False, 1)
    assert sent[0]["externalId"] == "emp-1"


def test_409_takes_over_the_account_with_the_externalid_the_create_sent() -> None:
    """The existing account is the one an earlier, stopped run made: it is taken over."""
    existing = {"id": "u1", "userName": "ann@example.com", "externalId": "emp-1"}
    result = writer_for(conflict_then(existing)).write(new_user())
    assert (result.id, result.adopted, result.error, result.status) == ("u1", True, None, 409)


def test_409_on_an_account_with_another_externalid_is_not_taken_over() -> None:
    """Someone else's account took the name: taking it over is an adoption a person
    approves in a plan (docs/identity.md), so the write fails."""
    existing = {"id": "u1", "userName": "ann@example.com", "externalId": "emp-2"}
    result = writer_for(conflict_then(existing)).write(new_user())
    assert isinstance(result.error, ConflictError)
    assert "not taken over" in str(result.error)
    assert (result.id, result.adopted) == (None, False)


@pytest.mark.parametrize(
    ("adopt", "active", "taken_over"),
    [
        pytest.param("never", True, False, id="never"),
        pytest.param("never", False, False, id="never-deactivated"),
        pytest.param("inactive", True, False, id="inactive-but-active"),
        pytest.param("inactive", False, True, id="inactive-deactivated"),
        pytest.param("always", True, True, id="always"),
    ],
)
def test_409_without_an_externalid_sent_takes_over_only_as_the_adopt_policy_allows(
    adopt: str, active: bool, taken_over: bool
) -> None:
    """A create that sent no externalId cannot show the account is the one meant: it is
    taken over only as policy.users.adopt allows, else the write fails and says why."""
    existing = {"id": "u1", "userName": "Ann@Example.com", "active": active}
    writer = writer_for(conflict_then(existing))
    writer.adopt = adopt
    result = writer.write(new_user(external_id=None))
    if taken_over:
        assert (result.id, result.adopted, result.error) == ("u1", True, None)
    else:
        assert isinstance(result.error, ConflictError)
        assert f"not taken over (policy.users.adopt: {adopt})" in str(result.error)
        assert (result.id, result.adopted) == (None, False)


def test_409_that_no_lookup_explains_stays_a_conflict() -> None:
    """A 409 with nothing found under the name is the server's conflict, as it said it."""
    result = writer_for(conflict_then(None)).write(new_user())
    assert isinstance(result.error, ConflictError)
    assert (result.status, result.adopted) == (409, False)


def test_the_dry_run_records_requests_and_sends_nothing() -> None:
    """RecordingWriter keeps every request; a create gets a placeholder id."""
    writer = RecordingWriter()
    created = writer.write(new_user())
    deleted = writer.write(WriteRequest.delete("Groups", "g1", if_match='W/"2"'))
    assert (created.id, created.status, created.attempts) == ("(new ann@example.com)", None, 1)
    assert deleted.id == "g1"
    assert [(r.method, r.path, r.if_match) for r in writer.requests] == [
        ("POST", "/Users", None),
        ("DELETE", "/Groups/g1", 'W/"2"'),
    ]


def test_conflict_on_create_adopts_the_existing_user_when_keyed_by_external_id() -> None:
    """With ``key: externalId`` a 409 on create must adopt the user, as with userName keys.

    Expected (docs/design.md "Safety model": writes, a 409 on create takes over the
    existing object): the executor finds the existing user and the action is applied
    with its id. Actual: ``ScimWriter._find`` searches ``userName eq "emp-1"`` (the
    action key is the externalId), finds nothing and the create fails; the same lookup
    is used before a retry after a timeout.
    """
    existing = {
        "schemas": [USER],
        "id": "u1",
        "userName": "alice@example.com",
        "externalId": "emp-1",
        "emails": [{"value": "alice@example.com", "type": "work", "primary": True}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(
                409, json={"status": "409", "scimType": "uniqueness", "detail": "exists"}
            )
        if request.method == "GET":
            match = re.fullmatch(r'(\w+) eq "(.*)"', request.url.params["filter"])
            assert match is not None
            attr, value = match.groups()
            if attr == "userName":
                hit = existing["userName"].casefold() == value.casefold()
            else:
                hit = existing.get(attr) == value
            found = [existing] if hit else []
            return httpx.Response(200, json={"totalResults": len(found), "Resources": found})
        return httpx.Response(204)

    action = Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key="emp-1",
        changes=(
            Change(path="externalId", after="emp-1"),
            Change(path="userName", after="alice@example.com"),
        ),
    )
    plan_ = Plan(target="t", dialect="generic", user_key="externalId", actions=(action,))
    report = Executor(writer_for(handler), dialect=GENERIC).execute(plan_)
    assert report.results[0].outcome is Outcome.APPLIED, report.results[0].reason
    assert report.results[0].id == "u1"


def test_created_resource_without_id_fails_the_action_not_the_run() -> None:
    """A 201 whose body has no ``id`` must fail that action, not crash the whole apply.

    Expected: the action ends FAILED with a reason and the report is produced.
    Actual: ``str(created["id"])`` raises KeyError, which ``_run`` does not catch
    (only ReconcilerError), so ``execute`` raises, other actions' outcomes are lost
    and the CLI prints a traceback and exits 1 ("nothing was changed") after writes.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json={"schemas": [USER], "userName": "a@x.test"})
        return httpx.Response(200, json={"totalResults": 0, "Resources": []})

    action = Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key="a@x.test",
        changes=(Change(path="userName", after="a@x.test"),),
    )
    plan_ = Plan(target="t", dialect="generic", actions=(action,))
    report = Executor(writer_for(handler), dialect=GENERIC).execute(plan_)
    assert report.results[0].outcome is Outcome.FAILED
