"""SCIM 2.0 over HTTP: the client, its pure protocol helpers and its pager."""

from __future__ import annotations

from reconciler.scim.client import ScimClient
from reconciler.scim.paging import Pager
from reconciler.scim.retry import RateLimiter, RetryPolicy

__all__ = ["Pager", "RateLimiter", "RetryPolicy", "ScimClient"]
