"""The embedded sandbox: a local SCIM 2.0 directory in Atlassian's dialect, in SQLite.

It is the default target (``sandbox:.reconciler/sandbox.db``) and the test bed for
Atlassian behaviour (docs/atlassian.md), including the organisation around the directory.
Modules, bottom-up: ``schemas`` (what a user and a group are), ``problems`` (SCIM
error answers), ``resources`` (validation and rendering), ``filters``, ``patch``,
``records``, ``database`` (opening, migrating), ``paging`` (keyset pages) and
``store`` (SQLite), ``org`` (accounts, SCIM links, names taken in the
organisation), ``bulk`` (whole directories in one transaction), ``seeding``
(``reconciler sandbox seed``: fixtures and desired-state files), ``faults`` (injected
failures), ``admin`` (the organisation's Admin API), ``app`` (the WSGI app) and
``serving`` (in-process transport and HTTP).
"""

from __future__ import annotations

from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.faults import FaultConfig, FaultInjectingTransport, FaultInjector
from reconciler.sandbox.org import SANDBOX_DIRECTORY_ID, SANDBOX_ORG_ID
from reconciler.sandbox.serving import (
    SANDBOX_BASE_PATH,
    SANDBOX_ORIGIN,
    SandboxServer,
    check_exposure,
    open_store,
    sandbox_admin_url,
    sandbox_base_url,
    sandbox_transport,
    serve,
)
from reconciler.sandbox.store import SandboxStore

__all__ = [
    "SANDBOX_BASE_PATH",
    "SANDBOX_DIRECTORY_ID",
    "SANDBOX_ORG_ID",
    "SANDBOX_ORIGIN",
    "FaultConfig",
    "FaultInjectingTransport",
    "FaultInjector",
    "SandboxApp",
    "SandboxServer",
    "SandboxStore",
    "check_exposure",
    "open_store",
    "sandbox_admin_url",
    "sandbox_base_url",
    "sandbox_transport",
    "serve",
]
