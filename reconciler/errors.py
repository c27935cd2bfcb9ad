"""The one exception tree of reconciler.

Foreign errors (httpx, yaml, pydantic, sqlite) are wrapped once, where they occur,
into the most specific class below. Whether an error may be retried is a class
attribute (``retryable``), read by the one retry policy in ``reconciler.scim.retry``.

    ReconcilerError
    ├── DesiredStateError          bad files: every problem at once, each with a location
    ├── ConfigError                bad target, missing token, bad CLI combination
    ├── ScimError                  anything the directory said or failed to say
    │   ├── TransportError         no answer: connection refused, reset, timeout (retryable)
    │   │   ├── OutcomeUnknownError  a write timed out after it was sent
    │   │   └── DeadlineExceededError  no whole answer within the request's deadline or the
    │   │                              run's budget (not retried)
    │   ├── ProtocolError          the answer is not what SCIM promises (HTML, truncated JSON)
    │   │   ├── WrongResourceError   a write answered 2xx with another resource than the one written
    │   │   └── ResponseTooLargeError  an answer larger than any SCIM answer needs (not retried)
    │   ├── InconsistentReadError  a listing that is incomplete or contradicts itself
    │   │   └── ListingChangedError  one that writes during the read explain (read again)
    │   └── ScimHTTPError          an HTTP error status, with SCIM detail when present
    │       ├── AuthenticationError   401 / 403
    │       ├── NotFoundError         404
    │       ├── ConflictError         409 (``scimType`` usually ``uniqueness``)
    │       ├── PreconditionFailedError 412
    │       ├── PayloadTooLargeError  413 (a PATCH is split and sent again)
    │       ├── RateLimitedError      429 (retryable, honours Retry-After)
    │       ├── RetryAfterTooLongError  the server asks for a longer wait than reconciler gives
    │       └── ServerError           5xx (retryable)
    ├── StalePlanError             a saved plan no longer matches the directory or target
    ├── LockHeldError              another apply against the same target is running
    ├── LimitExceededError         a safety limit blocks the plan (exit 3)
    ├── ApprovalError              the plan was not approved (no terminal, answer not "yes")
    │   └── ApprovalMismatchError  ``--approve`` names another plan's digest (exit 3)
    └── ApplyInterruptedError      Ctrl-C or SIGTERM during an apply (130, 143)

``exit_code`` on each class is the process exit code the CLI uses for it. Every
message is redacted when the error is built (``reconciler.redaction``): a message may
quote what a server said, and a server may have echoed the token.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.redaction import redact


class ReconcilerError(Exception):
    """Root of every error reconciler raises on purpose."""

    exit_code: int = 1
    retryable: bool = False

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in the desired-state files, at a place a person can find."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        path = f" {self.path}:" if self.path else ""
        return f"{where}:{path} {self.message}"


class DesiredStateError(ReconcilerError):
    """The desired-state files are invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(ReconcilerError):
    """The target, token or command line is not usable as given."""


class ScimError(ReconcilerError):
    """The directory could not be read or written as asked."""


class TransportError(ScimError):
    """The request got no HTTP answer (refused, reset, timed out)."""

    retryable = True


class OutcomeUnknownError(TransportError):
    """A write was sent but its answer never came; it may or may not have happened."""


class DeadlineExceededError(TransportError):
    """No whole answer came within the request's deadline, or the run's budget is spent.

    Not retried: a server this slow would hold the run for every attempt. ``host`` and
    ``limit`` (``the request deadline of 60s``) say which server and which bound.
    """

    retryable = False

    def __init__(self, message: str, *, host: str, limit: str) -> None:
        self.host = host
        self.limit = limit
        super().__init__(message)


class ProtocolError(ScimError):
    """The server answered with something that is not the SCIM it claims to be."""

    retryable = True


class WrongResourceError(ProtocolError):
    """A write was answered 2xx with another resource than the one written (id, name).

    Not retried: the server may have written to that other resource.
    """

    retryable = False


class ResponseTooLargeError(ProtocolError):
    """An answer was larger than the most any answer may be; it was not read further."""

    retryable = False


class InconsistentReadError(ScimError):
    """A listing was incomplete or contradicted itself; nothing may be planned from it."""


class ListingChangedError(InconsistentReadError):
    """A listing contradicted itself as objects added or removed while it was read explain.

    Reading it again from the start may give a whole, consistent listing
    (``reconciler.snapshot``); it is still never planned from as it is.
    """


class ScimHTTPError(ScimError):
    """The server answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        scim_type: str | None = None,
        detail: str | None = None,
        trace_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.scim_type = None if scim_type is None else redact(scim_type)
        self.detail = None if detail is None else redact(detail)
        self.trace_id = None if trace_id is None else redact(trace_id)
        self.retry_after = retry_after
        super().__init__(message)


class AuthenticationError(ScimHTTPError):
    """The token was refused (401) or lacks permission (403)."""


class NotFoundError(ScimHTTPError):
    """The resource, or one it references, does not exist (404)."""


class ConflictError(ScimHTTPError):
    """The resource clashes with an existing one (409)."""


class PreconditionFailedError(ScimHTTPError):
    """The resource changed since its ETag was read (412)."""


class PayloadTooLargeError(ScimHTTPError):
    """The request body is larger than the server takes (413)."""


class RateLimitedError(ScimHTTPError):
    """The server asks us to slow down (429)."""

    retryable = True


class RetryAfterTooLongError(ScimHTTPError):
    """The server asked for a longer wait than ``RetryPolicy.max_retry_after``; not retried."""


class ServerError(ScimHTTPError):
    """The server failed (5xx); documented as safe to retry."""

    retryable = True


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches the live directory, or was made for another target."""


class LockHeldError(ReconcilerError):
    """Another apply against the same target holds its lock on this machine (exit 1)."""


class LimitExceededError(ReconcilerError):
    """A safety limit blocks the plan; nothing was sent."""

    exit_code = 3


class ApprovalError(ReconcilerError):
    """The plan was not approved for apply."""


class ApprovalMismatchError(ApprovalError):
    """``--approve`` names another plan than the one made now (the directory or the files
    changed since the review); nothing was sent, and a person must review the new plan."""

    exit_code = 3  # like a blocked limit: "needs a human", not "broken"


class ApplyInterruptedError(ReconcilerError):
    """An apply was interrupted (Ctrl-C, SIGTERM); what was sent stays, a rerun converges."""

    exit_code = 130  # the shell's convention for a run ended by SIGINT

    def __init__(self, message: str, *, signum: int = 2, report: object = None) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum  # 130 for SIGINT, 143 for SIGTERM
        # The ApplyReport of what ended before the stop (errors sits below report).
        self.report = report
