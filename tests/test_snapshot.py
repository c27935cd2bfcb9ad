"""Reading the live directory: complete, never planned from groups without members, and read
again when it changed during the read."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from reconciler.attributes import LIVE_PATHS
from reconciler.errors import InconsistentReadError, ListingChangedError, ServerError
from reconciler.live import LiveSnapshot
from reconciler.sandbox import (
    FaultConfig,
    SandboxStore,
    sandbox_base_url,
    sandbox_transport,
)
from reconciler.scim.client import ScimClient
from reconciler.scim.retry import RetryPolicy
from reconciler.snapshot import narrowed, read_snapshot
from tests.conftest import SCIM2_SERVER_TOKEN

Handler = Callable[[httpx.Request], httpx.Response]


class Counting(httpx.BaseTransport):
    """Passes requests on and remembers each path (without the base path)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []
        self.queries: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path.removeprefix("/scim/directory/sandbox"))
        self.queries.append(request.url.query.decode())
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def seeded(db: Path, *, empty_group: bool, empty_groups: int = 1) -> dict[str, set[str]]:
    """Five users and a group with three of them, and ``empty_groups`` empty groups when
    ``empty_group``. Group name -> member ids."""
    expected = {}
    with SandboxStore(db) as store:
        ids = store.seed_users(5, prefix="u", domain="example.com")
        store.create_group({"displayName": "eng"}, ids[:3])
        expected["eng"] = set(ids[:3])
        for n in range(empty_groups if empty_group else 0):
            name = "empty" if n == 0 else f"empty{n}"
            store.create_group({"displayName": name}, [])
            expected[name] = set()
    return expected


def read(db: Path, faults: FaultConfig | None = None) -> tuple[dict[str, set[str]], list[str]]:
    """Group name -> member ids as read, and the paths requested."""
    transport = Counting(sandbox_transport(db, faults=faults))
    with ScimClient(sandbox_base_url(), transport=transport) as client:
        live = read_snapshot(client, page_size=100)
    return {g.displayName: set(g.member_ids) for g in live.groups}, transport.paths


def test_groups_listed_without_members_are_read_one_by_one(tmp_path: Path) -> None:
    """A group listing that leaves out members costs one GET per such group, and loses nobody."""
    expected = seeded(tmp_path / "s.db", empty_group=True)
    groups, paths = read(tmp_path / "s.db", FaultConfig(lists_without_members=True))
    assert groups == expected
    assert len([p for p in paths if p.startswith("/Groups/")]) == 2


def test_groups_listed_with_members_are_not_read_again(tmp_path: Path) -> None:
    """Listings that show members cost one request per page plus one probe per listing."""
    expected = seeded(tmp_path / "s.db", empty_group=False)
    groups, paths = read(tmp_path / "s.db")
    assert groups == expected
    assert paths == ["/Users", "/Users", "/Groups", "/Groups"]


def test_empty_groups_cost_one_single_read_on_a_server_that_lists_members(
    tmp_path: Path,
) -> None:
    """The sandbox lists members and leaves the key out of empty groups (RFC 7643 section
    2.5): one empty group is read alone to check that, the other four are taken as empty."""
    expected = seeded(tmp_path / "s.db", empty_group=True, empty_groups=5)
    with capture_logs() as events:
        groups, paths = read(tmp_path / "s.db")
    assert groups == expected
    assert len([p for p in paths if p.startswith("/Groups/")]) == 1
    (summary,) = [e for e in events if e["event"] == "read"]
    assert (summary["groups_read_alone"], summary["groups_listed_empty"]) == (1, 4)


def test_empty_groups_on_scim2_server_cost_one_single_read(scim2_tenant: str) -> None:
    """scim2-server, too, lists members and leaves the key out of empty groups: three empty
    groups and one with members are read with one GET /Groups/{id}, and read right."""
    auth = {"Authorization": f"Bearer {SCIM2_SERVER_TOKEN}"}
    user_schema = "urn:ietf:params:scim:schemas:core:2.0:User"
    group_schema = "urn:ietf:params:scim:schemas:core:2.0:Group"
    with httpx.Client(base_url=scim2_tenant + "/", headers=auth, timeout=10) as http:
        ann = http.post("Users", json={"schemas": [user_schema], "userName": "ann"}).json()
        members = [{"value": ann["id"]}]
        body = {"schemas": [group_schema], "displayName": "eng", "members": members}
        assert http.post("Groups", json=body).status_code == 201
        for name in ("a", "b", "c"):
            body = {"schemas": [group_schema], "displayName": name}
            assert http.post("Groups", json=body).status_code == 201
    transport = Counting(httpx.HTTPTransport())
    with ScimClient(scim2_tenant, token=SCIM2_SERVER_TOKEN, transport=transport) as client:
        live = read_snapshot(client, page_size=100)
    assert {g.displayName: set(g.member_ids) for g in live.groups} == {
        "eng": {ann["id"]},
        "a": set(),
        "b": set(),
        "c": set(),
    }
    assert len([p for p in transport.paths if "/Groups/" in p]) == 1


