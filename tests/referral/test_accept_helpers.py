"""Array helpers of batch acceptance, against plain Python."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.referral.accept import _any_per_event


def _check_any_per_event(sizes: list[int], flags: np.ndarray) -> None:
    starts = np.cumsum([0, *sizes[:-1]]).astype(np.int32) if sizes else np.zeros(0, np.int32)
    bounds = [*starts.tolist(), len(flags)]
    expected = [bool(flags[a:b].any()) for a, b in pairwise(bounds)]
    assert _any_per_event(flags, starts).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=64 * 13, max_size=64 * 14),
    flagged=st.lists(st.integers(0, 10**6), max_size=12),
)
def test_any_per_event_few_flags(sizes: list[int], flagged: list[int]) -> None:
    # at most 12 flagged rows among 832 or more events: each flag's event is searched
    flags = np.zeros(sum(sizes), dtype=bool)
    flags[[f % len(flags) for f in flagged]] = True
    _check_any_per_event(sizes, flags)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(1, 4), st.booleans()), max_size=200))
def test_any_per_event_many_flags(rows: list[tuple[int, bool]]) -> None:
    # events of 1-4 rows; an event's rows are flagged alternately from its first
    sizes = [n for n, _ in rows]
    flags = np.array([bool((i + f) % 2) for n, f in rows for i in range(n)], dtype=bool)
    _check_any_per_event(sizes, flags)
