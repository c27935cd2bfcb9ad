"""Hypothesis profiles: how hard the property tests try, chosen by ``HYPOTHESIS_PROFILE``.

- ``ci`` (the default, and what CI runs): each test's own number of examples, 100 where
  it names none.
- ``dev`` (the fast loop, docs/contributing.md): a tenth of that, at least 5, so that a
  contributor hears about a broken property within seconds; CI tries the rest.
- ``thorough``: ten times ``ci``, for a night's run before a release.

A test that needs more or fewer examples than the default says so with
``examples(n)``, the number it tries under ``ci``; the profile scales it.
"""

from __future__ import annotations

import os

from hypothesis import settings

_DEFAULT_EXAMPLES = 100
_SCALE = {"dev": 0.1, "ci": 1.0, "thorough": 10.0}

# deadline=None everywhere: the suite runs on shared, loaded CI cores and in parallel
# workers, so a per-example time limit would fail for the machine's reasons, not the code's.
for _name, _scale in _SCALE.items():
    settings.register_profile(
        _name,
        max_examples=max(5, round(_DEFAULT_EXAMPLES * _scale)),
        deadline=None,
        print_blob=True,
    )

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in _SCALE:
    raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE!r}: choose one of {', '.join(_SCALE)}")
settings.load_profile(PROFILE)


def examples(ci: int) -> int:
    """The examples a test that tries ``ci`` of them under the ``ci`` profile tries now."""
    return max(5, round(ci * _SCALE[PROFILE]))
