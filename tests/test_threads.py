"""The thread helper for independent column passes: inline unless threads are asked for."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from chainmall._threads import map_columns


def test_results_keep_the_order_of_the_items() -> None:
    columns = [np.arange(n) for n in range(50)]
    expected = [n * (n - 1) // 2 for n in range(50)]
    assert map_columns(lambda a: int(a.sum()), columns) == expected
    assert map_columns(lambda a: int(a.sum()), columns, threads=3) == expected


def test_by_default_everything_runs_on_the_calling_thread() -> None:
    before = threading.active_count()
    assert map_columns(lambda _: threading.get_ident(), range(3)) == [threading.get_ident()] * 3
    assert threading.active_count() == before


def test_asked_for_threads_overlap_and_errors_reach_the_caller() -> None:
    both_started = threading.Barrier(2, timeout=10)  # breaks unless two calls overlap
    seen: set[int] = set()

    def work(x: int) -> int:
        seen.add(threading.get_ident())
        if x < 2:
            both_started.wait()
        if x == 3:
            raise ValueError("bad column 3")
        return x

    with pytest.raises(ValueError, match="bad column 3"):
        map_columns(work, range(6), threads=2)
    assert threading.get_ident() not in seen
