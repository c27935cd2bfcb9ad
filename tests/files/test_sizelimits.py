"""The size limits of one file: defaults that fit the documented use, read from the environment."""

from __future__ import annotations

import pytest

from reconciler.errors import ConfigError
from reconciler.files.sizelimits import SizeLimits


def test_the_default_limits_take_a_quarter_of_a_million_users_per_file() -> None:
    """A million users load as four files: 250,000 exported users fit each limit with room."""
    limits = SizeLimits()
    # Measured with benchmarks/load_bench.py: an exported user is about 290 bytes of
    # YAML (460 of indented JSON) and 28 YAML nodes; richer users take up to twice that.
    assert limits.file_bytes >= 250_000 * 460 * 2
    assert limits.file_nodes >= 250_000 * 28 * 2


def test_each_limit_has_its_variable() -> None:
    """Every limit is set by its own variable; the others keep their defaults."""
    limits = SizeLimits.from_environment(
        {
            "RECONCILER_MAX_FILE_BYTES": "1048576",
            "RECONCILER_MAX_FILE_NODES": " 7_000 ",
            "RECONCILER_MAX_ALIAS_NODES": "3",
        }
    )
    assert limits == SizeLimits(file_bytes=1048576, file_nodes=7000, alias_nodes=3)
    assert SizeLimits.from_environment({"RECONCILER_MAX_ALIAS_NODES": "9"}) == SizeLimits(
        alias_nodes=9
    )


@pytest.mark.parametrize("value", ["", "  "])
def test_an_unset_or_empty_variable_means_the_default(value: str) -> None:
    """Only a variable with a value replaces a default."""
    assert SizeLimits.from_environment({"RECONCILER_MAX_FILE_NODES": value}) == SizeLimits()


@pytest.mark.parametrize("value", ["0", "-5", "1e6", "lots"])
def test_a_bad_variable_is_a_config_error(value: str) -> None:
    """A limit that is not a whole number above 0 is refused by name, not silently ignored."""
    with pytest.raises(ConfigError, match="RECONCILER_MAX_ALIAS_NODES must be a whole number"):
        SizeLimits.from_environment({"RECONCILER_MAX_ALIAS_NODES": value})


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        pytest.param(256 * 1024 * 1024, "256 MiB", id="whole-mib"),
        pytest.param(1000, "1000 bytes", id="bytes"),
    ],
)
def test_the_byte_limit_reads_as_people_read_it(size: int, shown: str) -> None:
    """Whole MiB are shown as MiB, anything else in bytes."""
    assert SizeLimits(file_bytes=size).describe_bytes() == shown
