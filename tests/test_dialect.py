"""Each dialect's capabilities, as data, completed by what discovery says."""

from __future__ import annotations

import pytest

from reconciler.dialect import ATLASSIAN, GENERIC, detect, dialect_named


@pytest.mark.parametrize(
    ("name", "config", "size", "etags"),
    [
        pytest.param("atlassian", {"filter": {"maxResults": 1000}, "etag": {"supported": True}},
                     100, False, id="atlassian-100-no-etags"),
        pytest.param("generic", {"filter": {"maxResults": 50}}, 50, False, id="server-max"),
        pytest.param("generic", {"filter": {"maxResults": 5000}}, 1000, False, id="capped"),
        pytest.param("generic", {"etag": {"supported": True}}, 100, True, id="unannounced-etags"),
    ],
)  # fmt: skip
def test_page_size_and_etags_come_from_the_dialect_or_the_server(
    name: str, config: dict[str, object], size: int, etags: bool
) -> None:
    """Atlassian pages by 100 without ETags whatever it announces; a generic server by its
    filter.maxResults, with If-Match where it announces ETags (RFC 7643 section 5)."""
    dialect = dialect_named(name).with_discovery(config)
    assert (dialect.page_size, dialect.etags) == (size, etags)


@pytest.mark.parametrize(
    ("host", "path", "loopback", "declared", "expected"),
    [
        pytest.param("api.atlassian.com", "/scim/directory/abc", False, "auto", "atlassian",
                     id="atlassian-host"),
        pytest.param("127.0.0.1", "/scim/directory/sandbox", True, "auto", "atlassian",
                     id="served-sandbox"),
        pytest.param("scim.example", "/scim/directory/x", False, "auto", "generic",
                     id="layout-elsewhere"),
        pytest.param("scim.example", "/v2", False, "atlassian", "atlassian", id="declared"),
    ],
)  # fmt: skip
def test_the_dialect_is_detected_from_atlassians_layout_or_declared(
    host: str, path: str, loopback: bool, declared: str, expected: str
) -> None:
    """auto means Atlassian's host and /scim/directory/ path (or a loopback sandbox)."""
    assert detect(host, path, loopback=loopback, declared=declared) == expected


def test_reserved_group_names_are_matched_case_insensitively() -> None:
    """Atlassian's default-access group names, with a site suffix, in any letter case."""
    assert ATLASSIAN.reserved_group("Confluence-Users-acme")
    assert not ATLASSIAN.reserved_group("platform")
    assert not GENERIC.reserved_group("confluence-users")


def test_wording_that_differs_by_dialect_comes_from_the_dialect() -> None:
    """Atlassian's sentences (unlinking, a 409's cause) are the Atlassian dialect's; a
    generic server's messages name no Atlassian risk."""
    assert "Atlassian will unlink" in ATLASSIAN.identity_change_warning("emails")
    assert "Atlassian" not in ATLASSIAN.identity_change_warning("userName")
    assert GENERIC.identity_change_warning("emails") == (
        "changes the email of an existing account: whatever finds this person by the old "
        "email will not find it"
    )
    assert "unique across the Atlassian" in ATLASSIAN.conflict_hint(group="jira-admins")
    assert GENERIC.conflict_hint(group="jira-admins", email="a@example.com") == ""
    assert GENERIC.email_role is None
