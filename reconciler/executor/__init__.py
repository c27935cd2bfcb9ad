"""The executor: the only writer. Applies a plan in order and reports every action.

Three jobs, one module each: ``writers`` carry out writes described as data
(``WriteRequest`` in, ``WriteResult`` out; the contract is in
``reconciler.scim.writes``), ``batching`` fits member changes into requests the
server takes, and ``run`` orders the actions, skips what depends on a failure and
reports. ``actions`` turns each plan action into its writes.
"""

from __future__ import annotations

from reconciler.executor.run import NOT_SENT, Executor, conflict_hint
from reconciler.executor.writers import RecordingWriter, ScimWriter, Writer
from reconciler.scim.writes import WriteRequest, WriteResult

__all__ = [
    "NOT_SENT",
    "Executor",
    "RecordingWriter",
    "ScimWriter",
    "WriteRequest",
    "WriteResult",
    "Writer",
    "conflict_hint",
]
