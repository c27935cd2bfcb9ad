"""How a count reads in a message: ``1 group``, ``2 groups``, ``1 person``.

In a module of its own at the bottom of the layers, so that every layer that words
a message (limits, the planner, the executor, the CLI) counts the same way.
"""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 user``, ``2 users``; ``nouns`` for a plural that is not ``noun`` + s
    (``plural(n, "person", "people")``, or a phrase whose first word counts)."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {nouns if nouns is not None else noun + 's'}"
