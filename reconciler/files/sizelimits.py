"""How big one desired-state file may be: limits that guard, not limits that get in the way.

The files come from pull requests that anyone with write access can open, and CI
loads them: a file must not be able to take the runner's memory or hours of its
time. Three limits per file guard that, each an environment variable of the
process that loads the files (never a setting in a file, which a hostile file
would simply raise):

=============================  ==========  ===============================================
variable                       default     what it bounds
=============================  ==========  ===============================================
``RECONCILER_MAX_FILE_BYTES``  256 MiB     the size of one file, checked before reading it
``RECONCILER_MAX_FILE_NODES``  16,000,000  YAML nodes (keys count) or JSON values in one file
``RECONCILER_MAX_ALIAS_NODES`` 100,000     nodes one YAML file reaches through aliases
=============================  ==========  ===============================================

The defaults fit the documented use: a million users load as four files of 250,000
users (about 70 MiB and 7 million nodes each, as ``reconciler export`` writes them)
and a groups file of 3 million memberships (90 MiB, 3 million nodes). What one
hostile file can take at both limits: about 1.5 GB and 15 s of CPU to parse, or
2 GB and 75 s when it is not plain and is parsed a second time with positions
(``yamlsafe``). The alias budget does not grow with the directory: real files reuse
a few small lists, and a "billion laughs" file of a few hundred bytes asks for
10**9 nodes. Nesting deeper than ``sourcemap.MAX_DEPTH`` (64) is refused as well;
the format needs 4.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import ConfigError
from reconciler.files.sourcemap import excerpt
from reconciler.wording import plural

MIB = 1024 * 1024
FILE_BYTES_VARIABLE = "RECONCILER_MAX_FILE_BYTES"
FILE_NODES_VARIABLE = "RECONCILER_MAX_FILE_NODES"
ALIAS_NODES_VARIABLE = "RECONCILER_MAX_ALIAS_NODES"


@dataclass(frozen=True, slots=True)
class SizeLimits:
    """The limits one file is loaded under (module docstring)."""

    file_bytes: int = 256 * MIB
    file_nodes: int = 16_000_000
    alias_nodes: int = 100_000

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SizeLimits:
        """The defaults, each replaced by its variable when set; ConfigError if one is bad."""
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            file_bytes=_read(env, FILE_BYTES_VARIABLE, default.file_bytes),
            file_nodes=_read(env, FILE_NODES_VARIABLE, default.file_nodes),
            alias_nodes=_read(env, ALIAS_NODES_VARIABLE, default.alias_nodes),
        )

    def describe_bytes(self) -> str:
        """The byte limit as people read it: ``256 MiB``, or bytes when not whole MiB."""
        if self.file_bytes % MIB == 0:
            return f"{self.file_bytes // MIB} MiB"
        return plural(self.file_bytes, "byte")


def _read(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number above 0, not {excerpt(text)!r}")
    return value