def listing(groups: list[dict[str, object]], single: Handler) -> Handler:
    """A server that lists ``groups`` (no users); ``single`` answers GET /Groups/{id}."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/Users"):
            return httpx.Response(200, json={"totalResults": 0, "Resources": []})
        if path.endswith("/Groups"):
            start = int(request.url.params["startIndex"])
            page = groups[start - 1 :]
            return httpx.Response(200, json={"totalResults": len(groups), "Resources": page})
        return single(request)

    return handle


def read_listing(
    groups: list[dict[str, object]], members: dict[str, list[str]]
) -> tuple[dict[str, set[str]], list[str]]:
    """Read a MockTransport server that lists ``groups`` and answers each one alone with
    ``members`` (group id -> member ids): group name -> member ids, and the ids read alone."""
    names = {str(g["id"]): str(g["displayName"]) for g in groups}
    alone: list[str] = []

    def single(request: httpx.Request) -> httpx.Response:
        rid = request.url.path.rsplit("/", 1)[1]
        alone.append(rid)
        body: dict[str, object] = {"id": rid, "displayName": names[rid]}
        if members.get(rid):
            body["members"] = [{"value": m} for m in members[rid]]
        return httpx.Response(200, json=body)

    client = ScimClient(
        "https://scim.example.test/v2", transport=httpx.MockTransport(listing(groups, single))
    )
    with client:
        live = read_snapshot(client, page_size=100)
    return {g.displayName: set(g.member_ids) for g in live.groups}, alone


def test_groups_left_out_of_a_listing_that_lists_members_are_all_read_when_one_has_members() -> (
    None
):
    """A server that lists the members of small groups and leaves big ones out: the group
    read to check has members, so every group listed without the key is read alone."""
    groups: list[dict[str, object]] = [
        {"id": "g1", "displayName": "small", "members": [{"value": "u1"}]},
        {"id": "g2", "displayName": "big"},
        {"id": "g3", "displayName": "bigger"},
    ]
    read, alone = read_listing(groups, {"g2": ["u1", "u2"], "g3": ["u3"]})
    assert read == {"small": {"u1"}, "big": {"u1", "u2"}, "bigger": {"u3"}}
    assert sorted(alone) == ["g2", "g3"]


def test_a_listing_that_shows_empty_members_has_every_group_without_the_key_read() -> None:
    """A listing that writes ``members: []`` for an empty group left the key out of the
    others for a reason: each is read alone, whatever the first one's answer says."""
    groups: list[dict[str, object]] = [
        {"id": "g1", "displayName": "eng", "members": [{"value": "u1"}]},
        {"id": "g2", "displayName": "none", "members": []},
        {"id": "g3", "displayName": "quiet"},
        {"id": "g4", "displayName": "big"},
    ]
    read, alone = read_listing(groups, {"g4": ["u1", "u2"]})
    assert read == {"eng": {"u1"}, "none": set(), "quiet": set(), "big": {"u1", "u2"}}
    assert sorted(alone) == ["g3", "g4"]


def test_a_listing_that_shows_no_members_at_all_has_every_group_read() -> None:
    """Without a single group's members in the listing, nothing says what a missing key
    means (all groups empty, or members left out): each group is read alone."""
    groups: list[dict[str, object]] = [
        {"id": "g1", "displayName": "quiet"},
        {"id": "g2", "displayName": "big"},
    ]
    read, alone = read_listing(groups, {"g2": ["u1"]})
    assert read == {"quiet": set(), "big": {"u1"}}
    assert sorted(alone) == ["g1", "g2"]


