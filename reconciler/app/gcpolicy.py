"""The process-wide switches a run sets: the cyclic garbage collector, and the
interpreter's switch interval while a rate-limited read runs beside the run's work.

Loading the files, reading the directory and planning build millions of objects
that live as long as the run and make next to no reference cycles (nor does a read:
see ``ScimClient``). The collector would walk them all again and again as they
grow, dozens of times and seconds in all at 100,000 users (40% of a load), for
nothing. So a run builds them inside ``gc_policy``: the collector is off there, and
on the way out what was built is put in the oldest generation at once (``gc.freeze``
then ``gc.unfreeze``: no walk), so that turning the collector back on costs nothing
and what comes after (the views, the writes of an apply, a server's requests) runs
with it as before.

A read paced to a rate limit (``--rate``, or Atlassian's default of 10 a second) must
start each request in its slot: a slot missed is lost for good, as a strict server
counts any second. Its threads wait on the network and need the interpreter only
briefly, but while the files load and the plan's users half is made beside them they
wait for it up to the switch interval each time (5 ms), several times a request: at
100,000 users the read lost a second of slots to that and its group pages took twice
as long.
``paced_switching`` hands the interpreter over ten times as often meanwhile (0.5 ms;
0.2 ms and 1 ms measured worse: docs/design.md "At scale"). An unpaced read is not
helped: its threads want the interpreter for decoding, not for a deadline.

These are set at the application edge only (``reconciler.app``, the CLI, benchmarks);
library code never touches the collector nor the switch interval
(``tests/test_gcpolicy.py`` checks).
"""

from __future__ import annotations

import gc
import sys
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


# The switch interval while a paced read runs beside the run's work (module docstring).
PACED_SWITCH_INTERVAL = 0.0005


@contextmanager
def paced_switching(rate: float | None) -> Iterator[None]:
    """With a ``rate``, a read's threads get the interpreter within 0.5 ms meanwhile
    (module docstring); the interval before is back on the way out. Without one, nothing."""
    if not rate:
        yield
        return
    before = sys.getswitchinterval()
    sys.setswitchinterval(PACED_SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
