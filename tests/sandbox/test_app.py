"""The WSGI app: authentication, routing, media types, CRUD status codes, robustness."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import SandboxApp, SandboxStore, sandbox_base_url, sandbox_transport
from tests.hypothesis_profiles import examples

from .conftest import GroupFactory, UserFactory
from .helpers import SCIM_JSON, patch_body, scim_error, user_body

# Authentication ---------------------------------------------------------------


@pytest.fixture
def guarded(sandbox_db: Path) -> Iterator[httpx.Client]:
    """A client to a sandbox that requires the bearer token "s3cret"."""
    transport = sandbox_transport(sandbox_db, token="s3cret")
    with httpx.Client(base_url=sandbox_base_url(), transport=transport) as c:
        yield c


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer wrong", id="wrong-token"),
        pytest.param("Basic s3cret", id="wrong-scheme"),
    ],
)
def test_token_refused_with_non_scim_body(guarded: httpx.Client, authorization: str | None) -> None:
    """docs/atlassian.md "Errors, rate limits, retries": a refused token is 401 with {"error",
    "traceId"}, not SCIM."""
    headers = {"Authorization": authorization} if authorization else {}
    response = guarded.get("/Users", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "traceId"}
    assert body["traceId"]


def test_token_accepted(guarded: httpx.Client) -> None:
    """docs/atlassian.md "Access": the directory's API key is sent as a bearer token."""
    response = guarded.get("/Users", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200


def test_no_token_configured_means_open(client: httpx.Client) -> None:
    """A sandbox started without a token (the local default) needs no Authorization."""
    assert client.get("/Users").status_code == 200


# Routing and media types ------------------------------------------------------


def test_unknown_route_is_404(client: httpx.Client) -> None:
    """An endpoint the directory does not have answers 404 with a SCIM error body."""
    scim_error(client.get("/Devices"), 404)
    scim_error(client.get("/Users/a/b"), 404)


def test_wrong_method_is_405(client: httpx.Client) -> None:
    """docs/atlassian.md "Endpoints": /Users takes GET and POST only; others get 405 and Allow."""
    response = client.delete("/Users")
    scim_error(response, 405)
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize("content_type", ["application/json", "application/scim+json"])
def test_both_json_media_types_accepted(client: httpx.Client, content_type: str) -> None:
    """docs/atlassian.md "Access": application/json and application/scim+json are both accepted."""
    body = json.dumps(user_body("ann")).encode()
    response = client.post("/Users", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 201
    assert response.headers["content-type"] == SCIM_JSON


def test_other_media_type_is_415(client: httpx.Client) -> None:
    """A body that is declared not to be JSON is refused with 415 rather than guessed at."""
    response = client.post(
        "/Users", content=b"userName=ann", headers={"Content-Type": "text/plain"}
    )
    scim_error(response, 415)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{not json", id="broken"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[" * 100_000, id="deep"),
    ],
)
def test_unparseable_body_is_invalid_syntax(client: httpx.Client, raw: bytes) -> None:
    """RFC 7644 section 3.12: a body that is not a JSON object is 400 invalidSyntax."""
    response = client.post("/Users", content=raw, headers={"Content-Type": SCIM_JSON})
    scim_error(response, 400, "invalidSyntax")


# Users: create, read, replace, delete -----------------------------------------


def test_create_user_answers_201_with_location(client: httpx.Client) -> None:
    """docs/atlassian.md "Endpoints": POST /Users is 201; Location is the new user's URL."""
    response = client.post("/Users", json=user_body("ann"))
    assert response.status_code == 201
    user = response.json()
    assert uuid.UUID(user["id"]).version == 4
    assert response.headers["location"] == user["meta"]["location"]
    assert user["meta"]["location"] == f"{sandbox_base_url()}/Users/{user['id']}"