def listing_without_members(single: Handler) -> Handler:
    """A server whose group listing leaves members out; ``single`` answers GET /Groups/g1."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/Users"):
            return httpx.Response(200, json={"totalResults": 0, "Resources": []})
        if path.endswith("/Groups"):
            listed = [{"id": "g1", "displayName": "eng"}]
            start = int(request.url.params["startIndex"])
            return httpx.Response(200, json={"totalResults": 1, "Resources": listed[start - 1 :]})
        return single(request)

    return handle


@pytest.mark.parametrize(
    ("single", "error", "message"),
    [
        pytest.param(
            lambda r: httpx.Response(404, json={"detail": "gone"}),
            InconsistentReadError,
            "could not be read on its own",
            id="gone",
        ),
        pytest.param(
            lambda r: httpx.Response(200, json={"id": "g2", "displayName": "ops"}),
            InconsistentReadError,
            "could not be read on its own",
            id="another-group",
        ),
        pytest.param(
            lambda r: httpx.Response(503, json={"detail": "busy"}),
            ServerError,
            "busy",
            id="fails",
        ),
    ],
)
def test_group_that_cannot_be_read_alone_fails_the_read(
    single: Handler, error: type[Exception], message: str
) -> None:
    """Members are never taken as empty from a listing that left them out: fail closed."""
    client = ScimClient(
        "https://scim.example.test/v2",
        transport=httpx.MockTransport(listing_without_members(single)),
        retry=RetryPolicy(attempts=2, sleep=lambda s: None),
    )
    with client, pytest.raises(error, match=message):
        read_snapshot(client, page_size=100)


def test_group_read_alone_gives_its_members() -> None:
    """The group's own answer is the group: its members are planned from there."""
    single = httpx.Response(
        200, json={"id": "g1", "displayName": "eng", "members": [{"value": "u1"}]}
    )
    client = ScimClient(
        "https://scim.example.test/v2",
        transport=httpx.MockTransport(listing_without_members(lambda r: single)),
    )
    with client:
        live = read_snapshot(client, page_size=100)
    assert [set(g.member_ids) for g in live.groups] == [{"u1"}]


# -- a directory written to while it is read --------------------------------------------

Write = Callable[[httpx.Client], object]
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


class IdentityProvider:
    """Writes to the sandbox from its own thread and connection, as an IdP does during a read."""

    def __init__(self, db: Path) -> None:
        self._jobs: queue.Queue[Write | None] = queue.Queue()
        self._done: queue.Queue[httpx.HTTPError | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(db,), daemon=True)
        self._thread.start()
        self.added = 0

    def _run(self, db: Path) -> None:
        base = sandbox_base_url() + "/"
        with httpx.Client(base_url=base, transport=sandbox_transport(db)) as http:
            while (job := self._jobs.get()) is not None:
                try:
                    job(http)
                except httpx.HTTPError as error:  # handed to the reading thread
                    self._done.put(error)
                else:
                    self._done.put(None)

    def write(self, job: Write) -> None:
        """Have the thread run ``job``, and wait until it has."""
        self._jobs.put(job)
        error = self._done.get(timeout=10)
        if error is not None:
            raise error

    def add_user(self) -> None:
        self.added += 1
        email = f"hired{self.added}@example.com"
        body = {"schemas": [USER], "userName": email, "emails": [{"value": email, "primary": True}]}
        self.write(lambda http: http.post("Users", json=body).raise_for_status())

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)


class BusyDirectory(httpx.BaseTransport):
    """The sandbox, slow enough that the IdP writes while a listing is being read.

    In each of the first ``busy_reads`` listings of ``resource_type``, the page at
    ``start`` is held until ``during_read`` (the IdP's write, on its own thread) is
    done; what is read after it comes from the changed directory.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        resource_type: str,
        during_read: Callable[[], None],
        *,
        busy_reads: int,
        start: int = 1,
    ) -> None:
        self.inner = inner
        self.resource_type = resource_type
        self.during_read = during_read
        self.busy_reads = busy_reads
        self.start = str(start)
        self.reads = 0  # listings of resource_type begun

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith(f"/{self.resource_type}"):
            start = request.url.params.get("startIndex")
            if start == "1":
                self.reads += 1
            if start == self.start and self.reads <= self.busy_reads:
                self.during_read()
        return response

    def close(self) -> None:
        self.inner.close()


def busy_read(
    db: Path, resource_type: str, during_read: Callable[[], None], **busy: int
) -> tuple[BusyDirectory, Callable[[], LiveSnapshot]]:
    """A busy directory, and a read of it (groups listed without members) in pages of 10."""
    transport = BusyDirectory(
        sandbox_transport(db, faults=FaultConfig(lists_without_members=True)),
        resource_type,
        during_read,
        **busy,
    )

    def read() -> LiveSnapshot:
        with ScimClient(sandbox_base_url(), transport=transport) as client:
            return read_snapshot(client, page_size=10)

    return transport, read


def test_users_added_during_the_read_make_it_read_again(tmp_path: Path) -> None:
    """Users an IdP adds while the Users listing is read make the listing contradict itself;
    it is read again from the start, logged as scim.reread, and the snapshot is whole."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        store.seed_users(25, prefix="u", domain="example.com")
    idp = IdentityProvider(db)
    transport, read = busy_read(db, "Users", idp.add_user, busy_reads=1)
    try:
        with capture_logs() as events:
            live = read()
    finally:
        idp.close()
    assert transport.reads == 2
    names = sorted(u.userName for u in live.users)
    assert len(names) == len(set(names)) == 26
    assert "hired1@example.com" in names
    (reread,) = [e for e in events if e["event"] == "scim.reread"]
    assert (reread["resource_type"], reread["attempt"], reread["reads"]) == ("Users", 2, 3)
    assert reread["log_level"] == "warning"
    assert "totalResults changed from 25 to 26" in reread["reason"]


