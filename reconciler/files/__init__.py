"""Desired-state files: finding, parsing (YAML and JSON with positions), validating, merging.

Every problem in every file is collected and raised at once as one
``DesiredStateError``, each with ``file:line:column: path: message``.
"""

from __future__ import annotations

from reconciler.files.loader import load_desired

__all__ = ["load_desired"]
