"""The value types desired-state files are made of: the format version, email
addresses, durations and safety limits, each with the check pydantic runs on it.

``reconciler.desired`` builds its models from these (and re-exports them).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field


def _number_one(value: object) -> object:
    # Literal[1] alone lets true and 1.0 through: they compare equal to 1.
    if type(value) is not int:
        raise ValueError(f"version must be the number 1, not {value!r}")
    return value


# The format version every file carries (desired state, and the sandbox's fixtures).
FormatVersion = Annotated[Literal[1], BeforeValidator(_number_one)]


def _looks_like_email(value: str) -> str:
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise ValueError(f"{value!r} is not an email address")
    return value


EmailAddress = Annotated[str, AfterValidator(_looks_like_email)]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: int | str) -> float:
    """Seconds in a duration: a whole number of seconds, or parts like ``90s``, ``10m``,
    ``1h30m``, ``2.5s``, ``500ms``; above 0. ValueError says what is wrong."""
    if isinstance(value, int):
        seconds = float(value)
    else:
        text = value.strip().lower()
        parts = _DURATION_PART.findall(text)
        if text.isdigit():
            seconds = float(text)
        elif parts and "".join(n + unit for n, unit in parts) == text:
            seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts)
        else:
            raise ValueError(f'a duration is seconds or like "90s", "10m", "1h30m", not {value!r}')
    if seconds <= 0:
        raise ValueError("a duration must be above 0")
    return seconds


def _check_duration(value: int | str) -> int | str:
    parse_duration(value)
    return value


Duration = Annotated[int | str, AfterValidator(_check_duration)]

_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")

Limit = Annotated[
    int | str,
    Field(description='A count, or a percentage of the managed live objects such as "10%".'),
]


def check_limit(value: int | str) -> int | str:
    """A limit as the files may write it: a count, or a percentage like ``"10%"``."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a limit must not be negative")
        return value
    if not _PERCENT.match(value):
        raise ValueError(f'a limit is a whole number or a percentage like "10%", not {value!r}')
    return value