def test_a_directory_that_changes_on_every_read_fails_closed_after_three_reads(
    tmp_path: Path,
) -> None:
    """A listing that changes during each of three reads stops the read (exit 1), never
    returning a partial directory: two re-reads are logged, and Groups are never listed."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        store.seed_users(25, prefix="u", domain="example.com")
    idp = IdentityProvider(db)
    transport, read = busy_read(db, "Users", idp.add_user, busy_reads=99)
    try:
        with capture_logs() as events, pytest.raises(ListingChangedError) as caught:
            read()
    finally:
        idp.close()
    assert transport.reads == 3
    assert caught.value.exit_code == 1
    assert "contradicted itself in each of 3 reads" in str(caught.value)
    rereads = [e["attempt"] for e in events if e["event"] == "scim.reread"]
    assert rereads == [2, 3]
    assert not [e for e in events if e["event"] == "read"]


def test_a_group_deleted_before_it_is_read_alone_makes_the_groups_read_again(
    tmp_path: Path,
) -> None:
    """A group listed without members and deleted before its own GET is gone, not wrong:
    the Groups listing is read again and the snapshot holds the groups that exist."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        ids = store.seed_users(3, prefix="u", domain="example.com")
        store.create_group({"displayName": "eng"}, ids[:2])
        ops = store.create_group({"displayName": "ops"}, ids[2:])
    idp = IdentityProvider(db)

    def delete_ops() -> None:
        idp.write(lambda http: http.delete(f"Groups/{ops.id}").raise_for_status())

    # Deleted when the probe past the listing's end (startIndex 3) is served, so the
    # listing itself is whole: the deletion shows only when ops is read on its own.
    _, read = busy_read(db, "Groups", delete_ops, busy_reads=1, start=3)
    try:
        with capture_logs() as events:
            live = read()
    finally:
        idp.close()
    assert {g.displayName: set(g.member_ids) for g in live.groups} == {"eng": set(ids[:2])}
    (reread,) = [e for e in events if e["event"] == "scim.reread"]
    assert reread["resource_type"] == "Groups"
    assert "it is gone" in reread["reason"]


