"""reconciler: make a SCIM 2.0 directory look like the files in a git repository."""

from __future__ import annotations

__version__ = "0.1.0"
