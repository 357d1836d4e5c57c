"""The thread helper for independent column passes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from chainmall._threads import column_threads, map_columns, run_concurrently


def test_thread_count_is_small_and_positive() -> None:
    assert 1 <= column_threads() <= 4


def test_results_keep_the_order_of_the_items() -> None:
    columns = [np.arange(n) for n in range(50)]
    assert map_columns(lambda a: int(a.sum()), columns) == [n * (n - 1) // 2 for n in range(50)]


def test_one_cpu_runs_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chainmall._threads.column_threads", lambda: 1)
    assert map_columns(lambda _: threading.get_ident(), range(3)) == [threading.get_ident()] * 3


def test_passes_run_on_worker_threads_and_errors_reach_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("chainmall._threads.column_threads", lambda: 2)
    seen: set[int] = set()

    def work(x: int) -> int:
        seen.add(threading.get_ident())
        if x == 3:
            raise ValueError("bad column 3")
        return x

    with pytest.raises(ValueError, match="bad column 3"):
        map_columns(work, range(6))
    assert threading.get_ident() not in seen


def test_tasks_run_side_by_side_and_return_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chainmall._threads.column_threads", lambda: 2)
    both_started = threading.Barrier(2, timeout=10)  # breaks unless two tasks overlap

    def first() -> str:
        both_started.wait()
        return "first"

    def second() -> int:
        both_started.wait()
        return 2

    assert run_concurrently(first, second) == ["first", 2]