def test_a_contradiction_no_change_explains_is_not_read_again() -> None:
    """A page larger than count fails the read at once: reading again would not fix a server."""
    requests: list[httpx.Request] = []

    def oversized(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        resources = [{"id": str(i), "userName": f"u{i}"} for i in range(1, 12)]
        return httpx.Response(200, json={"totalResults": 11, "Resources": resources})

    client = ScimClient("https://scim.example.test/v2", transport=httpx.MockTransport(oversized))
    with (
        client,
        capture_logs() as events,
        pytest.raises(InconsistentReadError, match="11 resources arrived for count=10") as caught,
    ):
        read_snapshot(client, page_size=10)
    assert not isinstance(caught.value, ListingChangedError)
    assert len(requests) == 1
    assert not [e for e in events if e["event"] == "scim.reread"]


# -- what each user keeps --------------------------------------------------------------


def test_users_keep_only_the_paths_a_plan_reads(tmp_path: Path) -> None:
    """With ``keep``, users keep those attribute paths only: those read before it knew
    are narrowed when the read ends, those read after are made narrow."""
    db = tmp_path / "s.db"
    with SandboxStore(db) as store:
        store.seed_users(25, prefix="u", domain="example.com")
    kept = frozenset({"userName", "emails"})
    known: list[frozenset[str] | None] = [None]

    def progress(what: str, done: int, total: int) -> None:
        known[0] = kept  # the files are loaded once the first page is in

    with ScimClient(sandbox_base_url(), transport=sandbox_transport(db)) as client:
        live = read_snapshot(client, page_size=10, progress=progress, keep=lambda: known[0])
        full = read_snapshot(client, page_size=10)
    assert len(live.users) == 25
    assert all(set(u.attributes) == kept for u in live.users)
    assert {u.id: u.fingerprint for u in live.users} == {u.id: u.fingerprint for u in full.users}
    assert all("displayName" in u.attributes for u in full.users)
    assert [u.attributes["emails"] for u in live.users] == [
        u.attributes["emails"] for u in full.users
    ]


def test_users_listed_without_their_groups_read_as_the_same_snapshot(tmp_path: Path) -> None:
    """Atlassian's listing leaves out what no plan reads (``groups``): the users, their
    fingerprints and the memberships are the same as from the whole listing."""
    seeded(tmp_path / "s.db", empty_group=False)

    def snapshot(users_without: tuple[str, ...]) -> tuple[LiveSnapshot, list[str]]:
        transport = Counting(sandbox_transport(tmp_path / "s.db"))
        with ScimClient(sandbox_base_url(), transport=transport) as client:
            live = read_snapshot(client, page_size=100, users_without=users_without)
        asked = zip(transport.paths, transport.queries, strict=True)
        return live, [f"{path}?{query}" for path, query in asked]

    whole, _ = snapshot(())
    lean, lean_queries = snapshot(("groups",))
    assert [(u.id, u.attributes, u.fingerprint) for u in lean.users] == [
        (u.id, u.attributes, u.fingerprint) for u in whole.users
    ]
    assert [(g.member_ids, g.fingerprint) for g in lean.groups] == [
        (g.member_ids, g.fingerprint) for g in whole.groups
    ]
    assert all("excludedAttributes=groups" in q for q in lean_queries if q.startswith("/Users"))
    assert not any("excludedAttributes" in q for q in lean_queries if q.startswith("/Groups"))
    assert any(q.startswith("/Users?") for q in lean_queries)


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox of 23 users whose attributes differ (some absent, some null-ish)."""
    db = tmp_path_factory.mktemp("varied") / "s.db"
    with SandboxStore(db) as store:
        for i in range(23):
            user: dict[str, object] = {
                "userName": f"v{i:02d}@example.com",
                "emails": [{"value": f"v{i:02d}@example.com", "type": "work", "primary": True}],
                "active": i % 5 != 0,
            }
            if i % 2:
                user["displayName"] = f"V {i}"
                user["title"] = ("Engineer", "Boss", "")[i % 3]
            if i % 3:
                user["name"] = {"givenName": "V", "familyName": str(i)}
                user["phoneNumbers"] = [{"value": f"+1 555 01{i:02d}", "type": "work"}]
            if i % 4 == 1:
                user["externalId"] = f"emp-{i}"
            store.create_user(user)
    return db


def _users(snapshot: LiveSnapshot) -> list[tuple[object, ...]]:
    return [(u.id, u.userName, u.active, dict(u.attributes), u.fingerprint) for u in snapshot.users]


@settings(max_examples=30, deadline=None)
@given(
    keep=st.frozensets(st.sampled_from(LIVE_PATHS)),
    told_after=st.integers(min_value=0, max_value=4),
    page_size=st.integers(min_value=4, max_value=12),
)
def test_whenever_the_paths_to_keep_are_told_the_snapshot_is_the_same(
    varied: Path, keep: frozenset[str], told_after: int, page_size: int
) -> None:
    """Paths told before the read, or after any page of it (or not by its end), with the
    snapshot then ``narrowed`` as the pipeline does, give the same users, attributes and
    fingerprints as a read told from the start; a snapshot it narrows is left as it was
    read (``narrowed`` makes new users)."""
    pages = [0]

    def progress(what: str, done: int, total: int) -> None:
        pages[0] += what == "Users"

    def told() -> frozenset[str] | None:
        return keep if pages[0] >= told_after else None

    with ScimClient(sandbox_base_url(), transport=sandbox_transport(varied)) as client:
        first = read_snapshot(client, page_size=page_size, keep=lambda: keep)
        late = read_snapshot(client, page_size=page_size, progress=progress, keep=told)
        late = narrowed(late, keep)  # as the pipeline does once the read is in
        whole = read_snapshot(client, page_size=page_size)
    before = _users(whole)
    assert _users(late) == _users(first) == _users(narrowed(whole, keep))
    assert _users(whole) == before
    assert all(set(u.attributes) == set(LIVE_PATHS) for u in whole.users)
