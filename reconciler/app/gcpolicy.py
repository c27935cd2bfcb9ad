"""The one process-wide switch a run sets: the cyclic garbage collector.

Loading the files, reading the directory and planning build millions of objects
that live as long as the run and make next to no reference cycles (nor does a read:
see ``ScimClient``). The collector would walk them all again and again as they
grow, dozens of times and seconds in all at 100,000 users (40% of a load), for
nothing. So a run builds them inside ``gc_policy``: the collector is off there, and
on the way out what was built is put in the oldest generation at once (``gc.freeze``
then ``gc.unfreeze``: no walk), so that turning the collector back on costs nothing
and what comes after (the views, the writes of an apply, a server's requests) runs
with it as before.

This is set at the application edge only (``reconciler.app``, the CLI, benchmarks);
library code never touches the collector (``tests/test_gcpolicy.py`` checks).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_policy() -> Iterator[None]:
    """Build what a run keeps with the cyclic collector off (module docstring).

    Inside one already off (an outer ``gc_policy``, or a program that turned it off
    itself), this does nothing: the collector is theirs to turn back on.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # Everything tracked joins the oldest generation: the first collections after
        # do not walk what was built (it would be a full walk of the run's objects).
        gc.freeze()
        gc.unfreeze()
        gc.enable()