def test_get_user_by_id(client: httpx.Client, new_user: UserFactory) -> None:
    """RFC 7644 section 3.4.1: GET /Users/{id} returns the resource as created."""
    created = new_user("ann")
    response = client.get(f"/Users/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_get_unknown_user_is_404(client: httpx.Client) -> None:
    """RFC 7644 section 3.12: an id that does not exist is 404."""
    detail = scim_error(client.get(f"/Users/{uuid.uuid4()}"), 404)
    assert "[USER]" in detail


def test_put_replaces_and_clears_omitted(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": PUT replaces; attributes left out are cleared, id/meta kept."""
    created = new_user("ann", title="Engineer", displayName="Ann")
    body = user_body("ann", displayName="Ann B.")
    response = client.put(f"/Users/{created['id']}", json=body)
    assert response.status_code == 200
    replaced = response.json()
    assert "title" not in replaced
    assert replaced["displayName"] == "Ann B."
    assert replaced["id"] == created["id"]
    assert replaced["meta"]["created"] == created["meta"]["created"]
    account = "urn:scim:schemas:extension:atlassian-external:1.0"
    assert replaced[account] == created[account]


def test_put_unknown_user_is_404(client: httpx.Client) -> None:
    """RFC 7644 section 3.5.1: replacing a resource that does not exist is 404."""
    scim_error(client.put(f"/Users/{uuid.uuid4()}", json=user_body("ann")), 404)


def test_put_must_keep_user_valid(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": a PUT without the one primary email is refused like a create."""
    created = new_user("ann")
    response = client.put(f"/Users/{created['id']}", json={"userName": "ann"})
    scim_error(response, 400, "invalidValue")


def test_delete_user(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Users" (newer docs): DELETE removes the record; later calls get 404."""
    created = new_user("ann")
    response = client.delete(f"/Users/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    scim_error(client.get(f"/Users/{created['id']}"), 404)
    scim_error(client.delete(f"/Users/{created['id']}"), 404)


def test_recreated_user_gets_new_id(client: httpx.Client, new_user: UserFactory) -> None:
    """docs/atlassian.md "Users": after a DELETE, a re-create gets a new id."""
    first = new_user("ann")
    client.delete(f"/Users/{first['id']}")
    assert new_user("ann")["id"] != first["id"]


# Groups: create, read, replace, delete ----------------------------------------


def test_create_group_with_members(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """docs/atlassian.md "Groups": members are {"value": "<SCIM user id>"}; POST is 201."""
    ann = new_user("ann")
    group = new_group("Engineering", ann["id"])
    assert [m["value"] for m in group["members"]] == [ann["id"]]
    assert client.get(f"/Groups/{group['id']}").json() == group


def test_group_needs_display_name(client: httpx.Client) -> None:
    """docs/atlassian.md "Groups": displayName is required."""
    scim_error(client.post("/Groups", json={"members": []}), 400, "invalidValue")
    scim_error(client.post("/Groups", json={"displayName": "  "}), 400, "invalidValue")


def test_group_name_unique_case_insensitive(client: httpx.Client, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Groups": displayName is unique in the organization, case-insensitively."""
    new_group("Engineering")
    detail = scim_error(
        client.post("/Groups", json={"displayName": "ENGINEERING"}), 409, "uniqueness"
    )
    assert detail == "Resource [GROUP]: with displayName[ENGINEERING] already exists"


def test_create_group_with_unknown_member_is_400(client: httpx.Client) -> None:
    """docs/atlassian.md "Groups": a full member list naming an unknown user is refused (400)."""
    body = {"displayName": "Eng", "members": [{"value": str(uuid.uuid4())}]}
    scim_error(client.post("/Groups", json=body), 400, "invalidValue")
    assert client.get("/Groups").json()["totalResults"] == 0


def test_put_group_replaces_members(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """RFC 7644 section 3.5.1: PUT replaces the member list with the one sent."""
    ann, bob = new_user("ann"), new_user("bob")
    group = new_group("Eng", ann["id"])
    body = {"displayName": "Eng", "members": [{"value": bob["id"]}]}
    response = client.put(f"/Groups/{group['id']}", json=body)
    assert response.status_code == 200
    assert [m["value"] for m in response.json()["members"]] == [bob["id"]]


def test_put_group_unknown_member_is_400(client: httpx.Client, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Groups": PUT with unknown member ids fails with 400."""
    group = new_group("Eng")
    body = {"displayName": "Eng", "members": [{"value": "no-such-user"}]}
    scim_error(client.put(f"/Groups/{group['id']}", json=body), 400, "invalidValue")


def test_put_group_cannot_rename(client: httpx.Client, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Groups": displayName is immutable, also through PUT (400 mutability)."""
    group = new_group("Eng")
    scim_error(client.put(f"/Groups/{group['id']}", json={"displayName": "Ops"}), 400, "mutability")


def test_delete_group(client: httpx.Client, new_user: UserFactory, new_group: GroupFactory) -> None:
    """docs/atlassian.md "Groups": DELETE removes the group, and with it the user's membership."""
    ann = new_user("ann")
    group = new_group("Eng", ann["id"])
    assert client.delete(f"/Groups/{group['id']}").status_code == 204
    scim_error(client.get(f"/Groups/{group['id']}"), 404)
    assert "groups" not in client.get(f"/Users/{ann['id']}").json()


def test_deleting_a_user_removes_its_memberships(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """A deleted user no longer appears among any group's members."""
    ann, bob = new_user("ann"), new_user("bob")
    group = new_group("Eng", ann["id"], bob["id"])
    client.delete(f"/Users/{ann['id']}")
    members = client.get(f"/Groups/{group['id']}").json()["members"]
    assert [m["value"] for m in members] == [bob["id"]]


def test_user_groups_computed_from_memberships(
    client: httpx.Client, new_user: UserFactory, new_group: GroupFactory
) -> None:
    """docs/atlassian.md "Users": groups on a user is read-only, derived from group members."""
    ann = new_user("ann")
    eng = new_group("Eng", ann["id"])
    groups = client.get(f"/Users/{ann['id']}").json()["groups"]
    assert groups == [
        {
            "value": eng["id"],
            "display": "Eng",
            "type": "direct",
            "$ref": f"{sandbox_base_url()}/Groups/{eng['id']}",
        }
    ]


def test_app_is_a_plain_wsgi_callable(sandbox_db: Path) -> None:
    """SandboxApp works with any WSGI driver, here httpx.WSGITransport directly."""
    with SandboxStore(sandbox_db) as store:
        app = SandboxApp(store)
        transport = httpx.WSGITransport(app=app)
        with httpx.Client(transport=transport, base_url="http://x/scim/directory/sandbox") as c:
            response = c.get("/ServiceProviderConfig")
    assert response.status_code == 200
    assert response.json()["meta"]["location"].startswith("http://x/scim/directory/sandbox/")


# Robustness: no client input crashes the app -----------------------------------

_ATTRIBUTE_NAMES = st.sampled_from(
    [
        "userName",
        "emails",
        "name",
        "givenName",
        "active",
        "value",
        "primary",
        "members",
        "displayName",
        "Operations",
        "op",
        "path",
        "externalId",
        "groups",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:scim:schemas:extension:atlassian-external:1.0",
    ]
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["add", "replace", "remove", 'members[value eq "x"]', "emails[", "\ud800"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_ATTRIBUTE_NAMES | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=20,
)
_PATHS = st.sampled_from(
    [
        "name.givenName",
        "emails",
        'emails[type eq "work"].value',
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "members",
        'members[value eq "x"]',
        "active",
        "title",
    ]
) | st.text(max_size=12)


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=_JSON, op=st.sampled_from(["add", "replace", "remove", "Move"]), path=_PATHS)
def test_random_input_never_crashes(
    client: httpx.Client, new_user: UserFactory, body: Any, op: str, path: str
) -> None:
    """Whatever a client sends, the sandbox answers (never a traceback), and never 5xx."""
    user = new_user(f"u{uuid.uuid4().hex[:12]}")
    group = client.post("/Groups", json={"displayName": uuid.uuid4().hex}).json()
    operation = {"op": op, "path": path, "value": body}
    requests = [
        ("POST", "/Users", body),
        ("POST", "/Groups", body),
        ("PUT", f"/Users/{user['id']}", body),
        ("PUT", f"/Groups/{group['id']}", body),
        ("PATCH", f"/Users/{user['id']}", body),
        ("PATCH", f"/Users/{user['id']}", patch_body(operation)),
        ("PATCH", f"/Groups/{group['id']}", patch_body(operation)),
    ]
    for method, url, payload in requests:
        content = json.dumps(payload).encode()
        response = client.request(method, url, content=content, headers={"Content-Type": SCIM_JSON})
        assert response.status_code < 500, response.text
    literal = json.dumps(body)
    for text in (f"userName eq {literal}", literal, f"{json.dumps(path)[1:-1]} eq {literal}"):
        for endpoint in ("/Users", "/Groups"):
            params = {"filter": text, "startIndex": json.dumps(path), "count": literal[:30]}
            assert client.get(endpoint, params=params).status_code < 500
