"""What a plan knows of its target: the context the planner is given (``PlanContext``)."""

from __future__ import annotations

from reconciler.desired import DesiredState
from reconciler.dialect import DirectoryCaps
from reconciler.planner import PlanContext
from reconciler.target import Connection, Target


def context_of(target: Target, connection: Connection, desired: DesiredState) -> PlanContext:
    """What the planner needs to know of the target, the connection, and the size caps
    (the dialect's published ones, overridden by the files' ``target.caps``)."""
    token_env = None if target.is_sandbox else target.token_env
    rate = connection.client.limiter.rate
    caps = (connection.dialect.caps or DirectoryCaps()).overridden(
        **desired.target.caps.model_dump()
    )
    return PlanContext(target.url, connection.dialect, token_env, rate, caps)
