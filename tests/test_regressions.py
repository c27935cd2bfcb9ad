"""Regressions found in review, at unit level: each test states the behaviour it guards.

Protocol edges (redirects to writes, ids missing from creates), retries that must not
make twins, adoption with key: externalId, limits counted over what is managed, and
userNames that only casefold() would confuse.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import httpx
import pytest

from reconciler.desired import DesiredState, Policy, UserSpec, UsersPolicy
from reconciler.errors import ScimError
from reconciler.executor import Executor, ScimWriter
from reconciler.live import LiveSnapshot, LiveUser
from reconciler.plan import Action, ActionKind, Change, Plan, Resource
from reconciler.planner import PlanContext, plan
from reconciler.report import Outcome
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import RetryPolicy

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
_FILTER = re.compile(r'^(\w+) eq "(.*)"$')


def client_with(handler: Any, attempts: int = 3) -> ScimClient:
    return ScimClient(
        "https://scim.example.test/v2",
        token="t0ken",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=attempts, base_delay=0.0, sleep=lambda s: None),
    )


def list_response(resources: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(
        200, json={"totalResults": len(resources), "Resources": resources, "startIndex": 1}
    )


def live_user(uid: str, user_name: str, **attrs: Any) -> LiveUser:
    return LiveUser.from_scim(
        {"schemas": [USER_SCHEMA], "id": uid, "userName": user_name, "active": True, **attrs}
    )


# --- client: a redirect is not a successful write ------------------------------------


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_redirect_answer_to_a_write_is_not_success(method: str) -> None:
    """A write answered 302 (SSO proxy, http->https, trailing-slash redirect) did not happen.

    Expected: the client raises a ScimError, so the action is reported failed (exit 4).
    Actual: ``check()`` treats every status below 400 as success, so the action is
    reported applied and apply exits 0 although nothing was written.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://login.example.test/sso"})

    client = client_with(handler)

    def write() -> None:
        if method == "PATCH":
            client.patch("Users", "u1", {"Operations": [{"op": "replace", "path": "active"}]})
        else:
            client.delete("Groups", "g1")

    with pytest.raises(ScimError):
        write()


# --- executor: 409 adoption with policy.users.key: externalId ------------------------


def test_conflict_on_create_adopts_the_existing_user_when_keyed_by_external_id() -> None:
    """With ``key: externalId`` a 409 on create must adopt the user, as with userName keys.

    Expected (DESIGN.md "409 on create adopts the existing object"): the executor finds
    the existing user and the action is applied with its id. Actual: ``ScimWriter._find``
    searches ``userName eq "emp-1"`` (the action key is the externalId), finds nothing
    and the create fails; the same lookup is used before a retry after a timeout.
    """
    existing = {
        "schemas": [USER_SCHEMA],
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
            attr, value = _FILTER.match(request.url.params["filter"]).groups()  # type: ignore[union-attr]
            if attr == "userName":
                hit = existing["userName"].casefold() == value.casefold()
            else:
                hit = existing.get(attr) == value
            return list_response([existing] if hit else [])
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
    report = Executor(ScimWriter(client_with(handler))).execute(plan_)
    assert report.results[0].outcome is Outcome.APPLIED, report.results[0].reason
    assert report.results[0].id == "u1"


# --- client: a failed lookup before a create retry ------------------------------------


def test_create_is_not_retried_when_the_lookup_for_a_landed_post_fails() -> None:
    """A POST whose outcome is unknown must not be re-sent unless the lookup said "absent".

    Expected (DESIGN.md "a retry never makes a duplicate"): when the lookup itself
    fails (here 503 on the filter GET), the create stops with an error and one group
    exists. Actual: ``lookup`` swallows the ScimError, returns None, and the POST is
    sent again; on servers where group names are not unique (scim2-server) that
    makes a duplicate group, which every later plan leaves alone as ambiguous.
    """
    groups: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            body = json.loads(request.content)
            groups.append({"id": f"g{len(groups) + 1}", **body})
            if len(groups) == 1:
                raise httpx.ReadTimeout("timed out after the request was processed")
            return httpx.Response(201, json=groups[-1])
        return httpx.Response(503, json={"status": "503", "detail": "busy"})

    client = client_with(handler)
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "eng"}
    writer = ScimWriter(client)
    with contextlib.suppress(ScimError):
        writer.create("Groups", body, "eng", [])
    assert len(groups) == 1, f"{len(groups)} groups named eng were created"


# --- executor: a created resource without an id --------------------------------------


def test_created_resource_without_id_fails_the_action_not_the_run() -> None:
    """A 201 whose body has no ``id`` must fail that action, not crash the whole apply.

    Expected: the action ends FAILED with a reason and the report is produced.
    Actual: ``str(created["id"])`` raises KeyError, which ``_run`` does not catch
    (only ReconcilerError), so ``execute`` raises, other actions' outcomes are lost
    and the CLI prints a traceback and exits 1 ("nothing was changed") after writes.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json={"schemas": [USER_SCHEMA], "userName": "a@x.test"})
        return list_response([])

    action = Action(
        resource=Resource.USER,
        action=ActionKind.CREATE,
        key="a@x.test",
        changes=(Change(path="userName", after="a@x.test"),),
    )
    plan_ = Plan(target="t", dialect="generic", actions=(action,))
    report = Executor(ScimWriter(client_with(handler))).execute(plan_)
    assert report.results[0].outcome is Outcome.FAILED


# --- limits: the percent base counts users the plan can never manage -----------------


def test_percent_limit_base_excludes_users_that_cannot_be_matched() -> None:
    """With ``key: externalId``, live users without an externalId are not managed objects.

    Expected (DESIGN.md: percent limits are of the *managed* live objects): 10 users
    with externalIds, 90 without, files list none of them, ``unmanaged: deactivate``:
    10 deactivations against a base of 10 managed users is over "10%" and blocked.
    Actual: the base is all 100 in-scope users, 10% of 100 = 10, so deactivating
    every managed user passes the brake.
    """
    users = [live_user(f"k{i}", f"keyed{i}@example.com", externalId=f"e{i}") for i in range(10)]
    users += [live_user(f"n{i}", f"legacy{i}@example.com") for i in range(90)]
    policy = Policy(users=UsersPolicy(key="externalId", unmanaged="deactivate"))
    state = DesiredState(policy=policy)
    result = plan(state, LiveSnapshot(users=tuple(users)), PlanContext("t", "generic"))
    assert sum(a.action is ActionKind.DEACTIVATE for a in result.actions) == 10
    assert [b.limit for b in result.blocked] == ["max_deactivations"]


# --- planner: casefold() is not the directory's case-insensitivity -------------------


def test_user_names_that_only_casefold_equal_are_different_users() -> None:
    """``straße@…`` and ``strasse@…`` are two accounts (scim2-server accepts both).

    Expected: the file's ``strasse@example.com`` is created; the live
    ``straße@example.com`` is not touched. Actual: the planner folds keys with
    ``str.casefold()`` (ß -> ss), matches the file's user to the other person's account
    and plans an update of *that* account (userName counted as unchanged).
    """
    live = LiveSnapshot(users=(live_user("u1", "straße@example.com", displayName="Anna"),))
    state = DesiredState(users=(UserSpec(userName="strasse@example.com", displayName="Bert"),))
    result = plan(state, live, PlanContext("t", "generic"))
    assert [(a.action, a.id) for a in result.actions] == [(ActionKind.CREATE, None)]
