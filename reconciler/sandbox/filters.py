"""The one filter shape Atlassian supports: a single ``eq`` comparison.

docs/atlassian.md "Listing, paging, filtering": filters are one exact ``eq`` on
``userName`` or ``externalId`` (users) and on ``displayName`` (groups); anything else
is 400. The parser still understands the RFC 7644 section 3.4.2.2 comparison shape,
so that an unsupported operator or attribute gets a message naming what is
unsupported rather than a generic syntax error. PATCH value paths
(``members[value eq "…"]``) use the same comparison parser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from reconciler.sandbox.problems import ScimRequestError, invalid_filter
from reconciler.sandbox.resources import check_text
from reconciler.sandbox.schemas import GROUP_URN, USER_URN

Literal = str | bool | int | float | None

_OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "pr"})
_COMPARISON = re.compile(
    r"""^\s*
    (?P<attr>[A-Za-z$][\w$.:\-]*)        # attrPath, possibly URN-qualified
    \s+(?P<op>[A-Za-z]+)                 # compareOp
    (?:\s+(?P<value>.*?))?               # compValue, absent for "pr"
    \s*$""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``attribute op value`` with the operator lower-cased."""

    attribute: str
    operator: str
    value: Literal


@dataclass(frozen=True, slots=True)
class ListFilter:
    """A supported list filter: which indexed column to match, and the key to match."""

    column: str
    key: str


def parse_comparison(text: str) -> Comparison:
    """Parse one ``attrPath op value`` comparison; 400 ``invalidFilter`` otherwise."""
    match = _COMPARISON.match(text)
    if match is None:
        raise invalid_filter(f"cannot parse filter [{text}]: only one comparison is supported")
    op = match["op"].lower()
    if op not in _OPERATORS:
        raise invalid_filter(f"unknown operator [{match['op']}] in filter [{text}]")
    raw = match["value"]
    if op == "pr":
        if raw:
            raise invalid_filter(f"cannot parse filter [{text}]")
        return Comparison(match["attr"], op, None)
    if raw is None:
        raise invalid_filter(f"filter [{text}] has no value")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        # Also what "a and b", "(…)" and "not (…)" end up as: not one comparison.
        raise invalid_filter(
            f"cannot parse filter [{text}]: only one comparison is supported"
        ) from None
    if not isinstance(value, str | bool | int | float) and value is not None:
        raise invalid_filter(f"filter value in [{text}] must be a string, number, boolean or null")
    if isinstance(value, str):
        try:
            check_text(value, "filter value")
        except ScimRequestError as problem:
            raise invalid_filter(problem.detail) from None
    return Comparison(match["attr"], op, value)


# (resource core URN, folded attribute) -> (attribute, column, whether the key is folded)
_SUPPORTED: dict[tuple[str, str], tuple[str, str, bool]] = {
    (USER_URN, "username"): ("userName", "user_name_key", True),
    (USER_URN, "externalid"): ("externalId", "external_id", False),
    (GROUP_URN, "displayname"): ("displayName", "display_name_key", True),
}


def list_filter(text: str, core_urn: str) -> ListFilter:
    """The store query for a list ``filter`` on the resource type with ``core_urn``.

    userName and displayName compare case-insensitively, externalId exactly
    (docs/atlassian.md "Listing, paging, filtering": externalId is exact).
    """
    comparison = parse_comparison(text)
    name = comparison.attribute.lower().removeprefix(core_urn.lower() + ":")
    supported = _SUPPORTED.get((core_urn, name))
    if supported is None:
        allowed = " or ".join(a for (urn, _), (a, _, _) in _SUPPORTED.items() if urn == core_urn)
        raise invalid_filter(
            f"filtering on [{comparison.attribute}] is not supported; use {allowed} eq"
        )
    if comparison.operator != "eq":
        raise invalid_filter(f"operator [{comparison.operator}] is not supported; only eq is")
    if not isinstance(comparison.value, str):
        raise invalid_filter(f"[{comparison.attribute}] must be compared with a string")
    _, column, folded = supported
    return ListFilter(column, comparison.value.lower() if folded else comparison.value)
